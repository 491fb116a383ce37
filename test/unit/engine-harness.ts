// The engine test harness: a fake clock (plain numbers), a fake random(), replies built as a
// server would send them, and a Harness that steps the engine and keeps what it asked for.

import { initialState, step, type Action, type ClientState, type EngineConfig, type Event } from "../../core/engine.ts";
import { decodeMessage, encodeMessage, BOOTREPLY, type DhcpMessage, type OptionBytes } from "../../core/message.ts";
import { parseMac } from "../../core/bytes.ts";
import { CLIENT_MAC, SERVER_MAC, ip4, u32 } from "./helpers.ts";

export const OTHER_MAC = parseMac("02:00:00:00:00:ee")!;
export const SERVER = "198.18.0.1";
export const OTHER = "198.18.0.2";
export const ADDR = "198.18.0.100";

/** random() returning the given values in turn, then the last one forever. */
export function fakeRandom(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)];
}

export function config(over: Partial<EngineConfig> = {}): EngineConfig {
  return {
    identity: { mac: CLIENT_MAC, hostname: "lab" },
    resident: false,
    retryMs: 2000,
    tries: 3,
    random: fakeRandom(0.5),
    ...over,
  };
}

export class Harness {
  state: ClientState;
  log: Action[] = [];
  last: Action[] = [];
  constructor(cfg: EngineConfig) {
    this.state = initialState(cfg);
  }
  ev(event: Event, now: number): Action[] {
    const r = step(this.state, event, now);
    this.state = r.state;
    this.last = r.actions;
    this.log.push(...r.actions);
    return r.actions;
  }
  get phase() {
    return this.state.phase;
  }
  sends(actions = this.last) {
    return actions.filter((a) => a.kind === "send") as Extract<Action, { kind: "send" }>[];
  }
  arm(timer: string, actions = this.last) {
    return (actions.filter((a) => a.kind === "arm" && a.timer === timer) as Extract<Action, { kind: "arm" }>[]).at(-1)?.at;
  }
  kinds(actions = this.last) {
    return actions.map((a) => a.kind);
  }
}

export function sent(a: Extract<Action, { kind: "send" }>): DhcpMessage {
  const d = decodeMessage(a.payload);
  if (!d.ok) throw new Error("sent payload does not decode");
  return d.message;
}

export function reply(
  type: number,
  over: {
    xid: number;
    yiaddr?: string;
    server?: string | null;
    chaddr?: Uint8Array;
    op?: number;
    options?: OptionBytes[];
  },
): DhcpMessage {
  const server = over.server === undefined ? SERVER : over.server;
  const options: OptionBytes[] = over.options ?? [
    { code: 53, data: Uint8Array.of(type) },
    ...(server ? [{ code: 54, data: ip4(server) }] : []),
    ...(type === 6
      ? []
      : [
          { code: 51, data: u32(3600) },
          { code: 1, data: ip4("255.255.255.0") },
          { code: 3, data: ip4(SERVER) },
          { code: 6, data: ip4(SERVER) },
          { code: 15, data: new TextEncoder().encode("lab.example") },
        ]),
  ];
  const d = decodeMessage(
    encodeMessage({
      op: over.op ?? BOOTREPLY,
      xid: over.xid,
      chaddr: over.chaddr ?? CLIENT_MAC,
      yiaddr: type === 6 ? "0.0.0.0" : (over.yiaddr ?? ADDR),
      options,
    }),
  );
  if (!d.ok) throw new Error("test reply does not decode");
  return d.message;
}

export const recv = (message: DhcpMessage, srcIp = SERVER, srcMac = SERVER_MAC): Event => ({ kind: "received", message, srcIp, srcMac });

export function withOptions(type: number, extra: OptionBytes[], server = SERVER): OptionBytes[] {
  return [{ code: 53, data: Uint8Array.of(type) }, { code: 54, data: ip4(server) }, ...extra];
}

/** Start, get an OFFER at t=10, an ACK at t=20: BOUND. */
export function bound(cfg = config(), ack?: (xid: number) => DhcpMessage): Harness {
  const h = new Harness(cfg);
  h.ev({ kind: "start" }, 0);
  const xid = h.state.xid;
  h.ev(recv(reply(2, { xid })), 10);
  h.ev(recv(ack ? ack(xid) : reply(5, { xid })), 20);
  return h;
}
