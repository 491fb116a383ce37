// The engine target: one seeded sequence of events through step(), as a shell would deliver
// them: a monotonic fake clock, armed timers fired when due (or late, or spuriously), replies
// for the current exchange (right xid and MAC, or not; plausible or hostile; sometimes
// mangled on the wire and dropped by the decoder as the shell would), the link going down and
// up, operator renew/rebind/release/stop, new settings; resident and one-shot configs.
// Invariants are checked after every step (checkStep); the sequence is a pure function of
// the input seed, and the trace of what was delivered goes into the crash report.

import { isUsableAddress, isSubnetEdge } from "../../core/lease-times.ts";
import { leaseVars } from "../../core/lease-env.ts";
import { initialState, step, type Action, type ClientState, type EngineConfig, type Event, type Lease, type TimerName } from "../../core/engine.ts";
import { decodeMessage, messageType, type DhcpMessage } from "../../core/message.ts";
import { bytesEqual, macToString, toHex } from "../../core/bytes.ts";
import { engineConfig, reply, LEASE_SECONDS, type ReplyBytes, type ServerManner } from "./engine-input.ts";
import { isDottedQuad, isU32, must } from "./invariants.ts";
import { Rng } from "./rng.ts";

const PHASES = new Set(["INIT", "SELECTING", "REQUESTING", "BOUND", "RENEWING", "REBINDING", "INIT_REBOOT", "REBOOTING", "STOPPED", "DOWN", "IPV6_ONLY"]);
const TIMERS: TimerName[] = ["retransmit", "renew", "rebind", "expire", "init"];
const ACTION_KINDS = new Set(["send", "arm", "disarm", "offer", "bound", "nak", "unbound", "ipv6-only", "released", "failed", "not-acked", "dropped"]);
/** More actions than this from one event is a livelock inside step (the most seen is ~12). */
export const MAX_ACTIONS_PER_STEP = 50;
/** Timers fired back to back with the clock standing still: a livelock between steps. */
const MAX_FIRES_WITHOUT_TIME = 100;

export interface EngineInput {
  seed: number;
  /** Filled while running: what was delivered, for the report. */
  trace?: TraceEntry[];
}

/** Kept as references while running (formatting every step would cost more than the step); serialized on failure. */
export interface TraceEntry {
  now: number;
  event: Event | string;
  payload?: Uint8Array;
  phase?: string;
  actions?: Action[];
}

function actionText(a: Action): string {
  switch (a.kind) {
    case "arm":
      return `arm ${a.timer}@${a.at}`;
    case "disarm":
      return `disarm ${a.timer}`;
    case "dropped":
      return `dropped ${a.reason}`;
    case "send":
      return `send type ${a.messageType} xid 0x${a.xid.toString(16)}`;
    default:
      return a.kind;
  }
}

function describe(e: Event): string {
  switch (e.kind) {
    case "timer":
      return `timer ${e.timer}`;
    case "link":
      return `link ${e.up ? "up" : "down"}`;
    case "received":
      return `received type ${messageType(e.message)} xid 0x${e.message.xid.toString(16)} yiaddr ${e.message.yiaddr} from ${e.srcIp}`;
    case "reconfigure":
      return `reconfigure keepLease=${e.keepLease} resident=${e.config.resident} mac=${toHex(e.config.identity.mac, ":")}`;
    default:
      return e.kind;
  }
}

function checkLease(l: Lease, what: string, hookVars = false): void {
  if (l.infinite) {
    must(l.renewAt === null && l.rebindAt === null && l.expiresAt === null, `${what}: infinite lease with times`);
  } else {
    const { acquiredAt: a, renewAt: r, rebindAt: b, expiresAt: e } = l;
    must(
      [a, r, b, e].every((x) => typeof x === "number" && Number.isFinite(x)),
      () => `${what}: lease times not finite: ${[a, r, b, e]}`,
    );
    must(a <= r! && r! <= b! && b! <= e!, () => `${what}: lease times out of order: acquired ${a} renew ${r} rebind ${b} expires ${e}`);
    must(l.leaseTime > 0 && l.t1 <= l.t2 && l.t2 <= l.leaseTime, () => `${what}: T1 ${l.t1} T2 ${l.t2} lease ${l.leaseTime}`);
  }
  if (hookVars)
    for (const [name, value] of leaseVars(
      { ...l, serverMac: macToString(l.serverMac), expiresAt: l.expiresAt === null ? null : String(l.expiresAt) },
      "new_",
    )) {
      must(!value.includes("\0"), `${what}: hook variable ${name} holds a NUL`);
    }
}

function checkSend(a: Extract<Action, { kind: "send" }>, after: ClientState): void {
  const d = decodeMessage(a.payload);
  must(d.ok, () => `sent ${a.messageType} does not decode: ${d.ok ? "" : d.error.reason}`);
  const m: DhcpMessage = d.message;
  must(m.op === 1 && m.htype === 1 && m.hlen === 6, `sent message header op ${m.op} htype ${m.htype} hlen ${m.hlen}`);
  must(bytesEqual(m.chaddr.subarray(0, 6), after.config.identity.mac), "sent message does not carry our MAC");
  must(m.xid === a.xid && isU32(a.xid), `sent xid 0x${m.xid.toString(16)} is not the action's 0x${a.xid.toString(16)}`);
  must(messageType(m) === a.messageType && [1, 3, 7].includes(a.messageType), `sent type ${messageType(m)} vs action ${a.messageType}`);
  // a RELEASE has an xid of its own (RFC 2131 4.4.6); everything else belongs to the current exchange
  if (a.messageType !== 7) must(a.xid === after.xid, `sent xid 0x${a.xid.toString(16)}, current exchange 0x${after.xid.toString(16)}`);
  must(a.to === "broadcast" || (isDottedQuad(a.to.ip) && a.to.mac.length === 6), "send destination malformed");
  must(isDottedQuad(a.srcIp), "send source address malformed");
}

interface Sim {
  now: number;
  stopped: boolean;
  armed: Map<TimerName, number>;
  firesWithoutTime: number;
  /** When the client sent on its own (timers, replies): for the flood check. */
  ownSends: number[];
}

/** Sends on the engine's own account (timers, replies) in any 1 s of its clock: more is a storm. */
export const MAX_OWN_SENDS_PER_SECOND = 20;
const OWN_ACCOUNT = new Set(["timer", "received"]);

function checkStep(before: ClientState, ev: Event, r: { state: ClientState; actions: Action[] }, sim: Sim): void {
  const s = r.state;
  must(PHASES.has(s.phase), `unknown phase ${s.phase}`);
  must(r.actions.length < MAX_ACTIONS_PER_STEP, `${r.actions.length} actions from one step`);
  must(isU32(s.xid), `xid ${s.xid} is not a u32`);
  for (const a of r.actions) {
    must(ACTION_KINDS.has(a.kind), `unknown action ${a.kind}`);
    if (a.kind === "send") {
      must(!sim.stopped, `sent ${a.messageType} after stop`);
      checkSend(a, s);
    } else if (a.kind === "arm") {
      must(TIMERS.includes(a.timer), `unknown timer ${a.timer}`);
      must(Number.isFinite(a.at), `arm ${a.timer} at ${a.at}`);
      // No timer in the past, with one exception: RFC 2131 4.4.1 counts T1 and T2 from when
      // the REQUEST was first sent, so an ACK that took its time (retransmissions, a slow
      // server) can arrive with T1 or T2 already behind it, and the shell fires them at once.
      // The lease's end is no such exception: binding to a lease already over is a bug.
      const passedLeaseTime = s.lease && ((a.timer === "renew" && a.at === s.lease.renewAt) || (a.timer === "rebind" && a.at === s.lease.rebindAt));
      must(
        a.at >= sim.now || passedLeaseTime,
        () =>
          `arm ${a.timer} at ${a.at}, ${sim.now - a.at} ms before now (${sim.now}) in ${s.phase} after ${describe(ev)}${s.lease ? ` (lease ${s.lease.leaseTime} s from ${s.lease.acquiredAt}, ${sim.now - s.lease.acquiredAt} ms ago)` : ""}`,
      );
    } else if (a.kind === "bound") {
      must(s.phase === "BOUND", `"bound" reported in ${s.phase}`);
      checkLease(a.lease, "bound lease", true);
    } else if (a.kind === "unbound" || a.kind === "released") {
      must(a.lease !== null && typeof a.lease === "object", `${a.kind} without a lease`);
    }
  }
  if (s.phase === "BOUND") {
    must(s.lease !== null, "BOUND without a lease");
    must(isUsableAddress(s.lease.address) && !isSubnetEdge(s.lease.address, s.lease.subnetMask), `BOUND to unusable address ${s.lease.address}`);
  }
  if (s.lease) checkLease(s.lease, `lease in ${s.phase}`);
  if (before.phase === "STOPPED") must(s.phase === "STOPPED", `left STOPPED for ${s.phase}`);
  // no livelock between steps: what the client sends by itself is paced (RFC 2131 4.1, 4.4.5)
  if (OWN_ACCOUNT.has(ev.kind)) {
    for (const a of r.actions) if (a.kind === "send") sim.ownSends.push(sim.now);
    while (sim.ownSends.length && sim.ownSends[0] <= sim.now - 1000) sim.ownSends.shift();
    must(
      sim.ownSends.length <= MAX_OWN_SENDS_PER_SECOND,
      () =>
        `send storm: ${sim.ownSends.length} messages within 1 s, the last in ${s.phase} after ${describe(ev)} (lease ${s.lease ? s.lease.leaseTime + " s" : "none"})`,
    );
  }
}

/** A shallow freeze of what step() is handed: a write into it throws (modules are strict). */
function freeze(s: ClientState): ClientState {
  Object.freeze(s);
  if (s.lease) Object.freeze(s.lease);
  if (s.chosen) Object.freeze(s.chosen);
  return s;
}

/** How the server on the link behaves for a whole sequence: it answers what the client sends, or not. */
interface ServerModel extends ServerManner {
  /** Chance that a message the client sends gets an answer. */
  answers: number;
  rttMs: () => number;
}

export function runEngine(input: EngineInput): void {
  const rng = new Rng(input.seed);
  const trace: TraceEntry[] = (input.trace = []);
  const sim: Sim = {
    now: rng.weighted([
      [2, () => 0],
      [2, () => rng.int(1e7)],
      [1, () => 1e12 + rng.int(1e9)],
    ])(),
    stopped: false,
    armed: new Map(),
    firesWithoutTime: 0,
    ownSends: [],
  };
  const rtt = rng.weighted([
    [3, 1],
    [3, 40],
    [1, 4000],
  ]);
  const server: ServerModel = {
    answers: rng.pick([0, 0.5, 0.9, 1]),
    rttMs: () => rng.int(rtt + 1),
    lease: rng.chance(0.7) ? rng.pick(LEASE_SECONDS) : null,
    sloppy: rng.pick([0, 0, 0.02, 0.1, 0.5]),
  };
  const pending: number[] = []; // when the server's answers arrive
  let cfg: EngineConfig = engineConfig(rng, sim.now);
  let state = freeze(initialState(cfg));

  const deliver = (ev: Event, payload?: Uint8Array) => {
    const entry: TraceEntry = { now: sim.now, event: ev, payload };
    trace.push(entry);
    const r = step(state, ev, sim.now);
    entry.phase = r.state.phase;
    entry.actions = r.actions;
    checkStep(state, ev, r, sim);
    state = freeze(r.state);
    if (state.phase === "STOPPED") sim.stopped = true;
    for (const a of r.actions) {
      if (a.kind === "arm") sim.armed.set(a.timer, a.at);
      else if (a.kind === "disarm") sim.armed.delete(a.timer);
      else if (a.kind === "send" && a.messageType !== 7 && rng.chance(server.answers)) {
        pending.push(sim.now + server.rttMs());
        pending.sort((x, y) => x - y);
      }
    }
  };
  const advance = (ms: number) => {
    if (ms > 0) {
      sim.now += ms;
      sim.firesWithoutTime = 0;
    }
  };
  const nextTimer = (): [TimerName, number] | null => {
    let best: [TimerName, number] | null = null;
    for (const [t, at] of sim.armed) if (!best || at < best[1]) best = [t, at];
    return best;
  };
  /** A delay that (usually) does not pass the next timer: the shell would have fired it first. */
  const delay = (max: number) => {
    const d = rng.weighted([
      [3, () => rng.int(50)],
      [3, () => rng.int(max)],
      [1, () => 0],
    ])();
    const t = nextTimer();
    return t && rng.chance(0.85) ? Math.max(0, Math.min(d, t[1] - sim.now)) : d;
  };
  const fire = () => {
    const t = nextTimer();
    if (!t) {
      advance(delay(5000));
      return;
    }
    const [timer, at] = t;
    if (at > sim.now) advance(at - sim.now + rng.pick([0, 0, 0, 1, rng.int(20)]));
    else sim.firesWithoutTime++;
    must(sim.firesWithoutTime < MAX_FIRES_WITHOUT_TIME, `livelock: ${sim.firesWithoutTime} timers fired with the clock at ${sim.now} (${timer})`);
    sim.armed.delete(timer);
    deliver({ kind: "timer", timer });
  };
  /** The server's answer to what the client sent, or (unasked) anything from anyone. */
  const answer = (asked: boolean) => {
    const built: ReplyBytes = reply(rng, state, asked ? server : { lease: null, sloppy: 1 });
    const d = decodeMessage(built.payload);
    if (!d.ok) {
      trace.push({ now: sim.now, event: `reply dropped by the decoder: ${d.error.kind}`, payload: built.payload });
      return;
    }
    deliver({ kind: "received", message: d.message, srcIp: built.srcIp, srcMac: built.srcMac }, built.payload);
  };

  if (rng.chance(0.9)) deliver({ kind: "start" });
  const steps = rng.weighted([
    [3, () => rng.range(1, 20)],
    [2, () => rng.range(20, 60)],
    [1, () => rng.range(60, 150)],
  ])();
  for (let i = 0; i < steps; i++) {
    // what happens next on a real link: the server's answer or a timer, whichever comes first
    if (pending.length && rng.chance(0.8)) {
      const t = nextTimer();
      if (t && t[1] < pending[0]) {
        fire();
        continue;
      }
      advance(pending.shift()! - sim.now);
      answer(true);
      continue;
    }
    const what = rng.weighted<string>([
      [8, "fire"],
      [4, "reply"],
      [1, "late-reply"],
      [1, "advance"],
      [0.5, "spurious-timer"],
      [1, "link"],
      [0.6, "renew"],
      [0.6, "rebind"],
      [0.3, "release"],
      [0.15, "stop"],
      [0.4, "reconfigure"],
      [0.3, "start"],
    ]);
    switch (what) {
      case "fire":
        fire();
        break;
      case "reply": // unasked, or from another server
      case "late-reply":
        advance(what === "late-reply" ? rng.range(1000, 120_000) : delay(3000));
        answer(rng.chance(0.5));
        break;
      case "advance":
        advance(
          rng.weighted([
            [3, () => rng.int(10_000)],
            [1, () => rng.int(86_400_000)],
            [0.2, () => rng.int(2 ** 40)],
          ])(),
        );
        break;
      case "spurious-timer":
        advance(delay(1000));
        deliver({ kind: "timer", timer: rng.pick(TIMERS) });
        break;
      case "link":
        advance(delay(1000));
        deliver({ kind: "link", up: rng.chance(0.5) });
        break;
      case "renew":
      case "rebind":
      case "release":
      case "stop":
      case "start":
        advance(delay(1000));
        deliver({ kind: what });
        break;
      case "reconfigure":
        advance(delay(1000));
        cfg = engineConfig(rng, sim.now, cfg);
        deliver({ kind: "reconfigure", config: cfg, keepLease: rng.chance(0.6) });
        break;
    }
  }
}

export function serializeEngine(input: EngineInput): unknown {
  return {
    seed: input.seed,
    trace: (input.trace ?? []).map((e) => ({
      now: e.now,
      event: typeof e.event === "string" ? e.event : describe(e.event),
      phase: e.phase,
      actions: e.actions?.map(actionText).join(", "),
      payload: e.payload ? toHex(e.payload) : undefined,
    })),
  };
}
