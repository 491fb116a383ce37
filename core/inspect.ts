// Decoding whatever a user hands us (a pcap or pcapng file, an Ethernet frame, a bare DHCP
// message, as bytes or as hex text) into plain, JSON-ready views of every packet. Used by
// `lease decode` and, later, by `watch --read`. Pure: bytes in, values out, never throws.

import { fromHex, latin1, macToString, toHex } from "./bytes.ts";
import { fold, sum16 } from "./checksum.ts";
import { parseUdpFrame, IPPROTO_UDP } from "./frame.ts";
import { decodeMessage, type DecodeErrorKind, type DecodeWarning } from "./message.ts";
import { decodeOption, optionName, MESSAGE_TYPES } from "./options.ts";
import { decodePcap } from "./pcap.ts";

export type InputKind = "pcap" | "frame" | "message";

/** `hex` is left out when the caller does not want it (watch without --verbose: it is costly). */
export interface OptionEntry { code: number; name: string; value?: unknown; error?: string; hex?: string }

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
  sname: string;
  file: string;
  options: OptionEntry[];
  warnings: DecodeWarning[];
}

export interface FrameView {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** "ok", "bad" (often: captured on the sending host before checksum offload), "none". */
  udpChecksum: "ok" | "bad" | "none";
}

export interface PacketView {
  index: number;
  timestampUs?: number;
  frame?: FrameView;
  message?: MessageView;
  /** Why this packet could not be read as DHCP. */
  error?: string;
  /** The same as a short fixed token (a frame check's reason, "not-dhcp-port", "decode-<kind>"), for counters. */
  dropReason?: string;
}

export interface Inspection {
  kind: InputKind;
  packets: PacketView[];
  /** Problems with the container (a truncated pcap, …). */
  warnings: string[];
}

export function viewMessage(payload: Uint8Array, withHex = true):
  { ok: true; message: MessageView } | { ok: false; error: string; kind: DecodeErrorKind } {
  const d = decodeMessage(payload);
  if (!d.ok) return { ok: false, error: `${d.error.reason} (at byte ${d.error.offset})`, kind: d.error.kind };
  const m = d.message;
  const options: OptionEntry[] = [];
  for (const [code, data] of m.options) {
    const r = decodeOption(code, data);
    const entry: OptionEntry = r.ok
      ? { code, name: optionName(code), value: r.value }
      : { code, name: optionName(code), error: `${r.error.reason} (at byte ${r.error.offset})` };
    if (withHex) entry.hex = toHex(data);
    options.push(entry);
  }
  const type = m.options.get(53);
  return {
    ok: true,
    message: {
      op: m.op,
      messageType: type && type.length === 1 && type[0] > 0 && type[0] < MESSAGE_TYPES.length ? MESSAGE_TYPES[type[0]] : null,
      htype: m.htype, hlen: m.hlen, hops: m.hops,
      xid: "0x" + m.xid.toString(16).padStart(8, "0"),
      secs: m.secs, flags: m.flags, broadcast: (m.flags & 0x8000) !== 0,
      ciaddr: m.ciaddr, yiaddr: m.yiaddr, siaddr: m.siaddr, giaddr: m.giaddr,
      chaddr: m.htype === 1 && m.hlen === 6 ? macToString(m.chaddr) : toHex(m.chaddr.subarray(0, Math.min(m.hlen, 16))),
      sname: m.sname, file: m.file, options, warnings: d.warnings,
    },
  };
}

function udpChecksumStatus(b: Uint8Array): FrameView["udpChecksum"] {
  const ihl = (b[14] & 15) * 4;
  const udp = 14 + ihl;
  const len = (b[udp + 4] << 8) | b[udp + 5];
  if (((b[udp + 6] << 8) | b[udp + 7]) === 0) return "none";
  const sum = sum16(b, udp, len, sum16(b, 14 + 12, 8) + IPPROTO_UDP + len);
  return fold(sum) === 0xffff ? "ok" : "bad";
}

/** One Ethernet frame: headers checked as in watch mode (any port, any MAC), then DHCP. */
export function viewFrame(bytes: Uint8Array, index: number, timestampUs?: number, withHex = true): PacketView {
  const view = (frame?: FrameView, message?: MessageView, error?: string, dropReason?: string): PacketView => {
    const v: PacketView = { index };
    if (timestampUs !== undefined) v.timestampUs = timestampUs;
    if (frame) v.frame = frame;
    if (message) v.message = message;
    if (error !== undefined) v.error = error;
    if (dropReason !== undefined) v.dropReason = dropReason;
    return v;
  };
  // "partial": a capture can hold frames whose UDP checksum was left to offload; report it
  // (udpChecksum) instead of refusing the frame.
  const f = parseUdpFrame(bytes, { csum: "partial", dstPort: null });
  if (!f.ok) return view(undefined, undefined, `not a DHCP frame: ${f.reason}`, f.reason);
  const fr = f.frame;
  const frame: FrameView = {
    srcMac: macToString(fr.srcMac), dstMac: macToString(fr.dstMac),
    srcIp: fr.srcIp, dstIp: fr.dstIp, srcPort: fr.srcPort, dstPort: fr.dstPort,
    udpChecksum: udpChecksumStatus(bytes),
  };
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

function isPcap(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const m = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  return [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a].includes(m);
}

function isEthernetIpv4(b: Uint8Array): boolean {
  return b.length >= 14 + 20 + 8 && b[12] === 0x08 && b[13] === 0x00 && b[14] >> 4 === 4;
}

/** Reads any supported input; `hint` forces a reading when auto-detection would guess. */
export function inspect(input: Uint8Array, hint: "auto" | "hex" | "raw" | "pcap" = "auto"): Inspection | { error: string } {
  let bytes = input;
  if (hint === "hex" || (hint === "auto" && !isPcap(input) && looksLikeText(input))) {
    const parsed = parseHexText(latin1(input));
    if (!parsed) return { error: "the input is text but not hex bytes (give a pcap file, raw bytes, or hex)" };
    bytes = parsed;
  }
  if (hint === "pcap" || (hint !== "raw" && isPcap(bytes))) {
    const p = decodePcap(bytes);
    if (!p.ok) return { error: `not a readable capture: ${p.error.reason}` };
    const warnings = p.warnings.map((w) => w.reason);
    if (p.format === "pcap" && p.linktype !== 1) warnings.push(`link type ${p.linktype} is not Ethernet; frames may not decode`);
    return { kind: "pcap", warnings, packets: p.packets.map((pk, i) => viewFrame(pk.data, i + 1, pk.timestampUs)) };
  }
  if (isEthernetIpv4(bytes)) return { kind: "frame", warnings: [], packets: [viewFrame(bytes, 1)] };
  const v = viewMessage(bytes);
  return { kind: "message", warnings: [], packets: [v.ok ? { index: 1, message: v.message } : { index: 1, error: v.error }] };
}
