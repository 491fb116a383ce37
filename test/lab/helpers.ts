// Lab test helpers: each test file makes its own lab (unique name), runs dhcptool inside the
// client namespace as a user would, and removes everything afterwards.

import { readFileSync } from "node:fs";
import { ipToU32, parseIp } from "../../core/bytes.ts";
import { inClient, labDown, labUp, type LabOptions, type LabState } from "../../cli/lab/index.ts";
import { defaultAccount } from "../../cli/privilege.ts";

export const MAIN = `${import.meta.dir}/../../cli/main.ts`;

/**
 * Who the commands become here once their sockets are open when no --user is given: the
 * dhcptool account that scripts/setup.sh creates (as CI does), nobody where it does not exist
 * (test/lab/account.test.ts insists that it does).
 */
export const RUNS_AS = defaultAccount();
/** /proc/PID/status's Uid: or Gid: line of a process that runs as `id` (real, effective, saved, fs). */
export const idLine = (field: "Uid" | "Gid", id: number): RegExp => new RegExp(`^${field}:\\s+${id}\\s+${id}\\s+${id}\\s+${id}$`, "m");

let counter = 0;
/** A short, unique lab name for this process (names end up in namespace names). */
export function labName(tag: string): string {
  return `t${tag}${(process.pid % 10000).toString(36)}${(counter++).toString(36)}`.slice(0, 10);
}

export function startLab(tag: string, opts: Omit<LabOptions, "name"> = {}): LabState {
  const name = labName(tag);
  labDown(name); // a leftover from an interrupted run
  return labUp({ ...opts, name });
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function dhcptool(lab: LabState | null, args: string[], timeoutMs = 30000, env: Record<string, string> = {}): Promise<RunResult> {
  const argv = [process.execPath, MAIN, ...args];
  const t0 = performance.now();
  const p = Bun.spawn(lab ? inClient(lab, argv) : argv, {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  const killer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(killer);
  return { exitCode, stdout, stderr, ms: performance.now() - t0 };
}

export function inNs(ns: string, argv: string[]): string {
  const p = Bun.spawnSync(["ip", "netns", "exec", ns, ...argv], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} in ${ns}: ${p.stderr.toString()}`);
  return p.stdout.toString();
}

export interface CaptureOptions {
  /** Write the frames to this pcap file (tcpdump -w, a packet at a time) instead of printing lines. */
  pcap?: string;
  /** tcpdump -Q: capture only frames going this way through the interface. */
  direction?: "in" | "out" | "inout";
  /** How long stop() leaves the last frames to arrive before it stops tcpdump; default 200 ms. */
  settleMs?: number;
  /** tcpdump -e: each line starts with the link header (MACs, 802.1Q tags). */
  linkHeaders?: boolean;
  /** tcpdump -y: the link type to capture as (LINUX_SLL, LINUX_SLL2 on the "any" device). */
  linktype?: string;
  /** Each line starts with the receive time in seconds since the epoch, to the nanosecond. */
  nanoTimes?: boolean;
}

export interface Capture {
  /**
   * Waits settleMs, stops tcpdump (SIGINT, so it flushes) and waits until it has exited. Returns
   * tcpdump's text lines, one per frame; none when writing a pcap (read the file). Called again,
   * it returns the same lines.
   */
  stop(): Promise<string[]>;
}

/**
 * tcpdump on iface in namespace ns, capturing what matches filter (a pcap-filter expression).
 * Resolves once tcpdump says it is listening, so nothing sent after that is missed.
 */
export async function captureOn(ns: string, iface: string, filter: string, opts: CaptureOptions = {}): Promise<Capture> {
  const argv = [
    "ip",
    "netns",
    "exec",
    ns,
    "tcpdump",
    "-Z",
    "root",
    "--immediate-mode",
    "-n",
    "-i",
    iface,
    ...(opts.direction ? ["-Q", opts.direction] : []),
    ...(opts.linkHeaders ? ["-e"] : []),
    ...(opts.linktype ? ["-y", opts.linktype] : []),
    ...(opts.nanoTimes ? ["-tt", "--time-stamp-precision=nano"] : []),
    ...(opts.pcap ? ["-U", "-w", opts.pcap] : ["-l"]), // -U: each packet written out as it comes; -l: each line
    filter,
  ];
  const p = Bun.spawn(argv, { stdout: opts.pcap ? "ignore" : "pipe", stderr: "pipe" });
  const reader = p.stderr.getReader();
  let said = "";
  while (!said.includes("listening on")) {
    // tcpdump says so on stderr once it captures
    const { value, done } = await reader.read();
    if (done) throw new Error(`tcpdump in ${ns} did not start: ${said}`);
    said += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  let stopped: Promise<string[]> | null = null;
  const stop = async (): Promise<string[]> => {
    await Bun.sleep(opts.settleMs ?? 200);
    p.kill("SIGINT");
    const [out] = await Promise.all([p.stdout ? new Response(p.stdout).text() : "", p.exited]);
    return out.split("\n").filter(Boolean);
  };
  return { stop: () => (stopped ??= stop()) };
}

export interface RenewalReply {
  /** 5 ACK, 6 NAK; null when nothing came within the wait. */
  type: number | null;
  yiaddr: string | null;
  leaseTime: number | null;
  t1: number | null;
  t2: number | null;
  serverId: string | null;
  /** IPv4 and Ethernet destination of the reply. */
  dstIp: string | null;
  dstMac: string | null;
  ms: number;
}

export interface RenewalRequest {
  /** renew: RENEWING, unicast to the server; rebind: REBINDING, broadcast (RFC 2131 table 4). */
  mode: "renew" | "rebind";
  mac: string;
  address: string;
  serverIp: string;
  serverMac: string;
  waitMs?: number;
}

const ROOT = `${import.meta.dir}/../..`;
// Runs in the client namespace (a packet socket binds to an interface of its own namespace):
// one REQUEST with ciaddr as a raw frame, as a bound client without --apply sends it, then the
// first ACK/NAK for its xid, printed as JSON.
const RENEWAL_SCRIPT = `
import { buildClientMessage, frameClientMessage } from "${ROOT}/core/client.ts";
import { macToString, parseMac } from "${ROOT}/core/bytes.ts";
import { BROADCAST_MAC, DHCP_CLIENT_PORT, parseUdpFrame } from "${ROOT}/core/frame.ts";
import { decodeMessage, getIp, getU32, messageType } from "${ROOT}/core/message.ts";
import { RawSocket } from "${ROOT}/native/rawsocket.ts";
const a = JSON.parse(process.env.DT_RENEWAL);
const mac = parseMac(a.mac);
const xid = crypto.getRandomValues(new Uint32Array(1))[0];
const payload = buildClientMessage({ mac, hostname: null }, { messageType: 3, xid, ciaddr: a.address });
const to = a.mode === "renew"
  ? { mac: parseMac(a.serverMac), ip: a.serverIp, srcIp: a.address }
  : { mac: BROADCAST_MAC, ip: "255.255.255.255", srcIp: a.address };
const t0 = performance.now();
let done;
const finished = new Promise((r) => { done = r; });
const none = { type: null, yiaddr: null, leaseTime: null, t1: null, t2: null, serverId: null, dstIp: null, dstMac: null };
const socket = RawSocket.open("lab0", { filter: "client", onFrame(frame) {
  if (frame.outgoing) return;
  const f = parseUdpFrame(frame.bytes, { csum: frame.csum, dstPort: DHCP_CLIENT_PORT, ourMac: mac });
  if (!f.ok) return;
  const d = decodeMessage(f.frame.payload);
  if (!d.ok || d.message.xid !== xid) return;
  const m = d.message;
  done({ type: messageType(m), yiaddr: m.yiaddr, leaseTime: getU32(m, 51), t1: getU32(m, 58), t2: getU32(m, 59),
    serverId: getIp(m, 54), dstIp: f.frame.dstIp, dstMac: macToString(f.frame.dstMac) });
} });
socket.send(frameClientMessage(mac, payload, to));
const timer = setTimeout(() => done(none), a.waitMs ?? 2000);
const reply = await finished;
clearTimeout(timer);
socket.close();
console.log(JSON.stringify({ ...reply, ms: performance.now() - t0 }));
`;

/** Sends one RENEWING or REBINDING REQUEST from the lab's client end and returns the reply. */
export async function sendRenewal(lab: LabState, req: RenewalRequest): Promise<RenewalReply> {
  const p = Bun.spawn(inClient(lab, [process.execPath, "-e", RENEWAL_SCRIPT]), {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, DT_RENEWAL: JSON.stringify(req) },
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (exitCode !== 0) throw new Error(`sendRenewal: exit ${exitCode}: ${stderr}`);
  return JSON.parse(stdout) as RenewalReply;
}

/** ip is in server s's pool (rangeStart..rangeEnd in the /24 at s.network). */
export function inPool(ip: string, s: LabState["servers"][number]): boolean {
  const n = parseIp(ip);
  return n !== null && n >= ipToU32(s.rangeStart) && n <= ipToU32(s.rangeEnd);
}

/** The process exists and is not a zombie (init may take a moment to reap what the lab stopped). */
export function running(pid: number): boolean {
  let stat = "";
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  return !/\) [ZX] /.test(stat);
}

/** Polls fn every 50 ms until it returns true or timeoutMs passes; returns its last answer. */
export async function eventually(fn: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!fn() && Date.now() < until) await Bun.sleep(50);
  return fn();
}

export type Event = { time: string; event: string; server?: string; [k: string]: unknown };

/** A running daemon's stdout as NDJSON events, read as they come. */
export class EventStream {
  readonly events: Event[] = [];
  private buffer = "";
  private readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = this.buffer.indexOf("\n")) >= 0) {
          const line = this.buffer.slice(0, nl);
          this.buffer = this.buffer.slice(nl + 1);
          if (line.trim()) this.events.push(JSON.parse(line) as Event);
        }
      }
    })();
  }

  find(pred: (e: Event) => boolean): Event | undefined {
    return this.events.find(pred);
  }

  /** Waits until an event matching pred has arrived (polling the parsed lines; the test owns the clock). */
  async waitFor(what: string, pred: (e: Event) => boolean, timeoutMs: number): Promise<Event> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const e = this.find(pred);
      if (e) return e;
      if (performance.now() > until)
        throw new Error(`no ${what} within ${timeoutMs} ms; events: ${this.events.map((x) => x.event + (x.server ? ` ${x.server}` : "")).join(", ")}`);
      await Bun.sleep(50);
    }
  }

  closed(): Promise<void> {
    return this.done;
  }
}
