// 802.1Q tags in core/frame.ts: tagFrame puts the 4 bytes a trunk carries after the MAC
// addresses, vlanTag reads a TCI back; byte fixtures with a comment per field.
import { describe, expect, test } from "bun:test";
import { insertVlanTag, parseUdpFrame, TPID_8021AD, TPID_8021Q, tagFrame, vlanTag } from "../../core/frame.ts";
import { offerFrame } from "./helpers.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("tagFrame", () => {
  const frame = Uint8Array.from([
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // destination MAC
    ...[0x02, 0x00, 0x5e, 0x00, 0x00, 0x01], // source MAC
    ...[0x08, 0x00], // ethertype IPv4
    ...[0x45, 0x10], // the start of the IPv4 header
  ]);

  test("VLAN 10, priority 5: TPID 8100, then PCP|DEI|VID = 101 0 000000001010", () => {
    expect(hex(tagFrame(frame, 10, 5))).toBe("ffffffffffff" + "02005e000001" + "8100" + "a00a" + "0800" + "4510");
  });

  test("an 802.1ad tag, the largest VID and priority; a priority tag (VID 0)", () => {
    expect(hex(tagFrame(frame, 4095, 7, TPID_8021AD).subarray(12, 18))).toBe("88a8" + "efff" + "0800");
    expect(hex(tagFrame(frame, 0, 6).subarray(12, 18))).toBe("8100" + "c000" + "0800");
  });

  test("defaults: priority 0, TPID 8100; the input is not touched; a view of a larger buffer tags the same", () => {
    const before = hex(frame);
    expect(hex(tagFrame(frame, 1).subarray(12, 16))).toBe("8100" + "0001");
    expect(hex(frame)).toBe(before);
    const big = new Uint8Array(40);
    big.set(frame, 7);
    expect(hex(tagFrame(big.subarray(7, 7 + frame.length), 10, 5))).toBe(hex(tagFrame(frame, 10, 5)));
  });

  test("the tag leaves the rest intact: taking the 4 bytes out gives back a frame that still parses", () => {
    const offer = offerFrame();
    const tagged = tagFrame(offer, 300, 3);
    expect(tagged.length).toBe(offer.length + 4);
    const untagged = new Uint8Array([...tagged.subarray(0, 12), ...tagged.subarray(16)]);
    expect(hex(untagged)).toBe(hex(offer));
    expect(parseUdpFrame(untagged, { csum: "unknown", dstPort: 68 }).ok).toBe(true);
    // Tagged, the frame is not IPv4 at offset 12: the receive path sees tags only as metadata.
    expect(parseUdpFrame(tagged, { csum: "unknown", dstPort: 68 })).toEqual({ ok: false, reason: "not-ipv4" });
  });

  test("what it cannot encode is a RangeError that says why", () => {
    expect(() => tagFrame(frame.subarray(0, 13), 1)).toThrow(/13 bytes has no Ethernet header/);
    expect(() => tagFrame(frame, 4096)).toThrow(/VLAN id 4096 is not 0-4095/);
    expect(() => tagFrame(frame, -1)).toThrow(/VLAN id -1/);
    expect(() => tagFrame(frame, 1.5)).toThrow(/VLAN id 1.5/);
    expect(() => tagFrame(frame, 1, 8)).toThrow(/priority 8 is not 0-7/);
    expect(() => tagFrame(frame, 1, 0, 0x5dc)).toThrow(/TPID 1500 is not an ethertype/);
    expect(() => tagFrame(frame, 1, 0, 0x10000)).toThrow(/TPID 65536/);
  });
});

describe("insertVlanTag", () => {
  test("puts TPID and TCI back as given, DEI included, in front of the ethertype", () => {
    const frame = Uint8Array.from([...new Array(12).fill(0xaa), 0x08, 0x00, 0x45]);
    expect(hex(insertVlanTag(frame, 0x9100, 0xb00a))).toBe("aa".repeat(12) + "9100" + "b00a" + "0800" + "45");
    expect(hex(insertVlanTag(frame, TPID_8021Q, 0xa00a))).toBe(hex(tagFrame(frame, 10, 5)));
  });
});

describe("vlanTag", () => {
  test("splits a TCI into VID and PCP, ignoring DEI", () => {
    expect(vlanTag(0xa00a, TPID_8021Q)).toEqual({ id: 10, pcp: 5, tpid: 0x8100 });
    expect(vlanTag(0xffff, TPID_8021AD)).toEqual({ id: 4095, pcp: 7, tpid: 0x88a8 });
    expect(vlanTag(0x1000, TPID_8021Q)).toEqual({ id: 0, pcp: 0, tpid: 0x8100 }); // DEI alone
  });

  test("reads back what tagFrame wrote, for every PCP and a spread of VIDs", () => {
    for (let pcp = 0; pcp < 8; pcp++) {
      for (const id of [0, 1, 2, 100, 1000, 4094, 4095]) {
        const t = tagFrame(new Uint8Array(14), id, pcp, TPID_8021AD);
        expect(vlanTag((t[14]! << 8) | t[15]!, (t[12]! << 8) | t[13]!)).toEqual({ id, pcp, tpid: TPID_8021AD });
      }
    }
  });
});
