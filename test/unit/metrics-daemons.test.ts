// The resident prober's and the resident client's metrics, fed by hand: probes, offers and
// the tracker's events; the client's status and its event stream.

import { describe, expect, test } from "bun:test";
import { parseAllowList } from "../../core/allow-list.ts";
import type { Offer } from "../../core/offers.ts";
import type { Phase } from "../../core/engine-types.ts";
import { ProbeTracker } from "../../core/probe.ts";
import { ClientMetrics, type ClientMetricsStatus } from "../../cli/metrics/client.ts";
import { ProbeMetrics, type ProbeResult } from "../../cli/metrics/probe.ts";
import { Registry } from "../../cli/metrics/registry.ts";
import { metricSamples } from "./helpers.ts";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function offer(server: string, mac: string, latencyMs: number): Offer {
  return {
    serverId: server,
    sourceIp: server,
    sourceMac: mac,
    yiaddr: "198.18.0.100",
    siaddr: "0.0.0.0",
    giaddr: "0.0.0.0",
    subnetMask: "255.255.255.0",
    routers: [server],
    dns: [server],
    domain: null,
    search: [],
    leaseTime: 3600,
    renewalTime: null,
    rebindingTime: null,
    classlessRoutes: [],
    ipv6OnlyPreferred: null,
    relayAgentInfo: null,
    options: [],
    latencyMs,
    copies: 1,
    rogue: false,
  };
}

const A = (ms: number) => offer("198.18.0.1", "02:00:00:00:00:01", ms);
const B = (ms: number) => offer("198.18.0.2", "02:00:00:00:00:02", ms);

function prober(allow: string[] | null, vanishAfter = 1) {
  const tracker = new ProbeTracker({ allow: allow ? parseAllowList(allow).list : null, vanishAfter });
  const r = new Registry();
  const m = new ProbeMetrics(r, [{ iface: "lab0", tracker }]);
  let now = T0;
  return {
    probe(offers: Offer[], dropped: Record<string, number> = {}, kernelDrops = 0) {
      now += 60_000;
      const result: ProbeResult = { offers, dropped, kernelDrops };
      m.probed("lab0", result, tracker.observe(offers, now, 500), now);
    },
    fail() {
      now += 60_000;
      m.probed("lab0", null, tracker.failed("interface down", now, 1), now);
    },
    samples: () => metricSamples(r.expose()),
    get now() {
      return now;
    },
  };
}

describe("discover --daemon metrics", () => {
  test("probes ok and failed; the last one that ran", () => {
    const p = prober(null);
    expect(p.samples().get('dhcptool_probes_total{interface="lab0",result="failed"}')).toBe(0); // there before the first failure
    p.probe([A(2)]);
    p.fail();
    p.probe([A(3)]);
    const s = p.samples();
    expect(Object.fromEntries(s)).toMatchObject({
      'dhcptool_probes_total{interface="lab0",result="ok"}': 2,
      'dhcptool_probes_total{interface="lab0",result="failed"}': 1,
      'dhcptool_probe_last_success_timestamp_seconds{interface="lab0"}': p.now / 1000,
    });
  });

  test("every offer's latency per server, in seconds", () => {
    const p = prober(null);
    p.probe([A(2), B(30)]);
    p.probe([A(4), B(700)]);
    const s = p.samples();
    expect(s.get('dhcptool_offer_latency_seconds_count{interface="lab0",server="198.18.0.1"}')).toBe(2);
    expect(s.get('dhcptool_offer_latency_seconds_sum{interface="lab0",server="198.18.0.1"}')).toBeCloseTo(0.006, 9);
    expect(Object.fromEntries(s)).toMatchObject({
      'dhcptool_offer_latency_seconds_bucket{interface="lab0",server="198.18.0.2",le="0.025"}': 0,
      'dhcptool_offer_latency_seconds_bucket{interface="lab0",server="198.18.0.2",le="0.05"}': 1,
      'dhcptool_offer_latency_seconds_bucket{interface="lab0",server="198.18.0.2",le="1"}': 2,
    });
  });

  test("a rogue server: up, counted while it answers, one alert; vanished: up 0 and no longer counted", () => {
    const p = prober(["198.18.0.1"]);
    p.probe([A(2)]);
    expect(p.samples().get('dhcptool_rogue_servers{interface="lab0"}')).toBe(0);
    p.probe([A(2), B(3)]);
    let s = p.samples();
    const rogueB = 'interface="lab0",server="198.18.0.2",mac="02:00:00:00:00:02",status="rogue"';
    expect(s.get('dhcptool_rogue_servers{interface="lab0"}')).toBe(1);
    expect(s.get('dhcptool_rogue_alerts_total{interface="lab0"}')).toBe(1);
    expect(s.get(`dhcptool_server_up{${rogueB}}`)).toBe(1);
    expect(s.get('dhcptool_server_up{interface="lab0",server="198.18.0.1",mac="02:00:00:00:00:01",status="allowed"}')).toBe(1);
    expect(s.get(`dhcptool_server_last_seen_timestamp_seconds{${rogueB}}`)).toBe(p.now / 1000);
    p.probe([A(2)]); // B misses one probe: vanished (vanishAfter 1)
    s = p.samples();
    expect(s.get(`dhcptool_server_up{${rogueB}}`)).toBe(0);
    expect(Object.fromEntries(s)).toMatchObject({
      'dhcptool_rogue_servers{interface="lab0"}': 0,
      'dhcptool_server_events_total{interface="lab0",event="server-new"}': 2,
      'dhcptool_server_events_total{interface="lab0",event="server-vanished"}': 1,
    });
    p.probe([A(2), B(3)]);
    s = p.samples();
    expect(s.get('dhcptool_server_events_total{interface="lab0",event="server-back"}')).toBe(1);
    expect(s.get('dhcptool_rogue_alerts_total{interface="lab0"}')).toBe(2); // back, and still rogue
  });

  test("drops and kernel drops add up over probes", () => {
    const p = prober(null);
    p.probe([A(2)], { "wrong-xid": 3, "udp-checksum": 1 }, 2);
    p.probe([A(2)], { "wrong-xid": 1 }, 0);
    const s = p.samples();
    expect(Object.fromEntries(s)).toMatchObject({
      'dhcptool_dropped_packets_total{interface="lab0",reason="wrong-xid"}': 4,
      'dhcptool_dropped_packets_total{interface="lab0",reason="udp-checksum"}': 1,
      'dhcptool_kernel_dropped_packets_total{interface="lab0"}': 2,
    });
  });

  test("a flood of fake server ids stays within the caps, the overflow counted", () => {
    const p = prober(null);
    p.probe(Array.from({ length: 1000 }, (_, i) => offer(`10.${i >> 8}.${i & 255}.1`, "02:00:00:00:00:03", 1)));
    const s = p.samples();
    const histograms = new Set([...s.keys()].filter((k) => k.startsWith("dhcptool_offer_latency_seconds_count")));
    expect(histograms.size).toBe(64);
    expect(s.get('dhcptool_metrics_overflow_total{metric="dhcptool_offer_latency_seconds"}')).toBe(1000 - 64);
    expect([...s.keys()].filter((k) => k.startsWith("dhcptool_server_up")).length).toBeLessThanOrEqual(256);
  });
});

describe("request --daemon metrics", () => {
  function client(status: ClientMetricsStatus) {
    const r = new Registry();
    let current = status;
    const m = new ClientMetrics(r, "lab0", () => current);
    return {
      m,
      set(s: ClientMetricsStatus) {
        current = s;
      },
      samples: () => metricSamples(r.expose()),
    };
  }
  const counters = { sent: { DISCOVER: 2, REQUEST: 3 }, received: 4, dropped: { "wrong-xid": 5 }, hooksDropped: 0 };
  const lease = { leaseTime: 600, infinite: false };
  const bound = (phase: Phase): ClientMetricsStatus => ({ phase, link: { up: true }, lease, remaining: { renew: 290, rebind: 515, expire: 590 }, counters });

  test("phase: one series per phase, 1 for the current; bound; remaining seconds; lease length", () => {
    const c = client(bound("BOUND"));
    const s = c.samples();
    expect(s.get('dhcptool_client_phase{interface="lab0",phase="BOUND"}')).toBe(1);
    expect(s.get('dhcptool_client_phase{interface="lab0",phase="SELECTING"}')).toBe(0);
    expect([...s.keys()].filter((k) => k.startsWith("dhcptool_client_phase{")).length).toBe(11);
    expect(Object.fromEntries(s)).toMatchObject({
      'dhcptool_client_bound{interface="lab0"}': 1,
      'dhcptool_client_lease_remaining_seconds{interface="lab0",until="renew"}': 290,
      'dhcptool_client_lease_remaining_seconds{interface="lab0",until="rebind"}': 515,
      'dhcptool_client_lease_remaining_seconds{interface="lab0",until="expiry"}': 590,
      'dhcptool_client_lease_duration_seconds{interface="lab0"}': 600,
      'dhcptool_client_link_up{interface="lab0"}': 1,
    });
  });

  test("RENEWING still holds the lease; without a lease: not bound, no remaining series", () => {
    const c = client(bound("RENEWING"));
    expect(c.samples().get('dhcptool_client_bound{interface="lab0"}')).toBe(1);
    c.set({ phase: "SELECTING", link: { up: false }, lease: null, remaining: null, counters });
    const s = c.samples();
    expect(Object.fromEntries(s)).toMatchObject({
      'dhcptool_client_bound{interface="lab0"}': 0,
      'dhcptool_client_phase{interface="lab0",phase="SELECTING"}': 1,
      'dhcptool_client_phase{interface="lab0",phase="RENEWING"}': 0,
    });
    expect([...s.keys()].some((k) => k.startsWith("dhcptool_client_lease_"))).toBe(false);
    expect(s.get('dhcptool_client_link_up{interface="lab0"}')).toBe(0);
  });

  test("an infinite lease: +Inf length, no T1/T2/expiry series", () => {
    const c = client({ ...bound("BOUND"), lease: { ...lease, infinite: true, leaseTime: 0xffffffff }, remaining: { renew: null, rebind: null, expire: null } });
    const s = c.samples();
    expect(s.get('dhcptool_client_lease_duration_seconds{interface="lab0"}')).toBe(Infinity);
    expect([...s.keys()].some((k) => k.startsWith("dhcptool_client_lease_remaining_seconds"))).toBe(false);
  });

  test("packets sent by type, received, drops by reason, from the client's own counters", () => {
    const s = client(bound("BOUND")).samples();
    expect(Object.fromEntries(s)).toMatchObject({
      'dhcptool_client_packets_sent_total{interface="lab0",type="DISCOVER"}': 2,
      'dhcptool_client_packets_sent_total{interface="lab0",type="REQUEST"}': 3,
      'dhcptool_client_packets_received_total{interface="lab0"}': 4,
      'dhcptool_dropped_packets_total{interface="lab0",reason="wrong-xid"}': 5,
    });
  });

  test("renewals, rebinds, NAKs, leases taken and lost, from the event stream", () => {
    const c = client(bound("BOUND"));
    // every series is there at 0 before its first event: Prometheus's increase() needs the 0
    const before = c.samples();
    for (const k of ["renewals", "rebinds", "naks"]) expect(before.get(`dhcptool_client_${k}_total{interface="lab0"}`)).toBe(0);
    for (const reason of ["expired", "nak", "reboot-failed", "restart", "ipv6-only"]) {
      expect(before.get(`dhcptool_client_leases_lost_total{interface="lab0",reason="${reason}"}`)).toBe(0);
    }
    for (const e of ["bound", "renew", "renew", "rebind", "nak", "reboot", "sent", "phase"]) c.m.event({ event: e });
    c.m.event({ event: "unbound", why: "nak" });
    c.m.event({ event: "unbound", why: "expired" });
    const s = c.samples();
    expect(Object.fromEntries(s)).toMatchObject({
      'dhcptool_client_renewals_total{interface="lab0"}': 2,
      'dhcptool_client_rebinds_total{interface="lab0"}': 1,
      'dhcptool_client_naks_total{interface="lab0"}': 1,
      'dhcptool_client_leases_bound_total{interface="lab0",how="bound"}': 1,
      'dhcptool_client_leases_bound_total{interface="lab0",how="reboot"}': 1,
      'dhcptool_client_leases_lost_total{interface="lab0",reason="nak"}': 1,
      'dhcptool_client_leases_lost_total{interface="lab0",reason="expired"}': 1,
    });
  });
});
