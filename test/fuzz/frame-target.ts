// The frame target: one input through everything a received frame meets on its way to the
// screen. parseUdpFrame (client and watch settings) → decodeMessage → every option through
// decodeOption (and back through its codec) → the typed getters → re-encode and decode again
// → viewMessage/viewFrame/inspect → renderPacket, renderValue, safeJson (lease decode,
// watch) → OfferCollector and the offer table (discover) → ConversationTracker (watch).
// Invariants: nothing throws; every failure is a typed value; printed text is escaped as
// core/escape.ts promises; a decoded message encodes and decodes back to itself.

import { toHex } from "../../core/bytes.ts";
import { ConversationTracker } from "../../core/conversations.ts";
import { parseAllowList } from "../../core/allow-list.ts";
import { OfferCollector, optionViews } from "../../core/offers.ts";
import { parseIpv4Udp, parseUdpFrame, type FrameResult } from "../../core/frame.ts";
import { unwrapLink } from "../../core/link.ts";
import { inspect, viewCaptured, viewFrame, viewMessage, type InputKind, type PacketView } from "../../core/inspect.ts";
import { effectiveRoutes, ipv6OnlyWait, messageLeaseTimes, subnetMask } from "../../core/lease-times.ts";
import { decodeBootp, decodeMessage, encodeMessage, getIp, getIps, getOption, getString, getU32, messageType, type DhcpMessage } from "../../core/message.ts";
import { decodeOption, encodeOption, OPTIONS } from "../../core/options.ts";
import { renderOfferDetail, renderOfferTable, renderPacket, renderValue } from "../../cli/render.ts";
import { AP_MAC, dot11, ethernet, radiotap, sll, sll2 } from "../unit/capture-fixtures.ts";
import { CLIENT_MAC, XID } from "../unit/helpers.ts";
import type { FrameInput } from "./frame-input.ts";
import { isDottedQuad, isU32, must, mustPrint, mustSafeJson, PRINTABLE_LINE, PRINTABLE_LINES } from "./invariants.ts";

const FRAME_DROPS = new Set([
  "frame-short",
  "not-ipv4",
  "ip-header-bad",
  "ip-version",
  "not-udp",
  "ip-fragment",
  "ip-length",
  "ip-checksum",
  "udp-length",
  "udp-checksum",
  "wrong-port",
  "not-for-us",
]);
const DECODE_ERRORS = new Set(["short", "cookie", "option-truncated", "option-too-long"]);
const DECODE_WARNINGS = new Set(["no-end", "data-after-end", "sname-unterminated", "file-unterminated", "overload-invalid"]);
const MAX_OPTION_TOTAL = 16384;
const TIME_US = 1_700_000_000_000_000; // a capture time in 2023
const ALLOW = parseAllowList(["198.18.0.1"]).list;

function checkFrameResult(b: Uint8Array, r: FrameResult): void {
  if (!r.ok) {
    must(FRAME_DROPS.has(r.reason), `parseUdpFrame: unknown drop reason ${r.reason}`);
    return;
  }
  const f = r.frame,
    p = f.payload;
  must(p.buffer === b.buffer && p.byteOffset >= b.byteOffset && p.byteOffset + p.length <= b.byteOffset + b.length, "parseUdpFrame: payload outside the frame");
  must(isDottedQuad(f.srcIp) && isDottedQuad(f.dstIp), "parseUdpFrame: addresses not dotted quads");
  must(f.srcPort >= 0 && f.srcPort <= 0xffff && f.dstPort >= 0 && f.dstPort <= 0xffff, "parseUdpFrame: port out of range");
  must(f.srcMac.length === 6 && f.dstMac.length === 6, "parseUdpFrame: MAC not 6 bytes");
}

/** decodeMessage: a typed error with an offset inside the input, or a message within bounds. */
function checkDecode(p: Uint8Array): DhcpMessage | null {
  const r = decodeMessage(p);
  if (!r.ok) {
    must(DECODE_ERRORS.has(r.error.kind), `decodeMessage: unknown error kind ${r.error.kind}`);
    must(r.error.offset >= 0 && r.error.offset <= p.length, `decodeMessage: error offset ${r.error.offset} outside 0..${p.length}`);
    must(typeof r.error.reason === "string" && r.error.reason.length > 0, "decodeMessage: error without a reason");
    return null;
  }
  for (const w of r.warnings) {
    must(DECODE_WARNINGS.has(w.kind), `decodeMessage: unknown warning ${w.kind}`);
    must(w.offset >= 0 && w.offset <= p.length, `decodeMessage: warning offset ${w.offset} outside 0..${p.length}`);
  }
  const m = r.message;
  must(m.chaddr.length === 16 && m.sname.length <= 63 && m.file.length <= 127, "decodeMessage: chaddr/sname/file sizes");
  must(isU32(m.xid) && m.secs <= 0xffff && m.flags <= 0xffff, "decodeMessage: header field out of range");
  for (const [code, data] of m.options) {
    must(code >= 1 && code <= 254, `decodeMessage: option code ${code} kept`);
    must(data.length <= MAX_OPTION_TOTAL, `decodeMessage: option ${code} of ${data.length} bytes, over the cap`);
  }
  return m;
}

/** decodeOption: a typed error, or a value its codec encodes and decodes back to itself. */
function checkOptions(m: DhcpMessage): void {
  for (const [code, data] of m.options) {
    const r = decodeOption(code, data);
    if (!r.ok) {
      must(r.error.kind === "option" && r.error.code === code, `decodeOption(${code}): error not typed`);
      must(r.error.offset >= 0 && r.error.offset <= data.length, `decodeOption(${code}): error offset ${r.error.offset} outside 0..${data.length}`);
      must(r.error.reason.length > 0, `decodeOption(${code}): error without a reason`);
      continue;
    }
    if (!OPTIONS.has(code)) {
      must(r.value === toHex(data), `decodeOption(${code}): unknown code not hex`);
      continue;
    }
    const again = decodeOption(code, encodeOption(code, r.value));
    must(
      again.ok && JSON.stringify(again.value) === JSON.stringify(r.value),
      () => `option ${code}: decode(encode(v)) != v for v = ${JSON.stringify(r.value)} (data ${toHex(data)})`,
    );
  }
}

function checkGetters(m: DhcpMessage): void {
  const t = messageType(m);
  must(Number.isInteger(t) && t >= 0 && t <= 18, "messageType out of range");
  for (const code of [1, 3, 6, 12, 15, 51, 54, 58, 59, 108, 119, 121]) {
    getOption(m, code);
    getIp(m, code);
    getIps(m, code);
    getU32(m, code);
    getString(m, code);
  }
  const times = messageLeaseTimes(m);
  if (!("error" in times)) must(times.t1 <= times.t2 && times.t2 <= times.lease, `lease times out of order: ${JSON.stringify(times)}`);
  effectiveRoutes(m);
  ipv6OnlyWait(m, true);
  ipv6OnlyWait(m, false);
  subnetMask(m);
  optionViews(m);
}

/** A decoded message, encoded again (52 is the encoder's own), decodes to the same message. */
function checkReencode(m: DhcpMessage): void {
  const options = [...m.options].filter(([code]) => code !== 52).map(([code, data]) => ({ code, data }));
  const p = encodeMessage({
    op: m.op,
    xid: m.xid,
    chaddr: m.chaddr,
    secs: m.secs,
    flags: m.flags,
    hops: m.hops,
    ciaddr: m.ciaddr,
    yiaddr: m.yiaddr,
    siaddr: m.siaddr,
    giaddr: m.giaddr,
    sname: m.sname,
    file: m.file,
    options,
  });
  const r = decodeMessage(p);
  must(r.ok, () => `re-encoded message does not decode: ${r.ok ? "" : r.error.reason}`);
  must(r.warnings.length === 0, () => `re-encoded message decodes with warnings ${JSON.stringify(r.warnings)}`);
  const n = r.message;
  const head = (x: DhcpMessage) => [x.op, x.hops, x.xid, x.secs, x.flags, x.ciaddr, x.yiaddr, x.siaddr, x.giaddr, toHex(x.chaddr), x.sname, x.file].join("|");
  must(head(n) === head(m) && n.htype === 1 && n.hlen === 16, () => `re-encoded header differs: ${head(n)} vs ${head(m)}`);
  const list = (x: DhcpMessage) =>
    [...x.options]
      .filter(([c]) => c !== 52)
      .map(([c, d]) => `${c}:${toHex(d)}`)
      .sort()
      .join(",");
  must(list(n) === list(m), "re-encoded options differ");
}

/** lease decode prints renderPacket (text) or safeJson (--json) of each packet. */
function checkPacketView(v: PacketView, kind: InputKind): void {
  mustPrint(renderPacket(v, kind), PRINTABLE_LINES, "renderPacket");
  mustSafeJson(v, "packet JSON");
}

/** The decoder and everything typed over it; `render`: also the lease decode view of it alone. */
function checkMessage(p: Uint8Array, withHex: boolean, render: boolean): void {
  const m = checkDecode(p);
  if (m) {
    checkOptions(m);
    checkGetters(m);
    checkReencode(m);
  }
  const v = viewMessage(p, withHex);
  // what decodeMessage refuses, viewMessage still shows when it is a BOOTP header (RFC 951)
  must(v.ok === (m !== null || decodeBootp(p) !== null), "viewMessage and decodeMessage disagree");
  must(!v.ok || (v.message.bootp === true) === (m === null), "viewMessage: a BOOTP view of a DHCP message, or the reverse");
  if (!v.ok) mustPrint(v.error, PRINTABLE_LINE, "viewMessage error");
  else if (render) checkPacketView({ index: 1, message: v.message }, "message");
}

function checkInspect(bytes: Uint8Array, hint: "auto" | "raw" | "pcap" | "hex"): void {
  const r = inspect(bytes, hint);
  if ("error" in r) {
    mustPrint(r.error, PRINTABLE_LINE, "inspect error");
    return;
  }
  for (const w of r.warnings) mustPrint(w, PRINTABLE_LINE, "inspect warning");
  for (const p of r.packets) checkPacketView(p, r.kind);
}

/** discover's receive path: OfferCollector swallows exceptions as "internal-error"; there must be none. */
function checkCollector(bytes: Uint8Array, input: FrameInput, payload: Uint8Array | null): void {
  const xid = payload && payload.length >= 8 ? ((payload[4] << 24) | (payload[5] << 16) | (payload[6] << 8) | payload[7]) >>> 0 : XID;
  const c = new OfferCollector({ xid, mac: CLIENT_MAC, startedAt: 0, allow: ALLOW });
  c.accept({ bytes, csum: input.csum }, 1.5);
  c.accept({ bytes, csum: input.csum }, 2.5); // the same OFFER again: a copy
  must(!c.drops.counts.has("internal-error"), "OfferCollector caught an exception (internal-error)");
  if (c.offers.length) {
    mustPrint(renderOfferTable(c.offers, true, { width: 80, wide: false }).text, PRINTABLE_LINES, "renderOfferTable");
    for (const o of c.offers) mustPrint(renderOfferDetail(o), PRINTABLE_LINES, "renderOfferDetail");
    mustSafeJson(c.offers, "offers JSON");
  }
  mustSafeJson({ drops: c.drops, warnings: c.warnings }, "drop counters JSON");
}

/**
 * watch: the frame's view (printed as JSON, or as one line with renderValue per option, each
 * of which must stay on its line), fed to the exchange tracker twice (a retransmission).
 */
function checkWatch(bytes: Uint8Array, withHex: boolean): void {
  const v = viewFrame(bytes, 7, TIME_US, withHex);
  checkPacketView(v, "frame");
  if (v.message) for (const o of v.message.options) mustPrint(renderValue(o), PRINTABLE_LINE, `renderValue(${o.code})`);
  if (!v.frame || !v.message) {
    must(v.error !== undefined, "viewFrame: neither a message nor an error");
    return;
  }
  const t = new ConversationTracker(ALLOW);
  t.add({ timeUs: TIME_US, frame: v.frame, message: v.message });
  t.add({ timeUs: TIME_US + 1500, frame: v.frame, message: v.message });
  t.expire(TIME_US + 60_000_000);
  mustSafeJson(t.summary(), "watch summary JSON");
  mustSafeJson(t.alerts, "watch alerts JSON");
}

/** The capture link types other than Ethernet: the same bytes read as each of them. */
const OTHER_LINKTYPES = [113, 276, 101, 12, 228, 105, 127, 9];

/** How far one IPv4 packet gets under a link layer, for comparing link layers cheaply. */
function ipOutcome(linktype: number, b: Uint8Array): string {
  const l = unwrapLink(linktype, b);
  if (!l.ok) return l.reason;
  const r = parseIpv4Udp(b, l.link.ip, { csum: "partial", dstPort: null, ipChecksumZero: true });
  return r.ok ? [r.packet.srcIp, r.packet.dstIp, r.packet.srcPort, r.packet.dstPort, r.packet.ipChecksum, r.packet.payload.length].join(" ") : r.reason;
}

function checkOtherLinks(bytes: Uint8Array, withHex: boolean): void {
  const check = (lt: number, b: Uint8Array) => {
    const v = viewCaptured(lt, b, 7, TIME_US, withHex);
    must((v.message !== undefined) !== (v.error !== undefined), `viewCaptured(${lt}): a message or an error, one of them`);
    must(v.error === undefined || typeof v.dropReason === "string", `viewCaptured(${lt}): an error without a reason code`);
    checkPacketView(v, "pcap");
  };
  for (const lt of OTHER_LINKTYPES) check(lt, bytes);
  if (bytes.length < 14 || bytes[12] !== 0x08 || bytes[13] !== 0x00) return;
  // The frame's IPv4 packet under every other link layer gets as far as under Ethernet (the
  // DHCP decoding after that is the same code); one of them, in turn, is also viewed whole.
  const ip = bytes.subarray(14);
  const want = ipOutcome(1, bytes);
  const wrapped: [number, Uint8Array][] = [
    [113, sll(ip, 0, CLIENT_MAC)],
    [276, sll2(ip, 4, CLIENT_MAC)],
    [101, ip],
    [228, ip],
    [127, radiotap(dot11(ip, { fromDs: true, qos: true, order: true, addr: [CLIENT_MAC, AP_MAC, CLIENT_MAC] }))],
    [
      1,
      ethernet(ip, [
        [0x88a8, 100],
        [0x8100, 10],
      ]),
    ],
  ];
  // raw IP has no ethertype: the version nibble says IPv4, so its reasons are the link's
  const asRaw: Record<string, string> = { "not-ipv4": "ip-version", "link-short": "frame-short" };
  for (const [lt, b] of wrapped) {
    const got = ipOutcome(lt, b);
    must((lt === 101 || lt === 228 ? (asRaw[got] ?? got) : got) === want, `link type ${lt}: the same IPv4 packet reads as ${got}, under Ethernet ${want}`);
  }
  const [lt, b] = wrapped[bytes.length % wrapped.length];
  check(lt, b);
}

export function runFrame(input: FrameInput): void {
  const b = input.bytes;
  switch (input.shape) {
    case "frame": {
      const client = parseUdpFrame(b, { csum: input.csum, dstPort: 68, ourMac: CLIENT_MAC });
      checkFrameResult(b, client);
      const any = parseUdpFrame(b, { csum: "partial", dstPort: null });
      checkFrameResult(b, any);
      if (any.ok) checkMessage(any.frame.payload, input.withHex, false); // checkWatch renders it
      checkWatch(b, input.withHex);
      checkOtherLinks(b, input.withHex);
      checkCollector(b, input, any.ok ? any.frame.payload : null);
      return;
    }
    case "message":
      checkMessage(b, input.withHex, false);
      checkInspect(b, "raw"); // renders it as lease decode does
      return;
    case "pcap":
      checkInspect(b, "auto");
      return;
    case "hex":
      checkInspect(b, "auto");
      return;
  }
}
