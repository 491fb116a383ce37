// The parts of the load generator on their own: the clients' MACs (distinct for every index,
// repeatable from the seed), the open-loop schedule, percentiles and the per-second series,
// the exhaustion rule, the timer wheel under many views, and the chaddr the mux routes by.

import { describe, expect, test } from "bun:test";
import { chaddrOffset, TransportMux } from "../../cli/client/mux.ts";
import { TimerWheel } from "../../cli/client/wheel.ts";
import { macToString, parseMac } from "../../core/bytes.ts";
import { buildUdpFrame } from "../../core/frame.ts";
import { clientMac, clientRandom, hasPrefix, macKey, mixIndex, plannedStarts, startAt, startsDue } from "../../core/load-plan.ts";
import { achievedRate, detectExhaustion, Samples, Series, type DoraOutcome } from "../../core/load-stats.ts";
import { encodeMessage, BOOTREPLY } from "../../core/message.ts";
import { MemoryWire } from "./fake-net.ts";
import { ManualClock } from "./fake-time.ts";
import { SERVER_MAC } from "./helpers.ts";

describe("clients' MACs", () => {
  test("every one of the 2^24 indexes gets its own tail, for two seeds", () => {
    for (const seed of [0, 0xdeadbeef]) {
      const seen = new Uint8Array(1 << 21); // a bit per tail
      for (let i = 0; i < 1 << 24; i++) {
        const t = mixIndex(i, seed);
        const bit = 1 << (t & 7);
        if (seen[t >>> 3] & bit) throw new Error(`seed ${seed}: index ${i} repeats tail ${t}`);
        seen[t >>> 3] |= bit;
      }
    }
  });

  test("the prefix stays, the tail depends on the seed, and the key is the MAC as a number", () => {
    const prefix = parseMac("00:16:3e:00:00:00")!.subarray(0, 3);
    const a = clientMac(prefix, 1, 5),
      b = clientMac(prefix, 2, 5);
    expect(macToString(a).startsWith("00:16:3e:")).toBe(true);
    expect(macToString(a)).not.toBe(macToString(b));
    expect(macToString(clientMac(prefix, 1, 5))).toBe(macToString(a));
    expect(macKey(parseMac("01:02:03:04:05:06")!)).toBe(0x010203040506);
    expect(macKey(parseMac("ff:ff:ff:ff:ff:ff")!)).toBe(2 ** 48 - 1);
    expect(hasPrefix(macKey(a), prefix)).toBe(true);
    expect(hasPrefix(macKey(parseMac("00:16:3f:00:00:00")!), prefix)).toBe(false);
    expect(hasPrefix(macKey(parseMac("ff:ff:ff:00:00:00")!), Uint8Array.of(255, 255, 255))).toBe(true);
    expect(() => clientMac(prefix, 1, 1 << 24)).toThrow(RangeError);
  });

  test("each client's random stream is its own and repeatable", () => {
    const x = clientRandom(9, 3),
      y = clientRandom(9, 3),
      z = clientRandom(9, 4);
    const xs = [x(), x(), x()];
    expect([y(), y(), y()]).toEqual(xs);
    expect(z()).not.toBe(xs[0]);
    for (const v of xs) expect(v >= 0 && v < 1).toBe(true);
  });
});

describe("the schedule", () => {
  test("start k at k/rate; the number due at any moment; --duration's cap", () => {
    const p = { rate: 2000, total: 10 };
    expect(startAt(p, 3)).toBe(1.5);
    expect([0, 0.49, 0.5, 1, 4.5, 100].map((t) => startsDue(p, t))).toEqual([1, 1, 2, 3, 10, 10]);
    expect(startsDue(p, -1)).toBe(0);
    // 1/3 s steps must not lose a start to rounding
    expect(startsDue({ rate: 3, total: 100 }, 1000)).toBe(4);
    expect(plannedStarts(1000, 50, 1)).toBe(50);
    expect(plannedStarts(10, 50, 1)).toBe(10);
    expect(plannedStarts(10, 50, null)).toBe(10);
    expect(plannedStarts(10, 0.5, 1)).toBe(1);
  });
});

describe("statistics", () => {
  test("nearest-rank percentiles of what was seen", () => {
    const s = new Samples();
    expect(s.summary()).toBeNull();
    for (let i = 100; i >= 1; i--) s.add(i); // added out of order
    expect(s.summary()).toEqual({ count: 100, min: 1, avg: 50.5, p50: 50, p90: 90, p99: 99, max: 100 });
    const big = new Samples();
    for (let i = 0; i < 5000; i++) big.add(i % 2 ? 10 : 1);
    expect(big.summary()).toMatchObject({ count: 5000, min: 1, avg: 5.5, p50: 1, p90: 10, max: 10 });
    const one = new Samples();
    one.add(0.1234567);
    expect(one.summary()).toEqual({ count: 1, min: 0.123, avg: 0.123, p50: 0.123, p90: 0.123, p99: 0.123, max: 0.123 });
  });

  test("the series: counts per second of the run, totals, a second's latency", () => {
    const s = new Series(1000);
    s.count("discovers", 1000);
    s.count("discovers", 1999);
    s.reply("offers", 2000, 3);
    s.reply("offers", 2500, 5);
    s.count("noOffer", 4100);
    expect(s.total).toMatchObject({ discovers: 2, offers: 2, noOffer: 1 });
    const rows = s.rows();
    expect(rows.map((r) => r.discovers)).toEqual([2, 0, 0, 0]);
    expect(rows[1]).toMatchObject({ second: 1, offers: 2, offerP50: 3, offerP99: 5, ackP50: null });
    expect(rows[3].noOffer).toBe(1);
    expect(s.row(9)).toBeNull();
  });

  test("achieved rate: starts over the intervals between the first and the last", () => {
    expect(achievedRate(11, 0, 1000)).toBe(10);
    expect(achievedRate(1, 0, 0)).toBeNull();
    expect(achievedRate(5, null, null)).toBeNull();
  });
});

describe("exhaustion", () => {
  const run = (s: string) => [...s].map((c): DoraOutcome => (({ b: "bound", n: "nak", o: "no-offer", a: "no-ack", i: "interrupted" }) as const)[c as "b"]);

  test("K leases, then nothing to the end: silence; NAKs: nak", () => {
    expect(detectExhaustion(run("bbbbboooooooo"))).toEqual({ leases: 5, how: "silence", refused: 8 });
    expect(detectExhaustion(run("bbobbnnnnnn"))).toEqual({ leases: 4, how: "nak", refused: 6 });
    // a drop here and there is not exhaustion; nor a short tail, nor no lease at all
    expect(detectExhaustion(run("bbobbobbob"))).toBeNull();
    expect(detectExhaustion(run("bbbbboooo"))).toBeNull();
    expect(detectExhaustion(run("oooooooooo"))).toBeNull();
    // clients cut short by Ctrl-C say nothing about the pool
    expect(detectExhaustion(run("bbbbbiiiiiiii"))).toBeNull();
    expect(detectExhaustion(run("bbbooooooiii"))).toEqual({ leases: 3, how: "silence", refused: 6 });
  });

  test("the tail must be at least 1 % of the run", () => {
    const long = run("b".repeat(1000) + "o".repeat(9));
    expect(detectExhaustion(long)).toBeNull();
    expect(detectExhaustion(run("b".repeat(1000) + "o".repeat(11)))).toMatchObject({ leases: 1000, refused: 11 });
  });
});

describe("the timer wheel", () => {
  test("many views on one base timer: in time order, then arming order; disarm and clear per view", () => {
    const clock = new ManualClock(0);
    const wheel = new TimerWheel(clock, clock);
    const fired: string[] = [];
    const a = wheel.view(),
      b = wheel.view();
    a.arm("t", 30, () => fired.push("a30"));
    b.arm("t", 10, () => fired.push("b10"));
    b.arm("u", 10, () => fired.push("b10u"));
    a.arm("v", 20, () => fired.push("a20"));
    a.arm("v", 25, () => fired.push("a25")); // re-armed: the 20 is gone
    b.arm("w", 15, () => fired.push("b15"));
    b.disarm("w");
    expect(clock.armedNames).toEqual(["wheel"]);
    expect(clock.armedAt("wheel")).toBe(10);
    clock.advanceTo(26);
    expect(fired).toEqual(["b10", "b10u", "a25"]);
    expect(clock.armedAt("wheel")).toBe(30);
    a.clear();
    expect(clock.armedNames).toEqual([]);
    expect(wheel.size).toBe(0);
  });

  test("a timer armed while firing, already due, fires in the same turn", () => {
    const clock = new ManualClock(0);
    const wheel = new TimerWheel(clock, clock);
    const v = wheel.view();
    const fired: number[] = [];
    v.arm("x", 5, () => {
      fired.push(clock.now());
      v.arm("y", 5, () => fired.push(-clock.now()));
    });
    clock.advanceTo(5);
    expect(fired).toEqual([5, -5]);
  });

  test("disarmed timers do not pile up: the heap is rebuilt without them, the order kept", () => {
    const clock = new ManualClock(0);
    const wheel = new TimerWheel(clock, clock);
    const fired: number[] = [];
    const views = Array.from({ length: 1000 }, () => wheel.view());
    views.forEach((v, i) => {
      v.arm("far", 1_000_000 + i, () => fired.push(i));
      v.arm("near", 1000 - i, () => {});
    });
    views.forEach((v, i) => {
      if (i % 10) v.clear();
    });
    expect(wheel.size).toBe(200);
    clock.advanceTo(2_000_000);
    expect(fired).toEqual(Array.from({ length: 100 }, (_, k) => k * 10));
  });
});

describe("the mux", () => {
  const reply = (chaddr: string, ihlWords = 5) => {
    const payload = encodeMessage({ op: BOOTREPLY, xid: 1, chaddr: parseMac(chaddr)!, options: [{ code: 53, data: Uint8Array.of(2) }] });
    const f = buildUdpFrame({
      srcMac: SERVER_MAC,
      dstMac: parseMac(chaddr)!,
      srcIp: "198.18.0.1",
      dstIp: "255.255.255.255",
      srcPort: 67,
      dstPort: 68,
      payload,
      ttl: 64,
    });
    if (ihlWords === 5) return f;
    // the same frame with IPv4 options (ihl 6): chaddr moves by 4 bytes
    const g = new Uint8Array(f.length + 4);
    g.set(f.subarray(0, 34));
    g.set(f.subarray(34), 38);
    g[14] = 0x46;
    return g;
  };

  test("chaddr found past any IPv4 header length; a frame too short to hold one is -1", () => {
    const f = reply("02:00:00:00:00:07");
    expect(macToString(f, chaddrOffset(f))).toBe("02:00:00:00:00:07");
    const g = reply("02:00:00:00:00:07", 6);
    expect(macToString(g, chaddrOffset(g))).toBe("02:00:00:00:00:07");
    expect(chaddrOffset(f.subarray(0, 70))).toBe(-1);
    const arp = f.slice();
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(chaddrOffset(arp)).toBe(-1);
  });

  test("a port per MAC; one MAC cannot be had twice; a reply for one of ours with no port is late, for another MAC a stranger's", () => {
    const wire = new MemoryWire();
    const mux = new TransportMux(wire.client, undefined, (key) => hasPrefix(key, Uint8Array.of(2, 0, 0)));
    const got: string[] = [];
    const a = mux.port(parseMac("02:00:00:00:00:01")!);
    a.listen((fr) => got.push(`a ${macToString(fr.bytes, chaddrOffset(fr.bytes))}`));
    const b = mux.port(parseMac("02:00:00:00:00:02")!);
    b.listen(() => got.push("b"));
    expect(() => mux.port(parseMac("02:00:00:00:00:01")!).listen(() => {})).toThrow("two clients with one MAC");
    wire.toClient(reply("02:00:00:00:00:01"));
    wire.toClient(reply("02:00:00:00:00:02"));
    wire.flush();
    a.close();
    wire.toClient(reply("02:00:00:00:00:01"));
    wire.toClient(reply("02:99:00:00:00:03"));
    wire.flush();
    expect(got).toEqual(["a 02:00:00:00:00:01", "b"]);
    expect(mux.drops.toJSON()).toEqual({ late: 1, "no-such-client": 1 });
    expect(mux.open).toBe(1);
    expect(() => a.send(new Uint8Array(60))).toThrow("closed port");
  });

  test("arrivedAt: while a frame is handed to its client, when it was read off the socket; null otherwise", () => {
    let deliver: (f: { bytes: Uint8Array; csum: "unknown"; receivedAt?: number }) => void = () => {};
    const mux = new TransportMux({
      listen: (fn) => {
        deliver = fn;
      },
      send: () => {},
      kernelDrops: () => 0,
      close: () => {},
    });
    const seen: (number | null)[] = [];
    mux.port(parseMac("02:00:00:00:00:01")!).listen(() => seen.push(mux.arrivedAt()));
    deliver({ bytes: reply("02:00:00:00:00:01"), csum: "unknown", receivedAt: 100 });
    deliver({ bytes: reply("02:00:00:00:00:01"), csum: "unknown" });
    expect(seen).toEqual([100, null]);
    expect(mux.arrivedAt()).toBeNull();
  });
});
