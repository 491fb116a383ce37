// core/probe.ts: the resident prober's diff logic, probe by probe, with a clock the test
// advances by hand.

import { describe, expect, test } from "bun:test";
import { parseAllowList } from "../../core/allow-list.ts";
import type { Offer } from "../../core/offers.ts";
import {
  COMPARED_FIELDS,
  MAX_TRACKED_SERVERS,
  ProbeTracker,
  type FactField,
  type FactValue,
  type ProbeEvent,
  type ProbeTrackerOptions,
} from "../../core/probe.ts";

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const INTERVAL = 60_000;

function offer(over: Partial<Offer> = {}): Offer {
  return {
    serverId: "192.0.2.1",
    sourceIp: "192.0.2.1",
    sourceMac: "02:00:00:00:00:01",
    yiaddr: "192.0.2.100",
    siaddr: "0.0.0.0",
    giaddr: "0.0.0.0",
    subnetMask: "255.255.255.0",
    routers: ["192.0.2.1"],
    dns: ["192.0.2.53"],
    domain: "example.net",
    search: ["example.net"],
    leaseTime: 3600,
    renewalTime: 1800,
    rebindingTime: 3150,
    classlessRoutes: [],
    ipv6OnlyPreferred: null,
    relayAgentInfo: null,
    options: [],
    latencyMs: 2.5,
    copies: 1,
    rogue: false,
    ...over,
  };
}

const serverB = (over: Partial<Offer> = {}) =>
  offer({ serverId: "192.0.2.2", sourceIp: "192.0.2.2", sourceMac: "02:00:00:00:00:02", yiaddr: "192.0.2.150", ...over });

/** A tracker and a fake clock: each probe() advances it by one interval. */
function harness(opts: Partial<ProbeTrackerOptions> = {}) {
  const tracker = new ProbeTracker({ allow: null, vanishAfter: 2, ...opts });
  let now = T0;
  return {
    tracker,
    get now() {
      return now;
    },
    probe(offers: Offer[]): ProbeEvent[] {
      now += INTERVAL;
      return tracker.observe(offers, now, 500);
    },
  };
}

/** The events without the per-probe summary, as [event, server] pairs. */
function names(events: ProbeEvent[]): [string, string][] {
  return events.filter((e) => e.event !== "probe").map((e) => [e.event, (e as { server: string }).server]);
}

describe("ProbeTracker: new, unchanged, vanished, back", () => {
  test("a first sighting is server-new with the server's facts and the offer", () => {
    const h = harness();
    const events = h.probe([offer()]);
    expect(names(events)).toEqual([["server-new", "192.0.2.1"]]);
    expect(events[0]).toMatchObject({
      event: "server-new",
      server: "192.0.2.1",
      sourceIp: "192.0.2.1",
      sourceMac: "02:00:00:00:00:01",
      subnetMask: "255.255.255.0",
      routers: ["192.0.2.1"],
      dns: ["192.0.2.53"],
      domain: "example.net",
      leaseTime: 3600,
      offered: "192.0.2.100",
      latencyMs: 2.5,
      rogue: false,
    });
    expect(events.at(-1)).toEqual({ event: "probe", probe: 1, offers: 1, servers: 1, rogue: 0, durationMs: 500 });
  });

  test("the same facts again: no event but the probe summary, even though the offered address moved", () => {
    const h = harness();
    h.probe([offer()]);
    const events = h.probe([offer({ yiaddr: "192.0.2.101", latencyMs: 9, copies: 2 })]);
    expect(names(events)).toEqual([]);
    expect(events).toEqual([{ event: "probe", probe: 2, offers: 1, servers: 1, rogue: 0, durationMs: 500 }]);
  });

  test("a server keyed by source IP when it sends no server identifier", () => {
    const h = harness();
    expect(names(h.probe([offer({ serverId: null, sourceIp: "192.0.2.9" })]))).toEqual([["server-new", "192.0.2.9"]]);
    expect(names(h.probe([offer({ serverId: null, sourceIp: "192.0.2.9" })]))).toEqual([]);
  });

  test("two offers under one key in one probe: the first stands", () => {
    const h = harness();
    const events = h.probe([offer(), offer({ routers: ["192.0.2.254"] })]);
    expect(names(events)).toEqual([["server-new", "192.0.2.1"]]);
    expect(h.tracker.server("192.0.2.1")!.facts.routers).toEqual(["192.0.2.1"]);
  });

  const vanishCases: { vanishAfter: number; quietProbes: number }[] = [
    { vanishAfter: 1, quietProbes: 1 },
    { vanishAfter: 2, quietProbes: 2 },
    { vanishAfter: 5, quietProbes: 5 },
  ];
  for (const c of vanishCases) {
    test(`--vanish-after ${c.vanishAfter}: vanished on the ${c.quietProbes}th probe in a row without it, once`, () => {
      const h = harness({ vanishAfter: c.vanishAfter });
      h.probe([offer(), serverB()]);
      const lastSeen = h.now;
      for (let i = 1; i < c.quietProbes; i++) expect(names(h.probe([serverB()]))).toEqual([]);
      const events = h.probe([serverB()]);
      expect(names(events)).toEqual([["server-vanished", "192.0.2.1"]]);
      expect(events[0]).toEqual({ event: "server-vanished", server: "192.0.2.1", missedProbes: c.vanishAfter, lastSeen });
      expect(events.at(-1)).toMatchObject({ event: "probe", servers: 1 });
      // said once, not again on later misses
      expect(names(h.probe([serverB()]))).toEqual([]);
      expect(h.tracker.server("192.0.2.1")!.status).toBe("vanished");
    });
  }

  test("a miss shorter than --vanish-after is forgiven: no vanished, no back", () => {
    const h = harness({ vanishAfter: 3 });
    h.probe([offer()]);
    expect(names(h.probe([]))).toEqual([]);
    expect(names(h.probe([]))).toEqual([]);
    expect(names(h.probe([offer()]))).toEqual([]);
    expect(names(h.probe([]))).toEqual([]);
    expect(names(h.probe([]))).toEqual([]);
    expect(names(h.probe([]))).toEqual([["server-vanished", "192.0.2.1"]]);
  });

  test("a vanished server that answers again is server-back, with how long it was away", () => {
    const h = harness({ vanishAfter: 2 });
    h.probe([offer()]);
    h.probe([]);
    h.probe([]);
    h.probe([]);
    const events = h.probe([offer({ yiaddr: "192.0.2.120" })]);
    expect(names(events)).toEqual([["server-back", "192.0.2.1"]]);
    expect(events[0]).toMatchObject({ event: "server-back", server: "192.0.2.1", absentProbes: 3, offered: "192.0.2.120", rogue: false });
    expect(h.tracker.server("192.0.2.1")!.status).toBe("present");
    // and it can vanish again
    h.probe([]);
    expect(names(h.probe([]))).toEqual([["server-vanished", "192.0.2.1"]]);
  });

  test("back with other facts: server-back, then server-changed", () => {
    const h = harness({ vanishAfter: 1 });
    h.probe([offer()]);
    h.probe([]);
    const events = h.probe([offer({ leaseTime: 7200 })]);
    expect(names(events)).toEqual([
      ["server-back", "192.0.2.1"],
      ["server-changed", "192.0.2.1"],
    ]);
  });

  test("a failed probe is neither a sighting nor a miss", () => {
    const h = harness({ vanishAfter: 1 });
    h.probe([offer()]);
    const failed = h.tracker.failed('interface "eth0" does not exist', h.now + 1000, 3);
    expect(failed).toEqual([{ event: "probe", probe: 2, offers: 0, servers: 1, rogue: 0, durationMs: 3, error: 'interface "eth0" does not exist' }]);
    expect(h.tracker.server("192.0.2.1")!.status).toBe("present");
    expect(h.tracker.summary()).toMatchObject({ probes: 2, probesFailed: 1 });
  });
});

describe("ProbeTracker: server-changed, field by field", () => {
  const cases: { field: FactField; change: Partial<Offer>; old: FactValue; now: FactValue }[] = [
    { field: "subnetMask", change: { subnetMask: "255.255.0.0" }, old: "255.255.255.0", now: "255.255.0.0" },
    { field: "subnetMask", change: { subnetMask: null }, old: "255.255.255.0", now: null },
    { field: "routers", change: { routers: ["192.0.2.254"] }, old: ["192.0.2.1"], now: ["192.0.2.254"] },
    { field: "routers", change: { routers: [] }, old: ["192.0.2.1"], now: [] },
    { field: "dns", change: { dns: ["192.0.2.53", "192.0.2.54"] }, old: ["192.0.2.53"], now: ["192.0.2.53", "192.0.2.54"] },
    { field: "domain", change: { domain: "evil.example" }, old: "example.net", now: "evil.example" },
    { field: "search", change: { search: ["corp.example"] }, old: ["example.net"], now: ["corp.example"] },
    {
      field: "classlessRoutes",
      change: { classlessRoutes: [{ destination: "0.0.0.0", prefix: 0, router: "192.0.2.66" }] },
      old: [],
      now: ["0.0.0.0/0 via 192.0.2.66"],
    },
    { field: "leaseTime", change: { leaseTime: 60 }, old: 3600, now: 60 },
    { field: "sourceIp", change: { sourceIp: "192.0.2.77" }, old: "192.0.2.1", now: "192.0.2.77" },
    { field: "sourceMac", change: { sourceMac: "02:66:66:66:66:66" }, old: "02:00:00:00:00:01", now: "02:66:66:66:66:66" },
  ];
  for (const c of cases) {
    test(`${c.field}: ${JSON.stringify(c.old)} -> ${JSON.stringify(c.now)}`, () => {
      const h = harness();
      h.probe([offer()]);
      const events = h.probe([offer(c.change)]);
      expect(names(events)).toEqual([["server-changed", "192.0.2.1"]]);
      expect(events[0]).toEqual({ event: "server-changed", server: "192.0.2.1", changes: [{ field: c.field, old: c.old, new: c.now }] });
      // the new facts are the reference from now on
      expect(names(h.probe([offer(c.change)]))).toEqual([]);
    });
  }

  test("every compared field has a case above", () => {
    expect(new Set(cases.map((c) => c.field))).toEqual(new Set(COMPARED_FIELDS));
  });

  test("router order matters (preference); several changes are listed together, in field order", () => {
    const h = harness();
    h.probe([offer({ routers: ["192.0.2.1", "192.0.2.2"] })]);
    const events = h.probe([offer({ routers: ["192.0.2.2", "192.0.2.1"], leaseTime: 120, subnetMask: "255.255.255.128" })]);
    expect(events[0]).toEqual({
      event: "server-changed",
      server: "192.0.2.1",
      changes: [
        { field: "subnetMask", old: "255.255.255.0", new: "255.255.255.128" },
        { field: "routers", old: ["192.0.2.1", "192.0.2.2"], new: ["192.0.2.2", "192.0.2.1"] },
        { field: "leaseTime", old: 3600, new: 120 },
      ],
    });
  });

  test("not compared: offered address, latency, T1/T2, copies", () => {
    const h = harness();
    h.probe([offer()]);
    expect(names(h.probe([offer({ yiaddr: "192.0.2.199", latencyMs: 900, renewalTime: 100, rebindingTime: 200, copies: 3 })]))).toEqual([]);
  });
});

describe("ProbeTracker: rogue servers", () => {
  const allowIp = parseAllowList(["192.0.2.1"]).list;
  const allowMac = parseAllowList(["02:00:00:00:00:01"]).list;

  const cases: { name: string; allow: ReturnType<typeof parseAllowList>["list"] | null; offers: Offer[]; rogue: string[] }[] = [
    { name: "no allow list: nobody is rogue", allow: null, offers: [offer(), serverB()], rogue: [] },
    { name: "allowed by IP: the other is rogue", allow: allowIp, offers: [offer(), serverB()], rogue: ["192.0.2.2"] },
    { name: "allowed by MAC: the other is rogue", allow: allowMac, offers: [offer(), serverB()], rogue: ["192.0.2.2"] },
    {
      name: "allowed by IP matches the source IP too (no server id)",
      allow: allowIp,
      offers: [offer({ serverId: null }), serverB({ serverId: null })],
      rogue: ["192.0.2.2"],
    },
    {
      name: "a spoofed server id with the wrong MAC is rogue under a MAC allow list",
      allow: allowMac,
      offers: [offer({ serverId: "192.0.2.50", sourceIp: "192.0.2.50", sourceMac: "02:66:00:00:00:66" })],
      rogue: ["192.0.2.50"],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const h = harness({ allow: c.allow });
      const events = h.probe(c.offers);
      expect(events.filter((e) => e.event === "rogue").map((e) => (e as { server: string }).server)).toEqual(c.rogue);
      for (const e of events) if (e.event === "server-new") expect(e.rogue).toBe(c.rogue.includes(e.server));
      expect(events.at(-1)).toMatchObject({ event: "probe", rogue: c.rogue.length });
      expect(h.tracker.rogueSeen).toBe(c.rogue.length > 0);
      expect(h.tracker.summary().rogueServers).toEqual(c.rogue);
    });
  }

  test("rogue when first seen, right after its server-new, and not again while it stays", () => {
    const h = harness({ allow: allowIp });
    const first = h.probe([offer(), serverB()]);
    expect(names(first)).toEqual([
      ["server-new", "192.0.2.1"],
      ["server-new", "192.0.2.2"],
      ["rogue", "192.0.2.2"],
    ]);
    expect(first[2]).toEqual({ event: "rogue", server: "192.0.2.2", sourceIp: "192.0.2.2", sourceMac: "02:00:00:00:00:02", reason: "first-seen" });
    expect(names(h.probe([offer(), serverB()]))).toEqual([]);
    expect(names(h.probe([offer(), serverB({ yiaddr: "192.0.2.151" })]))).toEqual([]);
  });

  test("rogue again when it comes back after vanishing", () => {
    const h = harness({ allow: allowIp, vanishAfter: 2 });
    h.probe([offer(), serverB()]);
    h.probe([offer()]);
    expect(names(h.probe([offer()]))).toEqual([["server-vanished", "192.0.2.2"]]);
    const back = h.probe([offer(), serverB()]);
    expect(names(back)).toEqual([
      ["server-back", "192.0.2.2"],
      ["rogue", "192.0.2.2"],
    ]);
    expect(back[1]).toMatchObject({ event: "rogue", reason: "back" });
    expect(h.tracker.summary().rogueServers).toEqual(["192.0.2.2"]);
  });

  test("an allowed server whose MAC changes away from the allow list turns rogue", () => {
    const h = harness({ allow: allowMac });
    h.probe([offer()]);
    const events = h.probe([offer({ sourceMac: "02:66:00:00:00:66" })]);
    expect(names(events)).toEqual([
      ["server-changed", "192.0.2.1"],
      ["rogue", "192.0.2.1"],
    ]);
    expect(events[1]).toMatchObject({ reason: "changed" });
  });

  test("rogueSeen stays true after the rogue is gone", () => {
    const h = harness({ allow: allowIp, vanishAfter: 1 });
    h.probe([serverB()]);
    h.probe([]);
    h.probe([]);
    expect(h.tracker.rogueSeen).toBe(true);
  });
});

describe("ProbeTracker: bounded", () => {
  const many = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) =>
      offer({ serverId: `10.${(from + i) >> 8}.${(from + i) & 255}.1`, sourceIp: `10.${(from + i) >> 8}.${(from + i) & 255}.1` }),
    );

  test(`300 distinct servers in one probe: at most ${MAX_TRACKED_SERVERS} tracked`, () => {
    const h = harness();
    const events = h.probe(many(300));
    expect(events.filter((e) => e.event === "server-new")).toHaveLength(300);
    expect(h.tracker.tracked).toBeLessThanOrEqual(MAX_TRACKED_SERVERS);
    expect(h.tracker.tracked).toBe(MAX_TRACKED_SERVERS);
    const s = h.tracker.summary();
    expect(s.serversSeen).toBe(300);
    expect(s.serversForgotten).toBe(300 - MAX_TRACKED_SERVERS);
    expect(s.servers.length).toBe(MAX_TRACKED_SERVERS);
  });

  test("300 distinct servers over many probes: still bounded", () => {
    const h = harness();
    for (let p = 0; p < 30; p++) h.probe(many(10, p * 10));
    expect(h.tracker.tracked).toBeLessThanOrEqual(MAX_TRACKED_SERVERS);
  });

  test("the longest-vanished server is forgotten first, before any present one", () => {
    const h = harness({ maxServers: 3, vanishAfter: 1 });
    h.probe([offer({ serverId: "10.0.0.1" })]);
    h.probe([offer({ serverId: "10.0.0.2" }), offer({ serverId: "10.0.0.3" })]); // .1 vanishes (older)
    h.probe([offer({ serverId: "10.0.0.3" })]); // .2 vanishes
    h.probe([offer({ serverId: "10.0.0.3" }), offer({ serverId: "10.0.0.4" })]);
    expect(h.tracker.server("10.0.0.1")).toBeUndefined();
    expect(h.tracker.server("10.0.0.2")?.status).toBe("vanished");
    h.probe([offer({ serverId: "10.0.0.3" }), offer({ serverId: "10.0.0.4" }), offer({ serverId: "10.0.0.5" })]);
    expect(h.tracker.server("10.0.0.2")).toBeUndefined();
    expect(["10.0.0.3", "10.0.0.4", "10.0.0.5"].every((k) => h.tracker.server(k)?.status === "present")).toBe(true);
  });

  test("a forgotten server that answers again is new again", () => {
    const h = harness({ maxServers: 1, vanishAfter: 1 });
    h.probe([offer({ serverId: "10.0.0.1" })]);
    h.probe([offer({ serverId: "10.0.0.2" })]);
    // .2 made room by forgetting .1; now .1 makes room by forgetting .2 (so no vanished for it)
    expect(names(h.probe([offer({ serverId: "10.0.0.1" })]))).toEqual([["server-new", "10.0.0.1"]]);
    expect(h.tracker.summary()).toMatchObject({ serversSeen: 3, serversForgotten: 2 });
  });

  test("bad settings fail loudly", () => {
    expect(() => new ProbeTracker({ allow: null, vanishAfter: 0 })).toThrow(RangeError);
    expect(() => new ProbeTracker({ allow: null, vanishAfter: 1.5 })).toThrow(RangeError);
    expect(() => new ProbeTracker({ allow: null, vanishAfter: 2, maxServers: 0 })).toThrow(RangeError);
  });
});
