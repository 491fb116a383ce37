// Decoding whatever a user hands us (a capture of any link type we read, an Ethernet frame,
// a bare DHCP or BOOTP message, as bytes or as hex text) into plain, JSON-ready views of
// every packet. Used by `lease decode` and `watch`. Pure: bytes in, values out, never throws.

import { fromHex, latin1, macToString, toHex, xidText } from "./bytes.ts";
import { fold, sum16 } from "./checksum.ts";
import { parseIpv4Udp, IPPROTO_UDP } from "./frame.ts";
import { isSupportedLinktype, linktypeName, unwrapLink, LINKTYPE_ETHERNET } from "./link.ts";
import { decodeBootp, decodeMessage, optionAt, type DecodeErrorKind, type DecodeWarning, type DhcpMessage } from "./message.ts";
import { optionName, MESSAGE_TYPES } from "./options.ts";
import { isCaptureStart } from "./capture-types.ts";
import { nameVendorSubOptions } from "./vendor-options.ts";
import { decodePcap } from "./pcap.ts";

export type InputKind = "pcap" | "frame" | "message";

/** `hex` is left out when the caller does not want it (watch without --verbose: it is costly). */
export interface OptionEntry {
  code: number;
  name: string;
  value?: unknown;
  error?: string;
  hex?: string;
}

export interface MessageView {
  op: number;
  messageType: string | null;
  htype: number;
  hlen: number;
  hops: number;
  xid: string;
  secs: number;
  flags: number;
  broadcast: boolean;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  chaddr: string;
  /** Up to the NUL; without one (a sname-/file-unterminated warning), all the field's bytes. */
  sname: string;
  file: string;
  options: OptionEntry[];
  warnings: DecodeWarning[];
  /** Set for a BOOTP message (RFC 951: no DHCP magic cookie): header fields only, no options. */
  bootp?: true;
  /** BOOTP only: the vend area (what follows the header), as hex. */
  vend?: string;
}

export interface FrameView {
  /** null where the link has no such address (raw IP; SLL gives only the sender's). */
  srcMac: string | null;
  dstMac: string | null;
  /** 802.1Q/802.1ad VLAN ids, outermost first; absent when untagged. */
  vlan?: number[];
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** "ok", "bad" (often: captured on the sending host before checksum offload), "none". */
  udpChecksum: "ok" | "bad" | "none";
  /** "zero": captured before the NIC filled the IPv4 header checksum in (offload). */
  ipChecksum: "ok" | "zero";
}

export interface PacketView {
  index: number;
  timestampUs?: number;
  frame?: FrameView;
  message?: MessageView;
  /** Why this packet could not be read as DHCP. */
  error?: string;
  /** The same as a short fixed token (a link or frame check's reason, "not-dhcp-port", "decode-<kind>"), for counters. */
  dropReason?: string;
}

export interface Inspection {
  kind: InputKind;
  packets: PacketView[];
  /** Problems with the container (a truncated pcap, …). */
  warnings: string[];
}

/**
 * The decoded options of recent messages, by their bytes (all that follows the magic cookie).
 * A server gives every client the same options, and a client repeats its own: under a flood
 * most messages are decoded once per option set, not once each. Bounded: cleared when full
 * (MEMO_ENTRIES sets, or MEMO_BUDGET bytes of keys: the entries decoded from them are of the
 * same order, so a flood of large unique option sets holds a few MB), and messages with more
 * option bytes than MEMO_MAX_BYTES are not remembered. The entries are shared between views:
 * read them, never change them (not frozen: JSON.stringify of a frozen object leaves its
 * fast path, and costs twice as much).
 */
const OPTIONS_AT = 240;
const MEMO_ENTRIES = 4096;
const MEMO_MAX_BYTES = 1024;
const MEMO_BUDGET = 512 * 1024;
let memoBytes = 0;
type Memo = Map<string, { options: OptionEntry[]; messageType: string | null }>;
const memoPlain: Memo = new Map();
const memoHex: Memo = new Map();

type MessageResult = { ok: true; message: MessageView } | { ok: false; error: string; kind: DecodeErrorKind };

export function viewMessage(payload: Uint8Array, withHex = true): MessageResult {
  const d = decodeMessage(payload);
  if (!d.ok) {
    const b = decodeBootp(payload);
    if (!b) return { ok: false, error: `${d.error.reason} (at byte ${d.error.offset})`, kind: d.error.kind };
    const view = messageView(payload, b.message, [], b.warnings, null);
    view.bootp = true;
    view.vend = toHex(b.vend);
    return { ok: true, message: view };
  }
  const m = d.message;
  const t = m.options;
  // the same option bytes, the same entries: from the memo (option 52 puts options in sname and file, outside the key)
  const key = !t.has(52) && payload.length - OPTIONS_AT <= MEMO_MAX_BYTES ? latin1(payload, OPTIONS_AT) : null;
  const memo = withHex ? memoHex : memoPlain;
  const known = key === null ? undefined : memo.get(key);
  if (known) return { ok: true, message: messageView(payload, m, known.options, d.warnings, known.messageType) };
  const options: OptionEntry[] = [];
  for (let i = 0; i < t.size; i++) {
    const code = t.codeAt(i),
      r = optionAt(t, i);
    const entry: OptionEntry = r.ok
      ? { code, name: optionName(code), value: r.value }
      : { code, name: optionName(code), error: `${r.error.reason} (at byte ${r.error.offset})` };
    if (withHex) entry.hex = t.hexAt(i);
    options.push(entry);
  }
  const type = m.options.get(53);
  const messageType = type && type.length === 1 && type[0] > 0 && type[0] < MESSAGE_TYPES.length ? MESSAGE_TYPES[type[0]] : null;
  const named = nameVendorSubOptions(options);
  if (key !== null) {
    if (memo.size >= MEMO_ENTRIES || memoBytes + key.length > MEMO_BUDGET) {
      memoPlain.clear();
      memoHex.clear();
      memoBytes = 0;
    }
    memo.set(key, { options: named, messageType });
    memoBytes += key.length;
  }
  return { ok: true, message: messageView(payload, m, named, d.warnings, messageType) };
}

function messageView(payload: Uint8Array, m: DhcpMessage, options: OptionEntry[], warnings: DecodeWarning[], messageType: string | null): MessageView {
  // A field with no NUL is still shown (escaped where printed), all its bytes, with the warning.
  const unterminated = (kind: DecodeWarning["kind"]) => warnings.some((w) => w.kind === kind);
  return {
    op: m.op,
    messageType,
    htype: m.htype,
    hlen: m.hlen,
    hops: m.hops,
    xid: xidText(m.xid),
    secs: m.secs,
    flags: m.flags,
    broadcast: (m.flags & 0x8000) !== 0,
    ciaddr: m.ciaddr,
    yiaddr: m.yiaddr,
    siaddr: m.siaddr,
    giaddr: m.giaddr,
    chaddr: m.htype === 1 && m.hlen === 6 ? macToString(payload, 28) : toHex(m.chaddr.subarray(0, Math.min(m.hlen, 16))),
    sname: unterminated("sname-unterminated") ? latin1(payload, 44, 108) : m.sname,
    file: unterminated("file-unterminated") ? latin1(payload, 108, 236) : m.file,
    options,
    warnings,
  };
}

function udpChecksumStatus(b: Uint8Array, ip: number, udp: number, len: number): FrameView["udpChecksum"] {
  if (((b[udp + 6] << 8) | b[udp + 7]) === 0) return "none";
  const sum = sum16(b, udp, len, sum16(b, ip + 12, 8) + IPPROTO_UDP + len);
  return fold(sum) === 0xffff ? "ok" : "bad";
}

/** One Ethernet frame: headers checked as in watch mode (any port, any MAC), then DHCP. */
export function viewFrame(bytes: Uint8Array, index: number, timestampUs?: number, withHex = true): PacketView {
  return viewCaptured(LINKTYPE_ETHERNET, bytes, index, timestampUs, withHex);
}

/** The reason a packet of a link type we do not read is skipped; the warning names the type. */
export function unsupportedLinktype(linktype: number): string {
  return `link type ${linktype} (${linktypeName(linktype)}) is not one dhcptool reads: its packets are skipped`;
}

/**
 * One captured frame of the given link type: down to IPv4 (through VLAN tags), headers
 * checked as in watch mode (any port, any MAC), then DHCP, or BOOTP.
 */
export function viewCaptured(linktype: number, bytes: Uint8Array, index: number, timestampUs?: number, withHex = true): PacketView {
  const view = (frame?: FrameView, message?: MessageView, error?: string, dropReason?: string): PacketView => {
    const v: PacketView = { index };
    if (timestampUs !== undefined) v.timestampUs = timestampUs;
    if (frame) v.frame = frame;
    if (message) v.message = message;
    if (error !== undefined) v.error = error;
    if (dropReason !== undefined) v.dropReason = dropReason;
    return v;
  };
  const l = unwrapLink(linktype, bytes);
  if (!l.ok) {
    const why = l.reason === "link-unsupported" ? unsupportedLinktype(linktype) : `not a DHCP frame: ${l.reason}`;
    return view(undefined, undefined, why, l.reason);
  }
  // "partial": a capture can hold frames whose UDP checksum was left to offload; report it
  // (udpChecksum) instead of refusing the frame. The same for an IPv4 header checksum of 0.
  const f = parseIpv4Udp(bytes, l.link.ip, { csum: "partial", dstPort: null, ipChecksumZero: true });
  if (!f.ok) return view(undefined, undefined, `not a DHCP frame: ${f.reason}`, f.reason);
  const fr = f.packet;
  const frame: FrameView = {
    srcMac: l.link.srcMac,
    dstMac: l.link.dstMac,
    srcIp: fr.srcIp,
    dstIp: fr.dstIp,
    srcPort: fr.srcPort,
    dstPort: fr.dstPort,
    udpChecksum: udpChecksumStatus(bytes, fr.ip, fr.udp, fr.udpLength),
    ipChecksum: fr.ipChecksum,
  };
  if (l.link.vlan.length) frame.vlan = l.link.vlan;
  const isDhcpPort = (p: number) => p === 67 || p === 68;
  if (!isDhcpPort(fr.srcPort) && !isDhcpPort(fr.dstPort)) return view(frame, undefined, "not DHCP: neither port is 67 or 68", "not-dhcp-port");
  const v = viewMessage(fr.payload, withHex);
  return v.ok ? view(frame, v.message) : view(frame, undefined, v.error, `decode-${v.kind}`);
}

/** Hex text as people paste it: plain, with colons, with `#` comments, or `tshark -x`/`xxd` dumps. */
export function parseHexText(text: string): Uint8Array | null {
  const chunks: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    // "0000  ff ff 01 …   ascii" (tshark -x, hexdump -C) or "00000000: ffff 0102 …  ascii" (xxd)
    const dump = line.match(/^[0-9a-f]{4,8}:?\s+((?:[0-9a-f]{2,4} ){1,16})/i);
    if (dump && /^[0-9a-f]{4,8}:?\s{1,2}[0-9a-f]{2}/i.test(line)) {
      chunks.push(dump[1].replace(/\s/g, ""));
      continue;
    }
    chunks.push(line.replace(/0x/gi, "").replace(/[\s:,-]/g, ""));
  }
  const hex = chunks.join("");
  return hex.length > 0 ? fromHex(hex) : null;
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c !== 9 && c !== 10 && c !== 13 && (c < 0x20 || c > 0x7e)) return false;
  }
  return b.length > 0;
}

function isEthernetIpv4(b: Uint8Array): boolean {
  return b.length >= 14 + 20 + 8 && b[12] === 0x08 && b[13] === 0x00 && b[14] >> 4 === 4;
}

/** Says once per link type that its packets are skipped, when we do not read it. */
export class LinktypeCheck {
  private readonly seen = new Set<number>();

  /** A warning the first time an unsupported link type is met, else null. */
  check(linktype: number): string | null {
    if (this.seen.has(linktype)) return null;
    this.seen.add(linktype);
    return isSupportedLinktype(linktype) ? null : unsupportedLinktype(linktype);
  }
}

/** Reads any supported input; `hint` forces a reading when auto-detection would guess. */
export function inspect(input: Uint8Array, hint: "auto" | "hex" | "raw" | "pcap" = "auto"): Inspection | { error: string } {
  let bytes = input;
  if (hint === "hex" || (hint === "auto" && !isCaptureStart(input) && looksLikeText(input))) {
    const parsed = parseHexText(latin1(input));
    if (!parsed) return { error: "the input is text but not hex bytes (give a pcap file, raw bytes, or hex)" };
    bytes = parsed;
  }
  if (hint === "pcap" || (hint !== "raw" && isCaptureStart(bytes))) {
    const p = decodePcap(bytes);
    if (!p.ok) return { error: `not a readable capture: ${p.error.reason}` };
    const warnings = p.warnings.map((w) => w.reason);
    const linktypes = new LinktypeCheck();
    const packets = p.packets.map((pk) => {
      const w = linktypes.check(pk.linktype);
      if (w) warnings.push(w);
      return viewCaptured(pk.linktype, pk.data, pk.index + 1, pk.timestampUs);
    });
    return { kind: "pcap", warnings, packets };
  }
  if (isEthernetIpv4(bytes)) return { kind: "frame", warnings: [], packets: [viewFrame(bytes, 1)] };
  const v = viewMessage(bytes);
  return { kind: "message", warnings: [], packets: [v.ok ? { index: 1, message: v.message } : { index: 1, error: v.error }] };
}
