// The streaming capture reader: chunks of any size read the same as the whole file; what it
// holds stays bounded (one record or block) however large the input; blocks it does not
// read are skipped without being held; and input that is no capture ends at once.

import { describe, expect, test } from "bun:test";
import { CaptureReader, MAX_WARNINGS } from "../../core/capture-reader.ts";
import { PCAP_MAX_SNAPLEN, type PcapPacket } from "../../core/capture-types.ts";
import { MAX_BLOCK_LEN } from "../../core/pcapng.ts";
import { decodePcap, encodePcap, encodePcapHeader, encodePcapRecord } from "../../core/pcap.ts";
import { toHex } from "../../core/bytes.ts";
import { buildCaptures } from "./capture-fixtures.ts";
import { block, concat, epb, idb, shb } from "./pcap-fixtures.ts";
import { offerFrame } from "./helpers.ts";

const summary = (p: PcapPacket) => ({ hex: toHex(p.data), ts: p.timestampUs, orig: p.originalLength, index: p.index, lt: p.linktype, ifId: p.interfaceId });

/** Feeds `bytes` in chunks of the sizes `sizes` gives (cycled); every packet copied out as it comes. */
function readInChunks(bytes: Uint8Array, sizes: number[]) {
  const r = new CaptureReader();
  const packets: ReturnType<typeof summary>[] = [];
  let most = 0; // packets out between two pushes: the reader hands them one at a time
  for (let off = 0, i = 0; off < bytes.length && !r.done; i++) {
    const n = sizes[i % sizes.length];
    r.push(bytes.subarray(off, off + n));
    off += n;
    let k = 0;
    for (let p = r.next(); p; p = r.next()) {
      packets.push(summary(p));
      k++;
    }
    most = Math.max(most, k);
  }
  r.end();
  for (let p = r.next(); p; p = r.next()) packets.push(summary(p));
  return { r, packets, most };
}

describe("chunks of any size read as the whole file does", () => {
  const files = buildCaptures();
  for (const name of ["ethernet.pcap", "ethernet-be-ns.pcap", "two-links.pcapng", "radiotap.pcap"]) {
    test(name, () => {
      const whole = decodePcap(files[name]);
      if (!whole.ok) throw new Error(whole.error.reason);
      const want = whole.packets.map(summary);
      for (const sizes of [[1], [3], [7, 1, 100], [16], [4096]]) {
        const got = readInChunks(files[name], sizes);
        expect(got.r.error).toBeNull();
        expect(got.r.warnings).toEqual([]);
        expect(got.packets).toEqual(want);
      }
    });
  }

  test("a cut file: the same warning at the same offset, whatever the chunks", () => {
    const file = files["two-links.pcapng"];
    const cut = file.subarray(0, file.length - 10);
    const whole = decodePcap(cut);
    if (!whole.ok) throw new Error(whole.error.reason);
    expect(whole.warnings).toMatchObject([{ kind: "truncated-block" }]);
    const got = readInChunks(cut, [5, 13]);
    expect(got.r.warnings).toEqual(whole.warnings);
    expect(got.packets).toEqual(whole.packets.map(summary));
  });
});

describe("memory stays bounded", () => {
  test("20,000 records in 64 KiB chunks: one record held at most, never the file", () => {
    const frame = offerFrame();
    const rec = encodePcapRecord(frame, 1_700_000_000_000_000);
    const file = new Uint8Array(24 + 20_000 * rec.length);
    file.set(encodePcapHeader());
    for (let i = 0; i < 20_000; i++) file.set(rec, 24 + i * rec.length);
    const { r, packets, most } = readInChunks(file, [65536]);
    expect(packets.length).toBe(20_000);
    expect(r.peakHeldBytes).toBeLessThanOrEqual(16 + frame.length); // a record cut between two chunks
    expect(most).toBeLessThanOrEqual(Math.ceil(65536 / rec.length) + 1);
  });

  test("records at the largest snaplen: held at most one", () => {
    const big = new Uint8Array(PCAP_MAX_SNAPLEN);
    const file = encodePcap([0, 1, 2].map((i) => ({ data: big, timestampUs: i })));
    const { r, packets } = readInChunks(file, [100_000]);
    expect(packets.length).toBe(3);
    expect(r.peakHeldBytes).toBeLessThanOrEqual(16 + PCAP_MAX_SNAPLEN);
  });

  test("a pcapng block we do not read is skipped by its length, not held (here 8 MiB)", () => {
    const le = true;
    const file = concat(shb(le), idb(le, 1), block(le, 0x0bad, new Uint8Array(8 << 20)), epb(le, 0, 5n, offerFrame()));
    const { r, packets } = readInChunks(file, [65536]);
    expect(r.warnings).toEqual([]);
    expect(packets.map((p) => p.ts)).toEqual([5]);
    expect(r.peakHeldBytes).toBeLessThan(4096);
  });

  test("a packet block longer than any packet stops reading instead of being buffered", () => {
    const le = true;
    const head = new Uint8Array(12);
    const dv = new DataView(head.buffer);
    dv.setUint32(0, 6, le);
    dv.setUint32(4, MAX_BLOCK_LEN + 4, le);
    const file = concat(shb(le), idb(le, 1), head, new Uint8Array(MAX_BLOCK_LEN));
    const { r, packets } = readInChunks(file, [65536]);
    expect(packets).toEqual([]);
    expect(r.warnings).toMatchObject([{ kind: "block-too-long" }]);
    expect(r.peakHeldBytes).toBeLessThan(4096);
  });

  test("warnings past MAX_WARNINGS are counted, not kept (one per packet in a hostile file)", () => {
    const le = true;
    const frame = offerFrame();
    const blocks = [shb(le), idb(le, 1, { tsoffset: -10_000_000_000n })]; // every time before 1970
    for (let i = 0; i < MAX_WARNINGS + 50; i++) blocks.push(epb(le, 0, 1n, frame));
    const { r, packets } = readInChunks(concat(...blocks), [4096]);
    expect(packets.length).toBe(MAX_WARNINGS + 50);
    expect(r.warnings.length).toBe(MAX_WARNINGS);
    expect(r.moreWarnings).toBe(50);
  });
});

describe("what is not a capture ends at its first bytes", () => {
  test("zeros (/dev/zero): an error naming what the file starts with, after one chunk", () => {
    const r = new CaptureReader();
    r.push(new Uint8Array(65536));
    expect(r.next()).toBeNull();
    expect(r.done).toBe(true);
    expect(r.error).toMatchObject({ kind: "bad-magic", offset: 0 });
    expect(r.error!.reason).toContain("it starts 00 00 00 00 00 00 00 00");
    r.push(new Uint8Array(65536)); // a caller that pushes on is ignored, not buffered
    expect(r.peakHeldBytes).toBe(0);
  });

  test("an input shorter than a magic number; an empty one", () => {
    for (const n of [0, 3]) {
      const r = new CaptureReader();
      r.push(Uint8Array.of(0xa1, 0xb2, 0xc3).subarray(0, n));
      r.next();
      r.end();
      expect(r.next()).toBeNull();
      expect(r.error).toMatchObject({ kind: "short" });
    }
  });
});
