// Capture files: classic libpcap (written and read) and pcapng (read only), so what we see can
// be handed to tcpdump or Wireshark, and their captures read back here.
// Formats: draft-ietf-opsawg-pcap (libpcap), draft-ietf-opsawg-pcapng (pcapng).
// Reading never throws: a damaged file yields the packets before the damage and a warning
// saying where it is, as tcpdump does with a "truncated dump file".

export const PCAP_LINKTYPE_ETHERNET = 1;
/** libpcap's MAXIMUM_SNAPLEN: tcpdump's default -s, and the largest record it will read. */
export const PCAP_MAX_SNAPLEN = 262144;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;
const LITTLE_ENDIAN = true; // what we write: tcpdump's output on x86
const PCAPNG_SHB = 0x0a0d0d0a; // a palindrome, so it reads the same in either byte order
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1, BLOCK_SPB = 3, BLOCK_EPB = 6;
const OPT_ENDOFOPT = 0, OPT_IF_TSRESOL = 9, OPT_IF_TSOFFSET = 14;
const MICROS_PER_SECOND = 1_000_000n;

export type PcapIssueKind =
  | "short"              // fewer bytes than a magic number
  | "bad-magic"          // neither pcap nor pcapng (or a pcapng byte-order magic that is neither order)
  | "bad-version"        // pcap major version not 2, pcapng major version not 1
  | "truncated-header"   // the file ends inside the pcap global header or the first pcapng block
  | "truncated-record"   // the file ends inside a record header or its data
  | "record-too-long"    // a record larger than the snaplen or PCAP_MAX_SNAPLEN
  | "truncated-block"    // the file ends inside a pcapng block
  | "bad-block-length"   // a pcapng block length < 12, not a multiple of 4, or not repeated at its end
  | "bad-block"          // a pcapng block too short for its own fixed fields, or a broken option
  | "unknown-interface"  // a pcapng packet naming an interface its section did not describe
  | "bad-packet-length"  // a pcapng packet whose captured length overruns its block
  | "not-ethernet"       // packets from a pcapng interface whose link type is not Ethernet
  | "bad-timestamp";     // a pcapng time before 1970 or past what a number (and a Date) holds: shown as 0

export interface PcapIssue { kind: PcapIssueKind; offset: number; reason: string }

export interface PcapPacket {
  /** A view into the input: no copy is made. */
  data: Uint8Array;
  timestampUs: number;
  originalLength: number;
  /** 0-based position in the file (tshark's frame.number is index + 1). */
  index: number;
  /** pcapng only: the interface, numbered across the whole file in the order described. */
  interfaceId?: number;
}

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

/** libpcap reads a snaplen of 0 or over its maximum as the maximum. */
function effectiveSnaplen(snaplen: number): number {
  return snaplen === 0 || snaplen > PCAP_MAX_SNAPLEN ? PCAP_MAX_SNAPLEN : snaplen;
}

// ---- writing (classic pcap, microsecond timestamps) ----
// Bad arguments are a caller's bug, not bad input: they throw.

export interface PcapHeaderOptions { snaplen?: number; linktype?: number }
export interface PcapPacketInput { data: Uint8Array; timestampUs: number | bigint; originalLength?: number }

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

// ---- reading ----

const issue = (kind: PcapIssueKind, offset: number, reason: string): PcapIssue => ({ kind, offset, reason });

/** Reads a classic pcap (either byte order, µs or ns) or a pcapng file. Never throws. */
export function decodePcap(bytes: Uint8Array): PcapDecodeResult {
  if (bytes.length < 4) {
    return { ok: false, error: issue("short", 0, `${bytes.length} bytes, too few for a capture file's magic number`) };
  }
  const dv = view(bytes);
  return dv.getUint32(0) === PCAPNG_SHB ? decodePcapng(bytes, dv) : decodeClassic(bytes, dv);
}

function decodeClassic(bytes: Uint8Array, dv: DataView): PcapDecodeResult {
  const isMagic = (m: number) => m === MAGIC_MICROS || m === MAGIC_NANOS;
  const le = isMagic(dv.getUint32(0, true)) ? true : isMagic(dv.getUint32(0, false)) ? false : null;
  if (le === null) {
    return { ok: false, error: issue("bad-magic", 0, `magic 0x${dv.getUint32(0).toString(16).padStart(8, "0")} is neither pcap nor pcapng`) };
  }
  const nanos = dv.getUint32(0, le) === MAGIC_NANOS;
  if (bytes.length < PCAP_HEADER_LEN) {
    return { ok: false, error: issue("truncated-header", bytes.length, `the file ends after ${bytes.length} of the ${PCAP_HEADER_LEN}-byte pcap header`) };
  }
  const major = dv.getUint16(4, le);
  if (major !== 2) {
    return { ok: false, error: issue("bad-version", 4, `pcap version ${major}.${dv.getUint16(6, le)}, only 2.x is read`) };
  }
  const snaplen = effectiveSnaplen(dv.getUint32(16, le));
  // The upper 16 bits may carry FCS flags (draft-ietf-opsawg-pcap, LinkType and additional information).
  const linktype = dv.getUint32(20, le) & 0xffff;
  const packets: PcapPacket[] = [];
  const warnings: PcapIssue[] = [];
  let off = PCAP_HEADER_LEN;
  while (off < bytes.length) {
    const left = bytes.length - off;
    if (left < PCAP_RECORD_HEADER_LEN) {
      warnings.push(issue("truncated-record", off, `truncated file: record ${packets.length} has ${left} of its ${PCAP_RECORD_HEADER_LEN} header bytes`));
      break;
    }
    const capLen = dv.getUint32(off + 8, le);
    // incl_len frames the next record: past a bad one nothing can be trusted, so stop.
    if (capLen > snaplen) {
      warnings.push(issue("record-too-long", off + 8, `record ${packets.length} claims ${capLen} bytes, over the snaplen ${snaplen}`));
      break;
    }
    if (capLen > left - PCAP_RECORD_HEADER_LEN) {
      warnings.push(issue("truncated-record", off, `truncated file: record ${packets.length} has ${left - PCAP_RECORD_HEADER_LEN} of its ${capLen} bytes`));
      break;
    }
    const seconds = dv.getUint32(off, le), fraction = dv.getUint32(off + 4, le);
    const start = off + PCAP_RECORD_HEADER_LEN;
    packets.push({
      data: bytes.subarray(start, start + capLen),
      timestampUs: seconds * 1e6 + (nanos ? Math.floor(fraction / 1000) : fraction),
      originalLength: dv.getUint32(off + 12, le),
      index: packets.length,
    });
    off = start + capLen;
  }
  return { ok: true, format: "pcap", linktype, packets, warnings };
}

// ---- pcapng ----

interface Interface {
  id: number; // across the file, not the section: sections each number theirs from 0
  linktype: number;
  snaplen: number;
  unitsPerSecond: bigint; // if_tsresol
  offsetSeconds: bigint;  // if_tsoffset
  warned: boolean;
}

interface PcapngReader {
  bytes: Uint8Array;
  dv: DataView;
  le: boolean;
  interfaces: Interface[]; // all sections
  section: Interface[];    // the current section's, indexed by its interface ids
  packets: PcapPacket[];
  warnings: PcapIssue[];
}

interface Block { type: number; start: number; bodyStart: number; bodyEnd: number; end: number }

function decodePcapng(bytes: Uint8Array, dv: DataView): PcapDecodeResult {
  const r: PcapngReader = { bytes, dv, le: true, interfaces: [], section: [], packets: [], warnings: [] };
  let off = 0;
  while (off < bytes.length) {
    const block = frameBlock(r, off);
    const problem = "kind" in block ? block : readBlock(r, block);
    if (problem) {
      // A file whose first block (its SHB) is unreadable is not a capture at all.
      if (off === 0) return { ok: false, error: problem.kind === "truncated-block" ? { ...problem, kind: "truncated-header" } : problem };
      r.warnings.push(problem);
      break;
    }
    off = (block as Block).end;
  }
  return { ok: true, format: "pcapng", linktype: r.interfaces[0]?.linktype ?? -1, packets: r.packets, warnings: r.warnings };
}

/** Checks a block's framing; an SHB also sets the byte order for the rest of its section. */
function frameBlock(r: PcapngReader, off: number): Block | PcapIssue {
  const { dv } = r;
  const left = r.bytes.length - off;
  if (left < 12) return issue("truncated-block", off, `truncated file: ${left} bytes left, a pcapng block takes at least 12`);
  const type = dv.getUint32(off, r.le);
  if (type === PCAPNG_SHB) {
    const magic = dv.getUint32(off + 8, true);
    if (magic === PCAPNG_BYTE_ORDER_MAGIC) r.le = true;
    else if (magic === 0x4d3c2b1a) r.le = false;
    else return issue("bad-magic", off + 8, `section header byte-order magic 0x${magic.toString(16)} is neither order of 0x1a2b3c4d`);
  }
  const length = dv.getUint32(off + 4, r.le);
  if (length < 12 || length % 4 !== 0) return issue("bad-block-length", off + 4, `block type ${type} has length ${length}: under 12 or not a multiple of 4`);
  if (length > left) return issue("truncated-block", off, `truncated file: block type ${type} claims ${length} bytes, ${left} are left`);
  const trailer = dv.getUint32(off + length - 4, r.le);
  if (trailer !== length) return issue("bad-block-length", off + length - 4, `block type ${type} starts with length ${length} and ends with ${trailer}`);
  return { type, start: off, bodyStart: off + 8, bodyEnd: off + length - 4, end: off + length };
}

function readBlock(r: PcapngReader, b: Block): PcapIssue | null {
  switch (b.type) {
    case PCAPNG_SHB: return readSectionHeader(r, b);
    case BLOCK_IDB: return readInterface(r, b);
    case BLOCK_EPB: return readEnhancedPacket(r, b);
    case BLOCK_SPB: return readSimplePacket(r, b);
    default: return null; // statistics, name resolution, custom…: nothing we need
  }
}

function readSectionHeader(r: PcapngReader, b: Block): PcapIssue | null {
  if (b.bodyEnd - b.bodyStart < 16) return issue("bad-block-length", b.start + 4, `section header block of ${b.end - b.start} bytes, under the 28 it needs`);
  const major = r.dv.getUint16(b.bodyStart + 4, r.le);
  if (major !== 1) return issue("bad-version", b.bodyStart + 4, `pcapng version ${major}.${r.dv.getUint16(b.bodyStart + 6, r.le)}, only 1.x is read`);
  r.section = [];
  return null;
}

function readInterface(r: PcapngReader, b: Block): PcapIssue | null {
  const { dv, le } = r;
  if (b.bodyEnd - b.bodyStart < 8) return issue("bad-block", b.start, "interface description block too short for its link type and snaplen");
  const iface: Interface = {
    id: r.interfaces.length,
    linktype: dv.getUint16(b.bodyStart, le),
    snaplen: dv.getUint32(b.bodyStart + 4, le),
    unitsPerSecond: MICROS_PER_SECOND, // if_tsresol absent: 10^-6
    offsetSeconds: 0n,
    warned: false,
  };
  let p = b.bodyStart + 8;
  while (p + 4 <= b.bodyEnd) {
    const code = dv.getUint16(p, le), len = dv.getUint16(p + 2, le);
    if (code === OPT_ENDOFOPT) break;
    if (p + 4 + len > b.bodyEnd) return issue("bad-block", p, `interface option ${code} of ${len} bytes runs past its block`);
    if (code === OPT_IF_TSRESOL && len === 1) {
      // Top bit clear: 10^-n seconds; set: 2^-n.
      const v = r.bytes[p + 4];
      iface.unitsPerSecond = v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
    } else if (code === OPT_IF_TSOFFSET && len === 8) {
      iface.offsetSeconds = dv.getBigInt64(p + 4, le);
    }
    p += 4 + ((len + 3) & ~3); // values are padded to 32 bits
  }
  r.interfaces.push(iface);
  r.section.push(iface);
  return null;
}

/** Microseconds since 1970, or null when outside 0 … 2^53 µs (year 2255): no exact number, no Date. */
function timestampUs(iface: Interface, high: number, low: number): number | null {
  const units = (BigInt(high) << 32n) | BigInt(low);
  const us = (units * MICROS_PER_SECOND) / iface.unitsPerSecond + iface.offsetSeconds * MICROS_PER_SECOND;
  return us < 0n || us > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(us);
}

function addPacket(r: PcapngReader, b: Block, iface: Interface, start: number, capLen: number, originalLength: number, ts: number): void {
  if (iface.linktype !== PCAP_LINKTYPE_ETHERNET && !iface.warned) {
    iface.warned = true;
    r.warnings.push(issue("not-ethernet", b.start, `interface ${iface.id} has link type ${iface.linktype}: its packets are not Ethernet frames`));
  }
  r.packets.push({
    data: r.bytes.subarray(start, start + capLen),
    timestampUs: ts,
    originalLength,
    index: r.packets.length,
    interfaceId: iface.id,
  });
}

function readEnhancedPacket(r: PcapngReader, b: Block): PcapIssue | null {
  const { dv, le } = r;
  if (b.bodyEnd - b.bodyStart < 20) return issue("bad-block", b.start, "enhanced packet block too short for its fixed fields");
  const ifId = dv.getUint32(b.bodyStart, le);
  const iface = r.section[ifId];
  if (!iface) return issue("unknown-interface", b.bodyStart, `packet on interface ${ifId}, but the section describes ${r.section.length}`);
  const capLen = dv.getUint32(b.bodyStart + 12, le);
  const start = b.bodyStart + 20;
  if (capLen > b.bodyEnd - start) return issue("bad-packet-length", b.bodyStart + 12, `packet of ${capLen} bytes in a block with room for ${b.bodyEnd - start}`);
  const ts = timestampUs(iface, dv.getUint32(b.bodyStart + 4, le), dv.getUint32(b.bodyStart + 8, le));
  if (ts === null) r.warnings.push(issue("bad-timestamp", b.bodyStart + 4, `packet ${r.packets.length}: its time is out of range (shown as 0)`));
  addPacket(r, b, iface, start, capLen, dv.getUint32(b.bodyStart + 16, le), ts ?? 0);
  return null;
}

function readSimplePacket(r: PcapngReader, b: Block): PcapIssue | null {
  if (b.bodyEnd - b.bodyStart < 4) return issue("bad-block", b.start, "simple packet block too short for its length field");
  const iface = r.section[0]; // a simple packet always belongs to the section's first interface
  if (!iface) return issue("unknown-interface", b.start, "simple packet block before any interface description");
  const originalLength = r.dv.getUint32(b.bodyStart, r.le);
  const start = b.bodyStart + 4;
  // No captured length on the wire: the original cut to the snaplen, and to the block (padding).
  const capLen = Math.min(originalLength, iface.snaplen || Infinity, b.bodyEnd - start);
  addPacket(r, b, iface, start, capLen, originalLength, 0);
  return null;
}
