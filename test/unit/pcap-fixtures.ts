// Capture files built by hand for the pcap tests: DHCP frames, classic pcap in either byte
// order, pcapng blocks. Shared by test/unit/pcap.test.ts and test/lab/pcap-tshark.test.ts, and
// the pcapng blocks by capture-fixtures.ts.

import { expect } from "bun:test";
import { toHex } from "../../core/bytes.ts";
import { buildUdpFrame, BROADCAST_MAC } from "../../core/frame.ts";
import { BOOTREQUEST } from "../../core/message.ts";
import type { PcapDecodeResult, PcapPacket, PcapPacketInput } from "../../core/pcap.ts";
import { CLIENT_MAC, offerFrame, offerPayload } from "./helpers.ts";

export const T0 = 1_700_000_000_123_456; // µs: 2023-11-14T22:13:20.123456Z

function clientFrame(type: number, xid: number): Uint8Array {
  const payload = offerPayload({ op: BOOTREQUEST, xid, yiaddr: "0.0.0.0", options: [{ code: 53, data: Uint8Array.of(type) }] });
  return buildUdpFrame({
    srcMac: CLIENT_MAC,
    dstMac: BROADCAST_MAC,
    srcIp: "0.0.0.0",
    dstIp: "255.255.255.255",
    srcPort: 68,
    dstPort: 67,
    payload,
  });
}

/** DISCOVER, OFFER, REQUEST: three real frames as tcpdump would have seen them. */
export function dhcpPackets(): PcapPacketInput[] {
  return [
    { data: clientFrame(1, 0x1111), timestampUs: T0 },
    { data: offerFrame(offerPayload({ xid: 0x1111 })), timestampUs: BigInt(T0 + 2_500) },
    { data: clientFrame(3, 0x1111), timestampUs: T0 + 1_000_001, originalLength: 1500 },
  ];
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function ok(r: PcapDecodeResult) {
  if (!r.ok) throw new Error(`expected a readable file, got ${r.error.kind}: ${r.error.reason}`);
  return r;
}

/** What a packet says, without the view's identity. */
export function summary(p: PcapPacket) {
  return { hex: toHex(p.data), timestampUs: p.timestampUs, originalLength: p.originalLength, index: p.index, interfaceId: p.interfaceId };
}

export function expectSamePackets(got: PcapPacket[], want: PcapPacketInput[]) {
  expect(got.map((p) => ({ hex: toHex(p.data), ts: p.timestampUs, orig: p.originalLength }))).toEqual(
    want.map((p) => ({ hex: toHex(p.data), ts: Number(p.timestampUs), orig: p.originalLength ?? p.data.length })),
  );
  expect(got.map((p) => p.index)).toEqual(want.map((_, i) => i));
}

/** A classic pcap written field by field, so byte order and magic can be chosen. */
export function handPcap(le: boolean, magic: number, packets: { data: Uint8Array; sec: number; frac: number; orig?: number }[], snaplen = 65535): Uint8Array {
  const head = new Uint8Array(24);
  const h = new DataView(head.buffer);
  h.setUint32(0, magic, le);
  h.setUint16(4, 2, le);
  h.setUint16(6, 4, le);
  h.setUint32(16, snaplen, le);
  h.setUint32(20, 1, le);
  const records = packets.map((p) => {
    const rec = new Uint8Array(16 + p.data.length);
    const d = new DataView(rec.buffer);
    d.setUint32(0, p.sec, le);
    d.setUint32(4, p.frac, le);
    d.setUint32(8, p.data.length, le);
    d.setUint32(12, p.orig ?? p.data.length, le);
    rec.set(p.data, 16);
    return rec;
  });
  return concat(head, ...records);
}

// pcapng blocks, built in either byte order.
export const SHB = 0x0a0d0d0a,
  IDB = 1,
  SPB = 3,
  NRB = 4,
  EPB = 6;

export function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const len = 12 + ((body.length + 3) & ~3);
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, len, le);
  out.set(body, 8);
  dv.setUint32(len - 4, len, le);
  return out;
}

export function shb(le: boolean, major = 1): Uint8Array {
  const body = new Uint8Array(16);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, 0x1a2b3c4d, le); // byte-order magic
  dv.setUint16(4, major, le);
  dv.setUint16(6, 0, le);
  dv.setBigInt64(8, -1n, le); // section length: not given
  return block(le, SHB, body);
}

function option(le: boolean, code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + ((value.length + 3) & ~3));
  const dv = new DataView(out.buffer);
  dv.setUint16(0, code, le);
  dv.setUint16(2, value.length, le);
  out.set(value, 4);
  return out;
}

export function idb(le: boolean, linktype: number, opts: { tsresol?: number; tsoffset?: bigint; snaplen?: number } = {}): Uint8Array {
  const fixed = new Uint8Array(8);
  const dv = new DataView(fixed.buffer);
  dv.setUint16(0, linktype, le);
  dv.setUint32(4, opts.snaplen ?? 262144, le);
  const options: Uint8Array[] = [option(le, 2, new TextEncoder().encode("eth0"))]; // if_name: skipped
  if (opts.tsresol !== undefined) options.push(option(le, 9, Uint8Array.of(opts.tsresol)));
  if (opts.tsoffset !== undefined) {
    const v = new Uint8Array(8);
    new DataView(v.buffer).setBigInt64(0, opts.tsoffset, le);
    options.push(option(le, 14, v));
  }
  return block(le, IDB, concat(fixed, ...options, option(le, 0, new Uint8Array(0))));
}

export function epb(le: boolean, ifId: number, ts: bigint, data: Uint8Array, orig = data.length): Uint8Array {
  const fixed = new Uint8Array(20);
  const dv = new DataView(fixed.buffer);
  dv.setUint32(0, ifId, le);
  dv.setUint32(4, Number(ts >> 32n), le);
  dv.setUint32(8, Number(ts & 0xffffffffn), le);
  dv.setUint32(12, data.length, le);
  dv.setUint32(16, orig, le);
  return block(le, EPB, concat(fixed, data)); // block() pads the data to 32 bits
}

export function spb(le: boolean, data: Uint8Array, orig = data.length): Uint8Array {
  const fixed = new Uint8Array(4);
  new DataView(fixed.buffer).setUint32(0, orig, le);
  return block(le, SPB, concat(fixed, data));
}

const NS_T0 = 1_700_000_000_123_456_789n;

/** SHB, IDB (ns), EPB, an unknown block, EPB, SPB. Frames of odd length exercise the padding. */
export function handPcapng(le: boolean) {
  const frames = [offerFrame(), clientFrame(1, 7).subarray(0, 301), clientFrame(3, 7)];
  const blocks = [
    shb(le),
    idb(le, 1, { tsresol: 9 }),
    epb(le, 0, NS_T0, frames[0]),
    block(le, NRB, Uint8Array.of(0, 0, 0, 0)), // name resolution: not read, skipped by length
    epb(le, 0, NS_T0 + 1_999n, frames[1], 350),
    spb(le, frames[2]),
  ];
  const file = concat(...blocks);
  const offsets = blocks.map((_, i) => blocks.slice(0, i).reduce((n, b) => n + b.length, 0));
  const want = [
    { hex: toHex(frames[0]), timestampUs: 1_700_000_000_123_456, originalLength: frames[0].length, index: 0, interfaceId: 0 },
    { hex: toHex(frames[1]), timestampUs: 1_700_000_000_123_458, originalLength: 350, index: 1, interfaceId: 0 },
    { hex: toHex(frames[2]), timestampUs: 0, originalLength: frames[2].length, index: 2, interfaceId: 0 },
  ];
  return { file, frames, want, offsets };
}
