// The one driver of the client engine (core/engine.ts): it feeds the engine its events (start,
// timers, received replies, the operator's and the link's news) and carries out every action
// the engine returns. send, arm and disarm it does itself, over the Transport, Timers and
// Clock it is given; the rest (a lease bound or lost, a NAK, a failure) it hands to the
// owner's EngineReactions: the one-shot request records them, the resident client stores,
// applies and runs hooks. No other module in cli/ interprets an Action.
//
// Bad network input is the engine's to drop (a "dropped" action, counted here). An exception
// out of step() is a bug, a broken invariant (dhcpleased calls fatal()): the driver stops for
// good, disarms everything and tells its owner, who ends the process; it never carries on
// with the old state.

import { frameClientMessage, type Destination as FrameDestination } from "../../core/client.ts";
import { DropCounters } from "../../core/drops.ts";
import {
  initialState,
  step,
  type Action,
  type ClientState,
  type EngineConfig,
  type Event,
  type FailReason,
  type Lease,
  type Phase,
  type UnboundReason,
} from "../../core/engine.ts";
import { BROADCAST_MAC, DHCP_SERVER_PORT } from "../../core/frame.ts";
import { DHCPDISCOVER, DHCPRELEASE, DHCPREQUEST } from "../../core/options.ts";
import { clientReplyPath, receiveReply, relayReplyPath, type ReceivedFrameLike, type ReplyPath } from "../../core/reply.ts";
import type { Clock, Timers } from "./time.ts";
import type { Transport } from "./transport.ts";

export type SendAction = Extract<Action, { kind: "send" }>;

const TYPE_NAMES: Record<number, string> = { [DHCPDISCOVER]: "DISCOVER", [DHCPREQUEST]: "REQUEST", [DHCPRELEASE]: "RELEASE" };

/** What the owner does with the engine's news. Only fatal is required. */
export interface EngineReactions {
  phase?(from: Phase, to: Phase, now: number): void;
  /** A message went out: `name` is DISCOVER, REQUEST or RELEASE; `to` the frame's addresses. */
  sent?(a: SendAction, name: string, to: FrameDestination, now: number): void;
  /** It could not go out (the engine's retransmission timer is armed all the same). */
  sendFailed?(a: SendAction, name: string, err: unknown): void;
  offer?(serverId: string, address: string, now: number): void;
  /** `from`: the phase that took the lease (REQUESTING, REBOOTING, RENEWING, REBINDING). */
  bound?(lease: Lease, from: Phase, now: number): void;
  unbound?(lease: Lease, why: UnboundReason): void;
  nak?(server: string, message: string | null): void;
  released?(lease: Lease): void;
  failed?(reason: FailReason): void;
  /** The offer of `address` from `serverId` got no ACK to `requests` REQUESTs (the engine starts over or gives up). */
  notAcked?(serverId: string, address: string, requests: number): void;
  ipv6Only?(server: string, waitSec: number): void;
  /** The engine refused a reply (already counted in the driver's drops). */
  dropped?(reason: string): void;
  /** The transport could not receive (a socket error): not the network's input, not a bug here. */
  receiveError?(err: unknown): void;
  /** A reaction or the receive filter threw: a bug in the shell, reported; the rest goes on. */
  shellError?(what: string, err: unknown): void;
  /** step() threw. The driver has stopped for good: nothing more is sent or dispatched. */
  fatal(err: unknown): void;
}

export interface DriverOptions {
  config: EngineConfig;
  transport: Transport;
  timers: Timers;
  clock: Clock;
  /** The interface's own MAC: the source of what goes out as a relay agent's, where a relay's answers arrive. */
  interfaceMac: Uint8Array;
  reactions: EngineReactions;
}

export class EngineDriver {
  readonly drops = new DropCounters();
  /** Messages sent, by name (DISCOVER, REQUEST, RELEASE). */
  readonly sent: Record<string, number> = {};
  /** Replies that passed the frame checks and decoded. */
  received = 0;
  #state: ClientState;
  readonly #o: DriverOptions;
  #closed = false;
  #failed = false;

  constructor(o: DriverOptions) {
    this.#o = o;
    this.#state = initialState(o.config);
    o.transport.listen(
      (frame) => this.receive(frame),
      (err) => this.#react("receive", () => o.reactions.receiveError?.(err)),
    );
  }

  get state(): ClientState {
    return this.#state;
  }
  /** step() threw: the driver stopped. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Feeds one event to the engine and carries out what it returns. Ignored once closed. */
  dispatch(event: Event): void {
    if (this.#closed) return;
    const o = this.#o;
    const now = o.clock.now();
    const before = this.#state.phase;
    let r;
    try {
      r = step(this.#state, event, now);
    } catch (err) {
      this.#failed = true;
      this.close();
      o.reactions.fatal(err);
      return;
    }
    this.#state = r.state;
    if (r.state.phase !== before) this.#react("phase", () => o.reactions.phase?.(before, r.state.phase, now));
    for (const a of r.actions) this.#perform(a, before, now);
  }

  /** The receive path: the one reply filter, then the engine. Never throws. */
  receive(frame: ReceivedFrameLike): void {
    if (this.#closed) return;
    let r;
    try {
      r = receiveReply(frame, this.#replyPath());
    } catch (err) {
      this.drops.add("exception");
      this.#react("receive", () => this.#o.reactions.shellError?.("receive path", err));
      return;
    }
    if (!r.ok) {
      this.drops.add(r.reason);
      return;
    }
    this.received++;
    this.dispatch({ kind: "received", message: r.message, srcIp: r.frame.srcIp, srcMac: r.frame.srcMac });
  }

  /** No more events, every timer disarmed. The transport stays its owner's to close. */
  close(): void {
    this.#closed = true;
    this.#o.timers.clear();
  }

  #replyPath(): ReplyPath {
    const s = this.#state,
      c = s.config;
    // A relay's answers come to giaddr:67, in frames to the interface's MAC (chaddr may be
    // random). A RENEWING REQUEST is the client's own unicast even when relaying, so its
    // answer comes to the client: port 68, chaddr.
    return c.relay && s.phase !== "RENEWING" ? relayReplyPath(c.relay.giaddr, this.#o.interfaceMac) : clientReplyPath(c.identity.mac);
  }

  #perform(a: Action, before: Phase, now: number): void {
    const { reactions: r, timers } = this.#o;
    switch (a.kind) {
      case "send":
        return this.#send(a, now);
      case "arm":
        return timers.arm(a.timer, a.at, () => this.dispatch({ kind: "timer", timer: a.timer }));
      case "disarm":
        return timers.disarm(a.timer);
      case "offer":
        return this.#react(a.kind, () => r.offer?.(a.serverId, a.address, now));
      case "bound":
        return this.#react(a.kind, () => r.bound?.(a.lease, before, now));
      case "unbound":
        return this.#react(a.kind, () => r.unbound?.(a.lease, a.why));
      case "nak":
        return this.#react(a.kind, () => r.nak?.(a.server, a.message));
      case "released":
        return this.#react(a.kind, () => r.released?.(a.lease));
      case "failed":
        return this.#react(a.kind, () => r.failed?.(a.reason));
      case "not-acked":
        return this.#react(a.kind, () => r.notAcked?.(a.serverId, a.address, a.requests));
      case "ipv6-only":
        return this.#react(a.kind, () => r.ipv6Only?.(a.server, a.waitSec));
      case "dropped":
        this.drops.add(a.reason);
        return this.#react(a.kind, () => r.dropped?.(a.reason));
    }
  }

  #send(a: SendAction, now: number): void {
    const name = TYPE_NAMES[a.messageType] ?? String(a.messageType);
    const to: FrameDestination =
      a.to === "broadcast"
        ? { mac: BROADCAST_MAC, ip: "255.255.255.255", srcIp: a.srcIp, srcPort: a.srcPort }
        : { mac: a.to.mac, ip: a.to.ip, srcIp: a.srcIp, srcPort: a.srcPort };
    // What a relay agent forwards leaves from its own interface; the client's own, from chaddr.
    // RENEWING and RELEASE go unicast from the leased address to the server's MAC as a raw
    // frame (DESIGN.md): right whether or not the address is on the interface.
    const srcMac = a.srcPort === DHCP_SERVER_PORT ? this.#o.interfaceMac : this.#state.config.identity.mac;
    try {
      this.#o.transport.send(frameClientMessage(srcMac, a.payload, to));
    } catch (err) {
      this.#react("send", () => this.#o.reactions.sendFailed?.(a, name, err));
      return;
    }
    this.sent[name] = (this.sent[name] ?? 0) + 1;
    this.#react("send", () => this.#o.reactions.sent?.(a, name, to, now));
  }

  #react(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // Not the engine's fault: the engine's state is sound, the next action still runs.
      try {
        this.#o.reactions.shellError?.(`carrying out ${what}`, err);
      } catch {
        /* nothing left to tell */
      }
    }
  }
}
