// pcapng blocks (draft-ietf-opsawg-pcapng), one at a time: the streaming reader frames a
// block, holds it whole when it is one of ours (section header, interface, packet) and hands
// it here; any other block is skipped by its length without being held.

import { issue, MICROS_PER_SECOND, PCAP_MAX_SNAPLEN, PCAPNG_SHB, type PcapIssue, type PcapPacket } from "./capture-types.ts";

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1,
  BLOCK_SPB = 3,
  BLOCK_EPB = 6;
const OPT_ENDOFOPT = 0,
  OPT_IF_TSRESOL = 9,
  OPT_IF_TSOFFSET = 14;
/**
 * The largest block held in memory: a packet at libpcap's maximum snaplen with room for
 * options. A packet block over it is not a packet any tool wrote: reading stops there.
 */
export const MAX_BLOCK_LEN = PCAP_MAX_SNAPLEN + 65536;

interface Interface {
  id: number; // across the file, not the section: sections each number theirs from 0
  linktype: number;
  snaplen: number;
  unitsPerSecond: bigint; // if_tsresol
  offsetSeconds: bigint; // if_tsoffset
}

export interface PcapngState {
  le: boolean;
  /** Interfaces described so far in the whole file. */
  described: number;
  /** The first interface's link type; -1 until one is described. */
  firstLinktype: number;
  section: Interface[]; // the current section's, indexed by its interface ids
}

export const newPcapngState = (): PcapngState => ({ le: true, described: 0, firstLinktype: -1, section: [] });

export interface BlockHead {
  type: number;
  length: number;
}

/** The block's first 12 bytes (at absolute offset `at`): type and length; an SHB sets the byte order. */
export function blockHead(st: PcapngState, b: Uint8Array, at: number): BlockHead | PcapIssue {
  const dv = new DataView(b.buffer, b.byteOffset, 12);
  const type = dv.getUint32(0, st.le);
  if (type === PCAPNG_SHB) {
    const magic = dv.getUint32(8, true);
    if (magic === BYTE_ORDER_MAGIC) st.le = true;
    else if (magic === 0x4d3c2b1a) st.le = false;
    else return issue("bad-magic", at + 8, `section header byte-order magic 0x${magic.toString(16)} is neither order of 0x1a2b3c4d`);
  }
  const length = dv.getUint32(4, st.le);
  if (length < 12 || length % 4 !== 0) return issue("bad-block-length", at + 4, `block type ${type} has length ${length}: under 12 or not a multiple of 4`);
  return { type, length };
}

/** Blocks held whole and read; the rest are skipped. */
export function isReadBlock(type: number): boolean {
  return type === PCAPNG_SHB || type === BLOCK_IDB || type === BLOCK_EPB || type === BLOCK_SPB;
}

/** The trailing copy of the length, from the block's last 4 bytes. */
export function checkTrailer(st: PcapngState, head: BlockHead, last4: Uint8Array, at: number): PcapIssue | null {
  const trailer = new DataView(last4.buffer, last4.byteOffset, 4).getUint32(0, st.le);
  return trailer === head.length
    ? null
    : issue("bad-block-length", at + head.length - 4, `block type ${head.type} starts with length ${head.length} and ends with ${trailer}`);
}

type Packet = Omit<PcapPacket, "index">;

/** A whole block b (exactly head.length bytes, at absolute offset `at`): a packet, nothing, or what is wrong. */
export function readBlock(st: PcapngState, head: BlockHead, b: Uint8Array, at: number, warn: (i: PcapIssue) => void): Packet | PcapIssue | null {
  const bad = checkTrailer(st, head, b.subarray(head.length - 4), at);
  if (bad) return bad;
  const blk = { b, dv: new DataView(b.buffer, b.byteOffset, b.byteLength), at, end: head.length - 4 };
  switch (head.type) {
    case PCAPNG_SHB:
      return readSectionHeader(st, blk);
    case BLOCK_IDB:
      return readInterface(st, blk);
    case BLOCK_EPB:
      return readEnhancedPacket(st, blk, warn);
    case BLOCK_SPB:
      return readSimplePacket(st, blk);
    default:
      return null;
  }
}

/** A block's bytes; its body runs from 8 to `end` (before the trailing length). */
interface Blk {
  b: Uint8Array;
  dv: DataView;
  at: number;
  end: number;
}

function readSectionHeader(st: PcapngState, k: Blk): PcapIssue | null {
  if (k.end - 8 < 16) return issue("bad-block-length", k.at + 4, `section header block of ${k.end + 4} bytes, under the 28 it needs`);
  const major = k.dv.getUint16(12, st.le);
  if (major !== 1) return issue("bad-version", k.at + 12, `pcapng version ${major}.${k.dv.getUint16(14, st.le)}, only 1.x is read`);
  st.section = [];
  return null;
}

function readInterface(st: PcapngState, k: Blk): PcapIssue | null {
  const { dv } = k,
    le = st.le;
  if (k.end - 8 < 8) return issue("bad-block", k.at, "interface description block too short for its link type and snaplen");
  const iface: Interface = {
    id: st.described,
    linktype: dv.getUint16(8, le),
    snaplen: dv.getUint32(12, le),
    unitsPerSecond: MICROS_PER_SECOND, // if_tsresol absent: 10^-6
    offsetSeconds: 0n,
  };
  let p = 16;
  while (p + 4 <= k.end) {
    const code = dv.getUint16(p, le),
      len = dv.getUint16(p + 2, le);
    if (code === OPT_ENDOFOPT) break;
    if (p + 4 + len > k.end) return issue("bad-block", k.at + p, `interface option ${code} of ${len} bytes runs past its block`);
    if (code === OPT_IF_TSRESOL && len === 1) {
      // Top bit clear: 10^-n seconds; set: 2^-n.
      const v = k.b[p + 4];
      iface.unitsPerSecond = v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
    } else if (code === OPT_IF_TSOFFSET && len === 8) {
      iface.offsetSeconds = dv.getBigInt64(p + 4, le);
    }
    p += 4 + ((len + 3) & ~3); // values are padded to 32 bits
  }
  if (st.described === 0) st.firstLinktype = iface.linktype;
  st.described++;
  st.section.push(iface);
  return null;
}

/** Microseconds since 1970, or null when outside 0 … 2^53 µs (year 2255): no exact number, no Date. */
function timestampUs(iface: Interface, high: number, low: number): number | null {
  const units = (BigInt(high) << 32n) | BigInt(low);
  const us = (units * MICROS_PER_SECOND) / iface.unitsPerSecond + iface.offsetSeconds * MICROS_PER_SECOND;
  return us < 0n || us > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(us);
}

function packet(iface: Interface, k: Blk, start: number, capLen: number, originalLength: number, ts: number): Packet {
  return { data: k.b.subarray(start, start + capLen), timestampUs: ts, originalLength, linktype: iface.linktype, interfaceId: iface.id };
}

function readEnhancedPacket(st: PcapngState, k: Blk, warn: (i: PcapIssue) => void): Packet | PcapIssue {
  const { dv } = k,
    le = st.le;
  if (k.end - 8 < 20) return issue("bad-block", k.at, "enhanced packet block too short for its fixed fields");
  const ifId = dv.getUint32(8, le);
  const iface = st.section[ifId];
  if (!iface) return issue("unknown-interface", k.at + 8, `packet on interface ${ifId}, but the section describes ${st.section.length}`);
  const capLen = dv.getUint32(20, le);
  const start = 28;
  if (capLen > k.end - start) return issue("bad-packet-length", k.at + 20, `packet of ${capLen} bytes in a block with room for ${k.end - start}`);
  const ts = timestampUs(iface, dv.getUint32(12, le), dv.getUint32(16, le));
  if (ts === null) warn(issue("bad-timestamp", k.at + 12, "a packet's time is out of range (shown as 0)"));
  return packet(iface, k, start, capLen, dv.getUint32(24, le), ts ?? 0);
}

function readSimplePacket(st: PcapngState, k: Blk): Packet | PcapIssue {
  if (k.end - 8 < 4) return issue("bad-block", k.at, "simple packet block too short for its length field");
  const iface = st.section[0]; // a simple packet always belongs to the section's first interface
  if (!iface) return issue("unknown-interface", k.at, "simple packet block before any interface description");
  const originalLength = k.dv.getUint32(8, st.le);
  const start = 12;
  // No captured length on the wire: the original cut to the snaplen, and to the block (padding).
  const capLen = Math.min(originalLength, iface.snaplen || Infinity, k.end - start);
  return packet(iface, k, start, capLen, originalLength, 0);
}
