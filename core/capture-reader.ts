// A capture file read as it streams in: classic libpcap (either byte order, µs or ns) and
// pcapng, fed in chunks of any size, packets taken out one at a time. It holds at most one
// record or block (bounded by MAX_BLOCK_LEN) besides the chunk being read, so a file of any
// size, a pipe, or /dev/zero is read in bounded memory; blocks it does not read are skipped
// by their length without being held.
// Never throws: a damaged file yields the packets before the damage and a warning saying
// where it is, as tcpdump does with a "truncated dump file"; a file whose start is not a
// capture is an error.
// Formats: draft-ietf-opsawg-pcap (libpcap), draft-ietf-opsawg-pcapng (pcapng).

import {
  describeStart,
  effectiveSnaplen,
  issue,
  MAGIC_MICROS,
  MAGIC_NANOS,
  PCAP_HEADER_LEN,
  PCAP_MAX_SNAPLEN,
  PCAP_RECORD_HEADER_LEN,
  PCAPNG_SHB,
  type PcapIssue,
  type PcapPacket,
} from "./capture-types.ts";
import { blockHead, checkTrailer, isReadBlock, MAX_BLOCK_LEN, newPcapngState, readBlock, type BlockHead, type PcapngState } from "./pcapng.ts";

/** Warnings kept; past this they are only counted (a hostile file can have one per packet). */
export const MAX_WARNINGS = 100;

type State =
  | { s: "magic" }
  | { s: "pcap-header" }
  | { s: "record-head" }
  | { s: "record"; capLen: number }
  | { s: "block-head" }
  | { s: "block"; head: BlockHead }
  | { s: "trailer"; head: BlockHead; start: number }
  | { s: "stopped" };

/** What one step over the bytes at the current position did. */
type Step = { consumed: number; packet?: Omit<PcapPacket, "index"> } | "need";

const EMPTY = new Uint8Array(0);

/** A 32-bit field of a record header: two reads a packet, no DataView made for them. */
function u32(b: Uint8Array, at: number, le: boolean): number {
  return le
    ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
    : ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

export class CaptureReader {
  format: "pcap" | "pcapng" | null = null;
  /** Set when the input is not a readable capture at all (its start is wrong). */
  error: PcapIssue | null = null;
  readonly warnings: PcapIssue[] = [];
  /** Warnings past MAX_WARNINGS, counted only. */
  moreWarnings = 0;

  private state: State = { s: "magic" };
  private le = true;
  private nanos = false;
  private snaplen = PCAP_MAX_SNAPLEN;
  private pcapLinktype = -1;
  private readonly ng: PcapngState = newPcapngState();
  private packets = 0;
  /** Absolute offset of the current position (the next unread byte of the current unit). */
  private offset = 0;
  private eof = false;
  // The chunk being read, in place.
  private chunk: Uint8Array = EMPTY;
  private chunkPos = 0;
  // A unit cut between chunks is copied here until whole; `need` is its size.
  private held: Uint8Array = EMPTY;
  private heldLen = 0;
  private need = 0;
  private skipLeft = 0;
  private peakHeld = 0;

  /** The pcap file's link type, or the first pcapng interface's; -1 until known or when none is described. */
  get linktype(): number {
    return this.format === "pcapng" ? this.ng.firstLinktype : this.pcapLinktype;
  }

  /** True once nothing more will come out: the end was reached, or damage stopped reading. */
  get done(): boolean {
    return this.state.s === "stopped";
  }

  /** Bytes of the largest unit the reader had to copy and hold (the observable bound on its memory). */
  get peakHeldBytes(): number {
    return this.peakHeld;
  }

  /** Hands over the next chunk. Call next() until it returns null before pushing again: packets view the chunk. */
  push(chunk: Uint8Array): void {
    if (this.state.s === "stopped") return; // nothing more will be read
    if (this.chunkPos < this.chunk.length) throw new Error("CaptureReader.push: the previous chunk was not read to its end");
    this.chunk = chunk;
    this.chunkPos = 0;
  }

  /** No more input. */
  end(): void {
    this.eof = true;
  }

  /** The next packet, or null when it needs more input (or, after end(), when the file is over). */
  next(): PcapPacket | null {
    for (;;) {
      if (this.state.s === "stopped") return null;
      const left = this.chunk.length - this.chunkPos;
      if (this.skipLeft > 0) {
        const k = Math.min(this.skipLeft, left);
        this.chunkPos += k;
        this.skipLeft -= k;
        this.offset += k;
        if (this.skipLeft > 0) return this.starved();
        continue;
      }
      let view: Uint8Array;
      if (this.heldLen > 0) {
        const k = Math.min(this.need - this.heldLen, left);
        if (k > 0) {
          this.hold(this.chunk.subarray(this.chunkPos, this.chunkPos + k));
          this.chunkPos += k;
        }
        if (this.heldLen < this.need) return this.starved();
        view = this.held.subarray(0, this.heldLen);
      } else {
        if (left === 0) return this.starved();
        view = this.chunk.subarray(this.chunkPos);
      }
      const r = this.step(view);
      if (r === "need") {
        if (this.heldLen === 0) {
          this.hold(view);
          this.chunkPos = this.chunk.length;
        }
        continue;
      }
      if (this.heldLen > 0) {
        this.held.copyWithin(0, r.consumed, this.heldLen);
        this.heldLen -= r.consumed;
      } else this.chunkPos += r.consumed;
      this.offset += r.consumed;
      if (r.packet) return { ...r.packet, index: this.packets++ };
    }
  }

  private hold(bytes: Uint8Array): void {
    if (this.heldLen + bytes.length > this.held.length) {
      const grown = new Uint8Array(Math.max(this.need, this.heldLen + bytes.length));
      grown.set(this.held.subarray(0, this.heldLen));
      this.held = grown;
      this.peakHeld = Math.max(this.peakHeld, grown.length);
    }
    this.held.set(bytes, this.heldLen);
    this.heldLen += bytes.length;
  }

  private warn(w: PcapIssue): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(w);
    else this.moreWarnings++;
  }

  /** Later damage is a warning; damage in the first unit means this is no capture. */
  private fail(w: PcapIssue): Step {
    if (this.offset === 0 || this.state.s === "pcap-header") this.error = w;
    else this.warn(w);
    this.state = { s: "stopped" };
    return { consumed: 0 };
  }

  /** Out of input: wait for more, or at the end say what was cut short. */
  private starved(): null {
    if (!this.eof) return null;
    const have = this.heldLen,
      st = this.state;
    const fail = (w: PcapIssue) => {
      this.fail(w);
      return null;
    };
    switch (st.s) {
      case "magic":
        return fail(issue("short", 0, `${have} bytes, too few for a capture file's magic number`));
      case "pcap-header":
        return fail(issue("truncated-header", have, `the file ends after ${have} of the ${PCAP_HEADER_LEN}-byte pcap header`));
      case "record-head":
        if (have === 0) break;
        return fail(issue("truncated-record", this.offset, `truncated file: record ${this.packets} has ${have} of its ${PCAP_RECORD_HEADER_LEN} header bytes`));
      case "record":
        return fail(
          issue("truncated-record", this.offset, `truncated file: record ${this.packets} has ${have - PCAP_RECORD_HEADER_LEN} of its ${st.capLen} bytes`),
        );
      case "block-head":
        if (have === 0 && this.offset > 0) break;
        if (this.offset === 0) return fail(issue("truncated-header", have, `the file ends after ${have} bytes of the first pcapng block`));
        return fail(issue("truncated-block", this.offset, `truncated file: ${have} bytes left, a pcapng block takes at least 12`));
      case "block":
      case "trailer": {
        const start = st.s === "block" ? this.offset : st.start;
        const got = st.s === "block" ? have : this.offset - st.start + have;
        return fail(
          issue(
            start === 0 ? "truncated-header" : "truncated-block",
            start,
            `truncated file: block type ${st.head.type} claims ${st.head.length} bytes, ${got} are left`,
          ),
        );
      }
    }
    this.state = { s: "stopped" };
    return null;
  }

  private step(b: Uint8Array): Step {
    const st = this.state;
    switch (st.s) {
      case "magic":
        return this.readMagic(b);
      case "pcap-header":
        return this.readPcapHeader(b);
      case "record-head":
        return this.readRecordHead(b);
      case "record":
        return this.readRecord(b, st.capLen);
      case "block-head":
        return this.readBlockHead(b);
      case "block":
        return this.readWholeBlock(b, st.head);
      case "trailer": {
        if (!this.needs(b, 4)) return "need";
        const bad = checkTrailer(this.ng, st.head, b, st.start);
        if (bad) return this.fail(bad);
        this.state = { s: "block-head" };
        return { consumed: 4 };
      }
      case "stopped":
        return { consumed: 0 };
    }
  }

  private needs(b: Uint8Array, n: number): boolean {
    if (b.length >= n) return true;
    this.need = n;
    return false;
  }

  private readMagic(b: Uint8Array): Step {
    if (!this.needs(b, 4)) return "need";
    const dv = new DataView(b.buffer, b.byteOffset, 4);
    if (dv.getUint32(0) === PCAPNG_SHB) {
      this.format = "pcapng";
      this.state = { s: "block-head" };
      return { consumed: 0 };
    }
    const isMagic = (m: number) => m === MAGIC_MICROS || m === MAGIC_NANOS;
    const le = isMagic(dv.getUint32(0, true)) ? true : isMagic(dv.getUint32(0, false)) ? false : null;
    if (le === null) {
      return this.fail(issue("bad-magic", 0, `not a capture file: it starts ${describeStart(b)}, neither a pcap nor a pcapng magic number`));
    }
    this.format = "pcap";
    this.le = le;
    this.nanos = dv.getUint32(0, le) === MAGIC_NANOS;
    this.state = { s: "pcap-header" };
    return { consumed: 0 };
  }

  private readPcapHeader(b: Uint8Array): Step {
    if (!this.needs(b, PCAP_HEADER_LEN)) return "need";
    const dv = new DataView(b.buffer, b.byteOffset, PCAP_HEADER_LEN),
      le = this.le;
    const major = dv.getUint16(4, le);
    if (major !== 2) return this.fail(issue("bad-version", 4, `pcap version ${major}.${dv.getUint16(6, le)}, only 2.x is read`));
    this.snaplen = effectiveSnaplen(dv.getUint32(16, le));
    // The upper 16 bits may carry FCS flags (draft-ietf-opsawg-pcap, LinkType and additional information).
    this.pcapLinktype = dv.getUint32(20, le) & 0xffff;
    this.state = { s: "record-head" };
    return { consumed: PCAP_HEADER_LEN };
  }

  private readRecordHead(b: Uint8Array): Step {
    if (!this.needs(b, PCAP_RECORD_HEADER_LEN)) return "need";
    const capLen = u32(b, 8, this.le);
    // incl_len frames the next record: past a bad one nothing can be trusted, so stop.
    if (capLen > this.snaplen) {
      return this.fail(issue("record-too-long", this.offset + 8, `record ${this.packets} claims ${capLen} bytes, over the snaplen ${this.snaplen}`));
    }
    this.state = { s: "record", capLen };
    return { consumed: 0 };
  }

  private readRecord(b: Uint8Array, capLen: number): Step {
    const size = PCAP_RECORD_HEADER_LEN + capLen;
    if (!this.needs(b, size)) return "need";
    const le = this.le;
    const seconds = u32(b, 0, le),
      fraction = u32(b, 4, le);
    this.state = { s: "record-head" };
    return {
      consumed: size,
      packet: {
        data: b.subarray(PCAP_RECORD_HEADER_LEN, size),
        timestampUs: seconds * 1e6 + (this.nanos ? Math.floor(fraction / 1000) : fraction),
        originalLength: u32(b, 12, le),
        linktype: this.pcapLinktype,
      },
    };
  }

  private readBlockHead(b: Uint8Array): Step {
    if (!this.needs(b, 12)) return "need";
    const head = blockHead(this.ng, b, this.offset);
    if ("kind" in head) return this.fail(head);
    if (isReadBlock(head.type)) {
      if (head.length > MAX_BLOCK_LEN) {
        return this.fail(
          issue("block-too-long", this.offset + 4, `block type ${head.type} claims ${head.length} bytes, over the ${MAX_BLOCK_LEN} a packet block can take`),
        );
      }
      this.state = { s: "block", head };
      return { consumed: 0 };
    }
    // Statistics, name resolution, custom…: nothing we need. Skip the body, check the trailer.
    if (head.length === 12) {
      const bad = checkTrailer(this.ng, head, b.subarray(8, 12), this.offset);
      return bad ? this.fail(bad) : { consumed: 12 };
    }
    this.state = { s: "trailer", head, start: this.offset };
    this.skipLeft = head.length - 16;
    return { consumed: 12 };
  }

  private readWholeBlock(b: Uint8Array, head: BlockHead): Step {
    if (!this.needs(b, head.length)) return "need";
    const at = this.offset;
    const r = readBlock(this.ng, head, b.subarray(0, head.length), at, (w) => this.warn({ ...w, reason: `packet ${this.packets}: ${w.reason}` }));
    if (r && "kind" in r) return this.fail(r);
    this.state = { s: "block-head" };
    return r ? { consumed: head.length, packet: r } : { consumed: head.length };
  }
}
