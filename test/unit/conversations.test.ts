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
    expect(s.clients).toEqual([
      {
        client: "1a:8a:91:fc:5a:7f",
        outcome: "acked",
        address: "198.18.0.150",
        server: "198.18.0.2",
        exchanges: 1,
        offers: [
          { address: "198.18.0.150", server: "198.18.0.2" },
          { address: "198.18.0.100", server: "198.18.0.1" },
        ],
      },
    ]);
    expect(s.rogueServers).toEqual([]);
  });

  test("--allow-server naming one: the other raises one alert, on its first OFFER", () => {
    const t = new ConversationTracker(parseAllowList(["198.18.0.1"]).list);
    const events = packets.map((p) => t.add(p));
    expect(events.map((e) => e.rogue)).toEqual([false, true, false, false, false]); // the ACK does not alert again
    expect(t.alerts).toEqual([
      {
        kind: "rogue-server",
        server: "198.18.0.2",
        mac: packets[1].frame.srcMac,
        firstSeenUs: packets[1].timeUs,
        messageType: "OFFER",
        client: "1a:8a:91:fc:5a:7f",
      },
    ]);
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

function synthetic(op: number, type: number, xid: number, mac: Uint8Array, server: string, timeUs: number, yiaddr = "198.18.0.100"): SeenPacket {
  const options = [{ code: 53, data: Uint8Array.of(type) }, ...(op === BOOTREPLY ? [{ code: 54, data: ip4(server) }] : [])];
  const payload = encodeMessage({ op, xid, chaddr: mac, yiaddr: op === BOOTREPLY ? yiaddr : undefined, options });
  const frame = buildUdpFrame({
    srcMac: op === BOOTREPLY ? Uint8Array.of(2, 9, 9, 9, 9, 9) : mac,
    dstMac: new Uint8Array(6).fill(255),
    srcIp: op === BOOTREPLY ? server : "0.0.0.0",
    dstIp: "255.255.255.255",
    srcPort: op === BOOTREPLY ? 67 : 68,
    dstPort: op === BOOTREPLY ? 68 : 67,
    payload,
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

describe("every figure right", () => {
  const mac = Uint8Array.of(2, 0, 0, 0, 0, 0x21);
  const ms = 1000;
  const DISCOVER = 1,
    OFFER = 2,
    REQUEST = 3,
    DECLINE = 4,
    ACK = 5,
    NAK = 6,
    RELEASE = 7;
  const ask = (type: number, xid: number, t: number, who = mac) => synthetic(BOOTREQUEST, type, xid, who, "", t);
  const reply = (type: number, xid: number, server: string, t: number, yiaddr = "198.18.0.100", who = mac) =>
    synthetic(BOOTREPLY, type, xid, who, server, t, yiaddr);

  test("a late OFFER is timed from the DISCOVER it answers, not from the REQUEST the client sent meanwhile", () => {
    const t = new ConversationTracker();
    t.add(ask(DISCOVER, 7, 0));
    expect(t.add(reply(OFFER, 7, "198.18.0.1", 1 * ms)).latencyMs).toBe(1);
    t.add(ask(REQUEST, 7, 2 * ms));
    expect(t.add(reply(OFFER, 7, "198.18.0.2", 3000 * ms, "198.18.0.150")).latencyMs).toBe(3000); // was 998: from the REQUEST
    expect(t.add(reply(ACK, 7, "198.18.0.1", 2 * ms + 400)).latencyMs).toBe(0.4);
    expect(t.summary().servers.find((s) => s.server === "198.18.0.2")!.latency.max).toBe(3000);
  });

  test("an OFFER after a retransmitted DISCOVER is timed from that retransmission", () => {
    const t = new ConversationTracker();
    t.add(ask(DISCOVER, 8, 0));
    t.add(ask(DISCOVER, 8, 2000 * ms));
    expect(t.add(reply(OFFER, 8, "198.18.0.1", 2005 * ms)).latencyMs).toBe(5);
  });

  test("the per-client summary pairs each address with the server that offered it", () => {
    const t = new ConversationTracker();
    t.add(ask(DISCOVER, 9, 0));
    t.add(reply(OFFER, 9, "198.18.0.2", 1 * ms, "198.18.0.150"));
    t.add(reply(OFFER, 9, "198.18.0.1", 2 * ms, "198.18.0.110"));
    const [c] = t.summary().clients;
    // before: address .150 (the first offer's) with server .1 (the last replier's)
    expect(c).toMatchObject({ outcome: "offered", address: "198.18.0.150", server: "198.18.0.2" });
    expect(c!.offers).toEqual([
      { address: "198.18.0.150", server: "198.18.0.2" },
      { address: "198.18.0.110", server: "198.18.0.1" },
    ]);
    t.add(ask(REQUEST, 9, 3 * ms));
    t.add(reply(ACK, 9, "198.18.0.1", 4 * ms, "198.18.0.110"));
    expect(t.summary().clients[0]).toMatchObject({ outcome: "acked", address: "198.18.0.110", server: "198.18.0.1" });
  });

  test("exchange counts add up, while open and once every exchange is closed", () => {
    const t = new ConversationTracker(null, { idleTimeoutMs: 1000 });
    const who = (n: number) => Uint8Array.of(2, 0, 0, 0, 1, n);
    const script: SeenPacket[] = [
      ask(DISCOVER, 1, 0, who(1)),
      reply(OFFER, 1, "198.18.0.1", 1 * ms, undefined, who(1)), // a probe: offered only
      ask(REQUEST, 2, 0, who(2)),
      reply(ACK, 2, "198.18.0.1", 1 * ms, undefined, who(2)), // acked
      ask(REQUEST, 3, 0, who(3)),
      reply(NAK, 3, "198.18.0.1", 1 * ms, undefined, who(3)), // NAKed
      ask(DISCOVER, 4, 0, who(4)), // unanswered
      ask(RELEASE, 5, 0, who(5)),
      ask(DECLINE, 6, 0, who(6)), // no reply expected
      reply(ACK, 7, "198.18.0.1", 1 * ms, undefined, who(7)), // the capture began mid-exchange
      ask(DISCOVER, 8, 0, who(8)),
      reply(OFFER, 8, "198.18.0.1", 1 * ms, undefined, who(8)),
      ask(REQUEST, 8, 2 * ms, who(8)), // still open
    ];
    for (const p of script) t.add(p);
    const sum = (c: ReturnType<ConversationTracker["summary"]>["conversations"]) =>
      c.acked + c.naked + c.offered + c.unanswered + c.released + c.declined + c.other + c.open;
    const open = t.summary().conversations;
    expect(open).toMatchObject({ total: 8, acked: 2, naked: 1, released: 1, declined: 1, open: 3 });
    expect(sum(open)).toBe(open.total);
    t.expire(10_000 * ms);
    const closed = t.summary().conversations;
    expect(closed).toEqual({ total: 8, acked: 2, naked: 1, offered: 1, unanswered: 2, released: 1, declined: 1, other: 0, open: 0, evicted: 0 });
    expect(sum(closed)).toBe(closed.total);
  });
});
