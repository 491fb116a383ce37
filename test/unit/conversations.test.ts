// watch's bookkeeping: exchanges, latencies, per-server stats, rogue alerts, and bounds,
// from a real capture (busybox udhcpc against two dnsmasq servers in the lab) and from
// synthetic floods.

import { describe, expect, test } from "bun:test";
import { ConversationTracker, MAX_ALERTS, type SeenPacket } from "../../core/conversations.ts";
import { parseAllowList } from "../../core/allow-list.ts";
import { viewFrame } from "../../core/inspect.ts";
import { decodePcap } from "../../core/pcap.ts";
import { buildUdpFrame } from "../../core/frame.ts";
import { encodeMessage, BOOTREPLY, BOOTREQUEST } from "../../core/message.ts";
import { ip4 } from "./helpers.ts";

// dora-two-servers.pcap: udhcpc 1a:8a:91:fc:5a:7f; DISCOVER; OFFER from 198.18.0.2 (+10.86 ms)
// and from 198.18.0.1 (+11.71 ms); REQUEST for 198.18.0.150 to 198.18.0.2; ACK (+1.21 ms).
const capture = decodePcap(await Bun.file(`${import.meta.dir}/../fixtures/dora-two-servers.pcap`).bytes());
if (!capture.ok) throw new Error("fixture unreadable");
const packets: SeenPacket[] = capture.packets.map((p, i) => {
  const v = viewFrame(p.data, i + 1, p.timestampUs);
  return { timeUs: p.timestampUs, frame: v.frame!, message: v.message! };
});

describe("a real DORA with two servers answering", () => {
  test("one exchange, the right latencies, acked by the server the client chose", () => {
    const t = new ConversationTracker();
    const events = packets.map((p) => t.add(p));
    expect(new Set(events.map((e) => e.conversation)).size).toBe(1);
    expect(events.map((e) => e.latencyMs)).toEqual([null, 10.86, 11.71, null, 1.21]);
    expect(events.map((e) => e.server)).toEqual([null, "198.18.0.2", "198.18.0.1", null, "198.18.0.2"]);
    const s = t.summary();
    expect(s.packets).toBe(5);
    expect(s.conversations).toMatchObject({ total: 1, acked: 1, naked: 0, unanswered: 0 });
    const byServer = Object.fromEntries(s.servers.map((x) => [x.server, x]));
    expect(byServer["198.18.0.2"]).toMatchObject({ offers: 1, acks: 1, naks: 0, latency: { n: 2, p50: 1.21, max: 10.86 } });
    expect(byServer["198.18.0.1"]).toMatchObject({ offers: 1, acks: 0, latency: { n: 1, p50: 11.71 } });
    expect(s.clients).toEqual([{ client: "1a:8a:91:fc:5a:7f", outcome: "acked", address: "198.18.0.150", server: "198.18.0.2", exchanges: 1 }]);
    expect(s.rogueServers).toEqual([]);
  });

  test("--allow-server naming one: the other raises one alert, on its first OFFER", () => {
    const t = new ConversationTracker(parseAllowList(["198.18.0.1"]).list);
    const events = packets.map((p) => t.add(p));
    expect(events.map((e) => e.rogue)).toEqual([false, true, false, false, false]); // the ACK does not alert again
    expect(t.alerts).toEqual([{ kind: "rogue-server", server: "198.18.0.2", mac: packets[1].frame.srcMac, firstSeenUs: packets[1].timeUs, messageType: "OFFER", client: "1a:8a:91:fc:5a:7f" }]);
    expect(t.summary().rogueServers).toEqual(["198.18.0.2"]);
  });

  test("a request left without a reply is unanswered once the exchange goes idle", () => {
    const t = new ConversationTracker(null, { idleTimeoutMs: 1000 });
    for (const p of packets.slice(0, 4)) t.add(p); // no ACK
    expect(t.summary().conversations.unanswered).toBe(0);
    t.expire(packets[3].timeUs + 1_500_000);
    expect(t.summary().conversations).toMatchObject({ total: 1, unanswered: 1, open: 0 });
    expect(t.summary().clients[0].outcome).toBe("unanswered");
  });
});

function synthetic(op: number, type: number, xid: number, mac: Uint8Array, server: string, timeUs: number): SeenPacket {
  const options = [{ code: 53, data: Uint8Array.of(type) }, ...(op === BOOTREPLY ? [{ code: 54, data: ip4(server) }] : [])];
  const payload = encodeMessage({ op, xid, chaddr: mac, yiaddr: op === BOOTREPLY ? "198.18.0.100" : undefined, options });
  const frame = buildUdpFrame({
    srcMac: op === BOOTREPLY ? Uint8Array.of(2, 9, 9, 9, 9, 9) : mac, dstMac: new Uint8Array(6).fill(255),
    srcIp: op === BOOTREPLY ? server : "0.0.0.0", dstIp: "255.255.255.255",
    srcPort: op === BOOTREPLY ? 67 : 68, dstPort: op === BOOTREPLY ? 68 : 67, payload,
  });
  const v = viewFrame(frame, 0, timeUs);
  return { timeUs, frame: v.frame!, message: v.message! };
}

describe("bounds under a flood", () => {
  test("100,000 DISCOVERs from distinct clients: memory stays within the limits", () => {
    const t = new ConversationTracker(null, { maxConversations: 500, maxClients: 300 });
    const base = synthetic(BOOTREQUEST, 1, 1, Uint8Array.of(2, 0, 0, 0, 0, 1), "", 0);
    for (let i = 0; i < 100_000; i++) {
      // vary xid and client without re-encoding: the tracker reads the views
      t.add({ ...base, timeUs: i * 10, message: { ...base.message, xid: "0x" + i.toString(16), chaddr: `02:00:${i}` } });
      expect(t.openConversations).toBeLessThanOrEqual(500);
    }
    const s = t.summary();
    expect(s.clients.length).toBeLessThanOrEqual(300);
    expect(s.conversations.total).toBe(100_000);
    expect(s.conversations.evicted).toBe(100_000 - 500);
    expect(s.conversations.unanswered).toBe(100_000 - 500); // each one closed while waiting
  });

  test("OFFERs from 10,000 fake rogue servers: the alerts listed stay at MAX_ALERTS, every one is counted", () => {
    const t = new ConversationTracker(parseAllowList(["198.18.0.1"]).list, { maxServers: 64 });
    const mac = Uint8Array.of(2, 0, 0, 0, 0, 7);
    let raised = 0;
    for (let i = 0; i < 10_000; i++) {
      t.add(synthetic(BOOTREQUEST, 1, i, mac, "", i * 1000));
      const e = t.add(synthetic(BOOTREPLY, 2, i, mac, `10.${(i >> 8) & 255}.${i & 255}.1`, i * 1000 + 500));
      if (e.alert) raised++;
    }
    expect(raised).toBe(10_000);
    expect(t.alertCount).toBe(10_000);
    expect(t.alerts.length).toBe(MAX_ALERTS);
    const s = t.summary();
    expect(s.rogueServers.length).toBe(MAX_ALERTS);
    expect(s.rogueServersTruncated).toBe(true);
  });

  test("OFFERs from 2,000 different servers: at most maxServers remembered, latency samples capped", () => {
    const t = new ConversationTracker(null, { maxServers: 64, latencySamples: 16 });
    const mac = Uint8Array.of(2, 0, 0, 0, 0, 7);
    for (let i = 0; i < 2000; i++) {
      t.add(synthetic(BOOTREQUEST, 1, i, mac, "", i * 1000));
      t.add(synthetic(BOOTREPLY, 2, i, mac, `10.${(i >> 8) & 255}.${i & 255}.1`, i * 1000 + 500));
    }
    expect(t.summary().servers.length).toBeLessThanOrEqual(64);
    const one = new ConversationTracker(null, { latencySamples: 16 });
    for (let i = 0; i < 1000; i++) {
      one.add(synthetic(BOOTREQUEST, 1, i, mac, "", i * 1000));
      one.add(synthetic(BOOTREPLY, 2, i, mac, "198.18.0.1", i * 1000 + 250));
    }
    expect(one.summary().servers[0]).toMatchObject({ offers: 1000, latency: { n: 16, p50: 0.25 } });
  });

  test("one exchange flooded with its own xid and MAC keeps a bounded history", () => {
    const t = new ConversationTracker();
    const mac = Uint8Array.of(2, 0, 0, 0, 0, 9);
    const request = synthetic(BOOTREQUEST, 1, 42, mac, "", 0);
    for (let i = 0; i < 20_000; i++) t.add({ ...request, timeUs: i });
    const c = t.conversation(1)!;
    expect(c.steps.length).toBe(32);
    expect(c.moreSteps).toBe(20_000 - 32);
    expect(t.summary().clients[0].exchanges).toBe(1);
  });

  test("idle exchanges are closed as time passes, so a quiet flood drains", () => {
    const t = new ConversationTracker(null, { idleTimeoutMs: 10_000 });
    const mac = Uint8Array.of(2, 0, 0, 0, 0, 8);
    for (let i = 0; i < 1000; i++) t.add(synthetic(BOOTREQUEST, 1, i, mac, "", i));
    expect(t.openConversations).toBe(1000);
    t.expire(20_000_000);
    expect(t.openConversations).toBe(0);
  });
});
