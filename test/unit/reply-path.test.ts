// Where replies reach us with --server and --giaddr: a client's port 68 (to chaddr or
// broadcast), or a relay's giaddr:67 in a frame to the interface's MAC (chaddr may be another,
// --mac random); and the collector keeping only --server's offers.

import { describe, expect, test } from "bun:test";
import { parseMac } from "../../core/bytes.ts";
import { OfferCollector } from "../../core/offers.ts";
import { clientReplyPath, fromServer, parseReplyFrame, relayReplyPath } from "../../core/reply.ts";
import { BROADCAST_MAC, buildUdpFrame } from "../../core/frame.ts";
import { CLIENT_MAC, OFFER_OPTIONS, SERVER_MAC, XID, ip4, offerFrame, offerPayload } from "./helpers.ts";

const IFACE_MAC = parseMac("02:00:00:00:00:aa")!;
const GIADDR = "198.18.0.5";

/** The server's answer to a relay: from server:67 to giaddr:67, in a frame to the relay's MAC. */
function toRelay(over: { dstMac?: Uint8Array; dstIp?: string; dstPort?: number; srcIp?: string; payload?: Uint8Array } = {}): Uint8Array {
  return buildUdpFrame({
    srcMac: SERVER_MAC,
    dstMac: over.dstMac ?? IFACE_MAC,
    srcIp: over.srcIp ?? "198.18.0.1",
    dstIp: over.dstIp ?? GIADDR,
    srcPort: 67,
    dstPort: over.dstPort ?? 67,
    payload: over.payload ?? offerPayload(),
    ttl: 64,
  });
}

describe("parseReplyFrame", () => {
  const relay = relayReplyPath(GIADDR, IFACE_MAC);

  test("relay path: giaddr:67 in a frame to the interface's MAC passes", () => {
    const r = parseReplyFrame({ bytes: toRelay(), csum: "unknown" }, relay);
    expect(r.ok).toBe(true);
    if (r.ok) expect([r.frame.dstIp, r.frame.dstPort]).toEqual([GIADDR, 67]);
  });

  test.each([
    ["a frame to chaddr, not the interface's MAC", { dstMac: CLIENT_MAC }, "not-for-us"],
    ["another client's broadcast to port 67 (a relay hears those too)", { dstMac: BROADCAST_MAC, dstIp: "255.255.255.255" }, "not-to-giaddr"],
    ["to the interface's MAC but another address", { dstIp: "198.18.0.6" }, "not-to-giaddr"],
    ["to giaddr, but the client port", { dstPort: 68 }, "wrong-port"],
  ] as const)("relay path drops %s", (_name, over, reason) => {
    const r = parseReplyFrame({ bytes: toRelay(over), csum: "unknown" }, relay);
    expect(r).toEqual({ ok: false, reason });
  });

  test("our own outgoing frames are dropped first", () => {
    expect(parseReplyFrame({ bytes: toRelay(), csum: "unknown", outgoing: true }, relay)).toEqual({ ok: false, reason: "outgoing" });
  });

  test("client path: port 68 to chaddr; a relay's port-67 answer is not a client's", () => {
    const path = clientReplyPath(CLIENT_MAC);
    expect(parseReplyFrame({ bytes: offerFrame(), csum: "unknown" }, path).ok).toBe(true);
    expect(parseReplyFrame({ bytes: toRelay({ dstMac: CLIENT_MAC }), csum: "unknown" }, path)).toEqual({ ok: false, reason: "wrong-port" });
  });
});

describe("OfferCollector with --giaddr and --server", () => {
  test("relay: the OFFER to giaddr is collected with chaddr ≠ the interface's MAC; one to port 68 is not", () => {
    const c = new OfferCollector({ xid: XID, mac: CLIENT_MAC, startedAt: 0, replyPath: relayReplyPath(GIADDR, IFACE_MAC) });
    expect(c.accept({ bytes: offerFrame(offerPayload(), IFACE_MAC), csum: "unknown" }, 1)).toBeNull();
    const offer = c.accept({ bytes: toRelay(), csum: "unknown" }, 2);
    expect(offer).toMatchObject({ serverId: "198.18.0.1", sourceIp: "198.18.0.1", yiaddr: "198.18.0.100" });
    expect(c.drops.toJSON()).toEqual({ "wrong-port": 1 });
  });

  test("--server: another server's OFFER is dropped as other-server, never rogue; the server's own is kept", () => {
    const allow = { ips: new Set(["198.18.0.1"]), macs: new Set<string>() };
    const c = new OfferCollector({ xid: XID, mac: CLIENT_MAC, startedAt: 0, allow, server: "198.18.0.1" });
    const otherOptions = OFFER_OPTIONS.map((o) => (o.code === 54 ? { code: 54, data: ip4("198.18.0.2") } : o));
    const other = buildUdpFrame({
      srcMac: SERVER_MAC,
      dstMac: CLIENT_MAC,
      srcIp: "198.18.0.2",
      dstIp: "198.18.0.150",
      srcPort: 67,
      dstPort: 68,
      payload: offerPayload({ options: otherOptions }),
      ttl: 64,
    });
    expect(c.accept({ bytes: other, csum: "unknown" }, 1)).toBeNull();
    expect(c.accept({ bytes: offerFrame(), csum: "unknown" }, 2)).toMatchObject({ serverId: "198.18.0.1", rogue: false });
    expect(c.offers).toHaveLength(1);
    expect(c.drops.toJSON()).toEqual({ "other-server": 1 });
  });

  test("fromServer: by server id or by source address", () => {
    expect(fromServer("198.18.0.1", "198.18.0.1", "198.18.0.9")).toBe(true);
    expect(fromServer("198.18.0.1", "198.18.0.77", "198.18.0.1")).toBe(true);
    expect(fromServer("198.18.0.1", null, "198.18.0.1")).toBe(true);
    expect(fromServer("198.18.0.1", "198.18.0.2", "198.18.0.2")).toBe(false);
    expect(fromServer("198.18.0.1", null, "198.18.0.2")).toBe(false);
  });
});
