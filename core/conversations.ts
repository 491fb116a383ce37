// What `watch` makes of the packets it sees: exchanges grouped by xid and client MAC
// (DISCOVER→OFFER→REQUEST→ACK/NAK, INFORM→ACK, RELEASE, DECLINE), the server's response
// latency for every reply, per-server and per-client statistics, and rogue-server alerts.
// Pure: packets and their capture times come in, events and summaries go out. Everything
// it remembers is bounded in count and age, so a flood cannot grow memory without limit.

import type { MessageView } from "./inspect.ts";
import { isAllowed, type AllowList } from "./allow-list.ts";
import { LruMap } from "./lru.ts";
import type {
  SeenPacket,
  ConversationKind,
  Outcome,
  Conversation,
  PacketEvent,
  Alert,
  ServerStats,
  ClientStats,
  ExchangeCounts,
  Summary,
  ClosedCounts,
  ServerSeen,
} from "./conversation-types.ts";

export type {
  SeenPacket,
  ConversationKind,
  Outcome,
  Conversation,
  AddressOffer,
  PacketEvent,
  Alert,
  ServerStats,
  ClientStats,
  ExchangeCounts,
  Summary,
  ClosedCounts,
  ServerSeen,
} from "./conversation-types.ts";

/**
 * Alerts kept for the summary at most: a flood of fake rogue server ids (each forgotten and
 * seen again as new) must not grow the list without limit. alertCount counts them all.
 */
export const MAX_ALERTS = 256;

export interface TrackerLimits {
  /** Exchanges remembered at once (default 4096): the least recently active is closed first. */
  maxConversations: number;
  /**
   * An exchange with no packet for this long is over (default 10 s): its outcome is final,
   * and a client message still waiting for a reply counts as unanswered.
   */
  idleTimeoutMs: number;
  maxServers: number;
  maxClients: number;
  /** Latency samples kept per server for the percentiles (default 1024, newest kept). */
  latencySamples: number;
}

export const DEFAULT_LIMITS: TrackerLimits = {
  maxConversations: 4096,
  idleTimeoutMs: 10_000,
  maxServers: 256,
  maxClients: 4096,
  latencySamples: 1024,
};

const CLIENT_TYPES = new Set(["DISCOVER", "REQUEST", "INFORM", "RELEASE", "DECLINE"]);

interface ServerState {
  stats: ServerStats;
  samples: number[];
  lastUs: number;
}

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function optionValue(m: MessageView, code: number): unknown {
  return m.options.find((o) => o.code === code)?.value;
}

export class ConversationTracker {
  private readonly conversations = new LruMap<string, Conversation>(); // oldest activity first
  private readonly servers = new Map<string, ServerState>();
  private readonly clients = new LruMap<string, ClientStats>();
  private readonly limits: TrackerLimits;
  private nextId = 1;
  private lastExpireUs = -Infinity;
  private packets = 0;
  private closed: ClosedCounts = { total: 0, acked: 0, naked: 0, offered: 0, unanswered: 0, released: 0, declined: 0, other: 0, evicted: 0 };
  /** The first MAX_ALERTS alerts. */
  readonly alerts: Alert[] = [];
  /** Every alert raised, kept or not. */
  alertCount = 0;

  constructor(
    private readonly allow: AllowList | null = null,
    limits: Partial<TrackerLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Feeds one decoded DHCP packet; returns what watch prints beside it. */
  add(p: SeenPacket): PacketEvent {
    this.packets++;
    // closing idle exchanges needs no more precision than a tenth of a second
    if (p.timeUs - this.lastExpireUs >= 100_000) this.expire(p.timeUs);
    const m = p.message;
    const type = m.messageType ?? (m.op === 1 ? "BOOTREQUEST" : "BOOTREPLY");
    const key = `${p.iface ?? ""}/${m.xid}/${m.chaddr}`;
    let c = this.conversations.use(key);
    const fromClient = m.op === 1;
    if (!c) {
      c = {
        id: this.nextId++,
        xid: m.xid,
        client: m.chaddr,
        kind: kindOf(type, m),
        startedUs: p.timeUs,
        lastUs: p.timeUs,
        lastDiscoverUs: null,
        lastRequestUs: null,
        offers: [],
        steps: [],
        moreSteps: 0,
        outcome: "pending",
        server: null,
        address: null,
      };
      this.conversations.set(key, c);
      if (this.conversations.size > this.limits.maxConversations) this.evictOldest();
    }
    c.lastUs = p.timeUs;
    const event: PacketEvent = { conversation: c.id, latencyMs: null, server: null, rogue: false };
    if (fromClient) {
      if (type === "DISCOVER") c.lastDiscoverUs = p.timeUs;
      else c.lastRequestUs = p.timeUs;
      if (type === "REQUEST" && c.kind === "dora" && c.outcome === "offered") c.outcome = "pending";
      if (type === "RELEASE") c.outcome = "released";
      if (type === "DECLINE") c.outcome = "declined";
      addStep(c, { type, timeUs: p.timeUs });
      this.touchClient(c);
      return event;
    }
    const sid = optionValue(m, 54);
    const server = typeof sid === "string" ? sid : p.frame.srcIp;
    // a BOOTP reply (RFC 951) assigns its yiaddr as an ACK does: it is counted as one
    const acks = type === "ACK" || m.bootp === true;
    event.server = server;
    // A reply is timed from the client message it answers, not from a later one of another kind.
    const askedUs = type === "OFFER" ? c.lastDiscoverUs : acks || type === "NAK" ? c.lastRequestUs : (c.lastRequestUs ?? c.lastDiscoverUs);
    if (askedUs !== null) event.latencyMs = Math.round((p.timeUs - askedUs) / 10) / 100;
    addStep(c, event.latencyMs !== null ? { type, timeUs: p.timeUs, server, latencyMs: event.latencyMs } : { type, timeUs: p.timeUs, server });
    const s = this.serverState(server, p.frame.srcMac, p.timeUs);
    if (type === "OFFER") {
      s.stats.offers++;
      if (c.outcome === "pending") c.outcome = "offered";
      if (c.offers.length < MAX_OFFERS) c.offers.push({ address: m.yiaddr, server });
      // Until an ACK says otherwise, the exchange's address is its first offer's, with that server.
      if (c.address === null) {
        c.address = m.yiaddr;
        c.server = server;
      }
    }
    if (acks) {
      s.stats.acks++;
      c.outcome = c.kind === "inform" ? "informed" : "acked";
      c.address = m.yiaddr !== "0.0.0.0" ? m.yiaddr : m.ciaddr;
      c.server = server;
    }
    if (type === "NAK") {
      s.stats.naks++;
      c.outcome = "naked";
      c.address = null;
      c.server = server;
    }
    if (event.latencyMs !== null && (type === "OFFER" || acks || type === "NAK")) {
      s.samples.push(event.latencyMs);
      if (s.samples.length > this.limits.latencySamples) s.samples.shift();
    }
    if (
      (type === "OFFER" || acks) &&
      this.allow &&
      !s.stats.rogue &&
      !isAllowed(this.allow, { serverId: typeof sid === "string" ? sid : null, sourceIp: p.frame.srcIp, sourceMac: p.frame.srcMac ?? "" })
    ) {
      s.stats.rogue = true;
      event.rogue = true;
      event.alert = { kind: "rogue-server", server, mac: p.frame.srcMac, firstSeenUs: p.timeUs, messageType: type, client: m.chaddr };
      if (this.alerts.length < MAX_ALERTS) this.alerts.push(event.alert);
      this.alertCount++;
    }
    this.touchClient(c);
    return event;
  }

  private touchClient(c: Conversation): void {
    let cl = this.clients.use(c.client);
    if (!cl) {
      cl = { client: c.client, outcome: c.outcome, address: null, server: null, offers: [], exchanges: 0 };
      if (this.clients.size >= this.limits.maxClients) this.clients.delete(this.clients.oldest()![0]);
      this.clients.set(c.client, cl);
    }
    if (c.steps.length === 1 && c.moreSteps === 0) cl.exchanges++;
    cl.outcome = c.outcome;
    // The pair moves together: never one exchange's address with another's server.
    if (c.address !== null || c.server !== null) {
      cl.address = c.address;
      cl.server = c.server;
    }
    // the exchange's own list, not a copy per packet: every offer added to it is followed by
    // this call, and summary() copies it
    if (c.offers.length) cl.offers = c.offers;
  }

  private serverState(server: string, mac: string | null, now: number): ServerState {
    let s = this.servers.get(server);
    if (!s) {
      if (this.servers.size >= this.limits.maxServers) {
        // forget the server heard from least recently (a rogue stays in the alerts list)
        let oldest: string | null = null,
          t = Infinity;
        for (const [k, v] of this.servers)
          if (v.lastUs < t) {
            t = v.lastUs;
            oldest = k;
          }
        if (oldest !== null) this.servers.delete(oldest);
      }
      s = { stats: { server, mac, offers: 0, acks: 0, naks: 0, latency: { n: 0, p50: null, p95: null, max: null }, rogue: false }, samples: [], lastUs: now };
      this.servers.set(server, s);
    }
    s.lastUs = now;
    return s;
  }

  private close(c: Conversation, evicted: boolean): void {
    if (c.outcome === "pending" && (c.lastRequestUs !== null || c.lastDiscoverUs !== null)) c.outcome = "unanswered";
    this.closed.total++;
    this.closed[countOf(c.outcome)]++;
    if (c.outcome === "unanswered") {
      const cl = this.clients.get(c.client);
      if (cl) cl.outcome = "unanswered";
    }
    if (evicted) this.closed.evicted++;
  }

  private evictOldest(): void {
    const [key, c] = this.conversations.oldest()!;
    this.conversations.delete(key);
    this.close(c, true);
  }

  /** Closes the exchanges idle for idleTimeout (the map is ordered by activity: stops early). */
  expire(nowUs: number): void {
    this.lastExpireUs = nowUs;
    for (let o = this.conversations.oldest(); o; o = this.conversations.oldest()) {
      if ((nowUs - o[1].lastUs) / 1000 < this.limits.idleTimeoutMs) break;
      this.conversations.delete(o[0]);
      this.close(o[1], false);
    }
  }

  get openConversations(): number {
    return this.conversations.size;
  }

  get packetCount(): number {
    return this.packets;
  }

  closedCounts(): ClosedCounts {
    return { ...this.closed };
  }

  /** The servers remembered (at most maxServers), cheaply: a scrape every second can afford it. */
  serversSeen(): ServerSeen[] {
    return [...this.servers.values()].map((s) => ({ server: s.stats.server, mac: s.stats.mac ?? "", rogue: s.stats.rogue, lastSeenUs: s.lastUs }));
  }

  conversation(id: number): Conversation | undefined {
    for (const c of this.conversations.values()) if (c.id === id) return c;
    return undefined;
  }

  summary(): Summary {
    const { total, evicted, ...counts } = this.closed;
    let open = 0;
    // An exchange still remembered counts by its outcome once it has a final one, else as open.
    for (const c of this.conversations.values()) {
      if (c.outcome === "pending" || c.outcome === "offered") open++;
      else counts[countOf(c.outcome)]++;
    }
    const servers = [...this.servers.values()].map((s) => {
      const sorted = [...s.samples].sort((a, b) => a - b);
      return {
        ...s.stats,
        latency: { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.length ? sorted[sorted.length - 1] : null },
      };
    });
    return {
      packets: this.packets,
      conversations: { total: total + this.conversations.size, ...counts, open, evicted },
      servers,
      clients: [...this.clients.values()].map((c) => ({ ...c, offers: c.offers.slice() })),
      rogueServers: this.alerts.map((a) => a.server),
      rogueServersTruncated: this.alertCount > this.alerts.length,
    };
  }
}

/** An exchange that keeps going (same xid and MAC, a flood) must not grow without limit. */
const MAX_STEPS = 32;
const MAX_OFFERS = 16;

type Count = Exclude<keyof ExchangeCounts, "total" | "open" | "evicted">;

/** Which count a finished exchange is in. */
function countOf(outcome: Outcome): Count {
  switch (outcome) {
    case "acked":
    case "informed":
      return "acked";
    case "naked":
      return "naked";
    case "offered":
      return "offered";
    case "unanswered":
      return "unanswered";
    case "released":
      return "released";
    case "declined":
      return "declined";
    case "pending":
      return "other";
  }
}

function addStep(c: Conversation, step: Conversation["steps"][number]): void {
  if (c.steps.length < MAX_STEPS) c.steps.push(step);
  else c.moreSteps++;
}

function kindOf(type: string, m: MessageView): ConversationKind {
  switch (type) {
    case "DISCOVER":
    case "OFFER":
      return "dora";
    case "REQUEST":
      return m.ciaddr !== "0.0.0.0" ? "request" : optionValue(m, 54) ? "dora" : "request";
    case "INFORM":
      return "inform";
    case "RELEASE":
      return "release";
    case "DECLINE":
      return "decline";
    default:
      return CLIENT_TYPES.has(type) ? "request" : "other";
  }
}
