// The engine driver and the one-shots built on it, on the fake wire with a hand-turned clock:
// the frames a one-shot request and discover put on the wire (broadcast, relay), what they
// report, a send that fails, an engine that throws; and the real timers' chunking of delays
// past setTimeout's 2^31-1 ms.

import { describe, expect, test } from "bun:test";
import { discoverOver, type DiscoverOptions } from "../../cli/client/discover.ts";
import { requestOver, type RequestOptions } from "../../cli/client/request.ts";
import { MAX_TIMEOUT_MS, RealTimers, type TimeoutHost } from "../../cli/client/time.ts";
import { macToString, parseMac } from "../../core/bytes.ts";
import { FakeServer, MemoryWire } from "./fake-net.ts";
import { ManualClock } from "./fake-time.ts";
import { CLIENT_MAC, SERVER_MAC } from "./helpers.ts";

const SERVER = "198.18.0.1";
const ADDR = "198.18.0.100";
const IFACE_MAC = parseMac("02:00:00:00:00:aa")!;
const BROADCAST = "ff:ff:ff:ff:ff:ff";

function setup() {
  const clock = new ManualClock();
  const wire = new MemoryWire();
  const server = new FakeServer(wire, SERVER, SERVER_MAC, ADDR);
  clock.afterFire = () => wire.flush();
  let n = 1;
  const io = { transport: wire.client, timers: clock, clock, interfaceMac: IFACE_MAC, random: () => (n++ * 0.37) % 1 };
  return { clock, wire, server, io };
}

const base: RequestOptions = {
  iface: "eth0",
  mac: CLIENT_MAC,
  identity: { hostname: "lab" },
  broadcastFlag: false,
  extra: [],
  retryMs: 2000,
  tries: 3,
  server: null,
  giaddr: null,
  release: false,
};

/** Lets the exchange's awaits (afterOpen, its end) run. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Runs a one-shot request while the test turns the clock (the exchange awaits its timers). */
async function request(s: ReturnType<typeof setup>, o: Partial<RequestOptions> = {}, route = {}) {
  const p = requestOver(s.io, { ...base, ...o }, route);
  p.catch(() => {}); // awaited below; do not let a rejection surface before then
  await microtasks(); // afterOpen, then start: the first message is queued
  s.wire.flush();
  for (let i = 0; i < 20; i++) {
    await microtasks();
    if (!s.clock.armedNames.length) break;
    s.clock.fireNext();
  }
  return p;
}

describe("one-shot request on the driver", () => {
  test("DORA: a broadcast DISCOVER and REQUEST from 0.0.0.0:68 to ff:ff:ff:ff:ff:ff / 255.255.255.255; the lease reported with its times", async () => {
    const s = setup();
    const r = await request(s);
    expect(r).toMatchObject({ outcome: "bound", discoversSent: 1, requestsSent: 1, released: false, mac: macToString(CLIENT_MAC) });
    expect(r.lease).toMatchObject({ address: ADDR, serverId: SERVER, serverMac: macToString(SERVER_MAC), leaseTime: 3600 });
    expect(r.lease!.acquiredAt).toBe(new Date(s.clock.wallNow()).toISOString());
    for (const f of s.server.seen) {
      expect(f).toMatchObject({ dstMac: BROADCAST, srcMac: macToString(CLIENT_MAC), srcIp: "0.0.0.0", dstIp: "255.255.255.255", srcPort: 68 });
    }
    expect(s.server.seen.map((f) => f.type)).toEqual([1, 3]);
    expect(s.clock.armedNames).toEqual([]); // closed: nothing left armed
  });

  test("--release: the RELEASE goes unicast from the leased address to the server's MAC", async () => {
    const s = setup();
    const r = await request(s, { release: true });
    s.wire.flush();
    expect(r.released).toBe(true);
    expect(s.server.sent(7)[0]).toMatchObject({ dstMac: macToString(SERVER_MAC), srcIp: ADDR, dstIp: SERVER, ciaddr: ADDR });
  });

  test("--giaddr: DISCOVER and REQUEST go as a relay agent's, from the interface's MAC and giaddr:67, hops 1", async () => {
    const s = setup();
    const p = requestOver(s.io, { ...base, mac: "random" }, { server: { ip: SERVER }, relay: { giaddr: "198.18.0.5" } });
    await microtasks();
    s.wire.flush();
    s.clock.advance(10_000);
    const [d] = s.server.seen;
    expect(d).toMatchObject({ type: 1, srcMac: macToString(IFACE_MAC), srcIp: "198.18.0.5", srcPort: 67, dstIp: SERVER, dstMac: BROADCAST });
    expect(d.message).toMatchObject({ giaddr: "198.18.0.5", hops: 1 });
    // The server here answers the relay's frames as a client's (to chaddr, port 68), so they are not ours.
    expect((await p).outcome).toBe("no-offer");
  });

  test("NAK is the outcome nak; no server at all is no-offer after --tries DISCOVERs", async () => {
    const s = setup();
    s.server.answer = "nak";
    expect((await request(s)).nak).toEqual({ server: SERVER, message: "wrong network" });
    const silent = setup();
    silent.server.answer = "silent";
    expect(await request(silent)).toMatchObject({ outcome: "no-ack", offer: { server: SERVER, address: ADDR }, requestsSent: 3 });
    const quiet = setup();
    quiet.server.offers = false;
    const r = await request(quiet);
    expect(r.outcome).toBe("no-offer");
    expect(quiet.server.sent(1)).toHaveLength(3);
  });

  test("a send that fails before any answer is the error the exchange ends with", async () => {
    const s = setup();
    s.wire.sendError = new Error("ENETDOWN: the interface went down");
    await expect(request(s)).rejects.toThrow("ENETDOWN");
  });

  test("an exception out of the engine ends the one-shot with an error naming the bug", async () => {
    const s = setup();
    const io = {
      ...s.io,
      random: () => {
        throw new Error("boom");
      },
    };
    await expect(requestOver(io, base, {})).rejects.toThrow(/client engine failed.*boom/);
  });
});

describe("one-shot discover", () => {
  const opts: DiscoverOptions = {
    iface: "eth0",
    mac: CLIENT_MAC,
    identity: { hostname: "lab" },
    broadcastFlag: false,
    extra: [],
    retryMs: 2000,
    tries: 3,
    server: null,
    giaddr: null,
    waitMs: 5000,
    first: false,
    allow: null,
  };

  test("RFC 2131 4.1: a DISCOVER is retransmitted while no offer has come, and not once one has", async () => {
    const s = setup();
    s.server.offers = false; // the first DISCOVER goes unanswered
    const p = discoverOver({ ...s.io, xid: 0x1234 }, opts, {});
    await microtasks();
    s.wire.flush();
    s.server.offers = true;
    s.clock.advance(5000); // the second, at 2 s, is answered; the third (4 s) is not sent
    const r = await p;
    expect(r.discoversSent).toBe(2);
    expect(s.server.seen.map((f) => [f.type, f.xid, f.dstMac])).toEqual([
      [1, 0x1234, BROADCAST],
      [1, 0x1234, BROADCAST],
    ]);
    expect(r.offers).toHaveLength(1);
    expect(r.offers[0]).toMatchObject({ serverId: SERVER, yiaddr: ADDR, copies: 1 });
    expect(r.xid).toBe("0x00001234");
  });

  test("an offer answering the first DISCOVER ends the retransmissions; the window stays open", async () => {
    const s = setup();
    const p = discoverOver({ ...s.io, xid: 0x1235 }, opts, {});
    await microtasks();
    s.wire.flush();
    s.clock.advance(5000);
    const r = await p;
    expect(r.discoversSent).toBe(1);
    expect(r.elapsedMs).toBe(5000);
  });
});

describe("RealTimers", () => {
  function host() {
    const pending = new Map<number, { fn: () => void; ms: number }>();
    let id = 0;
    const h: TimeoutHost = {
      setTimeout: (fn, ms) => {
        pending.set(++id, { fn, ms });
        return id as unknown as ReturnType<typeof setTimeout>;
      },
      clearTimeout: (handle) => {
        pending.delete(handle as unknown as number);
      },
    };
    /** Runs the one pending timeout after moving the clock by its delay. */
    const run = (clock: ManualClock) => {
      const [[k, t]] = [...pending];
      pending.delete(k);
      clock.advance(t.ms);
      t.fn();
      return t.ms;
    };
    return { h, pending, run };
  }

  test("a 30-day timer is armed in parts of at most 2^31-1 ms and fires once, at its time", () => {
    const clock = new ManualClock(0);
    const { h, pending, run } = host();
    const timers = new RealTimers(clock, h);
    const at = 30 * 86_400_000;
    let fired = 0;
    timers.arm("renew", at, () => fired++);
    const delays: number[] = [];
    while (pending.size) delays.push(run(clock));
    expect(delays).toEqual([MAX_TIMEOUT_MS, at - MAX_TIMEOUT_MS]);
    expect(fired).toBe(1);
    expect(clock.now()).toBe(at);
  });

  test("an infinite time is never armed; disarm and re-arm replace the timeout", () => {
    const clock = new ManualClock(0);
    const { h, pending } = host();
    const timers = new RealTimers(clock, h);
    timers.arm("expire", Infinity, () => {
      throw new Error("must not fire");
    });
    expect(pending.size).toBe(0);
    timers.arm("retransmit", 4000, () => {});
    timers.arm("retransmit", 8000, () => {});
    expect([...pending.values()].map((t) => t.ms)).toEqual([8000]);
    timers.clear();
    expect(pending.size).toBe(0);
  });

  test("a timeout that fires early waits again for the rest", () => {
    const clock = new ManualClock(0);
    const { h, pending } = host();
    let fired = 0;
    new RealTimers(clock, h).arm("renew", 10_000, () => fired++);
    const [[k, t]] = [...pending];
    pending.delete(k);
    clock.advance(6000); // woke 4 s early (a suspended process, a coarse timer)
    t.fn();
    expect(fired).toBe(0);
    expect([...pending.values()].map((x) => x.ms)).toEqual([4000]);
  });
});
