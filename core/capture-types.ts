// What reading a capture file yields: records, and issues with where they are. Shared by the
// streaming reader (capture-reader.ts), its pcapng blocks (pcapng.ts) and pcap.ts.

export const PCAP_LINKTYPE_ETHERNET = 1;
/** libpcap's MAXIMUM_SNAPLEN: tcpdump's default -s, and the largest record it will read. */
export const PCAP_MAX_SNAPLEN = 262144;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
export const MAGIC_MICROS = 0xa1b2c3d4;
export const MAGIC_NANOS = 0xa1b23c4d;
export const PCAPNG_SHB = 0x0a0d0d0a; // a palindrome, so it reads the same in either byte order
export const MICROS_PER_SECOND = 1_000_000n;

export type PcapIssueKind =
  | "short" // fewer bytes than a magic number
  | "bad-magic" // neither pcap nor pcapng (or a pcapng byte-order magic that is neither order)
  | "bad-version" // pcap major version not 2, pcapng major version not 1
  | "truncated-header" // the file ends inside the pcap global header or the first pcapng block
  | "truncated-record" // the file ends inside a record header or its data
  | "record-too-long" // a record larger than the snaplen or PCAP_MAX_SNAPLEN
  | "truncated-block" // the file ends inside a pcapng block
  | "bad-block-length" // a pcapng block length < 12, not a multiple of 4, or not repeated at its end
  | "block-too-long" // a pcapng block we would have to hold that is over MAX_BLOCK_LEN
  | "bad-block" // a pcapng block too short for its own fixed fields, or a broken option
  | "unknown-interface" // a pcapng packet naming an interface its section did not describe
  | "bad-packet-length" // a pcapng packet whose captured length overruns its block
  | "bad-timestamp"; // a pcapng time before 1970 or past what a number (and a Date) holds: shown as 0

export interface PcapIssue {
  kind: PcapIssueKind;
  offset: number;
  reason: string;
}

export const issue = (kind: PcapIssueKind, offset: number, reason: string): PcapIssue => ({ kind, offset, reason });

export interface PcapPacket {
  /** A view: into the input when it was handed over whole, else valid until the reader's next push(). */
  data: Uint8Array;
  timestampUs: number;
  originalLength: number;
  /** 0-based position in the file (tshark's frame.number is index + 1). */
  index: number;
  /** The link type of the packet's interface (pcap: the file's). */
  linktype: number;
  /** pcapng only: the interface, numbered across the whole file in the order described. */
  interfaceId?: number;
}

/** libpcap reads a snaplen of 0 or over its maximum as the maximum. */
export function effectiveSnaplen(snaplen: number): number {
  return snaplen === 0 || snaplen > PCAP_MAX_SNAPLEN ? PCAP_MAX_SNAPLEN : snaplen;
}

/** "00 00 00 00 …": how the start of something that is not a capture is described. */
export function describeStart(b: Uint8Array, n = 8): string {
  const hex = Array.from(b.subarray(0, n), (x) => x.toString(16).padStart(2, "0")).join(" ");
  return b.length > n ? hex + " …" : hex;
}

/** The magic numbers as the first four bytes read big-endian: each pcap magic in both byte orders. */
const CAPTURE_MAGICS = [MAGIC_MICROS, 0xd4c3b2a1, MAGIC_NANOS, 0x4d3cb2a1, PCAPNG_SHB];

/** Whether these bytes start like a pcap (either byte order, µs or ns) or a pcapng file. */
export function isCaptureStart(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const m = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  return CAPTURE_MAGICS.includes(m);
}
