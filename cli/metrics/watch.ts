// What `watch --daemon --metrics` exposes: every DHCP packet by message type, each server's
// replies and latencies (from the conversation view: a reply is timed from the client's latest
// message in its exchange), the servers heard and which are rogue, exchanges by outcome,
// packets dropped by reason and by the kernel. Counters follow the packets as they come; the
// rest is read from the tracker and the socket at each scrape.

import type { ConversationTracker, PacketEvent, SeenPacket } from "../../core/conversations.ts";
import { LATENCY_BUCKETS, MAX_SERVER_HISTOGRAMS, serverMetrics, type ServerMetrics } from "./families.ts";
import type { Counter, Histogram, Registry } from "./registry.ts";

const REPLY_TYPES = new Set(["OFFER", "ACK", "NAK"]);

export class WatchMetrics {
  readonly #iface: string;
  readonly #servers: ServerMetrics;
  readonly #packets: Counter<"interface" | "type">;
  readonly #replies: Counter<"interface" | "server" | "type">;
  readonly #ackLatency: Histogram<"interface" | "server">;

  /** kernelDrops: the socket's cumulative count, read at each scrape (null: none to read). */
  constructor(r: Registry, iface: string, tracker: ConversationTracker, kernelDrops: () => number | null) {
    this.#iface = iface;
    this.#packets = r.counter({
      name: "dhcptool_watch_packets_total",
      labels: ["interface", "type"],
      help: "DHCP packets seen on the link, by message type (BOOTREQUEST/BOOTREPLY when option 53 is missing).",
    });
    this.#replies = r.counter({
      name: "dhcptool_server_replies_total",
      labels: ["interface", "server", "type"],
      maxSeries: 512,
      help: "Replies (OFFER, ACK, NAK) seen from each DHCP server.",
    });
    this.#servers = serverMetrics(r);
    this.#ackLatency = r.histogram({
      name: "dhcptool_ack_latency_seconds",
      labels: ["interface", "server"],
      buckets: LATENCY_BUCKETS,
      maxSeries: MAX_SERVER_HISTOGRAMS,
      help: "Time from the client's DHCPREQUEST to the server's DHCPACK.",
    });
    const exchanges = r.counter({
      name: "dhcptool_watch_exchanges_total",
      labels: ["interface", "outcome"],
      help: "Exchanges (per xid and client) that are over, by outcome: acked, naked, unanswered (the client got no reply), other.",
    });
    this.#servers.rogueAlerts.inc({ interface: iface }, 0); // from 0: the first alert is an increase Prometheus sees
    const open = r.gauge({ name: "dhcptool_watch_open_exchanges", labels: ["interface"], help: "Exchanges still in progress." });
    r.onCollect(() => {
      const i = { interface: iface };
      const c = tracker.closedCounts();
      exchanges.setTotal({ ...i, outcome: "acked" }, c.acked);
      exchanges.setTotal({ ...i, outcome: "naked" }, c.naked);
      exchanges.setTotal({ ...i, outcome: "unanswered" }, c.unanswered);
      exchanges.setTotal({ ...i, outcome: "other" }, c.total - c.acked - c.naked - c.unanswered);
      open.set(i, tracker.openConversations);
      const { lastSeen, rogueServers } = this.#servers;
      lastSeen.clear();
      let rogue = 0;
      for (const s of tracker.serversSeen()) {
        if (s.rogue) rogue++;
        lastSeen.set({ ...i, server: s.server, mac: s.mac, status: s.rogue ? "rogue" : "allowed" }, Math.round(s.lastSeenUs / 1000) / 1000);
      }
      rogueServers.set(i, rogue);
      const drops = kernelDrops();
      if (drops !== null) this.#servers.kernelDropped.setTotal(i, drops);
    });
  }

  /** A packet the tracker took, with what it made of it. */
  packet(p: SeenPacket, e: PacketEvent): void {
    const m = p.message;
    const type = m.messageType ?? (m.op === 1 ? "BOOTREQUEST" : "BOOTREPLY");
    this.#packets.inc({ interface: this.#iface, type });
    if (e.rogue) this.#servers.rogueAlerts.inc({ interface: this.#iface });
    if (e.server === null || !REPLY_TYPES.has(type)) return;
    const server = { interface: this.#iface, server: e.server };
    this.#replies.inc({ ...server, type });
    if (e.latencyMs === null) return;
    if (type === "OFFER") this.#servers.offerLatency.observe(server, e.latencyMs / 1000);
    else if (type === "ACK") this.#ackLatency.observe(server, e.latencyMs / 1000);
  }

  /** A frame that was not readable DHCP. */
  dropped(reason: string): void {
    this.#servers.dropped.inc({ interface: this.#iface, reason });
  }
}
