// A decoded message reads its header addresses and chaddr from the bytes when asked; to a
// caller it must look like the plain object it was: the same values, the same JSON.

import { describe, expect, test } from "bun:test";
import { ipFromBytes, toHex, u32ToIp } from "../../core/bytes.ts";
import { decodeBootp, decodeMessage, encodeMessage } from "../../core/message.ts";

const CHADDR = Uint8Array.of(0x02, 0, 0, 0, 0x0d, 0x01);

function message() {
  const bytes = encodeMessage({
    op: 2,
    xid: 0x01020304,
    secs: 7,
    flags: 0x8000,
    hops: 1,
    chaddr: CHADDR,
    ciaddr: "198.18.0.9",
    yiaddr: "198.18.0.100",
    siaddr: "198.18.0.1",
    giaddr: "198.18.1.1",
    sname: "server",
    file: "boot.img",
    options: [{ code: 53, data: Uint8Array.of(5) }],
  });
  const r = decodeMessage(bytes);
  if (!r.ok) throw new Error(r.error.reason);
  return { bytes, m: r.message };
}

describe("decoded message fields", () => {
  test("every header field reads as written, chaddr as its 16 wire bytes, the same copy each time", () => {
    const { m } = message();
    expect([m.op, m.htype, m.hlen, m.hops, m.xid, m.secs, m.flags]).toEqual([2, 1, 6, 1, 0x01020304, 7, 0x8000]);
    expect([m.ciaddr, m.yiaddr, m.siaddr, m.giaddr]).toEqual(["198.18.0.9", "198.18.0.100", "198.18.0.1", "198.18.1.1"]);
    expect([m.sname, m.file]).toEqual(["server", "boot.img"]);
    expect(toHex(m.chaddr)).toBe(toHex(CHADDR) + "00".repeat(10));
    expect(m.chaddr).toBe(m.chaddr);
  });

  test("JSON carries every field, as the plain object did", () => {
    const { m } = message();
    const json = JSON.parse(JSON.stringify(m));
    expect(Object.keys(json).sort()).toEqual(
      ["op", "htype", "hlen", "hops", "xid", "secs", "flags", "ciaddr", "yiaddr", "siaddr", "giaddr", "chaddr", "sname", "file", "options"].sort(),
    );
    expect(json).toMatchObject({ xid: 0x01020304, ciaddr: "198.18.0.9", yiaddr: "198.18.0.100", siaddr: "198.18.0.1", giaddr: "198.18.1.1", sname: "server" });
    expect(json.chaddr["4"]).toBe(0x0d);
  });

  test("toMatchObject and destructuring see the address fields", () => {
    const { m } = message();
    expect(m).toMatchObject({ giaddr: "198.18.1.1", hops: 1 });
    const { yiaddr, chaddr } = m;
    expect(yiaddr).toBe("198.18.0.100");
    expect(chaddr.length).toBe(16);
  });

  test("a BOOTP message (no cookie) reads the same way", () => {
    const { bytes } = message();
    const bootp = bytes.slice(0, 300);
    bootp.fill(0, 236);
    const b = decodeBootp(bootp)!;
    expect([b.message.yiaddr, b.message.giaddr, b.message.xid]).toEqual(["198.18.0.100", "198.18.1.1", 0x01020304]);
    expect(b.message.options.size).toBe(0);
  });
});

describe("address text", () => {
  test("remembered strings never answer for another address: collisions, 0, 255.255.255.255, signed values", () => {
    const expectText = (v: number) => {
      const b = Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
      const want = `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
      expect(ipFromBytes(b, 0)).toBe(want);
      expect(u32ToIp(v >>> 0)).toBe(want);
      expect(u32ToIp(v | 0)).toBe(want);
    };
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5000; i++) expectText(Math.imul(i, 0x9e3779b1) >>> 0); // spread: many collisions
      for (let i = 0; i < 600; i++) expectText(0xc0a80800 + i); // one subnet, consecutive
      for (const v of [0, 0xffffffff, 0x80000000, 0x7fffffff, 1, 256]) expectText(v);
    }
  });
});
