// Capture files: our pcap writer against byte fixtures, our reader against files built by
// hand (both byte orders, nanoseconds, pcapng), damaged files and random bytes. tshark and
// editcap reading what we write (and we theirs) is in test/lab/pcap-tshark.test.ts.

import { describe, expect, test } from "bun:test";
import { decodePcap, encodePcap, encodePcapHeader, encodePcapRecord, PCAP_LINKTYPE_ETHERNET, type PcapDecodeResult } from "../../core/pcap.ts";
import { fromHex, toHex } from "../../core/bytes.ts";
import { seededRandom } from "../../core/load-plan.ts";
import { offerFrame } from "./helpers.ts";
import { concat, dhcpPackets, epb, expectSamePackets, handPcap, handPcapng, idb, ok, shb, spb, summary, T0 } from "./pcap-fixtures.ts";

// ---- writer ----

describe("pcap writer", () => {
  test("the global header, field by field", () => {
    expect(toHex(encodePcapHeader(), " ")).toBe(
      [
        "d4 c3 b2 a1", // magic 0xa1b2c3d4 little-endian: microsecond timestamps
        "02 00 04 00", // version 2.4
        "00 00 00 00", // thiszone: UTC
        "00 00 00 00", // sigfigs
        "00 00 04 00", // snaplen 262144
        "01 00 00 00", // linktype 1: Ethernet
      ].join(" "),
    );
    expect(toHex(encodePcapHeader({ snaplen: 1500, linktype: 113 })).slice(32)).toBe("dc05000071000000");
  });

  test("a record header, field by field", () => {
    expect(toHex(encodePcapRecord(Uint8Array.of(0xaa, 0xbb, 0xcc), 1_700_000_000_123_456n, 60), " ")).toBe(
      [
        "00 f1 53 65", // ts_sec 1700000000
        "40 e2 01 00", // ts_usec 123456
        "03 00 00 00", // incl_len
        "3c 00 00 00", // orig_len 60
        "aa bb cc",
      ].join(" "),
    );
  });

  test("a number and a bigint timestamp write the same record", () => {
    const f = offerFrame();
    expect(toHex(encodePcapRecord(f, T0))).toBe(toHex(encodePcapRecord(f, BigInt(T0))));
  });

  test("the whole file is the header and the records in order", () => {
    const pk = dhcpPackets();
    const file = encodePcap(pk, { snaplen: 4096 });
    const records = pk.map((p) => encodePcapRecord(p.data, p.timestampUs, p.originalLength));
    expect(toHex(file)).toBe(toHex(concat(encodePcapHeader({ snaplen: 4096 }), ...records)));
  });

  test("a caller's mistakes throw instead of writing a file nobody can read", () => {
    const f = offerFrame();
    expect(() => encodePcapRecord(f, -1)).toThrow(RangeError);
    expect(() => encodePcapRecord(f, 1.5)).toThrow(RangeError);
    expect(() => encodePcapRecord(f, 2n ** 32n * 1_000_000n)).toThrow(RangeError); // past 2106
    expect(() => encodePcapRecord(f, 0, f.length - 1)).toThrow(RangeError);
    expect(() => encodePcap([{ data: f, timestampUs: 0 }], { snaplen: 100 })).toThrow(/snaplen 100/);
    expect(() => encodePcapHeader({ snaplen: -1 })).toThrow(RangeError);
  });
});

// ---- classic reader ----

describe("pcap reader", () => {
  test("round trip: three DHCP frames come back with their bytes, timestamps and lengths", () => {
    const pk = dhcpPackets();
    const r = ok(decodePcap(encodePcap(pk)));
    expect(r.format).toBe("pcap");
    expect(r.linktype).toBe(PCAP_LINKTYPE_ETHERNET);
    expect(r.warnings).toEqual([]);
    expectSamePackets(r.packets, pk);
    expect(r.packets[2].originalLength).toBe(1500);
    expect(r.packets[0].interfaceId).toBeUndefined();
  });

  test("packets are views into the input, and a file inside a larger buffer reads the same", () => {
    const file = encodePcap(dhcpPackets());
    const big = new Uint8Array(file.length + 11);
    big.set(file, 5);
    const sliced = big.subarray(5, 5 + file.length);
    const r = ok(decodePcap(sliced));
    expect(r.packets.map(summary)).toEqual(ok(decodePcap(file)).packets.map(summary));
    for (const p of r.packets) expect(p.data.buffer).toBe(big.buffer);
  });

  test("an empty capture (header only) has no packets and no warnings", () => {
    const r = ok(decodePcap(encodePcapHeader()));
    expect(r.packets).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  const handPackets = () =>
    dhcpPackets().map((p) => {
      const us = Number(p.timestampUs);
      return { data: p.data, sec: Math.floor(us / 1e6), frac: us % 1e6, orig: p.originalLength };
    });

  test("a big-endian file (magic a1 b2 c3 d4 on disk) reads the same", () => {
    const be = handPcap(false, 0xa1b2c3d4, handPackets());
    expect(toHex(be.subarray(0, 4))).toBe("a1b2c3d4");
    const r = ok(decodePcap(be));
    expectSamePackets(r.packets, dhcpPackets());
    expect(r.warnings).toEqual([]);
  });

  test("nanosecond files, either byte order, read the same (ns cut to µs)", () => {
    const ns = handPackets().map((p) => ({ ...p, frac: p.frac * 1000 + 999 }));
    for (const le of [true, false]) {
      const r = ok(decodePcap(handPcap(le, 0xa1b23c4d, ns)));
      expectSamePackets(r.packets, dhcpPackets());
    }
  });

  test("the link type is read; FCS flags in its upper bits are not part of it", () => {
    const f = encodePcap([{ data: offerFrame(), timestampUs: 0 }], { linktype: 113 });
    expect(ok(decodePcap(f)).linktype).toBe(113);
    f[23] = 0x14; // FCS present, 4 bytes (bits 28 and 26)
    expect(ok(decodePcap(f)).linktype).toBe(113);
  });

  test("what is not a pcap is an error, not a throw", () => {
    for (let n = 0; n < 4; n++) expect(decodePcap(new Uint8Array(n))).toMatchObject({ ok: false, error: { kind: "short" } });
    expect(decodePcap(fromHex("7f454c46 02010100")!)).toMatchObject({ ok: false, error: { kind: "bad-magic", offset: 0 } });
    const v3 = encodePcapHeader();
    v3[4] = 3;
    expect(decodePcap(v3)).toMatchObject({ ok: false, error: { kind: "bad-version", offset: 4 } });
  });

  test("cut inside the global header: an error at every length", () => {
    const file = encodePcap(dhcpPackets());
    for (let n = 4; n < 24; n++) {
      expect(decodePcap(file.subarray(0, n))).toMatchObject({ ok: false, error: { kind: "truncated-header", offset: n } });
    }
  });

  test("cut anywhere after the header: the whole records before it and a warning if a record was cut", () => {
    const pk = dhcpPackets();
    const file = encodePcap(pk);
    const ends: number[] = []; // where each record ends
    let end = 24;
    for (const p of pk) ends.push((end += 16 + p.data.length));
    for (let n = 24; n <= file.length; n++) {
      const r = ok(decodePcap(file.subarray(0, n)));
      const whole = ends.filter((e) => e <= n).length;
      expectSamePackets(r.packets, pk.slice(0, whole));
      const atBoundary = n === 24 || ends.includes(n);
      expect(r.warnings.map((w) => w.kind)).toEqual(atBoundary ? [] : ["truncated-record"]);
      if (!atBoundary) expect(r.warnings[0].offset).toBe(whole ? ends[whole - 1] : 24);
    }
  });

  test("a record over the snaplen stops reading there (its length cannot be trusted)", () => {
    const small = Uint8Array.of(1, 2, 3);
    const file = handPcap(
      true,
      0xa1b2c3d4,
      [
        { data: small, sec: 1, frac: 0 },
        { data: offerFrame(), sec: 2, frac: 0 },
        { data: small, sec: 3, frac: 0 },
      ],
      100,
    );
    const r = ok(decodePcap(file));
    expect(r.packets.map((p) => toHex(p.data))).toEqual(["010203"]);
    expect(r.warnings).toMatchObject([{ kind: "record-too-long", offset: 24 + 16 + 3 + 8 }]);
  });

  test("snaplen 0 in the header means libpcap's maximum, 262144", () => {
    const big = new Uint8Array(262144);
    const ok262144 = ok(decodePcap(handPcap(true, 0xa1b2c3d4, [{ data: big, sec: 0, frac: 0 }], 0)));
    expect(ok262144.packets).toHaveLength(1);
    const over = ok(decodePcap(handPcap(true, 0xa1b2c3d4, [{ data: new Uint8Array(262145), sec: 0, frac: 0 }], 0)));
    expect(over.packets).toHaveLength(0);
    expect(over.warnings.map((w) => w.kind)).toEqual(["record-too-long"]);
  });
});

// ---- pcapng reader ----

describe("pcapng reader", () => {
  for (const le of [true, false]) {
    test(`SHB, IDB (if_tsresol 9: ns), 2 EPBs, an unknown block, 1 SPB — ${le ? "little" : "big"}-endian`, () => {
      const { file, want } = handPcapng(le);
      const r = ok(decodePcap(file));
      expect(r.format).toBe("pcapng");
      expect(r.linktype).toBe(1);
      expect(r.warnings).toEqual([]);
      expect(r.packets.map(summary)).toEqual(want);
    });
  }

  test("if_tsresol 10^-n and 2^-n, its default 10^-6, and if_tsoffset", () => {
    const f = offerFrame();
    const tsOf = (opts: Parameters<typeof idb>[2], units: bigint) =>
      ok(decodePcap(concat(shb(true), idb(true, 1, opts), epb(true, 0, units, f)))).packets[0].timestampUs;
    expect(tsOf({}, 1_700_000_000_123_456n)).toBe(1_700_000_000_123_456);
    expect(tsOf({ tsresol: 6 }, 1_700_000_000_123_456n)).toBe(1_700_000_000_123_456);
    expect(tsOf({ tsresol: 3 }, 1_700_000_000_123n)).toBe(1_700_000_000_123_000);
    expect(tsOf({ tsresol: 0 }, 1_700_000_000n)).toBe(1_700_000_000_000_000);
    expect(tsOf({ tsresol: 0x80 | 10 }, 1_700_000_000n * 1024n + 512n)).toBe(1_700_000_000_500_000); // 2^-10 s
    expect(tsOf({ tsresol: 0x80 | 20 }, 3n)).toBe(2); // 3 µ-ish units of 2^-20 s = 2.86 µs, cut
    expect(tsOf({ tsresol: 9, tsoffset: 1_000n }, 5_000n)).toBe(1_000_000_005);
  });

  test("a time past 2^53 µs (or before 1970) is shown as 0 with a warning, never an Invalid Date (fuzz)", () => {
    const f = offerFrame();
    const r = ok(decodePcap(concat(shb(true), idb(true, 1), epb(true, 0, 0xffffffff_00000000n, f), epb(true, 0, 5n, f))));
    expect(r.packets.map((p) => p.timestampUs)).toEqual([0, 5]);
    expect(r.warnings).toMatchObject([{ kind: "bad-timestamp" }]);
    const neg = ok(decodePcap(concat(shb(true), idb(true, 1, { tsoffset: -10n }), epb(true, 0, 1n, f))));
    expect(neg.packets[0].timestampUs).toBe(0);
  });

  test("interfaces: packets name theirs and carry its link type (what they are is the frame decoder's)", () => {
    const f = offerFrame();
    const file = concat(
      shb(true),
      idb(true, 1),
      idb(true, 113), // Linux cooked capture
      epb(true, 1, 1n, f),
      epb(true, 0, 2n, f),
      epb(true, 1, 3n, f),
    );
    const r = ok(decodePcap(file));
    expect(r.linktype).toBe(1);
    expect(r.packets.map((p) => [p.interfaceId, p.timestampUs, p.linktype])).toEqual([
      [1, 1, 113],
      [0, 2, 1],
      [1, 3, 113],
    ]);
    expect(r.warnings).toEqual([]);
  });

  test("a second section (other byte order) numbers its interfaces after the first section's", () => {
    const f = offerFrame();
    const file = concat(shb(true), idb(true, 1), epb(true, 0, 1n, f), shb(false), idb(false, 1), epb(false, 0, 2n, f));
    const r = ok(decodePcap(file));
    expect(r.packets.map((p) => [p.interfaceId, p.timestampUs])).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(r.warnings).toEqual([]);
    // the first section's interface is not the second's
    const stray = concat(shb(true), idb(true, 1), shb(true), epb(true, 0, 1n, f));
    expect(ok(decodePcap(stray)).warnings).toMatchObject([{ kind: "unknown-interface" }]);
  });

  test("a file that describes no interface has link type -1; a packet needs one", () => {
    expect(ok(decodePcap(shb(true)))).toMatchObject({ linktype: -1, packets: [], warnings: [] });
    const r = ok(decodePcap(concat(shb(true), spb(true, offerFrame()))));
    expect(r.warnings).toMatchObject([{ kind: "unknown-interface" }]);
    expect(r.packets).toEqual([]);
  });

  test("a simple packet is cut to the interface snaplen and keeps its original length", () => {
    const f = offerFrame();
    const r = ok(decodePcap(concat(shb(true), idb(true, 1, { snaplen: 64 }), spb(true, f.subarray(0, 64), f.length))));
    expect(r.packets.map(summary)).toEqual([{ hex: toHex(f.subarray(0, 64)), timestampUs: 0, originalLength: f.length, index: 0, interfaceId: 0 }]);
  });

  describe("a damaged block stops reading with a warning; the packets before it stay", () => {
    const { file, want, offsets } = handPcapng(true);
    const secondEpb = offsets[4];
    const secondEpbLength = offsets[5] - offsets[4];
    const withLength = (at: number, value: number) => {
      const f = file.slice();
      new DataView(f.buffer).setUint32(at, value, true);
      return f;
    };
    const cases: [string, Uint8Array, string, number][] = [
      ["length under 12", withLength(secondEpb + 4, 8), "bad-block-length", secondEpb + 4],
      ["length not a multiple of 4", withLength(secondEpb + 4, 13), "bad-block-length", secondEpb + 4],
      ["length past the end", withLength(secondEpb + 4, 4096), "truncated-block", secondEpb],
      // a streaming reader cannot know where the file ends: it will not hold such a block
      ["length over what a packet block can take", withLength(secondEpb + 4, 0x7ffffff0), "block-too-long", secondEpb + 4],
      ["trailing length differs", withLength(secondEpb + 4, secondEpbLength - 4), "bad-block-length", secondEpb + secondEpbLength - 8],
      ["file cut inside the block", file.subarray(0, secondEpb + 40), "truncated-block", secondEpb],
      ["file cut inside the block header", file.subarray(0, secondEpb + 6), "truncated-block", secondEpb],
      ["captured length past the block", withLength(secondEpb + 20, 400), "bad-packet-length", secondEpb + 20],
      ["interface 5 of 1", withLength(secondEpb + 8, 5), "unknown-interface", secondEpb + 8],
    ];
    for (const [name, bytes, kind, offset] of cases) {
      test(name, () => {
        const r = ok(decodePcap(bytes));
        expect(r.packets.map(summary)).toEqual(want.slice(0, 1));
        expect(r.warnings).toMatchObject([{ kind, offset }]);
      });
    }
    test("an unreadable section header is an error", () => {
      expect(decodePcap(file.subarray(0, 11))).toMatchObject({ ok: false, error: { kind: "truncated-header" } });
      expect(decodePcap(file.subarray(0, 20))).toMatchObject({ ok: false, error: { kind: "truncated-header" } });
      expect(decodePcap(withLength(4, 30))).toMatchObject({ ok: false, error: { kind: "bad-block-length" } });
      expect(decodePcap(withLength(4, 24))).toMatchObject({ ok: false, error: { kind: "bad-block-length" } });
      expect(decodePcap(withLength(8, 0x1a2b3c4e))).toMatchObject({ ok: false, error: { kind: "bad-magic", offset: 8 } });
      expect(decodePcap(concat(shb(true, 2), idb(true, 1)))).toMatchObject({ ok: false, error: { kind: "bad-version" } });
    });
  });
});

// ---- hostile input ----

/** What must hold for any input: no throw, and packets that are views inside the input. */
function checkAnyInput(input: Uint8Array) {
  let r: PcapDecodeResult | undefined;
  expect(() => {
    r = decodePcap(input);
  }).not.toThrow();
  if (!r!.ok) {
    expect(typeof r!.error.reason).toBe("string");
    return 0;
  }
  r!.packets.forEach((p, i) => {
    expect(p.index).toBe(i);
    expect(p.data.buffer).toBe(input.buffer);
    expect(p.data.byteOffset).toBeGreaterThanOrEqual(input.byteOffset);
    expect(p.data.byteOffset + p.data.length).toBeLessThanOrEqual(input.byteOffset + input.length);
  });
  return r!.packets.length;
}

describe("random and mutated input never throws", () => {
  const magics = ["d4c3b2a1", "a1b2c3d4", "4d3cb2a1", "a1b23c4d", "0a0d0d0a", "0a0d0d0a1c0000004d3c2b1a", "0a0d0d0a0000001c1a2b3c4d"].map((h) => fromHex(h)!);

  test("10,000 random buffers, most starting with a capture magic", () => {
    const rnd = seededRandom(1);
    const byte = () => Math.floor(rnd() * 256);
    for (let i = 0; i < 10_000; i++) {
      const b = new Uint8Array(Math.floor(rnd() * 200));
      for (let k = 0; k < b.length; k++) b[k] = i % 3 === 0 ? byte() : byte() & (rnd() < 0.7 ? 0x1f : 0xff); // small numbers make plausible lengths
      if (i % 8 !== 0) b.set(magics[i % magics.length].subarray(0, b.length));
      checkAnyInput(b);
    }
  });

  test("10,000 mutations of valid pcap and pcapng files", () => {
    const rnd = seededRandom(2);
    const int = (n: number) => Math.floor(rnd() * n);
    const interesting = [0, 1, 3, 4, 8, 11, 12, 13, 16, 20, 28, 0x7fffffff, 0xffffffff, 262144, 262145];
    const bases = [
      encodePcap(dhcpPackets()),
      handPcap(false, 0xa1b23c4d, [
        { data: offerFrame(), sec: 1, frac: 2 },
        { data: Uint8Array.of(1), sec: 1, frac: 3 },
      ]),
      handPcapng(true).file,
      handPcapng(false).file,
      concat(
        shb(true),
        idb(true, 1, { tsresol: 0x80 | 30, tsoffset: -5n }),
        idb(true, 113),
        epb(true, 1, 5n, offerFrame()),
        shb(false),
        idb(false, 1),
        spb(false, offerFrame()),
      ),
    ];
    let packets = 0;
    for (let i = 0; i < 10_000; i++) {
      const base = bases[i % bases.length];
      let b: Uint8Array = base.slice();
      for (let m = 1 + int(4); m > 0; m--) {
        const at = int(b.length);
        switch (int(4)) {
          case 0:
            b[at] = int(256);
            break;
          case 1:
            if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at & ~3, interesting[int(interesting.length)], rnd() < 0.5);
            break;
          case 2:
            b = b.subarray(0, at);
            break;
          case 3:
            b = concat(b.subarray(0, at), b.subarray(int(b.length)));
            break; // splice a tail from elsewhere
        }
      }
      packets += checkAnyInput(b);
    }
    expect(packets).toBeGreaterThan(5_000); // the mutations left much of the files readable
  });
});
