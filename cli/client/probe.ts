// `discover --daemon`: a resident active prober in the spirit of dhcp_probe. Every interval
// it runs the one-shot discover exchange (runDiscover, the same options) on each of its
// interfaces side by side and hands each one's offers to that interface's ProbeTracker,
// which says what changed; the command's ProbeOutput prints it (cli/render-probe.ts). Loaded lazily, so the one-shot path pays nothing for it.
//
// It must not drain pools: every probe uses one MAC fixed at start (the interface's, --mac,
// or one random MAC drawn once), and it only ever sends DISCOVERs (never REQUEST, RELEASE
// or DECLINE), so no lease is ever bound to it.
//
// Exit status (on SIGTERM or SIGINT, after the final summary): 0, or 5 when a server outside
// --allow-server answered at any time during the run; 1 when it cannot start (no such
// interface, no permission) or a probe fails in a way that cannot heal.

import { macToString } from "../../core/bytes.ts";
import { escapeText } from "../../core/escape.ts";
import { ProbeTracker, type ProbeEvent, type ProbeRunSummary } from "../../core/probe.ts";
import { EXIT } from "../errors.ts";
import { log } from "../log.ts";
import { dropAfterOpen, type Account } from "../privilege.ts";
import type { MetricsAddress } from "../metrics/address.ts";
import { runDiscover, type DiscoverOptions, type DiscoverResult } from "./discover.ts";
import { refuseLoopback } from "./exchange.ts";
import { resolveMac } from "./identity.ts";

export interface ProbeDaemonOptions {
  /** The exchange every probe runs; its iface is the first of `interfaces`. */
  discover: DiscoverOptions;
  /** Probed side by side, each with its own servers, events and summary. */
  interfaces: string[];
  intervalMs: number;
  vanishAfter: number;
  /** --metrics: where to serve /metrics (null: nowhere). */
  metrics: MetricsAddress | null;
}

export interface ProbeStart {
  interface: string;
  mac: string;
  intervalS: number;
  waitS: number;
  vanishAfter: number;
  allowServers: string[] | null;
  /** The metrics endpoint's URL, when served. */
  metrics?: string;
}

/** Where the prober's news goes (the command renders it); `iface` says which interface it is about. */
export interface ProbeOutput {
  start(info: ProbeStart, now: number): void;
  events(events: ProbeEvent[], now: number, iface: string): void;
  summary(s: ProbeRunSummary, rogueSeen: boolean, final: boolean, now: number, iface: string): void;
}

/** Probe errors that will not heal by waiting: stop the daemon (exit 1) instead of looping. */
const FATAL_NATIVE_CODES = new Set(["EPERM", "ENOSHIM", "EINVAL"]);

type ProbeOutcome = { ok: true; result: DiscoverResult } | { ok: false; err: unknown };

/** One probed interface: its exchange (with the MAC fixed at start), its servers, its last failure. */
interface Probed {
  iface: string;
  opts: DiscoverOptions;
  tracker: ProbeTracker;
  lastError: string | null;
}

/** Runs until SIGTERM/SIGINT; returns the exit status. */
export async function runProbeDaemon(o: ProbeDaemonOptions, account: Account | null, out: ProbeOutput): Promise<number> {
  const { interfaceInfo } = await import("../../native/rawsocket.ts");
  // A missing interface at start is an error (exit 1), as for one-shot; later it is one failed probe.
  const infos = o.interfaces.map((iface) => ({ iface, info: interfaceInfo(iface) }));
  for (const { iface, info } of infos) refuseLoopback(iface, info.flags);
  const trackers = infos.map(({ iface }) => ({ iface, tracker: new ProbeTracker({ allow: o.discover.allow, vanishAfter: o.vanishAfter }) }));
  // The metrics endpoint listens before the drop (the port may be below 1024).
  let metrics: import("../metrics/probe.ts").ProbeMetrics | null = null;
  let endpoint: import("../metrics/serve.ts").MetricsServer | null = null;
  if (o.metrics) {
    const [{ openMetrics }, { ProbeMetrics }] = await Promise.all([import("../metrics/serve.ts"), import("../metrics/probe.ts")]);
    ({ metrics, server: endpoint } = openMetrics(o.metrics, (r) => new ProbeMetrics(r, trackers)));
  }
  // Each probe opens its own packet socket: the prober keeps CAP_NET_RAW and nothing else.
  await dropAfterOpen(account, ["net_raw"], "discover --daemon");
  const startedAt = Date.now();
  if (endpoint) log.info(`metrics: ${endpoint.url}`);
  const probed: Probed[] = infos.map(({ iface, info }, k) => {
    const mac = resolveMac(o.discover.mac, info.mac);
    const macText = macToString(mac);
    out.start(
      {
        interface: iface,
        mac: macText,
        intervalS: o.intervalMs / 1000,
        waitS: o.discover.waitMs / 1000,
        vanishAfter: o.vanishAfter,
        allowServers: o.discover.allow ? [...o.discover.allow.ips, ...o.discover.allow.macs] : null,
        ...(endpoint ? { metrics: endpoint.url } : {}),
      },
      startedAt,
    );
    log.info(
      `probing ${escapeText(iface)} every ${o.intervalMs / 1000} s as ${macText}, listening ${o.discover.waitMs / 1000} s per probe ` +
        `(SIGTERM or Ctrl-C to stop; SIGUSR1 for a summary)`,
    );
    if (!info.up) log.warn(`${escapeText(iface)} is down; probing anyway until it comes up`);
    return { iface, opts: { ...o.discover, iface, mac }, tracker: trackers[k]!.tracker, lastError: null };
  });

  const printSummary = (final: boolean) => {
    for (const p of probed) out.summary(p.tracker.summary(), p.tracker.rogueSeen, final, Date.now(), p.iface);
  };

  let stopRequested = false;
  let stop!: () => void;
  const stopped = new Promise<null>((resolve) => {
    stop = () => {
      stopRequested = true;
      resolve(null);
    };
  });
  const onUsr1 = () => printSummary(false);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGUSR1", onUsr1);

  let timer: Timer | undefined;
  let nextAt = performance.now();
  try {
    while (!stopRequested) {
      const t0 = performance.now();
      const probes: Promise<ProbeOutcome[]> = Promise.all(
        probed.map((p) =>
          runDiscover(p.opts).then(
            (result): ProbeOutcome => ({ ok: true, result }),
            (err: unknown): ProbeOutcome => ({ ok: false, err }),
          ),
        ),
      );
      const outcomes = await Promise.race([probes, stopped]);
      // Stopped inside a window: a partial window is not a probe (it would look like misses).
      // The abandoned sockets are closed at exit by native/rawsocket.ts.
      if (outcomes === null || stopRequested) break;
      const now = Date.now();
      const durationMs = performance.now() - t0;
      for (const [i, p] of probed.entries()) report(p, outcomes[i]!, now, durationMs, o.intervalMs, out, metrics);
      // Probes start on a fixed cadence; a slot already missed is skipped, not made up.
      nextAt += o.intervalMs;
      if (nextAt < performance.now()) nextAt = performance.now();
      // The timer also keeps the event loop alive between probes.
      const sleep = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, nextAt - performance.now());
      });
      await Promise.race([sleep, stopped]);
      clearTimeout(timer);
    }
  } finally {
    clearTimeout(timer);
    endpoint?.stop();
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    process.off("SIGUSR1", onUsr1);
  }
  printSummary(true);
  return probed.some((p) => p.tracker.rogueSeen) ? EXIT.rogue : EXIT.ok;
}

/** One interface's probe outcome: its events out, its failure said once; a fatal one thrown. */
function report(
  p: Probed,
  outcome: ProbeOutcome,
  now: number,
  durationMs: number,
  intervalMs: number,
  out: ProbeOutput,
  metrics: import("../metrics/probe.ts").ProbeMetrics | null,
): void {
  const name = escapeText(p.iface);
  if (outcome.ok) {
    if (p.lastError !== null) log.info(`probing ${name} works again`);
    p.lastError = null;
    const events = p.tracker.observe(outcome.result.offers, now, durationMs);
    metrics?.probed(p.iface, outcome.result, events, now);
    out.events(events, now, p.iface);
    return;
  }
  const err = outcome.err as { name?: string; code?: string; message?: string; stack?: string };
  if (err?.name === "NativeError" && FATAL_NATIVE_CODES.has(String(err.code))) throw outcome.err;
  const message = String(err?.message ?? outcome.err);
  // Say it once; repeats of the same failure only with --verbose.
  if (message !== p.lastError) log.warn(`probe failed: ${escapeText(message)}; still probing every ${intervalMs / 1000} s`);
  else log.verbose(`probe failed: ${escapeText(message)}`);
  log.debug(String(err?.stack ?? ""));
  p.lastError = message;
  const events = p.tracker.failed(message, now, durationMs);
  metrics?.probed(p.iface, null, events, now);
  out.events(events, now, p.iface);
}
