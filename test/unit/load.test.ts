// request --clients on the fake wire with a hand-turned clock: the open-loop pacing (starts at
// k/rate whatever the server does, batched when the timer comes late), replies routed to their
// client by chaddr, the counts, drops and latencies reported, renew and release, --duration,
// Ctrl-C, and a pool that runs out (silence or NAKs after K leases).

import { describe, expect, test } from "bun:test";
import type { ExchangeIo } from "../../cli/client/exchange.ts";
import { loadOver, type LoadOptions } from "../../cli/client/load.ts";
import { macToString, parseMac } from "../../core/bytes.ts";
import { buildUdpFrame } from "../../core/frame.ts";
import { clientMac, DEFAULT_MAC_PREFIX } from "../../core/load-plan.ts";
import { encodeMessage, BOOTREPLY } from "../../core/message.ts";
import { MemoryWire } from "./fake-net.ts";
import { FakePoolServer, type PoolOptions } from "./fake-pool.ts";
import { ManualClock } from "./fake-time.ts";
import { SERVER_MAC } from "./helpers.ts";

const SERVER = "198.18.0.1";
const IFACE_MAC = parseMac("02:00:00:00:00:aa")!;

const base: LoadOptions = {
  iface: "eth0",
  identity: { hostname: null },
  broadcastFlag: false,
  extra: [],
  retryMs: 1000,
  tries: 1,
  server: null,
  giaddr: null,
  clients: 10,
  rate: 100,
  durationSec: null,
  renew: false,
  release: false,
  macPrefix: DEFAULT_MAC_PREFIX,
  seed: 7,
  hostnamePrefix: null,
};

function setup(pool: Partial<PoolOptions> = {}) {
  const clock = new ManualClock(0);
  const wire = new MemoryWire();
  const server = new FakePoolServer(wire, clock, { ip: SERVER, mac: SERVER_MAC, first: "198.18.1.1", size: 1000, relayMac: IFACE_MAC, ...pool });
  clock.afterFire = () => wire.flush();
  const io: ExchangeIo = { transport: wire.client, timers: clock, clock, interfaceMac: IFACE_MAC };
  return { clock, wire, server, io };
}

const microtasks = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** Runs a load while the test turns the clock in `stepMs` steps until the run ends. */
async function run(s: ReturnType<typeof setup>, o: Partial<LoadOptions> = {}, stepMs = 1, route = {}) {
  let finished = false;
  const p = loadOver(s.io, { ...base, ...o }, route).finally(() => {
    finished = true;
  });
  p.catch(() => {});
  await microtasks();
  s.wire.flush();
  for (let i = 0; i < 1_000_000 && !finished; i++) {
    s.clock.advance(stepMs);
    s.wire.flush();
    if (i % 64 === 0) await microtasks();
  }
  await microtasks();
  return p;
}

describe("pacing (open loop)", () => {
  test("DISCOVERs go out at k/rate, not when the previous client is answered: a silent server changes nothing", async () => {
    const s = setup({ ignoreDiscover: () => true });
    const r = await run(s, { clients: 50, rate: 200 });
    const times = s.server.seen.filter((f) => f.type === 1).map((f) => f.at);
    expect(times).toEqual(Array.from({ length: 50 }, (_, k) => k * 5));
    expect(r.started).toBe(50);
    expect(r.rate.achieved).toBe(200);
    expect(r.outcomes["no-offer"]).toBe(50);
    expect(r.counts.noOffer).toBe(50);
    expect(r.dropPercent.offer).toBe(100);
  });

  test("a timer that comes late starts every client that has become due at once, so the rate holds", async () => {
    const s = setup();
    // 2000/s on a timer that fires only on multiples of 10 ms: 20 starts per firing
    const coarse = {
      ...s.io,
      timers: {
        arm: (n: string, at: number, fire: () => void) => s.clock.arm(n, Math.ceil(at / 10) * 10, fire),
        disarm: (n: string) => s.clock.disarm(n),
        clear: () => s.clock.clear(),
      },
    };
    const r = await run({ ...s, io: coarse }, { clients: 200, rate: 2000 });
    const perTurn = new Map<number, number>();
    for (const f of s.server.seen.filter((x) => x.type === 1)) perTurn.set(f.at, (perTurn.get(f.at) ?? 0) + 1);
    expect(perTurn.get(0)).toBe(1);
    expect(perTurn.get(10)).toBe(20);
    expect(perTurn.get(90)).toBe(20);
    expect([...perTurn.values()].reduce((a, b) => a + b)).toBe(200);
    expect(r.started).toBe(200);
    expect(r.rate.achieved).toBe(1990); // 199 intervals from 0 to 100 ms, as the clock saw them
    expect(r.outcomes.bound).toBe(200);
  });

  test("--duration stops starting after S seconds, even with clients left", async () => {
    const s = setup();
    const r = await run(s, { clients: 1000, rate: 50, durationSec: 1 }, 5);
    expect(r.planned).toBe(50);
    expect(r.started).toBe(50);
    expect(s.server.count(1)).toBe(50);
    expect(r.outcomes.bound).toBe(50);
  });
});

describe("one socket, many clients", () => {
  test("each reply reaches its own client: every client bound, distinct MACs and addresses, nothing refused", async () => {
    const s = setup();
    const r = await run(s, { clients: 300, rate: 1000 });
    expect(r.outcomes).toEqual({ bound: 300, nak: 0, "no-offer": 0, "no-ack": 0, interrupted: 0 });
    expect(r.counts).toMatchObject({ discovers: 300, offers: 300, requests: 300, acks: 300, naks: 0 });
    expect(s.server.bindings.size).toBe(300);
    expect(new Set(s.server.bindings.values()).size).toBe(300);
    const macs = new Set(Array.from({ length: 300 }, (_, i) => macToString(clientMac(DEFAULT_MAC_PREFIX, 7, i))));
    expect(new Set(s.server.bindings.keys())).toEqual(macs);
    expect(r.dropped).toEqual({});
    expect(r.duplicateAddresses).toBe(0);
    expect(r.exhaustion).toBeNull();
  });

  test("frames for no client of ours, late replies and our own frames are counted, not delivered", async () => {
    // The ACK comes 1.2 s after the REQUEST, when its client gave up (1 s): clients 0 and 1
    // hear theirs while client 2 still runs; client 2's comes after the run.
    const s = setup({ ackDelayMs: 1200 });
    const p = run(s, { clients: 3, rate: 2 });
    const stranger = encodeMessage({
      op: BOOTREPLY,
      xid: 1,
      chaddr: parseMac("02:99:99:99:99:99")!,
      yiaddr: "198.18.1.9",
      options: [{ code: 53, data: Uint8Array.of(2) }],
    });
    s.wire.toClient(
      buildUdpFrame({
        srcMac: SERVER_MAC,
        dstMac: parseMac("02:99:99:99:99:99")!,
        srcIp: SERVER,
        dstIp: "255.255.255.255",
        srcPort: 67,
        dstPort: 68,
        payload: stranger,
        ttl: 64,
      }),
    );
    s.wire.toClient(Uint8Array.of(1, 2, 3));
    const r = await p;
    expect(r.outcomes["no-ack"]).toBe(3);
    expect(r.dropped).toEqual({ "no-such-client": 1, "too-short-to-route": 1, late: 2 });
    expect(r.dropPercent.ack).toBe(100);
  });

  test("the same seed gives the same clients and xids; another seed other ones", async () => {
    const a = setup(),
      b = setup(),
      c = setup();
    await run(a, { clients: 20, seed: 1 });
    await run(b, { clients: 20, seed: 1 });
    await run(c, { clients: 20, seed: 2 });
    const ids = (x: ReturnType<typeof setup>) => x.server.seen.map((f) => `${f.chaddr}/${f.xid}`);
    expect(ids(a)).toEqual(ids(b));
    expect(new Set(ids(c)).intersection(new Set(ids(a))).size).toBe(0);
  });
});

describe("the report", () => {
  test("latency DISCOVER→OFFER and REQUEST→ACK as min/p50/p90/p99/max, and a row per second", async () => {
    const s = setup({ offerDelayMs: 4, ackDelayMs: 9 });
    const r = await run(s, { clients: 300, rate: 100 });
    expect(r.latencyMs.offer).toEqual({ count: 300, min: 4, avg: 4, p50: 4, p90: 4, p99: 4, max: 4 });
    expect(r.latencyMs.ack).toEqual({ count: 300, min: 9, avg: 9, p50: 9, p90: 9, p99: 9, max: 9 });
    // the last client starts at 2.99 s: its ACK (13 ms later) falls in a fourth second
    expect(r.series.map((x) => x.discovers)).toEqual([100, 100, 100, 0]);
    expect(r.series.map((x) => x.acks)).toEqual([99, 100, 100, 1]);
    expect(r.series[1]).toMatchObject({ second: 1, offers: 100, acks: 100, offerP50: 4, ackP99: 9 });
    expect(r.rate.achieved).toBe(100);
  });

  test("drops: DISCOVERs the server ignores are no-offer drops, as a share of the exchanges", async () => {
    const s = setup({ ignoreDiscover: (n) => n % 10 === 0 });
    const r = await run(s, { clients: 100, rate: 500 });
    expect(r.counts.noOffer).toBe(10);
    expect(r.dropPercent.offer).toBe(10);
    expect(r.outcomes.bound).toBe(90);
    expect(r.exhaustion).toBeNull();
  });

  test("--renew then --release: a unicast REQUEST from the leased address, its ACK timed, the address given back", async () => {
    const s = setup({ ackDelayMs: 2 });
    const r = await run(s, { clients: 20, rate: 100, renew: true, release: true });
    expect(r.counts).toMatchObject({ requests: 20, acks: 20, renews: 20, renewAcks: 20, releases: 20, renewNoAck: 0 });
    expect(r.latencyMs.renew).toMatchObject({ count: 20, p50: 2 });
    const renews = s.server.seen.filter((f) => f.type === 3 && f.ciaddr !== "0.0.0.0");
    expect(renews.length).toBe(20);
    for (const f of renews) expect(f.srcIp).toBe(f.ciaddr);
    expect(s.server.count(7)).toBe(20);
    expect(s.server.bindings.size).toBe(0);
  });

  test("--giaddr: the clients speak through one relay address; replies to giaddr:67 are routed by chaddr", async () => {
    const s = setup();
    const r = await run(s, { clients: 30, rate: 300 }, 1, { server: { ip: SERVER }, relay: { giaddr: "198.18.0.200" } });
    expect(r.outcomes.bound).toBe(30);
    expect(r.giaddr).toBe("198.18.0.200");
    for (const f of s.server.seen) expect(f).toMatchObject({ giaddr: "198.18.0.200", srcIp: "198.18.0.200" });
  });

  test("--giaddr --renew: the renewal is the client's own (no giaddr), and its answer, to the client's port 68 and MAC, is taken", async () => {
    const s = setup();
    const r = await run(s, { clients: 10, rate: 100, renew: true }, 1, { server: { ip: SERVER }, relay: { giaddr: "198.18.0.200" } });
    expect(r.counts).toMatchObject({ acks: 10, renews: 10, renewAcks: 10, renewNoAck: 0 });
    const renewals = s.server.seen.filter((f) => f.type === 3 && f.ciaddr !== "0.0.0.0");
    for (const f of renewals) expect(f).toMatchObject({ giaddr: "0.0.0.0", srcIp: f.ciaddr });
  });

  test("Ctrl-C: clients under way are counted as interrupted, the ones not yet started not at all", async () => {
    const s = setup({ ignoreDiscover: () => true });
    const ac = new AbortController();
    const p = loadOver({ ...s.io, signal: ac.signal }, { ...base, clients: 100, rate: 100 }, {});
    await microtasks();
    s.clock.advance(495);
    ac.abort();
    const r = await p;
    expect(r.started).toBe(50);
    expect(r.outcomes.interrupted).toBe(50);
    expect(r.exhaustion).toBeNull();
    expect(s.clock.armedNames).toEqual([]);
  });
});

describe("pool exhaustion", () => {
  test("silence after K leases: reported with K", async () => {
    const s = setup({ size: 40 });
    const r = await run(s, { clients: 60, rate: 200 });
    expect(r.outcomes.bound).toBe(40);
    expect(r.exhaustion).toEqual({ leases: 40, how: "silence", refused: 20 });
  });

  test("NAKs after K leases", async () => {
    const s = setup({ size: 25, whenFull: "nak" });
    const r = await run(s, { clients: 60, rate: 200 });
    expect(r.counts.naks).toBe(35);
    expect(r.exhaustion).toEqual({ leases: 25, how: "nak", refused: 35 });
  });

  test("released addresses are handed out again: no exhaustion", async () => {
    const s = setup({ size: 5 });
    const r = await run(s, { clients: 60, rate: 50, release: true });
    expect(r.outcomes.bound).toBe(60);
    expect(r.exhaustion).toBeNull();
  });
});
