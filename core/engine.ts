// The RFC 2131 client state machine, as a pure function: step(state, event, now) gives the
// next state and the actions the shell must carry out (send this, arm that timer, report this
// lease). No IO, no clock, no randomness: `now` (ms, the caller's monotonic clock) comes with
// each event, random() with the config. One function, enter(), owns every state change and
// the timers that go with it (dhcpleased engine.c state_transition()).

import { bytesEqual } from "./bytes.ts";
import { sendDiscover, sendRelease, sendRequest } from "./engine-messages.ts";
import { isSubnetEdge, isUsableAddress, ipv6OnlyWait, messageLeaseTimes } from "./lease-times.ts";
import { leaseFromAck, leaseOver } from "./engine-lease.ts";
import { getIp, getString, messageType, BOOTREPLY } from "./message.ts";
import { badServerId, badSourceMac } from "./reply-sanity.ts";
import { DHCPACK, DHCPNAK, DHCPOFFER } from "./options.ts";
import { ALL_TIMERS } from "./engine-types.ts";
import type { Action, ClientState, EngineConfig, Event, Phase, Received, StepResult, TimerName, UnboundReason } from "./engine-types.ts";

export type { Action, ClientState, Destination, EngineConfig, Event, FailReason, Lease, Phase } from "./engine-types.ts";
export type { RawOption, Received, ServerChoice, StepResult, TimerName, UnboundReason, UnicastServer } from "./engine-types.ts";

const SECOND = 1000;
/** RFC 2131 4.4.5: renew/rebind retransmissions no closer than 60 s. */
const MIN_RENEW_RETRY_MS = 60 * SECOND;
/**
 * Finding 12: no two REQUESTs of the renewal phases closer than this (counting the one that
 * won the lease). A lease whose T1 and T2 fall within it (a 2 s lease: both at 1 s) is
 * renewed at this pace, not twice a second; one shorter than that runs out and starts over.
 */
export const MIN_REQUEST_GAP_MS = 2 * SECOND;

export function initialState(config: EngineConfig): ClientState {
  return {
    config,
    phase: "INIT",
    xid: 0,
    exchangeStartedAt: 0,
    sent: 0,
    requestSentAt: 0,
    lastRequestAt: null,
    chosen: null,
    lease: config.storedLease ?? null,
    rebootAddress: null,
    naks: 0,
    ipv6OnlyUntil: null,
  };
}

function newXid(c: EngineConfig): number {
  return Math.floor(c.random() * 0x100000000) >>> 0;
}

/**
 * RFC 2131 4.1: "a delay of 4 seconds before the first retransmission … doubled on each
 * subsequent retransmission up to a maximum of 64 seconds … randomized by ±1 second".
 * `n` counts messages already sent in this exchange (1 after the first).
 */
export function backoffMs(n: number, random: () => number): number {
  const base = Math.min(4 * 2 ** Math.max(0, n - 1), 64) * SECOND;
  return base + Math.round((random() * 2 - 1) * SECOND);
}

/** When the next copy goes out in an exchange, or null when the one-shot tries are used up. */
function retryDelay(s: ClientState): number | null {
  const c = s.config;
  if (!c.resident) return s.sent < c.tries ? c.retryMs : null;
  return backoffMs(s.sent, c.random);
}

// ---------------------------------------------------------------- the one transition

/**
 * Every state change goes through here: it sets the phase, starts a new exchange when the
 * phase needs one, sends what the new phase sends on entry, and arms/disarms its timers.
 */
function enter(from: ClientState, phase: Phase, now: number, actions: Action[], patch: Partial<ClientState> = {}): ClientState {
  let s: ClientState = { ...from, ...patch, phase };
  const c = s.config;
  const newExchange = () => {
    s = { ...s, xid: newXid(c), exchangeStartedAt: now, sent: 0 };
  };
  switch (phase) {
    case "INIT":
      // RFC 2131 4.4.1 / figure 5: NAK, expiry and a failed REQUEST all restart here
      // (toInit() says first which lease, if any, was lost).
      for (const t of ALL_TIMERS) actions.push({ kind: "disarm", timer: t });
      s = { ...s, chosen: null, lease: null, rebootAddress: null, ipv6OnlyUntil: null };
      if (c.resident) actions.push({ kind: "arm", timer: "init", at: now + initDelayMs(s.naks) });
      return s;
    case "SELECTING":
      newExchange();
      return transmit(s, now, actions);
    case "REQUESTING":
      // RFC 2131 table 5: the REQUEST carries the xid of the OFFER it answers (same exchange).
      s = { ...s, sent: 0, requestSentAt: now };
      return transmit(s, now, actions);
    case "REBOOTING":
      // The lease (after a link flap, or from the store) keeps running out meanwhile.
      newExchange();
      s = { ...s, requestSentAt: now, chosen: null };
      for (const t of ["renew", "rebind", "init"] as const) actions.push({ kind: "disarm", timer: t });
      if (s.lease?.expiresAt != null) actions.push({ kind: "arm", timer: "expire", at: s.lease.expiresAt });
      return transmit(s, now, actions);
    case "BOUND": {
      const lease = s.lease!;
      actions.push({ kind: "disarm", timer: "retransmit" });
      if (lease.infinite) {
        // RFC 2131 2 / 3.3: an infinite lease is never renewed.
        for (const t of ["renew", "rebind", "expire"] as const) actions.push({ kind: "disarm", timer: t });
      } else {
        actions.push({ kind: "arm", timer: "renew", at: lease.renewAt! });
        actions.push({ kind: "arm", timer: "rebind", at: lease.rebindAt! });
        actions.push({ kind: "arm", timer: "expire", at: lease.expiresAt! });
      }
      actions.push({ kind: "bound", lease });
      return { ...s, chosen: null, sent: 0, naks: 0, rebootAddress: null };
    }
    case "RENEWING":
    case "REBINDING":
      // RFC 2131 4.4.5: a new exchange; the lease start moves to its first REQUEST (transmit).
      newExchange();
      return transmit(s, now, actions);
    case "STOPPED":
      for (const t of ALL_TIMERS) actions.push({ kind: "disarm", timer: t });
      return s;
    case "DOWN":
      // Carrier lost: send nothing, keep the lease; only its end still counts.
      for (const t of ["retransmit", "init", "renew", "rebind"] as const) actions.push({ kind: "disarm", timer: t });
      return { ...s, chosen: null, ipv6OnlyUntil: null };
    case "IPV6_ONLY":
      for (const t of ALL_TIMERS) actions.push({ kind: "disarm", timer: t });
      s = { ...s, chosen: null, lease: null };
      if (c.resident && s.ipv6OnlyUntil !== null) actions.push({ kind: "arm", timer: "init", at: s.ipv6OnlyUntil });
      return s;
    case "INIT_REBOOT":
      return s;
  }
}

/** Leaves a lease (if there is one) for INIT, saying why it was lost. */
function toInit(s: ClientState, now: number, actions: Action[], why: UnboundReason): ClientState {
  if (s.lease) actions.push({ kind: "unbound", lease: s.lease, why });
  return enter(s, "INIT", now, actions);
}

/** Back in INIT after NAKs: at once after the first, then 1, 2, 4 … 64 s (a server NAKing everything). */
function initDelayMs(naks: number): number {
  return naks <= 1 ? 0 : Math.min(2 ** (naks - 2), 64) * SECOND;
}

/** REBOOTING into an address we hold (or held), keeping its lease while we ask. */
function reboot(s: ClientState, now: number, actions: Action[], address: string): ClientState {
  const r = enter(s, "INIT_REBOOT", now, actions);
  return enter(r, "REBOOTING", now, actions, { rebootAddress: address });
}

/** Sends this phase's message (again) and arms the next retransmission. */
function transmit(s: ClientState, now: number, actions: Action[]): ClientState {
  const renewal = s.phase === "RENEWING" || s.phase === "REBINDING";
  if (renewal && s.lastRequestAt !== null && now < s.lastRequestAt + MIN_REQUEST_GAP_MS) {
    // Too soon after the last REQUEST: the retransmission timer sends it (the lease end still wins).
    actions.push({ kind: "arm", timer: "retransmit", at: s.lastRequestAt + MIN_REQUEST_GAP_MS });
    return s;
  }
  if (renewal && s.sent === 0) s = { ...s, requestSentAt: now };
  const selecting = s.phase === "SELECTING";
  actions.push(selecting ? sendDiscover(s, now) : sendRequest(s, now));
  s = { ...s, sent: s.sent + 1, lastRequestAt: selecting ? s.lastRequestAt : now };
  let at: number | null;
  if (renewal) {
    // RFC 2131 4.4.5: wait half the time left until T2 (RENEWING) or the lease end
    // (REBINDING), but no less than 60 s; the T2/expire timers end the phase.
    const until = s.phase === "RENEWING" ? s.lease!.rebindAt! : s.lease!.expiresAt!;
    at = now + Math.max((until - now) / 2, MIN_RENEW_RETRY_MS);
  } else {
    const d = retryDelay(s);
    at = d === null ? null : now + d;
    // RFC 2131 3.2: a REBOOTING client that hears nothing falls back to INIT after a while.
    if (s.phase === "REBOOTING" && s.config.resident && at !== null) {
      at = Math.min(at, s.exchangeStartedAt + (s.config.rebootTimeoutMs ?? 6 * SECOND));
    }
  }
  // One-shot with every try used: the timer still fires once more, to give up.
  actions.push({ kind: "arm", timer: "retransmit", at: at ?? now + s.config.retryMs });
  return s;
}

// ---------------------------------------------------------------- step

export function step(state: ClientState, event: Event, now: number): StepResult {
  const actions: Action[] = [];
  const s = state;
  // RFC-independent: after stop nothing more happens (HOSTILE 30: late replies).
  if (s.phase === "STOPPED") {
    if (event.kind === "received") actions.push({ kind: "dropped", reason: "stopped" });
    return { state: s, actions };
  }
  switch (event.kind) {
    case "start":
      if (s.phase !== "INIT") return { state: s, actions };
      return start(s, now, actions);
    case "stop":
      return { state: enter(s, "STOPPED", now, actions), actions };
    case "release":
      return release(s, now, actions);
    case "timer":
      return { state: onTimer(s, event.timer, now, actions), actions };
    case "received":
      return { state: onReceived(s, event, now, actions), actions };
    case "link":
      return { state: onLink(s, event.up, now, actions), actions };
    case "renew":
    case "rebind":
      return { state: onOperator(s, event.kind, now, actions), actions };
    case "reconfigure":
      return { state: reconfigure(s, event.config, event.keepLease, now, actions), actions };
  }
}

function start(s: ClientState, now: number, actions: Action[]): StepResult {
  // RFC 2131 3.2: a client that knows its address starts in INIT-REBOOT: its stored lease
  // (when still valid) or the address it was told to ask for.
  if (s.lease && !leaseOver(s.lease, now)) return { state: reboot(s, now, actions, s.lease.address), actions };
  if (s.lease) {
    actions.push({ kind: "unbound", lease: s.lease, why: "expired" });
    s = { ...s, lease: null };
  }
  if (s.config.requestedAddress) return { state: reboot(s, now, actions, s.config.requestedAddress), actions };
  return { state: enter(s, "SELECTING", now, actions), actions };
}

/** The link (resident): carrier lost keeps the lease and goes quiet; back → REBOOTING (dhcpleased). */
function onLink(s: ClientState, up: boolean, now: number, actions: Action[]): ClientState {
  if (!up) return s.phase === "DOWN" ? s : enter(s, "DOWN", now, actions);
  if (s.phase !== "DOWN") return s;
  if (s.lease && !leaseOver(s.lease, now)) return reboot(s, now, actions, s.lease.address);
  return toInit({ ...s, naks: 0 }, now, actions, "expired");
}

/** lease renew / lease rebind from the operator: that exchange now, or a new start when unbound. */
function onOperator(s: ClientState, what: "renew" | "rebind", now: number, actions: Action[]): ClientState {
  s = { ...s, lastRequestAt: null }; // asked for now: not held back by the renewal pace
  switch (s.phase) {
    case "BOUND":
    case "RENEWING":
      return enter(s, what === "renew" ? "RENEWING" : "REBINDING", now, actions);
    case "REBINDING":
      return enter(s, "REBINDING", now, actions); // past T2 the lease's server is not asked alone
    case "INIT":
    case "IPV6_ONLY":
      return enter({ ...s, ipv6OnlyUntil: null }, "SELECTING", now, actions);
    default:
      return s; // an exchange is under way, or the link is down
  }
}

/** New settings: reboot into the lease with them, or give it up and start over. */
function reconfigure(s: ClientState, config: EngineConfig, keepLease: boolean, now: number, actions: Action[]): ClientState {
  s = { ...s, config, naks: 0 };
  const keep = keepLease && s.lease !== null && !leaseOver(s.lease, now);
  if (s.phase === "DOWN") {
    if (keep || !s.lease) return s;
    actions.push({ kind: "unbound", lease: s.lease, why: "restart" });
    return { ...s, lease: null };
  }
  if (keep) return reboot(s, now, actions, s.lease!.address);
  return toInit(s, now, actions, "restart");
}

function release(s: ClientState, now: number, actions: Action[]): StepResult {
  if (!s.lease || !(s.phase === "BOUND" || s.phase === "RENEWING" || s.phase === "REBINDING")) {
    return { state: s, actions };
  }
  actions.push(sendRelease(s, newXid(s.config)));
  actions.push({ kind: "released", lease: s.lease });
  return { state: enter(s, "STOPPED", now, actions), actions };
}

function onTimer(s: ClientState, timer: TimerName, now: number, actions: Action[]): ClientState {
  const c = s.config;
  switch (timer) {
    case "init":
      return s.phase === "INIT" || s.phase === "IPV6_ONLY" ? enter({ ...s, ipv6OnlyUntil: null }, "SELECTING", now, actions) : s;
    case "retransmit": {
      if (s.phase === "SELECTING") {
        if (!c.resident && s.sent >= c.tries) {
          actions.push({ kind: "failed", reason: "no-offer" });
          return enter(s, "INIT", now, actions);
        }
        return transmit(s, now, actions);
      }
      if (s.phase === "REQUESTING") {
        if (s.sent >= (c.resident ? (c.residentRequestTries ?? 4) : c.tries)) {
          actions.push({ kind: "not-acked", serverId: s.chosen!.serverId, address: s.chosen!.address, requests: s.sent });
          if (!c.resident) actions.push({ kind: "failed", reason: "no-ack" });
          return enter(s, "INIT", now, actions); // RFC 2131 4.4.1: back to INIT
        }
        return transmit(s, now, actions);
      }
      if (s.phase === "REBOOTING") {
        const gaveUp = c.resident ? now - s.exchangeStartedAt >= (c.rebootTimeoutMs ?? 6 * SECOND) : s.sent >= c.tries;
        if (!gaveUp) return transmit(s, now, actions);
        if (!c.resident) {
          actions.push({ kind: "failed", reason: "no-ack" });
          return enter(s, "INIT", now, actions);
        }
        // RFC 2131 3.2: no answer to INIT-REBOOT: start over (INIT's timer sends a DISCOVER).
        return toInit(s, now, actions, "reboot-failed");
      }
      if (s.phase === "RENEWING" || s.phase === "REBINDING") return transmit(s, now, actions);
      return s;
    }
    case "renew":
      // RFC 2131 4.4.5: at T1 unicast a REQUEST to the server that gave the lease.
      return s.phase === "BOUND" ? enter(s, "RENEWING", now, actions) : s;
    case "rebind":
      // At T2 broadcast to any server.
      return s.phase === "BOUND" || s.phase === "RENEWING" ? enter(s, "REBINDING", now, actions) : s;
    case "expire":
      // At the lease end the address must go: back to INIT (or, link down, stay quiet without it).
      if (!s.lease) return s;
      if (s.phase === "DOWN") {
        actions.push({ kind: "unbound", lease: s.lease, why: "expired" });
        return { ...s, lease: null };
      }
      if (s.phase === "BOUND" || s.phase === "RENEWING" || s.phase === "REBINDING" || s.phase === "REBOOTING") {
        return toInit(s, now, actions, "expired");
      }
      return s;
  }
}

function drop(s: ClientState, actions: Action[], reason: string): ClientState {
  actions.push({ kind: "dropped", reason });
  return s;
}

function onReceived(s: ClientState, r: Received, now: number, actions: Action[]): ClientState {
  const m = r.message;
  const c = s.config;
  // RFC 2131 4.4: a reply is ours only with op BOOTREPLY, our xid and our chaddr.
  if (m.op !== BOOTREPLY) return drop(s, actions, "not-reply");
  if (m.htype !== 1 || m.hlen !== 6) return drop(s, actions, "not-ethernet");
  if (!(s.phase === "SELECTING" || s.phase === "REQUESTING" || s.phase === "REBOOTING" || s.phase === "RENEWING" || s.phase === "REBINDING"))
    return drop(s, actions, "not-expected");
  if (m.xid !== s.xid) return drop(s, actions, "wrong-xid");
  if (!bytesEqual(m.chaddr.subarray(0, 6), c.identity.mac)) return drop(s, actions, "wrong-chaddr");
  // Finding 12: renewals and the RELEASE go to the server id and the ACK's Ethernet source.
  if (badSourceMac(r.srcMac, c.identity.mac) !== null) return drop(s, actions, "bad-source-mac");
  if (badServerId(replyServer(r), [m.yiaddr, s.lease?.address, s.chosen?.address]) !== null) return drop(s, actions, "bad-server-id");
  const type = messageType(m);
  // --server: we asked one server; an answer from another is not what we asked for.
  if (c.server && replyServer(r) !== c.server.ip && r.srcIp !== c.server.ip) return drop(s, actions, "other-server");
  const ignored = c.ignoreServers;
  if (ignored?.length && (ignored.includes(replyServer(r)) || ignored.includes(r.srcIp))) return drop(s, actions, "ignored-server");
  if (type === DHCPOFFER) return onOffer(s, r, now, actions);
  if (type === DHCPACK) return onAck(s, r, now, actions);
  if (type === DHCPNAK) return onNak(s, r, now, actions);
  return drop(s, actions, type === 0 ? "no-message-type" : "unexpected-type");
}

function onOffer(s: ClientState, r: Received, now: number, actions: Action[]): ClientState {
  // HOSTILE 29: an OFFER outside SELECTING (a server answering every REQUEST with a new
  // OFFER) is ignored, so it cannot restart the exchange.
  if (s.phase !== "SELECTING") return drop(s, actions, "offer-not-selecting");
  const m = r.message;
  const serverId = getIp(m, 54);
  // RFC 8925 3.2: asked for 108 and offered it: no DHCPv4 on this network for that long.
  const v6wait = ipv6OnlyWait(m, s.config.identity.preferIpv6 === true);
  if (v6wait !== null) {
    actions.push({ kind: "ipv6-only", server: serverId ?? r.srcIp, waitSec: v6wait });
    return enter(s, "IPV6_ONLY", now, actions, { ipv6OnlyUntil: now + v6wait * SECOND });
  }
  // HOSTILE 25: no address and no server: nothing to request.
  if (m.yiaddr === "0.0.0.0" && !serverId) return drop(s, actions, "offer-no-address");
  if (!isUsableAddress(m.yiaddr) || isSubnetEdge(m.yiaddr, getIp(m, 1))) return drop(s, actions, "offer-bad-address");
  // RFC 2131 table 3: 54 is a MUST in an OFFER; the REQUEST has to name it.
  if (!serverId) return drop(s, actions, "offer-no-server-id");
  actions.push({ kind: "offer", serverId, address: m.yiaddr });
  // RFC 2131 4.4.1: the first acceptable OFFER is taken.
  return enter(s, "REQUESTING", now, actions, {
    chosen: { address: m.yiaddr, serverId, serverIp: r.srcIp, serverMac: r.srcMac.slice(0, 6) },
  });
}

function replyServer(r: Received): string {
  return getIp(r.message, 54) ?? r.srcIp;
}

/** The server this exchange listens to, or null when any may answer (REBOOTING, REBINDING). */
function expectedServer(s: ClientState): string | null {
  if (s.phase === "REQUESTING") return s.chosen!.serverId;
  if (s.phase === "RENEWING") return s.lease!.serverId;
  return null;
}

function onAck(s: ClientState, r: Received, now: number, actions: Action[]): ClientState {
  if (s.phase === "SELECTING") return drop(s, actions, "ack-not-requested");
  const m = r.message;
  const server = replyServer(r);
  const expected = expectedServer(s);
  // HOSTILE 26: an ACK from a server other than the one we asked is not ours to take.
  if (expected !== null && server !== expected) return drop(s, actions, "ack-other-server");
  // HOSTILE 26: an ACK for another address than the one we asked for is refused.
  const wanted = s.phase === "REQUESTING" ? s.chosen!.address : s.phase === "REBOOTING" ? s.rebootAddress : null;
  if (wanted !== null && m.yiaddr !== wanted) return drop(s, actions, "ack-wrong-address");
  if (!isUsableAddress(m.yiaddr) || isSubnetEdge(m.yiaddr, getIp(m, 1))) return drop(s, actions, "ack-bad-address");
  // RFC 2131 table 3: 51 is a MUST in an ACK to a REQUEST; 0 would expire at once (HOSTILE 23).
  const times = messageLeaseTimes(m);
  if ("error" in times) return drop(s, actions, "ack-no-lease");
  const start = s.requestSentAt;
  // The lease counts from our REQUEST (RFC 2131 4.4.1): an ACK slower than the lease it gives
  // would bind an address that is already gone (and expire it at once).
  if (!times.infinite && start + times.lease * SECOND <= now) return drop(s, actions, "ack-expired");
  const lease = leaseFromAck(r, server, start, times, s.config.identity.preferIpv6 === true);
  return enter(s, "BOUND", now, actions, { lease });
}

function onNak(s: ClientState, r: Received, now: number, actions: Action[]): ClientState {
  if (s.phase === "SELECTING") return drop(s, actions, "nak-not-requested");
  const server = replyServer(r);
  const expected = expectedServer(s);
  // HOSTILE 27: once a server is chosen, a NAK from any other is ignored (it could be
  // a rogue, or a server that just does not know our lease).
  if (expected !== null && server !== expected) return drop(s, actions, "nak-other-server");
  // RFC 2131 4.4.1 / 4.4.5: a NAK sends the client back to INIT.
  actions.push({ kind: "nak", server, message: getString(r.message, 56) });
  return toInit({ ...s, naks: s.naks + 1 }, now, actions, "nak");
}
