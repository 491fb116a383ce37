// `dhcptool discover IFACE…`: broadcast DISCOVER, collect every OFFER, show who answered,
// with what, and how fast; on several interfaces (or --all) side by side in one process.
// Flags → cli/client/discover.ts (or the prober, --daemon) → render.

import type { ParsedArgs } from "citty";
import { defineCommand } from "../command-line.ts";
import { escapeText } from "../../core/escape.ts";
import {
  allowListFromArgs,
  clientArgs,
  clientOptionsFromArgs,
  identityArgs,
  metricsArg,
  metricsFromArgs,
  outputArgs,
  parseNumber,
  rejectUnknownFlags,
  unicastArgs,
  vlanArg,
  vlanFromArgs,
  wideArg,
} from "../args.ts";
import { outputWidth } from "../term.ts";
import { EXIT, UsageError, UserError } from "../errors.ts";
import { StatusLine, timeLeft } from "../live.ts";
import { log, logLevel, print, printJson, setDaemonLog } from "../log.ts";
import { streamOutput } from "../output.ts";
import { accountFromArgs, dropAfterOpen, userArg } from "../privilege.ts";
import { runDiscover, runDiscoverMany, type DiscoverFailure, type DiscoverOptions, type DiscoverResult } from "../client/discover.ts";
import type { ProbeDaemonOptions } from "../client/probe.ts";
import { checkRelayAddress } from "../client/unicast.ts";
import type { Offer } from "../../core/offers.ts";

export const discoverArgs = {
  iface: { type: "positional", required: false, description: "Interfaces to send on (e.g. eth0 eth1)", valueHint: "IFACE…" },
  all: { type: "boolean", description: "Every up Ethernet interface (not lo; bridge ports skipped)" },
  wait: { type: "string", description: "Listen for offers this many seconds (default 5)", valueHint: "S" },
  first: { type: "boolean", description: "Stop at the first offer" },
  timeout: { ...clientArgs.timeout, description: "Retransmit the DISCOVER after S seconds (default 2)" },
  tries: { ...clientArgs.tries, description: "At most N DISCOVERs, until an offer comes (default 3)" },
  ...identityArgs,
  "allow-server": {
    type: "string",
    description: "A legitimate server (IP or MAC; repeat or comma-separate). Any other that answers is rogue: exit 5",
    valueHint: "IP|MAC",
  },
  ...unicastArgs,
  ...vlanArg,
  // --- resident prober (cli/client/probe.ts) ---
  daemon: {
    type: "boolean",
    description: "Stay resident: probe every --interval seconds with one stable MAC, report new, changed, vanished and rogue servers",
  },
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
  dhcptool discover eth0 eth1                 both links at once, grouped by interface
  dhcptool discover --all --json              every up Ethernet interface, as JSON
  dhcptool discover eth0 --vlan 10            VLAN 10 of a trunk, no eth0.10 needed
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

Several interfaces (IFACE IFACE…, or --all) are probed side by side in one process, one
window each, and reported per interface: the table gets an IFACE column, --json prints
{interfaces: [{interface, offers, …}, …], skipped: [{interface, reason}]} (with one IFACE,
the document is the one-interface shape). Exit 5 if any was rogue, else 0 if any offered.
On a bridge port a warning names the bridge: the host speaks through it, use it instead.

Latency is measured from the first DISCOVER. The DISCOVER is retransmitted (same xid)
every --timeout seconds, at most --tries times inside the --wait window, but only while no
offer has come (RFC 2131 4.1): each copy a server hears may set another address aside (Kea
offers a new one per copy). Another address offered by the same server is another row.

--server IP sends the DISCOVER to IP instead of 255.255.255.255, in a frame to the Ethernet
broadcast address (a routed IP: the router's MAC, from the kernel's route and neighbour
tables; or --server-mac), from an IPv4 address IFACE holds (the one in IP's subnet first).
With no address on IFACE it goes from 0.0.0.0, which servers on a Linux UDP socket (dnsmasq)
drop as a martian source; raw-socket servers (Kea, ISC dhcpd) answer it. Only replies from IP
(server id or source address) count: others are dropped and counted (other-server), so they
are never shown and never rogue. A server beyond a router needs --giaddr (without a relay
address it answers on its own link).
--giaddr IP (needs --server) plays the relay agent (RFC 1542, RFC 2131 4.1): giaddr = IP,
hops 1, sent from IP:67, so the server answers to IP:67 and picks the pool of IP's subnet.
IP must be an address of this host: on IFACE (the server ARPs for it), or on another
interface, as on a router relaying from its client side out of its server side.

--daemon (in the spirit of dhcp_probe) repeats this exchange every --interval seconds with
one MAC kept for the whole run (the interface's, --mac, or one random MAC drawn at start) and
sends only DISCOVERs, so it binds no lease and drains no pool. Events: server-new,
server-changed (mask, routers, DNS, domain, search, routes, lease time, source IP or MAC:
not the offered address), server-vanished (no offer in --vanish-after probes in a row),
server-back, rogue, and a probe line per probe (with --verbose; always in --json).`;

export function discoverOptionsFromArgs(args: ParsedArgs<typeof discoverArgs>, rawArgs: string[], iface = args.iface): DiscoverOptions {
  const base = clientOptionsFromArgs(args, rawArgs, "discover", "discover sends DISCOVERs; the message type is not an option here", iface);
  const waitS = parseNumber(args.wait, "wait", { min: 0.1, max: 3600, fallback: 5 });
  const vlan = vlanFromArgs(args);
  return { ...base, waitMs: waitS * 1000, first: args.first === true, allow: allowListFromArgs(rawArgs), ...(vlan !== undefined ? { vlan } : {}) };
}

/** The one-shot window must end before the next probe starts: leave a fifth of the interval. */
const WAIT_SHARE_OF_INTERVAL = 0.8;
const DEFAULT_WAIT_MS = 5000;

/** --daemon's flags: the prober's interval, and a listening window that fits inside it. */
function probeOptionsFromArgs(args: ParsedArgs<typeof discoverArgs>, discover: DiscoverOptions, interfaces: string[]): ProbeDaemonOptions {
  if (args.daemon !== true) {
    const flag = args.interval !== undefined ? "--interval" : "--vanish-after";
    throw new UsageError(
      `${flag} goes with --daemon (e.g. dhcptool discover ${discover.iface} --daemon ${flag === "--interval" ? "--interval 60" : "--vanish-after 3"})`,
    );
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
  return { discover: { ...discover, waitMs, onOffer: undefined }, interfaces, intervalMs, vanishAfter, metrics: metricsFromArgs(args) };
}

/** The interfaces to probe: those named, or --all's choice; `several` picks the JSON shape. */
async function interfacesFromArgs(
  args: ParsedArgs<typeof discoverArgs>,
): Promise<{ names: string[]; several: boolean; skipped: { interface: string; reason: string }[] }> {
  const named = args._.map(String).filter((n) => n !== "");
  for (const [i, n] of named.entries()) if (named.indexOf(n) !== i) throw new UsageError(`${escapeText(n)} is named twice`);
  if (args.all !== true) {
    if (!named.length) throw new UsageError("which interface? e.g. dhcptool discover eth0 (or eth0 eth1, or --all)");
    return { names: named, several: named.length > 1, skipped: [] };
  }
  if (named.length) throw new UsageError("--all probes every interface: name none, or drop --all");
  const { chooseAll, listLinks } = await import("../client/links.ts");
  const choice = chooseAll(await listLinks());
  for (const k of choice.skipped) log.info(`skipping ${escapeText(k.interface)}: ${escapeText(k.reason)}`);
  if (!choice.use.length) throw new UserError("--all: no interface is up with Ethernet framing (loopback, bridge and bond ports do not count)");
  return { names: choice.use, several: true, skipped: choice.skipped };
}

/** Answers that came on other VLANs than the one probed: what they are, and how to ask those VLANs. */
function otherVlansText(r: DiscoverResult): string {
  const ids = r.otherVlans.join(", ");
  return (
    `${escapeText(r.interface)}: ${r.dropped["other-vlan"] ?? 0} answer(s) came tagged with VLAN ${ids}, not ` +
    `${r.vlan === null ? "untagged as the DISCOVER went" : `VLAN ${r.vlan}`}: dropped (other-vlan), their servers are not on ` +
    `this link; on a trunk, ask that VLAN: dhcptool discover ${escapeText(r.interface)} --vlan ${r.otherVlans[0]}`
  );
}

/** The offer table (and --verbose detail) of one or several interfaces; the no-offer warning. */
async function printOffers(
  results: (DiscoverResult | DiscoverFailure)[],
  opts: DiscoverOptions,
  several: boolean,
  show: { verbose: boolean; wide: boolean },
): Promise<void> {
  const render = await import("../render.ts");
  const ok = results.filter((r): r is DiscoverResult => !("error" in r));
  const rows = ok.flatMap((r) => r.offers.map((o) => ({ iface: r.interface, offer: o })));
  if (rows.length) {
    const { fitNote, loadTable } = await import("../render-table.ts");
    await loadTable();
    const table = render.renderOfferTable(
      rows.map((x) => x.offer),
      opts.allow !== null,
      { width: outputWidth(1), wide: show.wide },
      several ? rows.map((x) => x.iface) : undefined,
    );
    print(table.text);
    const note = fitNote(table);
    if (note) log.info(note);
  }
  for (const r of results) {
    const name = escapeText(r.interface);
    if ("error" in r) {
      log.error(`${name}: ${escapeText(r.error)}`);
      continue;
    }
    if (show.verbose) for (const o of r.offers) print((several ? `${name}: ` : "") + render.renderOfferDetail(o) + "\n");
    const drops = Object.entries(r.dropped)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    log.verbose(
      `${several ? `${name}: ` : ""}xid ${r.xid}, mac ${r.mac}, ${r.discoversSent} DISCOVER(s), ${r.elapsedMs} ms` +
        (drops ? `; dropped: ${drops}` : "") +
        (r.kernelDrops ? `; kernel drops ${r.kernelDrops}` : ""),
    );
    if (!r.offers.length && !r.interrupted) log.warn(`no DHCP offer on ${name}${r.vlan !== null ? ` VLAN ${r.vlan}` : ""} within ${opts.waitMs / 1000} s`);
  }
}

export default defineCommand({
  meta: { name: "discover", description: "Find the DHCP servers on a link: who answers, what they offer, how fast" },
  args: discoverArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, discoverArgs);
    const { names, several, skipped } = await interfacesFromArgs(args);
    const opts = discoverOptionsFromArgs(args, rawArgs, names[0]);
    // --- resident prober: cli/client/probe.ts runs it, cli/render-probe.ts prints it ---
    if (args.daemon === true || args.interval !== undefined || args["vanish-after"] !== undefined) {
      // Each probe checks again; a giaddr missing at start is a usage error, not a failing probe.
      if (opts.giaddr !== null) for (const n of names) checkRelayAddress(n, opts.giaddr);
      const o = probeOptionsFromArgs(args, opts, names);
      streamOutput(); // a stalled reader must not stall the probes
      setDaemonLog();
      const { runProbeDaemon } = await import("../client/probe.ts");
      const { probePrinter } = await import("../render-probe.ts");
      if (args.json !== true) await (await import("../render-table.ts")).loadTable(); // its summaries
      return runProbeDaemon(o, accountFromArgs(args), probePrinter(args.json === true, args.verbose === true, args.wide === true, several));
    }
    // --- end resident prober ---
    metricsFromArgs(args); // here --metrics can only be without --daemon: a usage error
    // The OFFERs are parsed as --user (nobody) with no capability left.
    const account = accountFromArgs(args);
    // On a terminal: how many offers so far and how long the window still runs, erased at the end.
    const servers: string[] = [];
    let deadline = 0;
    const status = StatusLine.forTerminal(
      args.json !== true && logLevel() >= 1,
      () => `${servers.length} offer(s)${servers.length ? ` (${servers.join(", ")})` : ""}, ${timeLeft(deadline)}`,
    );
    const onOffer = (iface: string) => (o: Offer) => {
      servers.push(escapeText(o.serverId ?? o.sourceIp));
      log.verbose(
        `${several ? `${escapeText(iface)}: ` : ""}offer of ${o.yiaddr} from ${escapeText(o.serverId ?? o.sourceIp)} in ${o.latencyMs.toFixed(1)} ms`,
      );
    };
    // Every socket is open (and with several interfaces, all of them): the window starts now.
    const afterOpen = async () => {
      await dropAfterOpen(account, [], "discover");
      deadline = performance.now() + opts.waitMs;
      status?.start();
    };
    let results: (DiscoverResult | DiscoverFailure)[];
    try {
      results = several
        ? await runDiscoverMany(
            names.map((iface) => ({ ...opts, iface, onOffer: onOffer(iface) })),
            afterOpen,
          )
        : [await runDiscover({ ...opts, onOffer: onOffer(opts.iface), afterOpen })];
    } finally {
      status?.stop();
    }
    const ok = results.filter((r): r is DiscoverResult => !("error" in r));
    for (const r of ok) {
      for (const x of r.rogueServers)
        log.warn(`rogue DHCP server${several ? ` on ${escapeText(r.interface)}` : ""}: ${escapeText(x)} is not in --allow-server`);
      if (r.otherVlans.length) log.warn(otherVlansText(r));
    }
    if (args.json) {
      printJson(several ? { interfaces: results, skipped } : results[0]);
    } else await printOffers(results, opts, several, { verbose: args.verbose === true, wide: args.wide === true });
    // Like ping and tcpdump: Ctrl-C ends the window early, with what was seen so far.
    let interrupted: string | null | undefined;
    for (const r of ok) interrupted ||= r.interrupted;
    if (interrupted) {
      const offers = ok.reduce((n, r) => n + r.offers.length, 0);
      log.info(`interrupted after ${(Math.max(...ok.map((r) => r.elapsedMs)) / 1000).toFixed(1)} s: ${offers} offer(s)`);
    }
    if (interrupted === "SIGTERM") return EXIT.sigterm;
    if (ok.some((r) => r.rogueServers.length > 0)) return EXIT.rogue;
    if (ok.some((r) => r.offers.length > 0)) return EXIT.ok;
    return ok.length < results.length ? EXIT.error : EXIT.noAnswer;
  },
});
