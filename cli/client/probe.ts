// `discover --daemon`: a resident active prober in the spirit of dhcp_probe. Every interval
// it runs the one-shot discover exchange (runDiscover, the same options) and hands the offers
// to core's ProbeTracker, which says what changed; the command's ProbeOutput prints it
// (cli/render-probe.ts). Loaded lazily, so the one-shot path pays nothing for it.
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
import type { MetricsAddress } from "../metrics/address.ts";
import { dropAfterOpen, type Account } from "../privilege.ts";
import { runDiscover, type DiscoverOptions, type DiscoverResult } from "./discover.ts";
import { refuseLoopback } from "./exchange.ts";
import { resolveMac } from "./identity.ts";

export interface ProbeDaemonOptions {
  discover: DiscoverOptions;
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

/** Where the prober's news goes (the command renders it). */
export interface ProbeOutput {
  start(info: ProbeStart, now: number): void;
  events(events: ProbeEvent[], now: number): void;
  summary(s: ProbeRunSummary, rogueSeen: boolean, final: boolean, now: number): void;
}

/** Probe errors that will not heal by waiting: stop the daemon (exit 1) instead of looping. */
const FATAL_NATIVE_CODES = new Set(["EPERM", "ENOSHIM", "EINVAL"]);

type ProbeOutcome = { ok: true; result: DiscoverResult } | { ok: false; err: unknown };

/** Runs until SIGTERM/SIGINT; returns the exit status. */
export async function runProbeDaemon(o: ProbeDaemonOptions, account: Account | null, out: ProbeOutput): Promise<number> {
  const { interfaceInfo } = await import("../../native/rawsocket.ts");
  // A missing interface at start is an error (exit 1), as for one-shot; later it is one failed probe.
  const info = interfaceInfo(o.discover.iface);
  refuseLoopback(o.discover.iface, info.flags);
  const tracker = new ProbeTracker({ allow: o.discover.allow, vanishAfter: o.vanishAfter });
  // The metrics endpoint listens before the drop (the port may be below 1024).
  let metrics: import("../metrics/probe.ts").ProbeMetrics | null = null;
  let endpoint: import("../metrics/serve.ts").MetricsServer | null = null;
  if (o.metrics) {
    const [{ openMetrics }, { ProbeMetrics }] = await Promise.all([import("../metrics/serve.ts"), import("../metrics/probe.ts")]);
    ({ metrics, server: endpoint } = openMetrics(o.metrics, (r) => new ProbeMetrics(r, o.discover.iface, tracker)));
  }
  // Each probe opens its own packet socket: the prober keeps CAP_NET_RAW and nothing else.
  await dropAfterOpen(account, ["net_raw"], "discover --daemon");
  const mac = resolveMac(o.discover.mac, info.mac);
  const probeOpts: DiscoverOptions = { ...o.discover, mac };

  const printSummary = (final: boolean) => out.summary(tracker.summary(), tracker.rogueSeen, final, Date.now());

  const startedAt = Date.now();
  const macText = macToString(mac);
  out.start({
    interface: o.discover.iface, mac: macText, intervalS: o.intervalMs / 1000,
    waitS: o.discover.waitMs / 1000, vanishAfter: o.vanishAfter,
    allowServers: o.discover.allow ? [...o.discover.allow.ips, ...o.discover.allow.macs] : null,
    ...(endpoint ? { metrics: endpoint.url } : {}),
  }, startedAt);
  if (endpoint) log.info(`metrics: ${endpoint.url}`);
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
        (result) => ({ ok: true, result }), (err: unknown) => ({ ok: false, err }));
      const outcome = await Promise.race([probe, stopped]);
      // Stopped inside a window: a partial window is not a probe (it would look like misses).
      // The abandoned socket is closed at exit by native/rawsocket.ts.
      if (outcome === null || stopRequested) break;
      const now = Date.now();
      const durationMs = performance.now() - t0;
      if (outcome.ok) {
        if (lastError !== null) log.info(`probing ${escapeText(o.discover.iface)} works again`);
        lastError = null;
        const events = tracker.observe(outcome.result.offers, now, durationMs);
        metrics?.probed(outcome.result, events, now);
        out.events(events, now);
      } else {
        const err = outcome.err as { name?: string; code?: string; message?: string; stack?: string };
        if (err?.name === "NativeError" && FATAL_NATIVE_CODES.has(String(err.code))) throw outcome.err;
        const message = String(err?.message ?? outcome.err);
        // Say it once; repeats of the same failure only with --verbose.
        if (message !== lastError) log.warn(`probe failed: ${escapeText(message)}; still probing every ${o.intervalMs / 1000} s`);
        else log.verbose(`probe failed: ${escapeText(message)}`);
        log.debug(String(err?.stack ?? ""));
        lastError = message;
        const events = tracker.failed(message, now, durationMs);
        metrics?.probed(null, events, now);
        out.events(events, now);
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
    endpoint?.stop();
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    process.off("SIGUSR1", onUsr1);
  }
  printSummary(true);
  return tracker.rogueSeen ? EXIT.rogue : EXIT.ok;
}
