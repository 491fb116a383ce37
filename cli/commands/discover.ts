// `dhcptool discover IFACE`: broadcast DISCOVER, collect every OFFER, show who answered,
// with what, and how fast. Flags → cli/client/discover.ts (or the prober, --daemon) → render.

import type { ParsedArgs } from "citty";
import { defineCommand } from "../command-line.ts";
import { escapeText } from "../../core/escape.ts";
import {
  allowListFromArgs, clientArgs, clientOptionsFromArgs, identityArgs, metricsArg, metricsFromArgs, outputArgs, parseNumber,
  rejectUnknownFlags, unicastArgs, wideArg,
} from "../args.ts";
import { outputWidth } from "../term.ts";
import { EXIT, UsageError } from "../errors.ts";
import { StatusLine, timeLeft } from "../live.ts";
import { log, logLevel, print, printJson, setDaemonLog } from "../log.ts";
import { streamOutput } from "../output.ts";
import { accountFromArgs, dropAfterOpen, userArg } from "../privilege.ts";
import { runDiscover, type DiscoverOptions, type DiscoverResult } from "../client/discover.ts";
import type { ProbeDaemonOptions } from "../client/probe.ts";
import { checkRelayAddress } from "../client/unicast.ts";
import type { Offer } from "../../core/offers.ts";

export const discoverArgs = {
  iface: { type: "positional", required: true, description: "Interface to send on (e.g. eth0)", valueHint: "IFACE" },
  wait: { type: "string", description: "Listen for offers this many seconds (default 5)", valueHint: "S" },
  first: { type: "boolean", description: "Stop at the first offer" },
  timeout: { ...clientArgs.timeout, description: "Retransmit the DISCOVER after S seconds (default 2)" },
  tries: { ...clientArgs.tries, description: "Send at most N DISCOVERs inside the window (default 3)" },
  ...identityArgs,
  "allow-server": { type: "string", description: "A legitimate server (IP or MAC; repeat or comma-separate). Any other that answers is rogue: exit 5", valueHint: "IP|MAC" },
  ...unicastArgs,
  // --- resident prober (cli/client/probe.ts) ---
  daemon: { type: "boolean", description: "Stay resident: probe every --interval seconds with one stable MAC, report new, changed, vanished and rogue servers" },
  interval: { type: "string", description: "With --daemon: seconds between probes (default 60, at least 1); --wait is kept below it", valueHint: "S" },
  "vanish-after": { type: "string", description: "With --daemon: a server missing from N probes in a row has vanished (default 2)", valueHint: "N" },
  ...metricsArg,
  ...userArg,
  // --- end resident prober ---
  ...wideArg,
  ...outputArgs,
} as const;

export const discoverExamples = `
Examples:
  dhcptool discover eth0                      every server on eth0, as a table
  dhcptool discover eth0 --first              the first offer only; quickest check
  dhcptool discover eth0 --json | jq '.offers[].serverId'
  dhcptool discover eth0 --allow-server 192.0.2.1 || echo "rogue DHCP server!"
  dhcptool discover eth0 --mac random --wait 10 --verbose
  dhcptool discover eth0 --option user-class=ipxe --option 93=7   as a UEFI PXE client would
  dhcptool discover eth0 --server 192.0.2.1   ask that server alone, by unicast (dhcping-style)
  dhcptool discover eth0 --server 192.0.2.1 --server-mac 52:54:00:12:34:56   …in a frame to its MAC
  dhcptool discover eth0 --giaddr 192.0.2.5 --server 192.0.2.1   as a relay agent at 192.0.2.5 would
  dhcptool discover eth0 --daemon --allow-server 192.0.2.1    probe every 60 s, report changes
  dhcptool discover eth0 --daemon --interval 300 --json >> probe.ndjson   one event per line
  dhcptool discover eth0 --daemon --mac random --vanish-after 3   one random MAC, kept all run
  dhcptool discover eth0 --daemon --metrics 9268    metrics at 127.0.0.1:9268/metrics

Exit status:
  0 at least one offer   3 no offer in the window   5 a server outside --allow-server answered
  1 error (interface missing or down, no permission)   2 usage error
  --daemon runs until SIGTERM or Ctrl-C, prints a summary, then exits 0, or 5 if a server
  outside --allow-server answered at any time during the run (1 if the interface is missing
  at start; a probe that fails later is logged and probing goes on). SIGUSR1: a summary now.

Latency is measured from the first DISCOVER; DISCOVERs are retransmitted (same xid) every
--timeout seconds, at most --tries times, inside the --wait window.

--server IP sends the DISCOVER to IP instead of 255.255.255.255, in a frame to the Ethernet
broadcast address (or --server-mac), from an IPv4 address IFACE holds (the one in IP's subnet
first). With no address on IFACE it goes from 0.0.0.0, which servers on a Linux UDP socket
(dnsmasq) drop as a martian source; raw-socket servers (Kea, ISC dhcpd) answer it. Only
replies from IP (server id or source address) count: others are dropped and counted
(other-server), so they are never shown and never rogue. A server beyond a router needs
--server-mac with the router's MAC (a frame to the Ethernet broadcast address is not
routed) and --giaddr (without a relay address it answers on its own link).
--giaddr IP (needs --server) plays the relay agent (RFC 1542, RFC 2131 4.1): giaddr = IP,
hops 1, sent from IP:67, so the server answers to IP:67 and picks the pool of IP's subnet.
IP must be an address on IFACE (the server ARPs for it; ip addr add IP/24 dev IFACE).

--daemon (in the spirit of dhcp_probe) repeats this exchange every --interval seconds with
one MAC kept for the whole run (the interface's, --mac, or one random MAC drawn at start) and
sends only DISCOVERs, so it binds no lease and drains no pool. Events: server-new,
server-changed (mask, routers, DNS, domain, search, routes, lease time, source IP or MAC:
not the offered address), server-vanished (no offer in --vanish-after probes in a row),
server-back, rogue, and a probe line per probe (with --verbose; always in --json).`;

export function discoverOptionsFromArgs(args: ParsedArgs<typeof discoverArgs>, rawArgs: string[]): DiscoverOptions {
  const base = clientOptionsFromArgs(args, rawArgs, "discover", "discover sends DISCOVERs; the message type is not an option here");
  const waitS = parseNumber(args.wait, "wait", { min: 0.1, max: 3600, fallback: 5 });
  return { ...base, waitMs: waitS * 1000, first: args.first === true, allow: allowListFromArgs(rawArgs) };
}

/** The one-shot window must end before the next probe starts: leave a fifth of the interval. */
const WAIT_SHARE_OF_INTERVAL = 0.8;
const DEFAULT_WAIT_MS = 5000;

/** --daemon's flags: the prober's interval, and a listening window that fits inside it. */
function probeOptionsFromArgs(args: ParsedArgs<typeof discoverArgs>, discover: DiscoverOptions): ProbeDaemonOptions {
  if (args.daemon !== true) {
    const flag = args.interval !== undefined ? "--interval" : "--vanish-after";
    throw new UsageError(`${flag} goes with --daemon (e.g. dhcptool discover ${discover.iface} --daemon ${flag === "--interval" ? "--interval 60" : "--vanish-after 3"})`);
  }
  if (discover.first) throw new UsageError("--first stops at the first offer; --daemon probes listen for every server: drop one of them");
  const intervalS = parseNumber(args.interval, "interval", { min: 1, max: 86400, fallback: 60 });
  const vanishAfter = parseNumber(args["vanish-after"], "vanish-after", { min: 1, max: 1000, integer: true, fallback: 2 });
  const intervalMs = intervalS * 1000;
  const capMs = Math.round(intervalMs * WAIT_SHARE_OF_INTERVAL);
  let waitMs = discover.waitMs;
  const waitGiven = typeof args.wait === "string" && args.wait !== "";
  if (!waitGiven) waitMs = Math.min(DEFAULT_WAIT_MS, capMs);
  else if (waitMs >= intervalMs) {
    log.warn(`--wait ${waitMs / 1000} s is not shorter than --interval ${intervalS} s: listening ${capMs / 1000} s per probe`);
    waitMs = capMs;
  }
  return { discover: { ...discover, waitMs, onOffer: undefined }, intervalMs, vanishAfter, metrics: metricsFromArgs(args) };
}

export default defineCommand({
  meta: { name: "discover", description: "Find the DHCP servers on a link: who answers, what they offer, how fast" },
  args: discoverArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, discoverArgs);
    const opts = discoverOptionsFromArgs(args, rawArgs);
    // --- resident prober: cli/client/probe.ts runs it, cli/render-probe.ts prints it ---
    if (args.daemon === true || args.interval !== undefined || args["vanish-after"] !== undefined) {
      // Each probe checks again; a giaddr missing at start is a usage error, not a failing probe.
      if (opts.giaddr !== null) checkRelayAddress(opts.iface, opts.giaddr);
      const o = probeOptionsFromArgs(args, opts);
      streamOutput(); // a stalled reader must not stall the probes
      setDaemonLog();
      const { runProbeDaemon } = await import("../client/probe.ts");
      const { probePrinter } = await import("../render-probe.ts");
      if (args.json !== true) await (await import("../render-table.ts")).loadTable(); // its summaries
      return runProbeDaemon(o, accountFromArgs(args), probePrinter(args.json === true, args.verbose === true, args.wide === true));
    }
    // --- end resident prober ---
    metricsFromArgs(args); // here --metrics can only be without --daemon: a usage error
    // The OFFERs are parsed as --user (nobody) with no capability left.
    const account = accountFromArgs(args);
    // On a terminal: how many offers so far and how long the window still runs, erased at the end.
    const servers: string[] = [];
    let deadline = 0;
    const status = StatusLine.forTerminal(args.json !== true && logLevel() >= 1, () =>
      `${servers.length} offer(s)${servers.length ? ` (${servers.join(", ")})` : ""}, ${timeLeft(deadline)}`);
    const onOffer = (o: Offer) => {
      servers.push(escapeText(o.serverId ?? o.sourceIp));
      log.verbose(`offer of ${o.yiaddr} from ${escapeText(o.serverId ?? o.sourceIp)} in ${o.latencyMs.toFixed(1)} ms`);
    };
    let result: DiscoverResult;
    try {
      result = await runDiscover({
        ...opts, onOffer,
        afterOpen: async () => {
          await dropAfterOpen(account, [], "discover");
          deadline = performance.now() + opts.waitMs; // the window starts now
          status?.start();
        },
      });
    } finally {
      status?.stop();
    }
    const rogue = result.rogueServers.length > 0;
    for (const r of result.rogueServers) log.warn(`rogue DHCP server: ${escapeText(r)} is not in --allow-server`);
    if (args.json) {
      printJson(result);
    } else {
      const render = await import("../render.ts");
      if (result.offers.length) {
        const { fitNote, loadTable } = await import("../render-table.ts");
        await loadTable();
        const table = render.renderOfferTable(result.offers, opts.allow !== null, { width: outputWidth(1), wide: args.wide === true });
        print(table.text);
        const note = fitNote(table);
        if (note) log.info(note);
      }
      if (args.verbose) for (const o of result.offers) print(render.renderOfferDetail(o) + "\n");
      const drops = Object.entries(result.dropped).map(([k, v]) => `${k} ${v}`).join(", ");
      log.verbose(`xid ${result.xid}, mac ${result.mac}, ${result.discoversSent} DISCOVER(s), ${result.elapsedMs} ms` +
        (drops ? `; dropped: ${drops}` : "") + (result.kernelDrops ? `; kernel drops ${result.kernelDrops}` : ""));
      if (!result.offers.length && !result.interrupted) log.warn(`no DHCP offer on ${escapeText(result.interface)} within ${opts.waitMs / 1000} s`);
    }
    // Like ping and tcpdump: Ctrl-C ends the window early, with what was seen so far.
    if (result.interrupted) log.info(`interrupted after ${(result.elapsedMs / 1000).toFixed(1)} s: ${result.offers.length} offer(s)`);
    if (result.interrupted === "SIGTERM") return EXIT.sigterm;
    return rogue ? EXIT.rogue : result.offers.length ? EXIT.ok : EXIT.noAnswer;
  },
});
