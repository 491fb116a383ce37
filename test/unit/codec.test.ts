import { describe, expect, test } from "bun:test";
import { fold, ipv4HeaderChecksum, sum16 } from "../../core/checksum.ts";
import { decodeMessage, encodeMessage, encodingLength, getIp, getIps, getU32, messageType, BOOTREQUEST } from "../../core/message.ts";
import { parseUdpFrame } from "../../core/frame.ts";
import { buildDiscover, frameClientMessage, DEFAULT_REQUEST_LIST } from "../../core/client.ts";
import { fromHex, parseIp, toHex } from "../../core/bytes.ts";
import { decodeOption } from "../../core/options.ts";
import { CLIENT_MAC, OFFER_OPTIONS, offerFrame, offerPayload, XID } from "./helpers.ts";

describe("checksums", () => {
  test("IPv4 header checksum of a known header is 0x78ae", () => {
    const h = fromHex("45 00 02 40 00 00 00 00 40 11 00 00 00 00 00 00 ff ff ff ff")!;
    expect(ipv4HeaderChecksum(h, 0, 20)).toBe(0x78ae);
  });
  test("a header with its checksum filled in sums to 0xffff", () => {
    const h = fromHex("45 00 02 40 00 00 00 00 40 11 78 ae 00 00 00 00 ff ff ff ff")!;
    expect(fold(sum16(h, 0, 20))).toBe(0xffff);
  });
});

describe("dotted quads", () => {
  test("exactly four parts of 1-3 digits, each at most 255; anything else is null", () => {
    expect(parseIp("198.18.0.1")).toBe(0xc6120001);
    expect(parseIp("255.255.255.255")).toBe(0xffffffff);
    expect(parseIp("0.0.0.0")).toBe(0);
    expect(parseIp("001.02.3.004")).toBe(0x01020304);
    for (const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "1.2.3.256",
      "1.2..4",
      ".1.2.3",
      "1.2.3.",
      "1.2.3.4 ",
      " 1.2.3.4",
      "1.2.3.0004",
      "1.2.3.-4",
      "a.b.c.d",
      "1,2,3,4",
      "१.2.3.4",
    ]) {
      expect(parseIp(bad)).toBeNull();
    }
  });
});

describe("message codec", () => {
  test("encode → decode round trip keeps header fields and options", () => {
    const bytes = offerPayload();
    const r = decodeMessage(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const m = r.message;
    expect(m.op).toBe(2);
    expect(m.xid).toBe(XID);
    expect(m.yiaddr).toBe("198.18.0.100");
    expect(m.siaddr).toBe("198.18.0.1");
    expect(toHex(m.chaddr.subarray(0, 6))).toBe(toHex(CLIENT_MAC));
    expect(messageType(m)).toBe(2);
    expect(getIp(m, 54)).toBe("198.18.0.1");
    expect(getU32(m, 51)).toBe(3600);
    expect(getIps(m, 6)).toEqual(["198.18.0.1", "198.18.0.2"]);
    expect([...m.options.keys()]).toEqual(OFFER_OPTIONS.map((o) => o.code));
    expect(r.warnings).toEqual([]);
    // and back again: same bytes
    const again = encodeMessage({
      op: m.op,
      xid: m.xid,
      chaddr: m.chaddr.subarray(0, 6),
      yiaddr: m.yiaddr,
      siaddr: m.siaddr,
      options: [...m.options].map(([code, data]) => ({ code, data })),
    });
    expect(toHex(again)).toBe(toHex(bytes));
  });

  test("encodingLength equals the bytes written; encoding at an offset works", () => {
    const fields = { op: BOOTREQUEST, xid: 7, chaddr: CLIENT_MAC, options: [{ code: 43, data: new Uint8Array(600).fill(9) }] };
    const len = encodingLength(fields);
    expect(encodeMessage(fields).length).toBe(len);
    const big = new Uint8Array(len + 50).fill(0xee);
    encodeMessage(fields, big, 25);
    expect(big[24]).toBe(0xee);
    expect(big[25 + len]).toBe(0xee);
    const r = decodeMessage(big.subarray(25, 25 + len));
    expect(r.ok && r.message.options.get(43)?.length).toBe(600); // RFC 3396 split and rejoined
  });

  test("decoding from a sliced buffer equals decoding from a fresh one", () => {
    const bytes = offerPayload();
    const padded = new Uint8Array(bytes.length + 37);
    padded.set(bytes, 37);
    const sliced = padded.subarray(37);
    const a = decodeMessage(bytes);
    const b = decodeMessage(sliced);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(b.message.xid).toBe(a.message.xid);
    expect(getU32(b.message, 51)).toBe(3600);
    expect([...b.message.options].map(([c, d]) => [c, toHex(d)])).toEqual([...a.message.options].map(([c, d]) => [c, toHex(d)]));
  });

  test("RFC 3442 classless routes", () => {
    const r = decodeOption(121, fromHex("00 c0a80001 08 0a c0a80002 19 0ae50080 c0a80003")!);
    expect(r).toEqual({
      ok: true,
      value: [
        { destination: "0.0.0.0", prefix: 0, router: "192.168.0.1" },
        { destination: "10.0.0.0", prefix: 8, router: "192.168.0.2" },
        { destination: "10.229.0.128", prefix: 25, router: "192.168.0.3" },
      ],
    });
    expect(decodeOption(121, fromHex("21 0a000000 c0a80001")!).ok).toBe(false); // /33
    expect(decodeOption(121, fromHex("08 0a c0a8")!).ok).toBe(false); // router cut short
  });

  test("option 119 with a compression pointer", () => {
    // "lab.example" then "eu." + pointer to "example" (offset 4)
    const data = fromHex("03 6c6162 07 6578616d706c65 00 02 6575 c004")!;
    expect(decodeOption(119, data)).toEqual({ ok: true, value: ["lab.example", "eu.example"] });
    expect(decodeOption(119, fromHex("c000")!).ok).toBe(false); // points at itself
  });
});

describe("frames", () => {
  test("a DISCOVER is built as the seed builds it", () => {
    const dhcp = buildDiscover({ mac: CLIENT_MAC, hostname: "probe" }, { xid: XID });
    expect(dhcp.length).toBe(300);
    const r = decodeMessage(dhcp);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([r.message.op, r.message.htype, r.message.hlen]).toEqual([1, 1, 6]);
    expect([...r.message.options.keys()]).toEqual([53, 12, 61, 55]);
    expect(toHex(r.message.options.get(61)!)).toBe("01" + toHex(CLIENT_MAC));
    expect([...r.message.options.get(55)!]).toEqual(DEFAULT_REQUEST_LIST);
    const frame = frameClientMessage(CLIENT_MAC, dhcp);
    expect(toHex(frame.subarray(0, 6))).toBe("ffffffffffff");
    expect(frame[14 + 1]).toBe(0x10); // TOS low delay
    expect(frame[14 + 8]).toBe(128); // TTL
    const p = parseUdpFrame(frame, { csum: "unknown", dstPort: 67 });
    expect(p.ok && [p.frame.srcIp, p.frame.dstIp, p.frame.srcPort, p.frame.dstPort]).toEqual(["0.0.0.0", "255.255.255.255", 68, 67]);
  });

  test("frame round trip with verified checksums", () => {
    const frame = offerFrame();
    const p = parseUdpFrame(frame, { csum: "unknown", dstPort: 68, ourMac: CLIENT_MAC });
    expect(p.ok).toBe(true);
    if (p.ok) expect(toHex(p.frame.payload)).toBe(toHex(offerPayload()));
  });

  test("trailing bytes beyond the UDP length are trimmed, not trusted", () => {
    const frame = offerFrame();
    const longer = new Uint8Array(frame.length + 20).fill(0x41);
    longer.set(frame);
    const p = parseUdpFrame(longer, { csum: "unknown", dstPort: 68 });
    expect(p.ok && p.frame.payload.length).toBe(offerPayload().length);
  });
});
