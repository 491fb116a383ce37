// The client engine's vocabulary: its phases and timers, its configuration, the lease it
// holds, its state, the events it takes and the actions it returns. Split from engine.ts
// along the seam "what the engine talks about" vs "how it decides" (engine.ts).

import type { ClientIdentity } from "./client.ts";
import type { DhcpMessage, OptionBytes } from "./message.ts";
import type { ClasslessRoute } from "./options.ts";

export type Phase =
  | "INIT"
  | "SELECTING"
  | "REQUESTING"
  | "BOUND"
  | "RENEWING"
  | "REBINDING"
  | "INIT_REBOOT"
  | "REBOOTING"
  | "STOPPED"
  /** Resident: the link has no carrier; the lease is kept (its expiry still runs), nothing is sent. */
  | "DOWN"
  /** RFC 8925: the server said this network is IPv6-only; DHCPv4 waits for option 108's time. */
  | "IPV6_ONLY";

/** "retransmit" paces one exchange; renew/rebind/expire are T1, T2 and the lease end; init restarts (resident). */
export type TimerName = "retransmit" | "renew" | "rebind" | "expire" | "init";
export const ALL_TIMERS: readonly TimerName[] = ["retransmit", "renew", "rebind", "expire", "init"];

export interface EngineConfig {
  identity: ClientIdentity;
  /** Resident client: RFC 2131 4.1 backoff, restart after NAK/expiry. Otherwise one-shot. */
  resident: boolean;
  /** One-shot: retransmit after this many ms (discover's --timeout)… */
  retryMs: number;
  /** …sending at most this many copies per exchange (--tries). */
  tries: number;
  /** INIT-REBOOT: ask for this address (REQUEST with 50 only) instead of a DISCOVER. */
  requestedAddress?: string;
  broadcastFlag?: boolean;
  /** Extra options (--option) added to DISCOVER and REQUEST. */
  extra?: OptionBytes[];
  /** Resident REBOOTING gives up to INIT after this long (default 6 s; RFC 2131 3.2 says "a few"). */
  rebootTimeoutMs?: number;
  /** Resident REQUESTING gives up to INIT after this many REQUESTs (default 4). */
  residentRequestTries?: number;
  /** Servers whose OFFERs, ACKs and NAKs are not taken (by server id or source address). */
  ignoreServers?: readonly string[];
  /**
   * One-shot --server: what the client would broadcast (DISCOVER, the REQUEST of REQUESTING,
   * REBOOTING and REBINDING) goes by unicast to this server instead, in an Ethernet frame to
   * `mac` (the broadcast address when unknown), from `srcIp` (an address the interface holds;
   * default 0.0.0.0) or, bound, from the lease's. Replies from any other server are dropped.
   */
  server?: UnicastServer;
  /**
   * One-shot --giaddr: speak as a relay agent would for us (RFC 1542 4.1.1, RFC 2131 4.1):
   * those same messages carry giaddr and hops 1 and go from giaddr:67, to `server` when set;
   * the server answers to giaddr:67. RENEWING and RELEASE stay the client's own unicast.
   */
  relay?: { giaddr: string };
  /**
   * Resident: a lease kept from before (the store), on the caller's clock. start() reboots into
   * it (REBOOTING with its address) when it has not expired.
   */
  storedLease?: Lease | null;
  /** Uniform in [0, 1): xids and jitter. */
  random: () => number;
}

export interface UnicastServer {
  ip: string;
  mac?: Uint8Array;
  srcIp?: string;
}

export interface RawOption {
  code: number;
  hex: string;
}

export interface Lease {
  address: string;
  serverId: string;
  /** The Ethernet source of the ACK: where a RENEWING REQUEST and a RELEASE go. */
  serverMac: Uint8Array;
  subnetMask: string | null;
  routers: string[];
  /** Routes to install: option 121 when present (RFC 3442 then ignores 3), else the first router. */
  routes: ClasslessRoute[];
  dns: string[];
  domain: string | null;
  search: string[];
  /** Seconds (0xffffffff: infinite). */
  leaseTime: number;
  t1: number;
  t2: number;
  infinite: boolean;
  ipv6OnlyWait: number | null;
  /** What leaseTimes() corrected (T1/T2 that did not fit). */
  adjusted: string[];
  /** Caller's clock, ms: when the REQUEST that won this lease was first sent (RFC 2131 4.4.1). */
  acquiredAt: number;
  renewAt: number | null;
  rebindAt: number | null;
  expiresAt: number | null;
  options: RawOption[];
}

export interface ServerChoice {
  address: string;
  serverId: string;
  serverIp: string;
  serverMac: Uint8Array;
}

export interface ClientState {
  readonly config: EngineConfig;
  readonly phase: Phase;
  /** xid of the current exchange; the same across its retransmissions. */
  readonly xid: number;
  /** When the current exchange began (secs field, REBOOTING deadline). */
  readonly exchangeStartedAt: number;
  /** Messages sent in the current exchange (retransmissions counted). */
  readonly sent: number;
  /** When the first REQUEST of the current exchange went out: the lease starts there. */
  readonly requestSentAt: number;
  /** When the last REQUEST (any phase) went out: renewals keep MIN_REQUEST_GAP_MS from it. */
  readonly lastRequestAt: number | null;
  /** The OFFER we are requesting (REQUESTING), null before one is chosen. */
  readonly chosen: ServerChoice | null;
  readonly lease: Lease | null;
  /** The address REBOOTING asks for (config.requestedAddress, or the lease's after a link flap). */
  readonly rebootAddress: string | null;
  /** NAKs since the last ACK: a server that NAKs everything is not answered at full speed. */
  readonly naks: number;
  /** IPV6_ONLY: when DHCPv4 resumes (option 108's wait, RFC 8925 3.2). */
  readonly ipv6OnlyUntil: number | null;
}

/** Frame facts the engine needs beside the DHCP message (the shell parsed the frame). */
export interface Received {
  message: DhcpMessage;
  srcIp: string;
  srcMac: Uint8Array;
}

export type Event =
  | { kind: "start" }
  | { kind: "timer"; timer: TimerName }
  | ({ kind: "received" } & Received)
  | { kind: "release" }
  | { kind: "stop" }
  /** Carrier lost / back (resident). */
  | { kind: "link"; up: boolean }
  /** Asked for by the operator (lease renew / lease rebind): start that exchange now. */
  | { kind: "renew" }
  | { kind: "rebind" }
  /**
   * New settings (config reload, MAC change). keepLease: reboot into the current lease's
   * address with the new settings; otherwise the lease is given up and the client starts over.
   */
  | { kind: "reconfigure"; config: EngineConfig; keepLease: boolean };

export type Destination = "broadcast" | { ip: string; mac: Uint8Array };

export type FailReason = "no-offer" | "no-ack";

/** Why a lease stopped being ours (the shell deconfigures it, forgets it, runs the hook). */
export type UnboundReason = "expired" | "nak" | "reboot-failed" | "restart" | "ipv6-only";

export type Action =
  /** srcPort: absent for the client's port 68; 67 when the message goes out as a relay's (config.relay). */
  | { kind: "send"; messageType: number; xid: number; payload: Uint8Array; to: Destination; srcIp: string; srcPort?: number }
  | { kind: "arm"; timer: TimerName; at: number }
  | { kind: "disarm"; timer: TimerName }
  | { kind: "offer"; serverId: string; address: string }
  | { kind: "bound"; lease: Lease }
  | { kind: "nak"; server: string; message: string | null }
  | { kind: "unbound"; lease: Lease; why: UnboundReason }
  | { kind: "ipv6-only"; server: string; waitSec: number }
  | { kind: "released"; lease: Lease }
  | { kind: "failed"; reason: FailReason }
  /** REQUESTING gave up: the server's offer of address was not ACKed after `requests` REQUESTs. */
  | { kind: "not-acked"; serverId: string; address: string; requests: number }
  | { kind: "dropped"; reason: string };

export interface StepResult {
  state: ClientState;
  actions: Action[];
}
