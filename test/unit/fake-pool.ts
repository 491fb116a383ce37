// A DHCP server with a pool, on the in-memory wire (fake-net.ts), for the load generator's
// tests: one address per client (by chaddr), OFFERs and ACKs to chaddr as Kea's raw socket
// sends them, optionally after a delay on the test's clock, NAKs or silence once the pool is
// empty, RELEASE giving an address back, and DISCOVERs it is told to ignore.

import { macToString, u32ToIp, ipToU32 } from "../../core/bytes.ts";
import { buildUdpFrame } from "../../core/frame.ts";
import { encodeMessage, getIp, messageType, BOOTREPLY, type DhcpMessage, type OptionBytes } from "../../core/message.ts";
import type { ManualClock } from "./fake-time.ts";
import { parseClientFrame, type MemoryWire } from "./fake-net.ts";
import { ip4, u32 } from "./helpers.ts";

export interface PoolSeen {
  at: number;
  type: number;
  xid: number;
  chaddr: string;
  srcIp: string;
  dstMac: string;
  ciaddr: string;
  giaddr: string;
}

export interface PoolOptions {
  ip: string;
  mac: Uint8Array;
  first: string;
  size: number;
  /** ms before an OFFER / an ACK goes out (on the test's clock). */
  offerDelayMs?: number;
  ackDelayMs?: number;
  /** Pool empty: offer nothing (silence, as Kea and dnsmasq do), or offer and then NAK the REQUEST. */
  whenFull?: "silence" | "nak";
  /** The relay agent's MAC (the frame to giaddr goes there, as the server's ARP for giaddr finds). */
  relayMac?: Uint8Array;
  /** DISCOVER number n (1-based) is ignored when this says so. */
  ignoreDiscover?: (n: number) => boolean;
}

export class FakePoolServer {
  readonly seen: PoolSeen[] = [];
  /** chaddr → address. */
  readonly bindings = new Map<string, string>();
  readonly #free: string[] = [];
  #discovers = 0;
  #timers = 0;

  constructor(
    readonly wire: MemoryWire,
    readonly clock: ManualClock,
    readonly o: PoolOptions,
  ) {
    const first = ipToU32(o.first);
    for (let i = 0; i < o.size; i++) this.#free.push(u32ToIp(first + i));
    wire.onServerFrame((f) => this.#receive(f));
  }

  count(type: number): number {
    return this.seen.filter((s) => s.type === type).length;
  }

  #receive(bytes: Uint8Array): void {
    const { frame: f, message: m } = parseClientFrame(bytes);
    const chaddr = macToString(m.chaddr);
    const type = messageType(m);
    this.seen.push({ at: this.clock.now(), type, xid: m.xid, chaddr, srcIp: f.srcIp, dstMac: macToString(f.dstMac), ciaddr: m.ciaddr, giaddr: m.giaddr });
    if (type === 1) {
      this.#discovers++;
      if (this.o.ignoreDiscover?.(this.#discovers)) return;
      // An offered address is set aside for its client, as a real server does.
      const address = this.bindings.get(chaddr) ?? this.#free.shift();
      if (address === undefined) {
        if (this.o.whenFull === "nak") this.#reply(m, 2, "198.18.255.1", this.o.offerDelayMs);
        return;
      }
      this.bindings.set(chaddr, address);
      this.#reply(m, 2, address, this.o.offerDelayMs);
    } else if (type === 3) {
      const server = getIp(m, 54);
      if (server !== null && server !== this.o.ip) return;
      const wanted = getIp(m, 50) ?? m.ciaddr;
      if (this.bindings.get(chaddr) === wanted) {
        this.#reply(m, 5, wanted, this.o.ackDelayMs);
      } else {
        this.#reply(m, 6, "0.0.0.0", this.o.ackDelayMs);
      }
    } else if (type === 7) {
      const held = this.bindings.get(chaddr);
      if (held !== undefined && held === m.ciaddr) {
        this.bindings.delete(chaddr);
        this.#free.unshift(held);
      }
    }
  }

  #reply(req: DhcpMessage, type: number, yiaddr: string, delayMs = 0): void {
    const options: OptionBytes[] = [
      { code: 53, data: Uint8Array.of(type) },
      { code: 54, data: ip4(this.o.ip) },
      ...(type === 6
        ? []
        : [
            { code: 51, data: u32(3600) },
            { code: 1, data: ip4("255.255.0.0") },
          ]),
    ];
    const payload = encodeMessage({
      op: BOOTREPLY,
      xid: req.xid,
      chaddr: req.chaddr.subarray(0, 6),
      yiaddr,
      siaddr: this.o.ip,
      giaddr: req.giaddr,
      flags: req.flags,
      options,
    });
    const relayed = req.giaddr !== "0.0.0.0";
    const frame = buildUdpFrame({
      srcMac: this.o.mac,
      dstMac: relayed ? (this.o.relayMac ?? req.chaddr.subarray(0, 6)) : req.chaddr.subarray(0, 6),
      srcIp: this.o.ip,
      dstIp: relayed ? req.giaddr : yiaddr === "0.0.0.0" ? "255.255.255.255" : yiaddr,
      srcPort: 67,
      dstPort: relayed ? 67 : 68,
      payload,
      ttl: 64,
    });
    if (delayMs <= 0) this.wire.toClient(frame);
    else this.clock.arm(`server-${this.#timers++}`, this.clock.now() + delayMs, () => this.wire.toClient(frame));
  }
}
