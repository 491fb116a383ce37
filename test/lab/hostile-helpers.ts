// The hostile server's toolbox. Replies are put together byte by byte, so each can be wrong in
// exactly the way a HOSTILE.md item describes (the codec in core/ would refuse to build most of
// them); startHostileServer() runs test/lab/hostile-server.ts in a lab's server namespace and
// collects one JSON line per frame it sent. Everything is addressed inside 198.18.0.0/24.

import { mkdtempSync, rmSync } from "node:fs";
import { parseMac, writeIp } from "../../core/bytes.ts";
import { ipv4HeaderChecksum, udpChecksum } from "../../core/checksum.ts";
import { buildUdpFrame, DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from "../../core/frame.ts";
import { MAGIC_COOKIE } from "../../core/message.ts";
import { SERVER_IFACE, type LabState } from "../../cli/lab/index.ts";

// ---------------------------------------------------------------- who the harness plays

export interface Persona {
  ip: string;
  mac: Uint8Array;
}

/** The lab's server 1 address: the harness answers as it, from srv0's own MAC (the good server). */
export const GOOD_IP = "198.18.0.1";
/** What the good server offers and acks. */
export const OFFERED = "198.18.0.123";
export const MASK = "255.255.255.0";
export const LEASE_TIME = 3600;

/** Other servers the harness pretends to be: 198.18.0.66 + n, MAC 02:66:00:00:00:nn. */
export function rogue(n = 0): Persona {
  return { ip: `198.18.0.${66 + n}`, mac: parseMac(`02:66:00:00:00:${(n & 255).toString(16).padStart(2, "0")}`)! };
}

/** A MAC no port of the lab's bridge has: the bridge floods frames sent to it. */
export const NOBODY_MAC = parseMac("02:00:00:00:99:99")!;

// ---------------------------------------------------------------- what was heard

/** A client message the harness answers. */
export interface Heard {
  type: "DISCOVER" | "REQUEST";
  xid: number;
  /** chaddr, 6 bytes. */
  mac: Uint8Array;
  /** Options 50 and 54 of the message. */
  requestedIp: string | null;
  serverId: string | null;
  /** 1 for the first message of this type with this xid; retransmissions count on. */
  nth: number;
  /** srv0's own address and MAC: the good server. */
  self: Persona;
  /** Marker files of injected commands would appear here (they must not). */
  markerDir: string;
}

// ---------------------------------------------------------------- what each frame should do

/**
 * What a command makes of a frame: "ok" (it counts: an offer listed, an offer taken, a lease
 * bound), "kernel" (the socket's BPF filter keeps it from the command), "late" (it comes after
 * the command has finished), or the reason under which the command counts it in `dropped`.
 */
export type Fate = string;
export const OK = "ok",
  KERNEL = "kernel",
  LATE = "late";
export type WatchFate = "packet" | "error" | "kernel";

export interface Fates {
  /** discover (frames answering a DISCOVER only: discover sends nothing else). */
  discover?: Fate;
  /** request, one-shot; the resident client shares its engine. */
  request?: Fate;
  /** watch: a packet line, a decode error (summary.decodeErrors), or never seen. Default: from the others. */
  watch?: WatchFate;
  /** Decode warnings discover counts in `warnings` for this frame. */
  warnings?: string[];
  /** A flood: the kernel may drop some of these frames before the command reads them. */
  lossy?: boolean;
}

/** The same fate for discover and request. */
export function both(fate: Fate, more: Omit<Fates, "discover" | "request"> = {}): Fates {
  return { discover: fate, request: fate, ...more };
}

const FRAME_ERRORS = new Set(["frame-short", "ip-header-bad", "ip-version", "ip-length", "ip-checksum", "udp-length"]);

/** watch reads a frame as the client does, but from any MAC, to any DHCP port, and shows bad UDP checksums. */
export function watchFate(f: Fates): WatchFate {
  if (f.watch) return f.watch;
  const fate = f.request ?? f.discover ?? OK;
  if (fate === KERNEL) return "kernel";
  if (FRAME_ERRORS.has(fate) || fate.startsWith("decode-")) return "error";
  return "packet";
}

export interface Reply {
  /** What is wrong with it, in a few words. */
  label: string;
  /** One frame, or a burst sent back to back. */
  frame: Uint8Array | Uint8Array[];
  /** Sent this long after the client message (default: at once). */
  delayMs?: number;
  fates: Fates;
}

// ---------------------------------------------------------------- bytes

const latin1Bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 255);

export function ipBytes(ip: string): Uint8Array {
  const b = new Uint8Array(4);
  writeIp(b, 0, ip);
  return b;
}

export function u32Bytes(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

export type Data = Uint8Array | number[] | string;
const bytesOf = (d: Data) => (typeof d === "string" ? latin1Bytes(d) : d instanceof Uint8Array ? d : Uint8Array.from(d));

/** One option instance, code and length and value; the length is the value's unless given. */
export function opt(code: number, data: Data, length?: number): Uint8Array {
  const v = bytesOf(data);
  return Uint8Array.of(code, length ?? v.length, ...v);
}

/** A value longer than 255 bytes as consecutive instances of one code (RFC 3396). */
export function split(code: number, data: Data): Uint8Array[] {
  const v = bytesOf(data);
  const out: Uint8Array[] = [];
  for (let i = 0; i < v.length || i === 0; i += 255) out.push(opt(code, v.subarray(i, i + 255)));
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------- BOOTP messages

export interface BootpSpec {
  op?: number;
  htype?: number;
  hlen?: number;
  xid?: number;
  chaddr?: Uint8Array;
  yiaddr?: string;
  siaddr?: string;
  /** Raw bytes of sname and file: a string gets no NUL added, so give one when it should end. */
  sname?: Data;
  file?: Data;
  /** null: no cookie, the message ends after the 236-byte header. */
  cookie?: number | null;
  /** Option instances (or any bytes) in wire order. */
  options: Uint8Array[];
  /** Append END (default true). */
  end?: boolean;
  /** Pad with zeros to this length (default 300; 0 for none). */
  padTo?: number;
}

/** A BOOTREPLY to x as `s` describes it, byte for byte. */
export function bootp(x: Heard, s: BootpSpec): Uint8Array {
  const head = new Uint8Array(236);
  const dv = new DataView(head.buffer);
  head[0] = s.op ?? 2;
  head[1] = s.htype ?? 1;
  head[2] = s.hlen ?? 6;
  dv.setUint32(4, (s.xid ?? x.xid) >>> 0);
  writeIp(head, 16, s.yiaddr ?? "0.0.0.0");
  writeIp(head, 20, s.siaddr ?? "0.0.0.0");
  head.set((s.chaddr ?? x.mac).subarray(0, 16), 28);
  if (s.sname !== undefined) head.set(bytesOf(s.sname).subarray(0, 64), 44);
  if (s.file !== undefined) head.set(bytesOf(s.file).subarray(0, 128), 108);
  if (s.cookie === null) return head;
  const parts = [head, u32Bytes(s.cookie ?? MAGIC_COOKIE), ...s.options];
  if (s.end ?? true) parts.push(Uint8Array.of(255));
  const body = concat(parts);
  const padTo = s.padTo ?? 300;
  if (body.length >= padTo) return body;
  const padded = new Uint8Array(padTo);
  padded.set(body);
  return padded;
}

/** Options as [code, value] in wire order; a value of null leaves the code out. */
export type OptionList = [number, Data | null][];

/** What a server normally puts in an OFFER or ACK: type, server id, lease, mask, router, DNS. */
export function standardOptions(type: number, from: Persona): OptionList {
  return [
    [53, [type]],
    [54, ipBytes(from.ip)],
    [51, u32Bytes(LEASE_TIME)],
    [1, ipBytes(MASK)],
    [3, ipBytes(GOOD_IP)],
    [6, ipBytes(GOOD_IP)],
  ];
}

/** `base` with `edits` applied: a code in both is replaced in place, new codes go last, null removes. */
export function editOptions(base: OptionList, edits: OptionList = []): Uint8Array[] {
  const list = base.map(([c, v]) => [c, v] as [number, Data | null]);
  for (const [code, value] of edits) {
    const at = list.findIndex(([c]) => c === code);
    if (at >= 0) list[at][1] = value;
    else list.push([code, value]);
  }
  return list.filter(([, v]) => v !== null).flatMap(([c, v]) => split(c, v!));
}

export interface ReplySpec extends Partial<BootpSpec> {
  from?: Persona;
  /** Replace, add (after the standard ones) or remove (null) options. */
  set?: OptionList;
  /** Raw bytes after the options (before END). */
  raw?: Uint8Array[];
}

/** An OFFER (2), ACK (5) or NAK (6) payload from `from` (default: the good server). */
export function replyPayload(x: Heard, type: number, r: ReplySpec = {}): Uint8Array {
  const from = r.from ?? x.self;
  const base: OptionList =
    type === 6
      ? [
          [53, [6]],
          [54, ipBytes(from.ip)],
        ]
      : standardOptions(type, from);
  return bootp(x, {
    yiaddr: type === 6 ? "0.0.0.0" : OFFERED,
    ...r,
    options: [...(r.options ?? editOptions(base, r.set)), ...(r.raw ?? [])],
  });
}

// ---------------------------------------------------------------- frames

export interface FrameSpec {
  from?: Persona;
  dstMac?: Uint8Array;
  dstIp?: string;
  srcPort?: number;
  dstPort?: number;
}

const IP = 14,
  UDP = 34;

/** A well-formed Ethernet/IPv4/UDP frame around a payload, from the persona to the client. */
export function udpFrame(x: Heard, payload: Uint8Array, f: FrameSpec = {}): Uint8Array {
  const from = f.from ?? x.self;
  return buildUdpFrame({
    srcMac: from.mac,
    dstMac: f.dstMac ?? x.mac,
    srcIp: from.ip,
    dstIp: f.dstIp ?? "255.255.255.255",
    srcPort: f.srcPort ?? DHCP_SERVER_PORT,
    dstPort: f.dstPort ?? DHCP_CLIENT_PORT,
    payload,
  });
}

/** A whole reply frame: payload and frame from the same persona. */
export function replyFrame(x: Heard, type: number, r: ReplySpec = {}, f: FrameSpec = {}): Uint8Array {
  return udpFrame(x, replyPayload(x, type, r), { from: r.from, ...f });
}

export function set16(f: Uint8Array, off: number, v: number): Uint8Array {
  new DataView(f.buffer, f.byteOffset, f.byteLength).setUint16(off, v);
  return f;
}

/** Recomputes the IPv4 header checksum (after an edit that should not be caught by it). */
export function fixIpSum(f: Uint8Array): Uint8Array {
  set16(f, IP + 10, 0);
  return set16(f, IP + 10, ipv4HeaderChecksum(f, IP, (f[IP] & 15) * 4));
}

/** Recomputes the UDP checksum over the UDP length the header states. */
export function fixUdpSum(f: Uint8Array): Uint8Array {
  const len = (f[UDP + 4] << 8) | f[UDP + 5];
  set16(f, UDP + 6, 0);
  return set16(f, UDP + 6, udpChecksum(f, IP, UDP, len));
}

export const OFFSETS = { IP, UDP, DHCP: UDP + 8 } as const;

// ---------------------------------------------------------------- running the harness

export const HARNESS = `${import.meta.dir}/hostile-server.ts`;

export interface SentLine {
  event: "sent" | "send-failed";
  label: string;
  answering: Heard["type"];
  /** The client's MAC (chaddr of the message answered). */
  client: string;
  xid: string;
  nth: number;
  /** Frames in this line (a burst sends many). */
  count: number;
  bytes: number;
  fates: Fates;
  /** ms since the harness started. */
  atMs: number;
  error?: string;
}

export interface HeardLine {
  event: "heard";
  type: Heard["type"];
  client: string;
  xid: string;
  nth: number;
  atMs: number;
}
export type HarnessLine = SentLine | HeardLine | { event: "ready" | "scheduled" | "stopped"; [k: string]: unknown };

export interface HostileServer {
  pid: number;
  /** Where a hostile string that ran would have left its marker file (it must stay empty). Look before stop(). */
  markerDir: string;
  /** Every line so far. */
  lines(): HarnessLine[];
  sent(client?: string): SentLine[];
  heard(client?: string): HeardLine[];
  /** Resolves once every reply scheduled so far (delayed ones too) has gone out. */
  settled(timeoutMs?: number): Promise<void>;
  /** SIGTERM (SIGKILL after 3 s) by PID; resolves with what it sent. Removes a markerDir it made. */
  stop(): Promise<SentLine[]>;
}

export interface HostileOptions {
  /**
   * Where the commands hostile strings carry would leave marker files (they must not). Default:
   * a new directory under /tmp (short and without dots: one hostile string is a single DNS label).
   */
  markerDir?: string;
}

/** Frames up to this size cross the lab once prepareWire() has run (one option's 16 KiB cap and more). */
export const JUMBO_MTU = 20_000;

function inNamespace(ns: string, argv: string[]): void {
  const p = Bun.spawnSync(["ip", "netns", "exec", ns, ...argv], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} in ${ns}: ${p.stderr.toString()}`);
}

/**
 * The lab's wire made fit to carry any frame the harness crafts (its own namespaces only):
 *
 * - The hub's bridge as a plain wire. With br_netfilter built in, a new namespace starts with
 *   bridge-nf-call-iptables = 1, and the bridge then checks IPv4 headers as a router would:
 *   frames with a bad ihl, version or header checksum, or cut short, never reach the client,
 *   and bytes after the IP total length are trimmed. Hostile frames must arrive as sent.
 * - A JUMBO_MTU on every link of server 1 and the client, so that a message over the 16 KiB
 *   an option may total (HOSTILE 20) can be sent at all.
 */
export function prepareWire(lab: LabState): void {
  // without br_netfilter there is no such file: nothing checks, nothing to turn off
  const knob = "/proc/sys/net/bridge/bridge-nf-call-iptables";
  inNamespace(lab.hubNs, ["sh", "-c", `[ ! -e ${knob} ] || echo 0 > ${knob}`]);
  const mtu = String(JUMBO_MTU);
  for (const [ns, dev] of [
    [lab.hubNs, "c0"],
    [lab.hubNs, "s1"],
    [lab.clientNs, lab.clientIface],
    [lab.servers[0].ns, SERVER_IFACE],
  ]) {
    inNamespace(ns, ["ip", "link", "set", "dev", dev, "mtu", mtu]);
  }
}

/**
 * Starts the harness for one scenario in the namespace of the lab's server 1 (whose dnsmasq
 * must be stopped: the harness answers as 198.18.0.1); resolves once its socket is open.
 */
export async function startHostileServer(lab: LabState, scenario: string | { name: string }, o: HostileOptions = {}): Promise<HostileServer> {
  const name = typeof scenario === "string" ? scenario : scenario.name;
  const markerDir = o.markerDir ?? mkdtempSync("/tmp/dth-");
  const s = lab.servers.find((x) => x.index === 1);
  if (!s) throw new Error(`lab ${lab.name} has no server 1`);
  if (s.pid !== null) throw new Error(`server ${s.index} of lab ${lab.name} still runs its ${s.kind}: stopServer() it first`);
  prepareWire(lab);
  const proc = Bun.spawn(["ip", "netns", "exec", s.ns, process.execPath, HARNESS, "--scenario", name, "--iface", SERVER_IFACE, "--marker-dir", markerDir], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: HarnessLine[] = [];
  let stderr = "";
  let ready!: () => void;
  const isReady = new Promise<void>((r) => {
    ready = r;
  });
  const reading = (async () => {
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl)) as HarnessLine;
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        if (line.event === "ready") ready();
      }
    }
  })();
  const errors = (async () => {
    stderr = await new Response(proc.stderr).text();
  })();
  const startTimer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  await Promise.race([isReady, proc.exited]);
  clearTimeout(startTimer);
  if (!lines.some((l) => l.event === "ready")) {
    await Promise.all([reading, errors]);
    if (o.markerDir === undefined) rmSync(markerDir, { recursive: true, force: true });
    throw new Error(`hostile server did not start (exit ${proc.exitCode}): ${stderr}`);
  }
  const sentLines = () => lines.filter((l): l is SentLine => l.event === "sent" || l.event === "send-failed");
  return {
    pid: proc.pid,
    markerDir,
    lines: () => lines,
    sent: (client) => sentLines().filter((l) => client === undefined || l.client === client),
    heard: (client) => lines.filter((l): l is HeardLine => l.event === "heard" && (client === undefined || l.client === client)),
    async settled(timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      const scheduled = () => lines.filter((l) => l.event === "scheduled").length;
      while (sentLines().length < scheduled()) {
        if (Date.now() > until) throw new Error(`hostile server: ${scheduled() - sentLines().length} replies still pending`);
        await Bun.sleep(20);
      }
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const killer = setTimeout(() => proc.kill("SIGKILL"), 3000);
        await proc.exited;
        clearTimeout(killer);
      }
      await Promise.all([reading, errors]);
      if (o.markerDir === undefined) rmSync(markerDir, { recursive: true, force: true });
      if (stderr.trim()) throw new Error(`hostile server wrote to stderr: ${stderr}`);
      return sentLines();
    },
  };
}
