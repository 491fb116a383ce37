// Capture files: classic libpcap written, and both pcap and pcapng read (capture-reader.ts),
// so what we see can be handed to tcpdump or Wireshark, and their captures read back here.
// Formats: draft-ietf-opsawg-pcap (libpcap), draft-ietf-opsawg-pcapng (pcapng).

import { CaptureReader } from "./capture-reader.ts";
import {
  effectiveSnaplen,
  MAGIC_MICROS,
  MICROS_PER_SECOND,
  PCAP_HEADER_LEN,
  PCAP_LINKTYPE_ETHERNET,
  PCAP_MAX_SNAPLEN,
  PCAP_RECORD_HEADER_LEN,
  type PcapIssue,
  type PcapPacket,
} from "./capture-types.ts";

export {
  PCAP_HEADER_LEN,
  PCAP_LINKTYPE_ETHERNET,
  PCAP_MAX_SNAPLEN,
  PCAP_RECORD_HEADER_LEN,
  type PcapIssue,
  type PcapIssueKind,
  type PcapPacket,
} from "./capture-types.ts";
export { CaptureReader } from "./capture-reader.ts";

const LITTLE_ENDIAN = true; // what we write: tcpdump's output on x86

export type PcapDecodeResult =
  | {
      ok: true;
      format: "pcap" | "pcapng";
      /** pcapng: the first interface's link type; -1 when the file describes none. */
      linktype: number;
      packets: PcapPacket[];
      warnings: PcapIssue[];
    }
  | { ok: false; error: PcapIssue };

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

// ---- writing (classic pcap, microsecond timestamps) ----
// Bad arguments are a caller's bug, not bad input: they throw.

export interface PcapHeaderOptions {
  snaplen?: number;
  linktype?: number;
}
export interface PcapPacketInput {
  data: Uint8Array;
  timestampUs: number | bigint;
  originalLength?: number;
}

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} ${v} is not a 32-bit unsigned integer`);
}

function writeHeader(out: Uint8Array, off: number, opts: PcapHeaderOptions): number {
  const snaplen = opts.snaplen ?? PCAP_MAX_SNAPLEN;
  const linktype = opts.linktype ?? PCAP_LINKTYPE_ETHERNET;
  checkU32("snaplen", snaplen);
  checkU32("linktype", linktype);
  const dv = view(out);
  dv.setUint32(off, MAGIC_MICROS, LITTLE_ENDIAN);
  dv.setUint16(off + 4, 2, LITTLE_ENDIAN); // version 2.4, the only one in use since 1998
  dv.setUint16(off + 6, 4, LITTLE_ENDIAN);
  dv.setInt32(off + 8, 0, LITTLE_ENDIAN); // thiszone: timestamps are UTC
  dv.setUint32(off + 12, 0, LITTLE_ENDIAN); // sigfigs: every writer puts 0
  dv.setUint32(off + 16, snaplen, LITTLE_ENDIAN);
  dv.setUint32(off + 20, linktype, LITTLE_ENDIAN);
  return off + PCAP_HEADER_LEN;
}

function writeRecord(out: Uint8Array, off: number, frame: Uint8Array, timestampUs: number | bigint, originalLength = frame.length): number {
  if (typeof timestampUs === "number" && !Number.isSafeInteger(timestampUs)) {
    throw new RangeError(`timestamp ${timestampUs} is not a whole number of microseconds`);
  }
  const us = BigInt(timestampUs);
  const seconds = us / MICROS_PER_SECOND;
  // ts_sec is unsigned 32-bit: 1970 to 2106.
  if (us < 0n || seconds > 0xffffffffn) throw new RangeError(`timestamp ${us} µs does not fit a pcap record`);
  checkU32("originalLength", originalLength);
  if (originalLength < frame.length) throw new RangeError(`originalLength ${originalLength} is less than the ${frame.length} bytes captured`);
  const dv = view(out);
  dv.setUint32(off, Number(seconds), LITTLE_ENDIAN);
  dv.setUint32(off + 4, Number(us % MICROS_PER_SECOND), LITTLE_ENDIAN);
  dv.setUint32(off + 8, frame.length, LITTLE_ENDIAN);
  dv.setUint32(off + 12, originalLength, LITTLE_ENDIAN);
  out.set(frame, off + PCAP_RECORD_HEADER_LEN);
  return off + PCAP_RECORD_HEADER_LEN + frame.length;
}

/** The 24-byte global header: microsecond magic, v2.4, snaplen 262144 and Ethernet by default. */
export function encodePcapHeader(opts: PcapHeaderOptions = {}): Uint8Array {
  const out = new Uint8Array(PCAP_HEADER_LEN);
  writeHeader(out, 0, opts);
  return out;
}

/** One record: 16-byte header and the frame. Cutting the frame to the snaplen is the caller's. */
export function encodePcapRecord(frame: Uint8Array, timestampUs: bigint | number, originalLength?: number): Uint8Array {
  const out = new Uint8Array(PCAP_RECORD_HEADER_LEN + frame.length);
  writeRecord(out, 0, frame, timestampUs, originalLength);
  return out;
}

/** A whole file. A packet over the snaplen throws: tcpdump would stop reading the file there. */
export function encodePcap(packets: readonly PcapPacketInput[], opts: PcapHeaderOptions = {}): Uint8Array {
  const limit = effectiveSnaplen(opts.snaplen ?? PCAP_MAX_SNAPLEN);
  let total = PCAP_HEADER_LEN;
  packets.forEach((p, i) => {
    if (p.data.length > limit) {
      throw new RangeError(`packet ${i} has ${p.data.length} bytes, over the snaplen ${limit}: cut it and pass originalLength`);
    }
    total += PCAP_RECORD_HEADER_LEN + p.data.length;
  });
  const out = new Uint8Array(total);
  let off = writeHeader(out, 0, opts);
  for (const p of packets) off = writeRecord(out, off, p.data, p.timestampUs, p.originalLength);
  return out;
}

// ---- reading a whole buffer ----

/**
 * Reads a classic pcap (either byte order, µs or ns) or a pcapng file held whole in memory;
 * packets are views into it. Never throws. Files and pipes are better read through a
 * CaptureReader chunk by chunk: this holds every packet at once.
 */
export function decodePcap(bytes: Uint8Array): PcapDecodeResult {
  const r = new CaptureReader();
  r.push(bytes);
  r.end();
  const packets: PcapPacket[] = [];
  for (let p = r.next(); p; p = r.next()) packets.push(p);
  if (r.error) return { ok: false, error: r.error };
  return { ok: true, format: r.format!, linktype: r.linktype, packets, warnings: r.warnings };
}
