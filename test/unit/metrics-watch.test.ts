// watch's metrics from a real capture (busybox udhcpc against two dnsmasq servers): packets by
// type, replies and latency per server, rogue status, exchanges, drops, kernel drops.

import { describe, expect, test } from "bun:test";
import { ConversationTracker, type SeenPacket } from "../../core/conversations.ts";
import { parseAllowList } from "../../core/allow-list.ts";
import { viewFrame } from "../../core/inspect.ts";
import { decodePcap } from "../../core/pcap.ts";
import { Registry } from "../../cli/metrics/registry.ts";
import { WatchMetrics } from "../../cli/metrics/watch.ts";
import { metricSamples as samples } from "./helpers.ts";

// dora-two-servers.pcap: udhcpc 1a:8a:91:fc:5a:7f; DISCOVER; OFFER from 198.18.0.2 (+10.86 ms)
// and from 198.18.0.1 (+11.71 ms); REQUEST for 198.18.0.150 to 198.18.0.2; ACK (+1.21 ms).
const capture = decodePcap(await Bun.file(`${import.meta.dir}/../fixtures/dora-two-servers.pcap`).bytes());
if (!capture.ok) throw new Error("fixture unreadable");
const frames = capture.packets;

function run(allow: string[] | null, extra: Uint8Array[] = [], kernelDrops: number | null = 3) {
  const tracker = new ConversationTracker(allow ? parseAllowList(allow).list : null);
  const r = new Registry();
  const m = new WatchMetrics(r, "lab0", tracker, () => kernelDrops);
  for (const [i, p] of frames.entries()) {
    const v = viewFrame(p.data, i + 1, p.timestampUs, false);
    const seen: SeenPacket = { timeUs: p.timestampUs, frame: v.frame!, message: v.message! };
    m.packet(seen, tracker.add(seen));
  }
  for (const bytes of extra) {
    const v = viewFrame(bytes, 0, 0, false);
    if (!v.message) m.dropped(v.dropReason ?? "unknown");
  }
  return { tracker, s: samples(r.expose()), text: r.expose() };
}

const lastUs = frames[frames.length - 1].timestampUs;

describe("watch metrics from a two-server DORA", () => {
  test("packets by type, replies per server", () => {
    const { s } = run(null);
    expect(Object.fromEntries(s)).toMatchObject({
      'dhcptool_watch_packets_total{interface="lab0",type="DISCOVER"}': 1,
      'dhcptool_watch_packets_total{interface="lab0",type="OFFER"}': 2,
      'dhcptool_watch_packets_total{interface="lab0",type="REQUEST"}': 1,
      'dhcptool_watch_packets_total{interface="lab0",type="ACK"}': 1,
      'dhcptool_server_replies_total{interface="lab0",server="198.18.0.2",type="OFFER"}': 1,
      'dhcptool_server_replies_total{interface="lab0",server="198.18.0.2",type="ACK"}': 1,
      'dhcptool_server_replies_total{interface="lab0",server="198.18.0.1",type="OFFER"}': 1,
    });
  });

  test("offer and ack latency per server, in seconds, in the right buckets", () => {
    const { s } = run(null);
    const offer2 = (le: string) => s.get(`dhcptool_offer_latency_seconds_bucket{interface="lab0",server="198.18.0.2",le="${le}"}`);
    expect([offer2("0.01"), offer2("0.025"), offer2("+Inf")]).toEqual([0, 1, 1]);
    expect(s.get('dhcptool_offer_latency_seconds_sum{interface="lab0",server="198.18.0.2"}')).toBeCloseTo(0.01086, 9);
    expect(s.get('dhcptool_offer_latency_seconds_sum{interface="lab0",server="198.18.0.1"}')).toBeCloseTo(0.01171, 9);
    expect(s.get('dhcptool_ack_latency_seconds_bucket{interface="lab0",server="198.18.0.2",le="0.001"}')).toBe(0);
    expect(s.get('dhcptool_ack_latency_seconds_bucket{interface="lab0",server="198.18.0.2",le="0.0025"}')).toBe(1);
    expect(s.get('dhcptool_ack_latency_seconds_count{interface="lab0",server="198.18.0.1"}')).toBeUndefined();
  });

  test("without --allow-server both servers are allowed and nothing is rogue", () => {
    const { s } = run(null);
    expect(s.get('dhcptool_rogue_servers{interface="lab0"}')).toBe(0);
    expect(s.get('dhcptool_rogue_alerts_total{interface="lab0"}')).toBe(0);
    const seen = [...s.keys()].filter((k) => k.startsWith("dhcptool_server_last_seen_timestamp_seconds"));
    expect(seen).toHaveLength(2);
    expect(seen.every((k) => k.includes('status="allowed"'))).toBe(true);
  });

  test("with --allow-server 198.18.0.1 the other is rogue: one alert, status rogue, its MAC, last seen at its ACK", () => {
    const { s } = run(["198.18.0.1"]);
    const mac2 = viewFrame(frames[1].data, 2).frame!.srcMac;
    expect(s.get('dhcptool_rogue_servers{interface="lab0"}')).toBe(1);
    expect(s.get('dhcptool_rogue_alerts_total{interface="lab0"}')).toBe(1);
    expect(s.get(`dhcptool_server_last_seen_timestamp_seconds{interface="lab0",server="198.18.0.2",mac="${mac2}",status="rogue"}`)).toBe(
      Math.round(lastUs / 1000) / 1000,
    );
    expect([...s.keys()].filter((k) => k.includes('server="198.18.0.1"') && k.includes('status="allowed"'))).toHaveLength(1);
  });

  test("exchanges by outcome once over; open ones counted apart", () => {
    const { tracker, s } = run(null);
    expect(s.get('dhcptool_watch_open_exchanges{interface="lab0"}')).toBe(1);
    tracker.expire(lastUs + 60_000_000);
    const r = new Registry();
    new WatchMetrics(r, "lab0", tracker, () => null);
    const after = samples(r.expose());
    expect(after.get('dhcptool_watch_exchanges_total{interface="lab0",outcome="acked"}')).toBe(1);
    expect(after.get('dhcptool_watch_exchanges_total{interface="lab0",outcome="unanswered"}')).toBe(0);
    expect(after.get('dhcptool_watch_open_exchanges{interface="lab0"}')).toBe(0);
    expect([...after.keys()].some((k) => k.startsWith("dhcptool_kernel_dropped_packets_total"))).toBe(false);
  });

  test("dropped frames by reason; kernel drops from the socket", () => {
    const short = frames[0].data.slice(0, 20); // IPv4, cut inside its header
    const notDhcp = frames[0].data.slice();
    notDhcp[14 + 20 + 1] = 99;
    notDhcp[14 + 20 + 3] = 99; // both UDP ports 99
    notDhcp[14 + 20 + 6] = 0;
    notDhcp[14 + 20 + 7] = 0; // no UDP checksum
    const overrun = frames[0].data.slice();
    overrun[14 + 20 + 8 + 240 + 1] = 255; // the first option's length runs past the end
    overrun[14 + 20 + 6] = 0;
    overrun[14 + 20 + 7] = 0;
    const { s } = run(null, [short, notDhcp, overrun, short]);
    expect(Object.fromEntries(s)).toMatchObject({
      'dhcptool_dropped_packets_total{interface="lab0",reason="frame-short"}': 2,
      'dhcptool_dropped_packets_total{interface="lab0",reason="not-dhcp-port"}': 1,
      'dhcptool_dropped_packets_total{interface="lab0",reason="decode-option-truncated"}': 1,
      'dhcptool_kernel_dropped_packets_total{interface="lab0"}': 3,
    });
  });
});
