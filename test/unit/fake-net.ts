// A wire in memory and a DHCP server on its far end that a test scripts (in the spirit of
// insomniacslk's nclient4 tests on a socket pair). The client's frames are queued until the
// test (or the clock, after a timer) flushes the wire, so nothing re-enters the client while
// it is still carrying out actions — as on a real packet socket, where replies come later.

import type { Transport } from "../../cli/client/transport.ts";
import { macToString } from "../../core/bytes.ts";
import { BROADCAST_MAC, buildUdpFrame, parseUdpFrame, type ParsedFrame } from "../../core/frame.ts";
import { decodeMessage, encodeMessage, getIp, getString, messageType, BOOTREPLY, type DhcpMessage, type OptionBytes } from "../../core/message.ts";
import type { ReceivedFrameLike } from "../../core/reply.ts";
import { ip4, u32 } from "./helpers.ts";

/** A frame the client sent, as the server saw it. */
export interface SeenFrame {
  dstMac: string;
  srcMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  type: number;
  xid: number;
  ciaddr: string;
  requested: string | null;
  serverId: string | null;
  message: DhcpMessage;
  /** The server's clock when it arrived (FakeServer.now). */
  at: number;
}

export class MemoryWire {
  #toServer: Uint8Array[] = [];
  #toClient: Uint8Array[] = [];
  #clientRx: ((frame: ReceivedFrameLike) => void) | null = null;
  #serverRx: ((frame: Uint8Array) => void) | null = null;
  /** Set: the client's send() throws this (the interface went down). */
  sendError: Error | null = null;
  closed = false;

  readonly client: Transport = {
    listen: (onFrame) => {
      this.#clientRx = onFrame;
    },
    send: (frame) => {
      if (this.closed) throw new Error("send on a closed transport");
      if (this.sendError) throw this.sendError;
      this.#toServer.push(frame.slice());
    },
    kernelDrops: () => 0,
    close: () => {
      this.closed = true;
    },
  };

  onServerFrame(fn: (frame: Uint8Array) => void): void {
    this.#serverRx = fn;
  }
  /** The server end sends a frame to the client. */
  toClient(frame: Uint8Array): void {
    this.#toClient.push(frame);
  }

  /** Delivers what waits, both ways, until nothing does. */
  flush(): void {
    for (let rounds = 0; this.#toServer.length || this.#toClient.length; rounds++) {
      if (rounds > 1000) throw new Error("the wire never goes quiet");
      const up = this.#toServer.splice(0);
      for (const f of up) this.#serverRx?.(f);
      const down = this.#toClient.splice(0);
      for (const f of down) if (!this.closed) this.#clientRx?.({ bytes: f, csum: "unknown" });
    }
  }
}

/** A frame the client sent, as a server reads it; a broken one fails the test. */
export function parseClientFrame(bytes: Uint8Array): { frame: ParsedFrame; message: DhcpMessage } {
  const f = parseUdpFrame(bytes, { csum: "unknown", dstPort: 67 });
  if (!f.ok) throw new Error(`the client sent a broken frame: ${f.reason}`);
  const d = decodeMessage(f.frame.payload);
  if (!d.ok) throw new Error(`the client sent a message that does not decode: ${d.error.kind}`);
  return { frame: f.frame, message: d.message };
}

export type Answer = "ack" | "nak" | "silent";

export interface ServerLease {
  lease: number;
  t1: number;
  t2: number;
}

/** A DHCP server at `ip`/`mac` that OFFERs `address` and answers REQUESTs as `answer` says. */
export class FakeServer {
  readonly seen: SeenFrame[] = [];
  offers = true;
  answer: Answer = "ack";
  times: ServerLease = { lease: 3600, t1: 1800, t2: 3150 };
  /** Options added to every OFFER and ACK. */
  extra: OptionBytes[] = [];
  /** Set: every ACK gives this address, whatever was asked (a server that moves its client). */
  ackAddress: string | null = null;
  /** The clock SeenFrame.at is read from. */
  now: () => number = () => 0;

  constructor(
    readonly wire: MemoryWire,
    readonly ip: string,
    readonly mac: Uint8Array,
    readonly address: string,
  ) {
    wire.onServerFrame((f) => this.#receive(f));
  }

  /** What the client sent of `type` (1 DISCOVER, 3 REQUEST, 7 RELEASE), from index `from` on. */
  sent(type: number, from = 0): SeenFrame[] {
    return this.seen.slice(from).filter((s) => s.type === type);
  }

  #receive(bytes: Uint8Array): void {
    const { frame: f, message: m } = parseClientFrame(bytes);
    const seen: SeenFrame = {
      dstMac: macToString(f.dstMac),
      srcMac: macToString(f.srcMac),
      srcIp: f.srcIp,
      dstIp: f.dstIp,
      srcPort: f.srcPort,
      type: messageType(m),
      xid: m.xid,
      ciaddr: m.ciaddr,
      requested: getIp(m, 50),
      serverId: getIp(m, 54),
      message: m,
      at: this.now(),
    };
    this.seen.push(seen);
    if (seen.type === 1 && this.offers) this.#reply(m, 2, this.address);
    if (seen.type === 3) {
      // RFC 2131 4.3.2: a REQUEST naming another server is not ours to answer.
      if (seen.serverId !== null && seen.serverId !== this.ip) return;
      const wanted = seen.requested ?? m.ciaddr;
      if (this.answer === "ack") this.#reply(m, 5, this.ackAddress ?? wanted);
      else if (this.answer === "nak") this.#reply(m, 6, "0.0.0.0");
    }
  }

  #reply(req: DhcpMessage, type: number, yiaddr: string): void {
    const t = this.times;
    const options: OptionBytes[] = [
      { code: 53, data: Uint8Array.of(type) },
      { code: 54, data: ip4(this.ip) },
      ...(type === 6
        ? [{ code: 56, data: new TextEncoder().encode("wrong network") }]
        : [
            { code: 51, data: u32(t.lease) },
            { code: 58, data: u32(t.t1) },
            { code: 59, data: u32(t.t2) },
            { code: 1, data: ip4("255.255.255.0") },
            { code: 3, data: ip4(this.ip) },
            { code: 6, data: ip4(this.ip) },
            ...this.extra,
          ]),
    ];
    const payload = encodeMessage({ op: BOOTREPLY, xid: req.xid, chaddr: req.chaddr.subarray(0, 6), yiaddr, siaddr: this.ip, flags: req.flags, options });
    // RFC 2131 4.1: to ciaddr when the client has one, else broadcast.
    const unicast = req.ciaddr !== "0.0.0.0";
    this.wire.toClient(
      buildUdpFrame({
        srcMac: this.mac,
        dstMac: unicast ? req.chaddr.subarray(0, 6) : BROADCAST_MAC,
        srcIp: this.ip,
        dstIp: unicast ? req.ciaddr : "255.255.255.255",
        srcPort: 67,
        dstPort: 68,
        payload,
        ttl: 64,
      }),
    );
  }
}

export const nakText = (m: DhcpMessage) => getString(m, 56);
