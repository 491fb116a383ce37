// `dhcptool request IFACE`: a whole DORA (or INIT-REBOOT with --address), printing the lease
// and how long each step took; with --daemon, the resident client. Flags → cli/client/request.ts
// (or cli/daemon/run.ts) → render (cli/render-lease.ts); the protocol is the engine's.

import type { ParsedArgs } from "citty";
import { defineCommand } from "../command-line.ts";
import { compileHotCode } from "../jit.ts";
import { escapeText } from "../../core/escape.ts";
import {
  clientArgs,
  clientOptionsFromArgs,
  dirArgs,
  dirsFromArgs,
  identityArgs,
  ipFromArgs,
  metricsArg,
  metricsFromArgs,
  outputArgs,
  parseNumber,
  rejectUnknownFlags,
  unicastArgs,
} from "../args.ts";
import { parseMac } from "../../core/bytes.ts";
import { DEFAULT_MAC_PREFIX, MAX_CLIENTS, plannedStarts } from "../../core/load-plan.ts";
import { EXIT, signalExit, UsageError } from "../errors.ts";
import { randomMac, randomU32 } from "../client/identity.ts";
import type { LoadOptions } from "../client/load.ts";
import { runRequest, type RequestOptions, type RequestResult } from "../client/request.ts";
import { accountFromArgs, dropAfterOpen, userArg } from "../privilege.ts";
import { StepStatus } from "../live.ts";
import { log, logLevel, print, printJson, setDaemonLog } from "../log.ts";
import { streamOutput } from "../output.ts";
import { renderLeaseEnv, renderLeaseText } from "../render-lease.ts";
import { renderLoadCsv, renderLoadStatus, renderLoadText } from "../render-load.ts";

export const requestArgs = {
  iface: { type: "positional", required: true, description: "Interface to ask on (e.g. eth0)", valueHint: "IFACE" },
  address: { type: "string", description: "INIT-REBOOT: ask for this address (REQUEST with option 50 only, no DISCOVER)", valueHint: "IP" },
  timeout: { ...clientArgs.timeout, description: "Retransmit a DISCOVER or REQUEST after S seconds (default 2)" },
  tries: { ...clientArgs.tries, description: "Send each message at most N times before giving up (default 3)" },
  ...identityArgs,
  server: {
    ...unicastArgs.server,
    description: "Ask this one server by unicast (DISCOVER and REQUEST) instead of broadcasting; replies from any other are dropped",
  },
  "server-mac": unicastArgs["server-mac"],
  giaddr: {
    ...unicastArgs.giaddr,
    description: "Relay simulation: DISCOVER and REQUEST go as a relay agent at IP (an address on IFACE) sends them: giaddr, hops 1, from IP:67 to --server",
  },
  release: { type: "boolean", description: "Give the address back (DHCPRELEASE to the server) right after the ACK" },
  format: { type: "string", description: "Output: text (default), json, or env (KEY='value' lines to source in a shell)", valueHint: "FMT" },
  daemon: {
    type: "boolean",
    description: "Stay resident: keep the lease (renew, rebind, reboot after a link flap), with a control socket for `dhcptool lease`",
  },
  apply: {
    type: "boolean",
    description: "--daemon: put the address, default route and classless routes on the interface (netlink); take them off when the lease ends",
  },
  hook: {
    type: "string",
    description: "--daemon: run PROG (an absolute path, no shell) on every event, lease fields in its environment, JSON on stdin",
    valueHint: "PROG",
  },
  "hook-timeout": { type: "string", description: "--daemon: kill a hook still running after S seconds (default 10)", valueHint: "S" },
  "hook-user": { type: "string", description: "--daemon: run the hook as USER (default --user's; root for a hook that writes /etc)", valueHint: "USER" },
  "route-metric": { type: "string", description: "--daemon --apply: the routes' metric (default 1000 + the interface's index)", valueHint: "N" },
  config: { type: "string", description: "--daemon: per-interface settings (TOML or JSON); SIGHUP re-reads it", valueHint: "FILE" },
  "state-dir": { ...dirArgs["state-dir"], description: "--daemon: where leases are stored, one JSON file per interface (default /var/lib/dhcptool)" },
  "run-dir": { ...dirArgs["run-dir"], description: "--daemon: where the control socket goes, IFACE.sock (default /run/dhcptool)" },
  "release-on-exit": { type: "boolean", description: "--daemon: on SIGTERM send a RELEASE and take the address off before exiting" },
  ...metricsArg,
  clients: { type: "string", description: "Load: N simulated clients, each a DORA, at --rate", valueHint: "N" },
  rate: { type: "string", description: "--clients: DORAs started per second (default 100)", valueHint: "R" },
  duration: { type: "string", description: "--clients: stop starting after S seconds", valueHint: "S" },
  renew: { type: "boolean", description: "--clients: each client renews once after its ACK" },
  "mac-prefix": { type: "string", description: "--clients: MACs' first 3 bytes (default 02:64:74)", valueHint: "XX:XX:XX" },
  seed: { type: "string", description: "--clients: seed of MACs and xids (default: random)", valueHint: "N" },
  ...userArg,
  ...outputArgs,
} as const;

type RequestArgs = ParsedArgs<typeof requestArgs>;

const DAEMON_ONLY = ["apply", "hook", "hook-timeout", "hook-user", "route-metric", "config", "state-dir", "run-dir", "release-on-exit", "metrics"] as const;
const LOAD_ONLY = ["rate", "duration", "renew", "mac-prefix", "seed"] as const;

export const requestExamples = `
Examples:
  dhcptool request eth0                        a lease, and how long each step took
  dhcptool request eth0 --release              take a lease and give it straight back
  dhcptool request eth0 --address 192.0.2.50   INIT-REBOOT: may I keep this address? (NAK: exit 4)
  dhcptool request eth0 --json | jq .lease.address
  dhcptool request eth0 --format env > lease.env && . ./lease.env && echo "$new_ip_address"
  dhcptool request eth0 --mac random --release --timeout 1 --tries 5
  dhcptool request eth0 --daemon                   a resident client: renew, rebind, reboot; lease show eth0
  dhcptool request eth0 --daemon --apply --hook /etc/dhcptool/hook --config /etc/dhcptool.toml
  dhcptool request eth0 --daemon --json > events.ndjson   one event per line (bound, renew, unbound …)
  dhcptool request eth0 --daemon --metrics 9269    metrics at 127.0.0.1:9269/metrics
  dhcptool request eth0 --server 192.0.2.1 --release   a lease from that server only, by unicast
  dhcptool request eth0 --giaddr 192.0.2.5 --server 192.0.2.1   through a simulated relay agent
  dhcptool request eth0 --clients 1000 --rate 200 --release   1000 DORAs, 200/s
  dhcptool request eth0 --clients 5000 --rate 1000 --format csv > knee.csv

Exit status:
  0 bound (an ACK)   3 no OFFER or no ACK within --timeout x --tries   4 the server said NAK
  1 error (interface missing or down, no permission)   2 usage error

One-shot, request does NOT configure the interface: it takes a lease from the server and
prints it (the server counts it as given out until it expires or --release gives it back).
--daemon keeps the lease (RFC 2131 timers, link tracking, the store in --state-dir, the
control socket in --run-dir); only --apply puts it on the interface. It stops on SIGTERM
(exit 0), re-reads --config on SIGHUP; docs/resident-client.md has the events, the hook's
variables and the config file.
The REQUEST fields follow RFC 2131 table 4; replies for another xid, MAC or server are ignored.
--server IP and --giaddr IP work as for discover (dhcptool discover --help): the DISCOVER
and the REQUEST go by unicast to IP (from an address IFACE holds, else 0.0.0.0), or as a
relay agent at giaddr sends them (from giaddr:67, hops 1); only IP's replies count. The
--release afterwards is the client's own: unicast from the leased address to the server's MAC.
--format env prints new_ip_address, new_subnet_mask, new_broadcast_address,
new_prefix_length, new_routers, new_classless_static_routes, new_domain_name_servers,
new_domain_name, new_domain_search, new_host_name, new_lease_time, new_renewal_time,
new_rebinding_time, new_expiry, new_dhcp_server_identifier, new_dhcp_server_mac
(dhclient-script names, the same a --daemon --hook program gets): every value
single-quoted with wire strings escaped, so sourcing the output cannot run anything.

Load (--clients N): N simulated clients (MACs from --mac-prefix and --seed), a
DORA each started at --rate per second whatever the server does, one socket for
all; --renew and --release once each after the ACK. Each message goes once and
waits --timeout (default 1 s, --tries 1: no answer is a drop, as perfdhcp counts
it). Reports messages by type, drops, NAKs, the achieved rate, latency
percentiles, pool exhaustion and a row per second (--json: all of it; --format
csv: the rows). Exit 0 when every client got a lease, 3 when some got no answer,
4 when some were NAKed. A lease taken stays taken until it expires unless
--release gives it back.`;

export function requestOptionsFromArgs(args: RequestArgs, rawArgs: string[]): RequestOptions {
  const base = clientOptionsFromArgs(args, rawArgs, "request", "request sets the message type itself");
  if (args.daemon === true && (base.server || base.giaddr)) {
    throw new UsageError("--server and --giaddr are for the one-shot request; the --daemon client broadcasts, and renews with its lease's server");
  }
  return { ...base, address: ipFromArgs(args.address, "address") ?? undefined, release: args.release === true };
}

async function daemon(args: RequestArgs, rawArgs: string[]): Promise<number> {
  if (args.release)
    throw new UsageError("--release gives a one-shot lease straight back; a daemon releases with --release-on-exit or `dhcptool lease release IFACE`");
  if (args.format !== undefined) throw new UsageError("--format is for the one-shot; the daemon logs (or prints NDJSON events with --json)");
  const o = requestOptionsFromArgs(args, rawArgs);
  const given = (flag: string) => rawArgs.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
  streamOutput(); // a stalled reader of its events must not stall the lease
  setDaemonLog();
  const { runDaemon } = await import("../daemon/run.ts");
  const account = accountFromArgs(args);
  if (o.mac === "random") log.warn("--mac random with --daemon: a new MAC each start, so a stored lease is never rebooted into");
  const mac = o.mac === "random" ? randomMac() : o.mac;
  return await runDaemon({
    iface: o.iface,
    mac,
    identity: o.identity,
    overrides: {
      ...(given("hostname") || given("no-hostname") ? { hostname: o.identity.hostname } : {}),
      ...(given("client-id") ? { clientId: o.identity.clientId } : {}),
      ...(given("vendor-class") ? { vendorClass: o.identity.vendorClass } : {}),
      ...(given("prefer-ipv6") ? { preferIpv6: true } : {}),
    },
    broadcastFlag: o.broadcastFlag,
    extra: o.extra,
    configPath: typeof args.config === "string" ? args.config : null,
    ...dirsFromArgs(args),
    apply: args.apply === true,
    hook: typeof args.hook === "string" ? args.hook : null,
    hookTimeoutMs: parseNumber(args["hook-timeout"], "hook-timeout", { min: 0.1, max: 3600, fallback: 10 }) * 1000,
    releaseOnExit: args["release-on-exit"] === true,
    json: args.json === true,
    account,
    hookAccount: typeof args["hook-user"] === "string" && args["hook-user"] !== "" ? accountFromArgs({ user: args["hook-user"] }) : account,
    routeMetric:
      args["route-metric"] === undefined ? null : parseNumber(args["route-metric"], "route-metric", { min: 1, max: 0xffffffff, integer: true, fallback: 0 }),
    metrics: metricsFromArgs(args),
  });
}

/** Where an interrupted exchange was: what it had sent and what it was waiting for. */
function whereStopped(phase: string, r: RequestResult): string {
  const sent = `${r.discoversSent} DISCOVER(s), ${r.requestsSent} REQUEST(s) sent`;
  switch (phase) {
    case "SELECTING":
      return `waiting for an OFFER (${sent}; nothing was leased)`;
    case "REQUESTING":
      return `waiting for the ACK to our REQUEST (${sent}; the server may hold the address until its offer times out)`;
    case "REBOOTING":
      return `waiting for an answer to the INIT-REBOOT REQUEST (${sent})`;
    default:
      return `in ${phase} (${sent})`;
  }
}

/** --clients: flags that name one client, or the daemon, make no sense for N of them. */
const NOT_WITH_LOAD = ["daemon", "address", "mac", "client-id", ...DAEMON_ONLY] as const;

async function load(args: RequestArgs, rawArgs: string[]): Promise<number> {
  const given = (flag: string) => rawArgs.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
  for (const flag of NOT_WITH_LOAD) {
    if (given(flag)) throw new UsageError(`--${flag} does not go with --clients: each simulated client has its own MAC, client id and lease`);
  }
  const format = args.json ? "json" : String(args.format ?? "text");
  if (!["text", "json", "csv"].includes(format)) throw new UsageError(`--format with --clients takes text, json or csv, not "${format}"`);
  if (typeof args.clients !== "string" || args.clients === "") throw new UsageError("--clients needs a number of clients (e.g. --clients 100)");
  const clients = parseNumber(args.clients, "clients", { min: 1, max: MAX_CLIENTS, integer: true, fallback: 1 });
  const rate = parseNumber(args.rate, "rate", { min: 0.01, max: 1_000_000, fallback: 100 });
  const durationSec = args.duration === undefined ? null : parseNumber(args.duration, "duration", { min: 0.001, max: 604_800, fallback: 1 });
  const seed = args.seed === undefined ? randomU32() : parseNumber(args.seed, "seed", { min: 0, max: 0xffffffff, integer: true, fallback: 0 });
  const base = clientOptionsFromArgs(args, rawArgs, "request", "request sets the message type itself");
  const o: LoadOptions = {
    ...base,
    clients,
    rate,
    durationSec,
    seed,
    renew: args.renew === true,
    release: args.release === true,
    macPrefix: macPrefixFromArgs(args["mac-prefix"]),
    // Without --hostname no option 12: N clients under this host's one name would fight over it.
    hostnamePrefix: given("hostname") ? base.identity.hostname : null,
    // perfdhcp's way: one copy of each message, a drop after a second; --timeout/--tries change it.
    retryMs: given("timeout") ? base.retryMs : 1000,
    tries: given("tries") ? base.tries : 1,
  };
  const planned = plannedStarts(clients, rate, durationSec);
  log.info(
    `request --clients: up to ${planned} leases from the DHCP server(s) on ${escapeText(o.iface)}, ${rate}/s; ` +
      (o.release ? "each given back (--release) right after its ACK" : "they stay taken until they expire (--release gives each back after its ACK)"),
  );
  const live = process.stderr.isTTY && logLevel() >= 1;
  if (live) {
    // Cut to the terminal's width: a line that wraps cannot be redrawn in place.
    o.onSecond = (row, total, started) => {
      const line = renderLoadStatus(row, total, started, planned);
      process.stderr.write(`\r\x1b[K${line.slice(0, Math.max(20, (process.stderr.columns ?? 80) - 1))}`);
    };
  }
  const account = accountFromArgs(args);
  compileHotCode(); // thousands of exchanges a second
  const { runLoad } = await import("../client/load.ts");
  const r = await runLoad({ ...o, afterOpen: () => dropAfterOpen(account, [], "request") });
  if (live) process.stderr.write("\r\x1b[K");
  if (format === "json") {
    printJson(r);
  } else {
    if (format === "text") await (await import("../render-table.ts")).loadTable();
    print(format === "csv" ? renderLoadCsv(r.series) : renderLoadText(r));
  }
  if (r.outcomes.nak > 0) return EXIT.nak;
  return r.outcomes["no-offer"] + r.outcomes["no-ack"] > 0 ? EXIT.noAnswer : EXIT.ok;
}

function macPrefixFromArgs(v: string | undefined): Uint8Array {
  if (v === undefined) return DEFAULT_MAC_PREFIX;
  const b = parseMac(`${v}:00:00:00`);
  if (!b || !/^[0-9a-f]{2}([:-]?[0-9a-f]{2}){2}$/i.test(v)) throw new UsageError(`--mac-prefix "${v}" is not 3 bytes of MAC (e.g. 02:64:74)`);
  if (b[0] & 1) throw new UsageError(`--mac-prefix "${v}" is a multicast prefix (the first byte is odd): client MACs are unicast`);
  return b.subarray(0, 3);
}

export default defineCommand({
  meta: {
    name: "request",
    description: "Take a lease (DISCOVER, OFFER, REQUEST, ACK) and show it with each step's latency; with --daemon keep it (a resident client)",
  },
  args: requestArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, requestArgs);
    if (args.clients !== undefined) return await load(args, rawArgs);
    for (const flag of LOAD_ONLY) {
      if (args[flag] !== undefined && args[flag] !== false) throw new UsageError(`--${flag} goes with --clients N (the load generator)`);
    }
    if (args.daemon) return await daemon(args, rawArgs);
    for (const flag of DAEMON_ONLY) {
      if (args[flag] !== undefined && args[flag] !== false)
        throw new UsageError(
          `--${flag} goes with --daemon (e.g. dhcptool request ${String(args.iface ?? "eth0")} --daemon --${flag}${flag === "apply" || flag === "release-on-exit" ? "" : " …"})`,
        );
    }
    const format = args.json ? "json" : String(args.format ?? "text");
    if (!["text", "json", "env"].includes(format)) throw new UsageError(`--format takes text, json or env, not "${format}"`);
    const opts = requestOptionsFromArgs(args, rawArgs);
    const account = accountFromArgs(args);
    // On a terminal: what was last sent and how long ago, erased when the exchange is over.
    const status = StepStatus.forTerminal(format === "text" && logLevel() >= 1);
    const onSent = (type: string, n: number) => {
      if (type !== "RELEASE") status?.step(`${type} ${n} of ${opts.tries} sent, waiting for ${type === "DISCOVER" ? "an OFFER" : "the ACK"}`);
    };
    let r: RequestResult;
    try {
      r = await runRequest({ ...opts, onSent, afterOpen: () => dropAfterOpen(account, [], "request") });
    } finally {
      status?.stop();
    }
    const drops = Object.entries(r.dropped)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    log.verbose(`${r.discoversSent} DISCOVER(s), ${r.requestsSent} REQUEST(s), ${r.timing.totalMs.toFixed(1)} ms` + (drops ? `; dropped: ${drops}` : ""));
    if (format === "json") {
      printJson(r);
    } else if (r.lease) {
      print(format === "env" ? renderLeaseEnv(r) : renderLeaseText(r));
    }
    switch (r.outcome) {
      case "bound":
        return EXIT.ok;
      case "nak":
        log.warn(`NAK from ${escapeText(r.nak!.server)}${r.nak!.message ? `: ${escapeText(r.nak!.message)}` : ""}`);
        return EXIT.nak;
      case "no-offer":
        log.warn(`no DHCP offer on ${escapeText(r.interface)} after ${opts.tries} DISCOVER(s), ${opts.retryMs / 1000} s apart`);
        return EXIT.noAnswer;
      case "no-ack":
        log.warn(
          `no answer to ${opts.tries} REQUEST(s) on ${escapeText(r.interface)}` +
            (r.offer ? ` for ${r.offer.address}, which ${escapeText(r.offer.server)} offered` : opts.address ? ` for ${opts.address} (INIT-REBOOT)` : ""),
        );
        return EXIT.noAnswer;
      case "interrupted": {
        const { signal, phase } = r.interrupted!;
        log.warn(`interrupted after ${(r.timing.totalMs / 1000).toFixed(1)} s ${whereStopped(phase, r)}`);
        return signalExit(signal);
      }
      case "ipv6-only":
        if (format === "text")
          print(`IPv6-only network: ${escapeText(r.ipv6Only!.server)} asks DHCPv4 clients to wait ${r.ipv6Only!.waitSec} s (option 108, RFC 8925)\n`);
        return EXIT.ok;
    }
  },
});
