// `dhcptool discover IFACE --daemon`: a resident active prober in the spirit of dhcp_probe.
// Every --interval seconds it runs the one-shot discover exchange (runDiscover, the same
// options) and hands the offers to core's ProbeTracker, which says what changed. Loaded
// lazily by cli/commands/discover.ts, so the one-shot path pays nothing for it.
//
// It must not drain pools: every probe uses one MAC fixed at start (the interface's, --mac,
// or one random MAC drawn once), and it only ever sends DISCOVERs (never REQUEST, RELEASE
// or DECLINE), so no lease is ever bound to it.
//
// Exit status (on SIGTERM or SIGINT, after the final summary): 0, or 5 when a server outside
// --allow-server answered at any time during the run; 1 when it cannot start (no such
// interface, no permission) or a probe fails in a way that cannot heal; 2 usage.

import { macToString } from "../core/bytes.ts";
import { escapeText, safeJson } from "../core/escape.ts";
import {
  ProbeTracker, type FactChange, type FactValue, type ProbeEvent, type ProbeRunSummary,
} from "../core/probe.ts";
import { parseNumber } from "./args.ts";
import type { DiscoverOptions } from "./client/discover.ts";
import { EXIT, UsageError } from "./errors.ts";
import { log, print } from "./log.ts";
import { alignColumns, formatSeconds } from "./render.ts";

type Parsed = Record<string, string | boolean | string[] | undefined>;

export interface ProbeDaemonOptions {
  discover: DiscoverOptions;
  intervalMs: number;
  vanishAfter: number;
  json: boolean;
  verbose: boolean;
}

/** The one-shot window must end before the next probe starts: leave a fifth of the interval. */
const WAIT_SHARE_OF_INTERVAL = 0.8;
const DEFAULT_WAIT_MS = 5000;

/** Probe errors that will not heal by waiting: stop the daemon (exit 1) instead of looping. */
const FATAL_NATIVE_CODES = new Set(["EPERM", "ENOSHIM", "EINVAL"]);

export function probeOptionsFromArgs(args: Parsed, discover: DiscoverOptions): ProbeDaemonOptions {
  if (args.daemon !== true) {
    const flag = args.interval !== undefined ? "--interval" : "--vanish-after";
    throw new UsageError(`${flag} goes with --daemon (e.g. dhcptool discover ${discover.iface} --daemon ${flag === "--interval" ? "--interval 60" : "--vanish-after 3"})`);
  }
  if (discover.first) throw new UsageError("--first stops at the first offer; --daemon probes listen for every server: drop one of them");
  const intervalS = parseNumber(args.interval as string | undefined, "interval", { min: 1, max: 86400, fallback: 60 });
  const vanishAfter = parseNumber(args["vanish-after"] as string | undefined, "vanish-after", { min: 1, max: 1000, integer: true, fallback: 2 });
  const intervalMs = intervalS * 1000;
  const capMs = Math.round(intervalMs * WAIT_SHARE_OF_INTERVAL);
  let waitMs = discover.waitMs;
  const waitGiven = typeof args.wait === "string" && args.wait !== "";
  if (!waitGiven) waitMs = Math.min(DEFAULT_WAIT_MS, capMs);
  else if (waitMs >= intervalMs) {
    log.warn(`--wait ${waitMs / 1000} s is not shorter than --interval ${intervalS} s: listening ${capMs / 1000} s per probe`);
    waitMs = capMs;
  }
  return {
    discover: { ...discover, waitMs, onOffer: undefined },
    intervalMs, vanishAfter, json: args.json === true, verbose: args.verbose === true,
  };
}

function randomMac(): Uint8Array {
  const mac = crypto.getRandomValues(new Uint8Array(6));
  mac[0] = (mac[0] & 0xfe) | 0x02; // unicast, locally administered
  return mac;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function value(field: FactChange["field"] | null, v: FactValue): string {
  if (v === null) return "-";
  if (typeof v === "number") return field === "leaseTime" ? formatSeconds(v) : String(v);
  if (Array.isArray(v)) return v.length ? v.map(escapeText).join(", ") : "-";
  return escapeText(v);
}

const FIELD_LABEL: Record<FactChange["field"], string> = {
  subnetMask: "mask", routers: "routers", dns: "dns", domain: "domain", search: "search",
  classlessRoutes: "routes(121)", leaseTime: "lease", sourceIp: "source ip", sourceMac: "source mac",
};

/** One event for a terminal, or null when it is shown only with --verbose. */
export function eventLine(e: ProbeEvent, now: number, verbose: boolean): string | null {
  const head = (name: string) => `${stamp(now)}  ${name.padEnd(15)}  ${escapeText(e.event === "probe" ? "" : e.server)}`;
  switch (e.event) {
    case "server-new":
    case "server-back": {
      const parts = [
        e.event === "server-back" ? `back after ${e.absentProbes} probe(s) without an offer:` : "",
        `from ${escapeText(e.sourceIp)} ${escapeText(e.sourceMac)}`, `mask ${value(null, e.subnetMask)}`,
        `routers ${value(null, e.routers)}`, `dns ${value(null, e.dns)}`, `domain ${value(null, e.domain)}`,
        `lease ${value("leaseTime", e.leaseTime)}`, `offered ${escapeText(e.offered)}`, `${e.latencyMs.toFixed(1)} ms`,
      ].filter(Boolean);
      if (e.rogue) parts.push("ROGUE");
      return `${head(e.event)}  ${parts.join("  ")}\n`;
    }
    case "server-changed":
      return `${head(e.event)}  ${e.changes.map((c) => `${FIELD_LABEL[c.field]} ${value(c.field, c.old)} -> ${value(c.field, c.new)}`).join("; ")}\n`;
    case "server-vanished":
      return `${head(e.event)}  no offer in ${e.missedProbes} probes in a row (last seen ${stamp(e.lastSeen)})\n`;
    case "rogue": {
      const why = e.reason === "first-seen" ? "" : e.reason === "back" ? " (back after vanishing)" : " (no longer matches)";
      return `${head("ROGUE")}  from ${escapeText(e.sourceIp)} ${escapeText(e.sourceMac)} is not in --allow-server${why}\n`;
    }
    case "probe":
      if (!verbose) return null;
      return `${stamp(now)}  ${"probe".padEnd(15)}  #${e.probe}  ` + (e.error !== undefined
        ? `failed: ${escapeText(e.error)}\n`
        : `${e.offers} offer(s), ${e.servers} server(s) present${e.rogue ? `, ${e.rogue} rogue` : ""}, ${e.durationMs} ms\n`);
  }
}

/** One event as an NDJSON line: time first, event name second, times as ISO strings. */
export function eventJson(e: ProbeEvent | ProbeRunSummary | { event: string; [k: string]: unknown }, now: number): string {
  const fields: Record<string, unknown> = { time: new Date(now).toISOString(), ...e };
  if (e.event === "server-vanished") fields.lastSeen = new Date((e as { lastSeen: number }).lastSeen).toISOString();
  if (e.event === "summary" || e.event === "stats") {
    fields.servers = (e as ProbeRunSummary).servers.map((s) => ({
      ...s, firstSeen: new Date(s.firstSeen).toISOString(), lastSeen: new Date(s.lastSeen).toISOString(),
    }));
  }
  return safeJson(fields) + "\n";
}

function summaryText(s: ProbeRunSummary, now: number, final: boolean): string {
  const rogue = s.rogueServers.length
    ? `; ROGUE: ${s.rogueServers.map(escapeText).join(", ")}${s.rogueServersTruncated ? ", …" : ""}`
    : "; no rogue server";
  let text = `${stamp(now)}  ${(final ? "summary" : "stats").padEnd(15)}  ${s.probes} probe(s)` +
    (s.probesFailed ? ` (${s.probesFailed} failed)` : "") + `, ${s.serversSeen} server(s) seen` +
    (s.serversForgotten ? ` (${s.serversForgotten} forgotten to stay bounded)` : "") + rogue + "\n";
  if (s.servers.length) {
    const rows = s.servers.map((v) => [
      escapeText(v.server), v.status, String(v.probesSeen), stamp(v.firstSeen), stamp(v.lastSeen), v.rogue ? "ROGUE" : "",
    ]);
    text += alignColumns([["SERVER", "STATUS", "PROBES", "FIRST SEEN", "LAST SEEN", ""], ...rows]);
  }
  return text;
}

type ProbeOutcome = { ok: true; offers: import("../core/offers.ts").Offer[] } | { ok: false; err: unknown };

/** Runs until SIGTERM/SIGINT; returns the exit status. */
export async function runProbeDaemon(args: Parsed, discover: DiscoverOptions): Promise<number> {
  const o = probeOptionsFromArgs(args, discover);
  const { runDiscover } = await import("./client/discover.ts");
  const { interfaceInfo } = await import("../native/rawsocket.ts");
  // A missing interface at start is an error (exit 1), as for one-shot; later it is one failed probe.
  const info = interfaceInfo(o.discover.iface);
  // Each probe opens its own packet socket: the prober keeps CAP_NET_RAW and nothing else.
  const { accountFromArgs, dropAfterOpen } = await import("./privilege.ts");
  await dropAfterOpen(accountFromArgs(args), ["net_raw"], "discover --daemon");
  const mac = o.discover.mac === "interface" ? info.mac : o.discover.mac === "random" ? randomMac() : o.discover.mac;
  const probeOpts: DiscoverOptions = { ...o.discover, mac };
  const tracker = new ProbeTracker({ allow: o.discover.allow, vanishAfter: o.vanishAfter });

  const emit = (events: ProbeEvent[], now: number) => {
    for (const e of events) {
      if (e.event === "rogue") log.warn(`rogue DHCP server: ${escapeText(e.server)} (${escapeText(e.sourceMac)}) is not in --allow-server`);
      const line = o.json ? eventJson(e, now) : eventLine(e, now, o.verbose);
      if (line !== null) print(line);
    }
  };
  const printSummary = (final: boolean) => {
    const now = Date.now();
    const s = tracker.summary();
    print(o.json ? eventJson({ ...s, event: final ? "summary" : "stats", rogueSeen: tracker.rogueSeen }, now) : summaryText(s, now, final));
  };

  const startedAt = Date.now();
  const macText = macToString(mac);
  if (o.json) {
    print(eventJson({
      event: "start", interface: o.discover.iface, mac: macText, intervalS: o.intervalMs / 1000,
      waitS: o.discover.waitMs / 1000, vanishAfter: o.vanishAfter,
      allowServers: o.discover.allow ? [...o.discover.allow.ips, ...o.discover.allow.macs] : null,
    }, startedAt));
  }
  log.info(`probing ${escapeText(o.discover.iface)} every ${o.intervalMs / 1000} s as ${macText}, listening ${o.discover.waitMs / 1000} s per probe ` +
    `(SIGTERM or Ctrl-C to stop; SIGUSR1 for a summary)`);
  if (!info.up) log.warn(`${escapeText(o.discover.iface)} is down; probing anyway until it comes up`);

  let stopRequested = false;
  let stop!: () => void;
  const stopped = new Promise<null>((resolve) => { stop = () => { stopRequested = true; resolve(null); }; });
  const onUsr1 = () => printSummary(false);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGUSR1", onUsr1);

  let lastError: string | null = null;
  let timer: Timer | undefined;
  let nextAt = performance.now();
  try {
    while (!stopRequested) {
      const t0 = performance.now();
      const probe: Promise<ProbeOutcome> = runDiscover(probeOpts).then(
        (r) => ({ ok: true, offers: r.offers }), (err: unknown) => ({ ok: false, err }));
      const outcome = await Promise.race([probe, stopped]);
      // Stopped inside a window: a partial window is not a probe (it would look like misses).
      // The abandoned socket is closed at exit by native/rawsocket.ts.
      if (outcome === null || stopRequested) break;
      const now = Date.now();
      const durationMs = performance.now() - t0;
      if (outcome.ok) {
        if (lastError !== null) log.info(`probing ${escapeText(o.discover.iface)} works again`);
        lastError = null;
        emit(tracker.observe(outcome.offers, now, durationMs), now);
      } else {
        const err = outcome.err as { name?: string; code?: string; message?: string; stack?: string };
        if (err?.name === "NativeError" && FATAL_NATIVE_CODES.has(String(err.code))) throw outcome.err;
        const message = String(err?.message ?? outcome.err);
        // Say it once; repeats of the same failure only with --verbose.
        if (message !== lastError) log.warn(`probe failed: ${escapeText(message)}; still probing every ${o.intervalMs / 1000} s`);
        else log.verbose(`probe failed: ${escapeText(message)}`);
        log.debug(String(err?.stack ?? ""));
        lastError = message;
        emit(tracker.failed(message, now, durationMs), now);
      }
      // Probes start on a fixed cadence; a slot already missed is skipped, not made up.
      nextAt += o.intervalMs;
      if (nextAt < performance.now()) nextAt = performance.now();
      // The timer also keeps the event loop alive between probes.
      const sleep = new Promise<void>((resolve) => { timer = setTimeout(resolve, nextAt - performance.now()); });
      await Promise.race([sleep, stopped]);
      clearTimeout(timer);
    }
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    process.off("SIGUSR1", onUsr1);
  }
  printSummary(true);
  return tracker.rogueSeen ? EXIT.rogue : EXIT.ok;
}
