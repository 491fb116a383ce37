// What `discover --daemon --metrics` (the resident prober) exposes: probes that worked or
// failed, every offer's latency per server, which servers answer now (up) or stopped
// answering (vanished), which are rogue, the tracker's events, and the packets each probe
// dropped. Counters and histograms follow the probes; the per-server gauges are read from
// the tracker at each scrape, so they forget what the tracker forgets.

import type { Offer } from "../../core/offers.ts";
import { serverKey, type ProbeEvent, type ProbeTracker } from "../../core/probe.ts";
import { serverMetrics, type ServerMetrics } from "./families.ts";
import type { Counter, Gauge, Registry } from "./registry.ts";

/** What one successful probe hands over (the one-shot discover result has these fields). */
export interface ProbeResult {
  offers: readonly Offer[];
  dropped: Readonly<Record<string, number>>;
  kernelDrops: number;
}

const SERVER_EVENTS = new Set(["server-new", "server-changed", "server-vanished", "server-back"]);

/** A probed interface and the tracker of its servers. */
export interface ProbedInterface {
  iface: string;
  tracker: ProbeTracker;
}

export class ProbeMetrics {
  readonly #servers: ServerMetrics;
  readonly #probes: Counter<"interface" | "result">;
  readonly #lastSuccess: Gauge<"interface">;
  readonly #events: Counter<"interface" | "event">;

  /** One set of families for every probed interface, each series labelled with its interface. */
  constructor(r: Registry, probed: readonly ProbedInterface[]) {
    this.#probes = r.counter({
      name: "dhcptool_probes_total",
      labels: ["interface", "result"],
      help: "Probes (one DISCOVER window each) by result: ok (ran; with or without offers) or failed (could not run).",
    });
    this.#lastSuccess = r.gauge({
      name: "dhcptool_probe_last_success_timestamp_seconds",
      labels: ["interface"],
      help: "When the latest probe that ran ended (Unix time).",
    });
    this.#servers = serverMetrics(r);
    const up = r.gauge({
      name: "dhcptool_server_up",
      labels: ["interface", "server", "mac", "status"],
      help: "1 while a DHCP server answers the probes, 0 once it has missed --vanish-after of them in a row.",
    });
    this.#events = r.counter({
      name: "dhcptool_server_events_total",
      labels: ["interface", "event"],
      help: "Server events: server-new, server-changed (what it hands out changed), server-vanished, server-back.",
    });
    // Every counter starts at 0, so that the first event is an increase Prometheus sees.
    for (const { iface } of probed) {
      const i = { interface: iface };
      for (const result of ["ok", "failed"]) this.#probes.inc({ ...i, result }, 0);
      for (const event of SERVER_EVENTS) this.#events.inc({ ...i, event }, 0);
      this.#servers.rogueAlerts.inc(i, 0);
      this.#servers.kernelDropped.inc(i, 0);
    }
    r.onCollect(() => {
      const { lastSeen, rogueServers } = this.#servers;
      up.clear();
      lastSeen.clear();
      for (const { iface, tracker } of probed) {
        const i = { interface: iface };
        let rogue = 0;
        for (const s of tracker.summary().servers) {
          const labels = { ...i, server: s.server, mac: tracker.server(s.server)?.facts.sourceMac ?? "", status: s.rogue ? "rogue" : "allowed" };
          const present = s.status === "present";
          if (present && s.rogue) rogue++;
          up.set(labels, present ? 1 : 0);
          lastSeen.set(labels, s.lastSeen / 1000);
        }
        rogueServers.set(i, rogue);
      }
    });
  }

  /** One probe of iface: its result (null when it failed), the tracker's events for it, and when it ended (ms). */
  probed(iface: string, result: ProbeResult | null, events: readonly ProbeEvent[], now: number): void {
    const i = { interface: iface };
    this.#probes.inc({ ...i, result: result ? "ok" : "failed" });
    for (const e of events) {
      if (e.event === "rogue") this.#servers.rogueAlerts.inc(i);
      else if (SERVER_EVENTS.has(e.event)) this.#events.inc({ ...i, event: e.event });
    }
    if (!result) return;
    this.#lastSuccess.set(i, now / 1000);
    for (const o of result.offers) this.#servers.offerLatency.observe({ ...i, server: serverKey(o) }, o.latencyMs / 1000);
    for (const [reason, n] of Object.entries(result.dropped)) if (n > 0) this.#servers.dropped.inc({ ...i, reason }, n);
    this.#servers.kernelDropped.inc(i, result.kernelDrops);
  }
}
