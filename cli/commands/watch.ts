// `dhcptool watch IFACE…`: a passive monitor of all DHCP traffic on one link or several
// (both ports, both directions, any MAC), merged into one stream: one line per packet,
// exchanges with the server's latency, rogue alerts, pcap in and out, a summary at the end
// (and on SIGUSR1).

import { defineCommand } from "../command-line.ts";
import { compileHotCode } from "../jit.ts";
import { macToString, parseIp, parseMac } from "../../core/bytes.ts";
import { ConversationTracker, type SeenPacket } from "../../core/conversations.ts";
import type { AllowList } from "../../core/allow-list.ts";
import { escapeText, safeJson } from "../../core/escape.ts";
import { viewCaptured } from "../../core/inspect.ts";
import { LINKTYPE_ETHERNET } from "../../core/link.ts";
import {
  allValues,
  allowListFromArgs,
  metricsArg,
  metricsFromArgs,
  outputArgs,
  parseNumber,
  rejectUnknownFlags,
  vlanArg,
  vlanFromArgs,
  wideArg,
} from "../args.ts";
import { CaptureSink, InputStream, replayCapture } from "../capture-io.ts";
import { EXIT, UsageError, UserError } from "../errors.ts";
import { droppedOutput, flushOutput, log, print, setDaemonLog } from "../log.ts";
import { roomForLine, streamOutput } from "../output.ts";
import type { MetricsAddress } from "../metrics/address.ts";
import type { MetricsServer } from "../metrics/serve.ts";
import type { WatchMetrics } from "../metrics/watch.ts";
import { accountFromArgs, dropAfterOpen, userArg } from "../privilege.ts";
import { loadTable } from "../render-table.ts";
import { packetLine, packetJson, summaryText } from "../render-watch.ts";

export const watchArgs = {
  iface: { type: "positional", required: false, description: "Interfaces to listen on (not with --read)", valueHint: "IFACE…" },
  all: { type: "boolean", description: "Every up Ethernet interface (not lo; bridge ports skipped)" },
  read: { type: "string", description: "Read a pcap/pcapng capture (- stdin), not an interface", valueHint: "FILE" },
  write: { type: "string", description: "Also write the packets seen to a pcap file (Wireshark/tshark read it)", valueHint: "FILE" },
  ...userArg,
  count: { type: "string", description: "Stop after N DHCP packets", valueHint: "N" },
  duration: { type: "string", description: "Stop after S seconds", valueHint: "S" },
  vlan: { ...vlanArg.vlan, description: "On a trunk: only frames of VLAN ID (default: every VLAN, each line says its tag)" },
  "filter-mac": { type: "string", description: "Only packets of this client MAC (chaddr or Ethernet address); repeatable", valueHint: "MAC" },
  "filter-server": { type: "string", description: "Only packets to or from this server (IP or server id); repeatable", valueHint: "IP" },
  "allow-server": {
    type: "string",
    description: "A legitimate server (IP or MAC; repeat or comma-separate); any other that offers or acks raises an alert: exit 5",
    valueHint: "IP|MAC",
  },
  daemon: { type: "boolean", description: "Run resident: NDJSON events on stdout, periodic stats, summary on SIGTERM" },
  "stats-interval": { type: "string", description: "With --daemon: a stats event every S seconds (default 60, 0 for none)", valueHint: "S" },
  ...wideArg,
  ...metricsArg,
  ...outputArgs,
} as const;

export const watchExamples = `
Examples:
  dhcptool watch eth0                              every DHCP packet on eth0, one line each
  dhcptool watch eth0 --allow-server 192.0.2.1     ... and an alert if anyone else answers
  dhcptool watch eth0 eth1                         both links, one stream, each line tagged
  dhcptool watch eth0 --json --count 100 | jq .     NDJSON, then stop
  dhcptool watch eth0 --write dhcp.pcap --duration 600
  dhcptool watch --read dhcp.pcap --verbose         the same view of a capture, every option
  dhcptool watch eth0 --daemon --allow-server 192.0.2.1 --stats-interval 300
  dhcptool watch eth0 --daemon --metrics 9267      metrics at 127.0.0.1:9267/metrics

Each line: time, message type, xid, client MAC, addresses; replies add the server, the
offered address, the lease, and the server's latency since the client message it answers
(an OFFER: the DISCOVER it follows; an ACK: the REQUEST). On several interfaces (IFACE IFACE…, or --all) each line starts with the
interface, each JSON packet and alert carries "interface", and the start event lists
"interfaces". The summary (at the end, and on SIGUSR1) lists per server its offers, acks,
naks and latency p50/p95/max, per client the outcome, and the unanswered exchanges.
Exit status: 0, or 5 when a server outside --allow-server offered or acked; 1 error; 2 usage.`;

type Parsed = Record<string, string | boolean | undefined>;

interface WatchOptions {
  /** Live: the interfaces listened on (empty with --read; --all fills it at run time). */
  ifaces: string[];
  all: boolean;
  read: string | null;
  write: string | null;
  count: number | null;
  durationMs: number | null;
  macs: Set<string>;
  servers: Set<string>;
  allow: AllowList | null;
  json: boolean;
  verbose: boolean;
  daemon: boolean;
  statsIntervalMs: number;
  wide: boolean;
  metrics: MetricsAddress | null;
  /** --vlan: that VLAN's frames only (undefined: every VLAN). */
  vlan: number | undefined;
}

function optionsFromArgs(args: Parsed, rawArgs: string[], positionals: string[], metrics: MetricsAddress | null, vlan: number | undefined): WatchOptions {
  const ifaces = positionals.filter((n) => n !== "");
  for (const [i, n] of ifaces.entries()) if (ifaces.indexOf(n) !== i) throw new UsageError(`${escapeText(n)} is named twice`);
  const all = args.all === true;
  const read = typeof args.read === "string" && args.read ? args.read : null;
  if (!ifaces.length && !read && !all) throw new UsageError("which interface? e.g. dhcptool watch eth0 (or eth0 eth1, --all, --read FILE)");
  if ((ifaces.length || all) && read) throw new UsageError("give interfaces or --read FILE, not both");
  if (all && ifaces.length) throw new UsageError("--all listens on every interface: name none, or drop --all");
  if (read && args.daemon) throw new UsageError("--daemon watches an interface, not a file");
  if (read && vlan !== undefined) throw new UsageError("--vlan picks what an interface hears; with --read every packet shows its VLAN ids (vlan=)");
  const macs = new Set<string>();
  for (const v of allValues(rawArgs, "filter-mac").flatMap((x) => x.split(","))) {
    const m = parseMac(v.trim());
    if (!m) throw new UsageError(`--filter-mac "${v}" is not a MAC address`);
    macs.add(macToString(m));
  }
  const servers = new Set<string>();
  for (const v of allValues(rawArgs, "filter-server").flatMap((x) => x.split(","))) {
    if (parseIp(v.trim()) === null) throw new UsageError(`--filter-server "${v}" is not an IPv4 address`);
    servers.add(v.trim());
  }
  const allow = allowListFromArgs(rawArgs);
  const count = args.count === undefined ? null : parseNumber(args.count as string, "count", { min: 1, integer: true, fallback: 0 });
  const duration = args.duration === undefined ? null : parseNumber(args.duration as string, "duration", { min: 0.1, fallback: 0 });
  const statsS = parseNumber(args["stats-interval"] as string | undefined, "stats-interval", { min: 0, fallback: 60 });
  if (args["stats-interval"] !== undefined && !args.daemon) throw new UsageError("--stats-interval goes with --daemon");
  return {
    ifaces,
    all,
    read,
    write: typeof args.write === "string" && args.write ? args.write : null,
    count,
    durationMs: duration === null ? null : duration * 1000,
    macs,
    servers,
    allow,
    json: args.json === true || args.daemon === true,
    verbose: args.verbose === true,
    daemon: args.daemon === true,
    statsIntervalMs: statsS * 1000,
    metrics,
    vlan,
    wide: args.wide === true,
  };
}

export default defineCommand({
  meta: { name: "watch", description: "Watch all DHCP traffic on a link: packets, exchanges and latencies, rogue servers" },
  args: watchArgs,
  async run({ args, rawArgs }) {
    compileHotCode(); // a loop over every packet on the wire
    rejectUnknownFlags(rawArgs, watchArgs);
    const o = optionsFromArgs(args as Parsed, rawArgs, args._.map(String), metricsFromArgs(args), vlanFromArgs(args));
    if (o.all) {
      const { chooseAll, listLinks } = await import("../client/links.ts");
      const choice = chooseAll(await listLinks());
      for (const k of choice.skipped) log.info(`skipping ${escapeText(k.interface)}: ${escapeText(k.reason)}`);
      if (!choice.use.length) throw new UserError("--all: no interface is up with Ethernet framing (loopback, bridge and bond ports do not count)");
      o.ifaces = choice.use;
    }
    /** Several interfaces: every packet line and event says which one it came from. */
    const several = o.ifaces.length > 1;
    if (!o.json) await loadTable(); // the summary's tables
    const account = accountFromArgs(args as Parsed);
    const tracker = new ConversationTracker(o.allow);
    let decodeErrors = 0,
      shown = 0,
      frames = 0;
    let metrics: WatchMetrics | null = null;
    let endpoint: MetricsServer | null = null;
    const reasons = new Map<string, number>(); // why packets were not decodable, by reason
    // the file is created before privileges go; live frames are Ethernet, a capture's are its own
    const sink = o.write ? CaptureSink.open(o.write, o.read ? undefined : LINKTYPE_ETHERNET) : null;

    let stopping = false;
    let stopped!: () => void;
    const whenStopped = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    // Synchronous: the rest of a received batch must not be printed past --count.
    const stop = () => {
      stopping = true;
      stopped();
    };

    /** One captured frame, live or from a file. Never throws: the receive path must not. */
    const onFrame = (bytes: Uint8Array, timeUs: number, linktype = LINKTYPE_ETHERNET, iface?: string) => {
      if (stopping) return;
      frames++;
      const v = viewCaptured(linktype, bytes, frames, timeUs, o.verbose);
      if (!v.frame || !v.message) {
        decodeErrors++;
        const r = v.dropReason ?? "unknown";
        metrics?.dropped(r);
        reasons.set(r, (reasons.get(r) ?? 0) + 1);
        log.verbose(`packet ${frames}: ${escapeText(v.error ?? "not DHCP")}`);
        return;
      }
      // two literal shapes, not a spread: one object per packet on the hot path
      const p: SeenPacket =
        several && iface !== undefined ? { timeUs, frame: v.frame, message: v.message, iface } : { timeUs, frame: v.frame, message: v.message };
      if (o.macs.size && !o.macs.has(v.message.chaddr) && !o.macs.has(v.frame.srcMac ?? "") && !o.macs.has(v.frame.dstMac ?? "")) return;
      if (o.servers.size) {
        const sid = v.message.options.find((x) => x.code === 54)?.value;
        if (!o.servers.has(v.frame.srcIp) && !o.servers.has(v.frame.dstIp) && !(typeof sid === "string" && o.servers.has(sid))) return;
      }
      sink?.write(bytes, timeUs, linktype);
      const e = tracker.add(p);
      metrics?.packet(p, e);
      if (roomForLine()) print(o.json ? packetJson(p, e) : packetLine(p, e, o.verbose)); // else dropped unmade
      if (e.alert) {
        const a = e.alert;
        if (o.json)
          print(
            safeJson({ event: "alert", time: new Date(timeUs / 1000).toISOString(), ...a, ...(p.iface !== undefined ? { interface: p.iface } : {}) }) + "\n",
          );
        log.warn(
          `rogue DHCP server${p.iface !== undefined ? ` on ${escapeText(p.iface)}` : ""}: ${escapeText(a.server)} (${a.mac}) sent ${a.messageType} to ${a.client}`,
        );
      }
      if (o.count !== null && ++shown >= o.count) stop();
    };

    let kernelDrops: number | null = null;
    const printSummary = (final: boolean) => {
      const s = tracker.summary();
      const outputDropped = droppedOutput();
      if (final && outputDropped) log.warn(`${outputDropped} line(s) not printed: stdout did not keep up`);
      const notDecoded = Object.fromEntries(reasons);
      if (o.json)
        print(
          safeJson({ event: final ? "summary" : "stats", time: new Date().toISOString(), ...s, decodeErrors, notDecoded, kernelDrops, outputDropped }) + "\n",
        );
      else print(summaryText(s, decodeErrors, reasons, kernelDrops, o.wide));
    };

    if (o.read) {
      const input = InputStream.open(o.read);
      await dropAfterOpen(account, [], "watch --read"); // read as the caller, parsed as --user
      try {
        await replayCapture(
          input,
          null,
          (pk) => onFrame(pk.data, pk.timestampUs, pk.linktype),
          () => o.count !== null && shown >= o.count,
        );
      } finally {
        input.close();
      }
      tracker.expire(Number.MAX_SAFE_INTEGER); // the capture is over: every exchange is final
    } else {
      // Live: the capture must never wait for a slow reader of stdout (lines are dropped and
      // counted instead: outputDropped), and a reader that goes away stops it.
      streamOutput();
      if (o.daemon) setDaemonLog();
      const { RawSocket } = await import("../../native/rawsocket.ts");
      const sockets: import("../../native/rawsocket.ts").RawSocket[] = [];
      const kernelDropsNow = () => sockets.reduce((n, sk) => n + sk.stats().drops, 0);
      try {
        for (const iface of o.ifaces) {
          sockets.push(
            RawSocket.open(iface, {
              filter: "watch",
              promiscuous: true,
              vlan: o.vlan ?? "any",
              ring: true, // one wake-up per block of frames, no system call per frame: see native/ring.c
              vlanInBytes: true, // the tag the kernel took off, back where the decoder and --write look
              onFrame: (f) => onFrame(f.bytes, f.timeUs, LINKTYPE_ETHERNET, iface),
              onError: (err) => log.warn(`${several ? `${escapeText(iface)}: ` : ""}${String((err as Error).message ?? err)}`),
            }),
          );
        }
        if (o.metrics) {
          // listening before the drop: the port may be below 1024; a merged stream is labelled with every interface
          const [{ openMetrics }, { WatchMetrics }] = await Promise.all([import("../metrics/serve.ts"), import("../metrics/watch.ts")]);
          ({ metrics, server: endpoint } = openMetrics(o.metrics, (r) => new WatchMetrics(r, o.ifaces.join(","), tracker, kernelDropsNow)));
        }
        await dropAfterOpen(account, [], "watch"); // every frame is parsed as --user, no capability
        // the sockets are open: from here on nothing is missed (scripts wait for this line)
        const heard = sockets.map((sk) => ({ interface: sk.info.name, mac: macToString(sk.info.mac) }));
        if (o.json) {
          print(
            safeJson({
              event: "start",
              time: new Date().toISOString(),
              ...(several ? { interfaces: heard } : heard[0]),
              ...(endpoint ? { metrics: endpoint.url } : {}),
            }) + "\n",
          );
        } else log.info(`watching DHCP on ${o.ifaces.map(escapeText).join(", ")} (Ctrl-C to stop; SIGUSR1 for a summary)`);
        if (endpoint) log.info(`metrics: ${endpoint.url}`);
        const timers: Timer[] = [];
        // a timer keeps the event loop alive while the receive threads wait; it also closes idle exchanges
        timers.push(setInterval(() => tracker.expire((performance.timeOrigin + performance.now()) * 1000), 1000));
        if (o.durationMs !== null) timers.push(setTimeout(stop, o.durationMs));
        if (o.daemon && o.statsIntervalMs > 0) {
          timers.push(
            setInterval(() => {
              kernelDrops = kernelDropsNow();
              printSummary(false);
            }, o.statsIntervalMs),
          );
        }
        const onUsr1 = () => {
          kernelDrops = kernelDropsNow();
          printSummary(false);
        };
        process.on("SIGUSR1", onUsr1);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        await whenStopped;
        for (const t of timers) clearInterval(t);
        process.off("SIGUSR1", onUsr1);
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        kernelDrops = kernelDropsNow();
      } finally {
        endpoint?.stop(); // before the sockets: a scrape reads their statistics
        for (const sk of sockets) sk.close();
      }
    }
    if (sink) {
      await sink.end();
      if (sink.otherLinktype) log.warn(`${sink.otherLinktype} packet(s) not written to ${o.write}: a pcap holds one link type, theirs is another`);
    }
    await flushOutput(); // the summary must not meet a full output queue
    printSummary(true);
    return tracker.alertCount ? EXIT.rogue : EXIT.ok;
  },
});
