// The shapes watch's exchange tracker (conversations.ts) takes in and gives out: a packet
// seen, an exchange with its steps and outcome, alerts, per-server and per-client statistics.

import type { FrameView, MessageView } from "./inspect.ts";

export interface SeenPacket {
  /** Capture time, microseconds since the epoch. */
  timeUs: number;
  frame: FrameView;
  message: MessageView;
  /** The interface it was seen on, when watch listens on several: exchanges are per link. */
  iface?: string;
}

export type ConversationKind = "dora" | "request" | "inform" | "release" | "decline" | "other";
export type Outcome = "pending" | "offered" | "acked" | "naked" | "unanswered" | "released" | "declined" | "informed";

export interface Conversation {
  id: number;
  xid: string;
  client: string;
  kind: ConversationKind;
  startedUs: number;
  lastUs: number;
  /** Time of the latest DISCOVER: an OFFER is timed from the retransmission it follows. */
  lastDiscoverUs: number | null;
  /** Time of the latest REQUEST, INFORM (any client message but DISCOVER): an ACK or NAK is timed from it. */
  lastRequestUs: number | null;
  /** Each offer of the exchange (the first MAX_OFFERS): the address with the server that offered it. */
  offers: AddressOffer[];
  /** The first MAX_STEPS messages of the exchange; `moreSteps` counts the rest. */
  steps: { type: string; timeUs: number; server?: string; latencyMs?: number }[];
  moreSteps: number;
  outcome: Outcome;
  /** The address the exchange ended with (the ACK's, else the first offer's) and the server that gave it. */
  server: string | null;
  address: string | null;
}

/** An address and the server that offered (or acked) it. */
export interface AddressOffer {
  address: string;
  server: string;
}

export interface PacketEvent {
  conversation: number;
  /** For a server's reply: milliseconds since the client message it answers (OFFER: the latest DISCOVER; ACK, NAK: the latest REQUEST or INFORM). */
  latencyMs: number | null;
  /** The server as watch names it: its server identifier (54), else the source IP. */
  server: string | null;
  /** Set when this packet made a server rogue for the first time. */
  rogue: boolean;
  /** The alert it raised, when rogue. */
  alert?: Alert;
}

export interface Alert {
  kind: "rogue-server";
  server: string;
  mac: string | null;
  firstSeenUs: number;
  messageType: string;
  client: string;
}

export interface ServerStats {
  server: string;
  /** null when the capture's link has no source address (raw IP). */
  mac: string | null;
  offers: number;
  acks: number;
  naks: number;
  latency: { n: number; p50: number | null; p95: number | null; max: number | null };
  rogue: boolean;
}

/** Per client, its latest exchange: the outcome, the address with the server that gave it, every offer. */
export interface ClientStats {
  client: string;
  outcome: Outcome;
  address: string | null;
  server: string | null;
  offers: AddressOffer[];
  exchanges: number;
}

/**
 * Exchanges by how they ended; every exchange is in exactly one count, so acked + naked +
 * offered + unanswered + released + declined + other + open = total. acked includes an
 * INFORM's ACK; offered: OFFERs came but the client asked for none (a probe, discover);
 * other: replies with no client message seen (the capture began mid-exchange).
 */
export interface ExchangeCounts {
  total: number;
  acked: number;
  naked: number;
  offered: number;
  unanswered: number;
  released: number;
  declined: number;
  other: number;
  open: number;
  evicted: number;
}

export interface Summary {
  packets: number;
  conversations: ExchangeCounts;
  servers: ServerStats[];
  clients: ClientStats[];
  rogueServers: string[];
  /** More alerts were raised than rogueServers lists (MAX_ALERTS). */
  rogueServersTruncated: boolean;
}

/** Exchanges that are over, by how they ended (counts only go up: metrics read them as counters). */
export type ClosedCounts = Omit<ExchangeCounts, "open">;

/** A server as a metrics scrape sees it: no percentiles (summary() sorts for those); mac "" where the link has none. */
export interface ServerSeen {
  server: string;
  mac: string;
  rogue: boolean;
  lastSeenUs: number;
}
