// What `request --daemon --metrics` (the resident client) exposes: its phase (one series per
// phase, 1 for the current one), whether it holds a lease, the seconds left until T1, T2 and
// the lease's end, the lease's length, the link, packets sent and received, drops by reason
// (read from the client's status at each scrape), and renewals, rebinds, NAKs and leases
// lost (counted from the daemon's events as they are emitted).

import type { Phase, UnboundReason } from "../../core/engine-types.ts";
import type { ClientStatus } from "../daemon/resident.ts";
import { droppedPackets } from "./families.ts";
import type { Counter, Registry } from "./registry.ts";

/** Every phase, so each scrape shows all of them (0 or 1): a Record makes the compiler check the list. */
const PHASES: Record<Phase, true> = {
  INIT: true,
  SELECTING: true,
  REQUESTING: true,
  BOUND: true,
  RENEWING: true,
  REBINDING: true,
  INIT_REBOOT: true,
  REBOOTING: true,
  STOPPED: true,
  DOWN: true,
  IPV6_ONLY: true,
};
const UNBOUND_REASONS: Record<UnboundReason, true> = { expired: true, nak: true, "reboot-failed": true, restart: true, "ipv6-only": true };
/** The phases in which the client holds a lease it may use. */
const HOLDING: ReadonlySet<Phase> = new Set<Phase>(["BOUND", "RENEWING", "REBINDING"]);

/** The part of the client's status the metrics read (ClientStatus has these and more). */
export interface ClientMetricsStatus extends Pick<ClientStatus, "phase" | "link" | "remaining"> {
  lease: { leaseTime: number; infinite: boolean } | null;
  counters: Pick<ClientStatus["counters"], "sent" | "received" | "dropped">;
}

export type StatusSource = () => ClientMetricsStatus;

/** The part of a daemon event the metrics read (DaemonEvent has these and more). */
export interface ClientEvent {
  event: string;
  why?: unknown;
}

export class ClientMetrics {
  readonly #iface: string;
  readonly #renewals: Counter<"interface">;
  readonly #rebinds: Counter<"interface">;
  readonly #naks: Counter<"interface">;
  readonly #bound: Counter<"interface" | "how">;
  readonly #lost: Counter<"interface" | "reason">;

  constructor(r: Registry, iface: string, status: StatusSource) {
    this.#iface = iface;
    const i = { interface: iface };
    const phase = r.gauge({
      name: "dhcptool_client_phase",
      labels: ["interface", "phase"],
      help: "The resident client's phase (RFC 2131 states, and DOWN, IPV6_ONLY, STOPPED): 1 for the current one, 0 for the others.",
    });
    const holding = r.gauge({
      name: "dhcptool_client_bound",
      labels: ["interface"],
      help: "1 while the client holds a lease it may use (BOUND, RENEWING, REBINDING), else 0.",
    });
    const remaining = r.gauge({
      name: "dhcptool_client_lease_remaining_seconds",
      labels: ["interface", "until"],
      help: "Seconds until the lease's renew time T1 (until=renew), rebind time T2 (rebind) and end (expiry); 0 once passed; no series without a lease or for an infinite one.",
    });
    const duration = r.gauge({ name: "dhcptool_client_lease_duration_seconds", labels: ["interface"], help: "The lease time the server granted (option 51)." });
    const link = r.gauge({ name: "dhcptool_client_link_up", labels: ["interface"], help: "1 while the interface is up with carrier." });
    const sent = r.counter({ name: "dhcptool_client_packets_sent_total", labels: ["interface", "type"], help: "DHCP messages sent, by type." });
    const received = r.counter({
      name: "dhcptool_client_packets_received_total",
      labels: ["interface"],
      help: "DHCP replies received and handed to the engine.",
    });
    const dropped = droppedPackets(r);
    this.#renewals = r.counter({
      name: "dhcptool_client_renewals_total",
      labels: ["interface"],
      help: "Leases renewed with the server that granted them (RENEWING → BOUND).",
    });
    this.#rebinds = r.counter({ name: "dhcptool_client_rebinds_total", labels: ["interface"], help: "Leases rebound from any server (REBINDING → BOUND)." });
    this.#naks = r.counter({ name: "dhcptool_client_naks_total", labels: ["interface"], help: "DHCPNAKs taken from the server." });
    this.#bound = r.counter({
      name: "dhcptool_client_leases_bound_total",
      labels: ["interface", "how"],
      help: "Leases taken: how=bound (a new lease, DORA) or reboot (the stored lease confirmed, INIT-REBOOT).",
    });
    this.#lost = r.counter({
      name: "dhcptool_client_leases_lost_total",
      labels: ["interface", "reason"],
      help: "Leases given up: expired, nak, reboot-failed, restart, ipv6-only.",
    });
    // Every counter starts at 0, so that the first lease lost is an increase Prometheus sees.
    for (const c of [this.#renewals, this.#rebinds, this.#naks]) c.inc(i, 0);
    for (const how of ["bound", "reboot"]) this.#bound.inc({ ...i, how }, 0);
    for (const reason of Object.keys(UNBOUND_REASONS)) this.#lost.inc({ ...i, reason }, 0);
    r.onCollect(() => {
      const s = status();
      for (const p of Object.keys(PHASES)) phase.set({ ...i, phase: p }, p === s.phase ? 1 : 0);
      holding.set(i, HOLDING.has(s.phase) ? 1 : 0);
      link.set(i, s.link.up ? 1 : 0);
      remaining.clear();
      duration.clear();
      if (s.lease && s.remaining) {
        const { renew, rebind, expire } = s.remaining;
        if (renew !== null) remaining.set({ ...i, until: "renew" }, renew);
        if (rebind !== null) remaining.set({ ...i, until: "rebind" }, rebind);
        if (expire !== null) remaining.set({ ...i, until: "expiry" }, expire);
        duration.set(i, s.lease.infinite ? Infinity : s.lease.leaseTime);
      }
      for (const [type, n] of Object.entries(s.counters.sent)) sent.setTotal({ ...i, type }, n);
      received.setTotal(i, s.counters.received);
      for (const [reason, n] of Object.entries(s.counters.dropped)) dropped.setTotal({ ...i, reason }, n);
    });
  }

  /** One event from the daemon's stream (it calls this for every event, before logging it). */
  event(e: ClientEvent): void {
    const i = { interface: this.#iface };
    switch (e.event) {
      case "renew":
        return this.#renewals.inc(i);
      case "rebind":
        return this.#rebinds.inc(i);
      case "nak":
        return this.#naks.inc(i);
      case "bound":
        return this.#bound.inc({ ...i, how: "bound" });
      case "reboot":
        return this.#bound.inc({ ...i, how: "reboot" });
      case "unbound":
        return this.#lost.inc({ ...i, reason: typeof e.why === "string" ? e.why : "unknown" });
    }
  }
}
