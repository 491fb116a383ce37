// Discover as a pure procedure: which DISCOVERs to send when, which received frames count
// as OFFERs to us, and what each OFFER says. The shell feeds it frames and the time.

import { bytesEqual, macToString, parseIp, parseMac, toHex } from "./bytes.ts";
import {
  parseUdpFrame, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, type ChecksumStatus, type FrameDropReason, type ParsedFrame,
} from "./frame.ts";
import {
  decodeMessage, getIp, getIps, getString, getU32, messageType, getOption, BOOTREPLY,
  type DecodeErrorKind, type DhcpMessage,
} from "./message.ts";
import { decodeOption, optionName, DHCPOFFER, MESSAGE_TYPES, type ClasslessRoute, type OptionValue } from "./options.ts";
import { isSubnetEdge, isUsableAddress } from "./lease-times.ts";

export type ReplyDropReason =
  | FrameDropReason | `decode-${DecodeErrorKind}`
  | "not-reply" | "not-ethernet" | "wrong-xid" | "wrong-chaddr" | "no-message-type"
  | "not-offer" | "offer-no-address" | "offer-bad-address" | "outgoing" | "not-to-giaddr" | "other-server";

/** Counters of what was dropped and why; shown with --verbose and in JSON. */
export class DropCounters {
  readonly counts = new Map<string, number>();
  add(reason: string): void { this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1); }
  get total(): number { let t = 0; for (const v of this.counts.values()) t += v; return t; }
  toJSON(): Record<string, number> { return Object.fromEntries(this.counts); }
}

export interface OptionView {
  code: number;
  name: string;
  value?: OptionValue;
  error?: string;
  hex: string;
}

export interface Offer {
  serverId: string | null;
  sourceIp: string;
  sourceMac: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  subnetMask: string | null;
  routers: string[];
  dns: string[];
  domain: string | null;
  search: string[];
  leaseTime: number | null;
  renewalTime: number | null;
  rebindingTime: number | null;
  classlessRoutes: ClasslessRoute[];
  ipv6OnlyPreferred: number | null;
  relayAgentInfo: OptionValue | null;
  options: OptionView[];
  latencyMs: number;
  /** How many copies of this server's OFFER arrived (retransmissions answered). */
  copies: number;
  rogue: boolean;
}

export function optionViews(msg: DhcpMessage): OptionView[] {
  const out: OptionView[] = [];
  for (const [code, data] of msg.options) {
    const r = decodeOption(code, data);
    out.push(r.ok
      ? { code, name: optionName(code), value: r.value, hex: toHex(data) }
      : { code, name: optionName(code), error: r.error.reason, hex: toHex(data) });
  }
  return out;
}



export interface AllowList { ips: Set<string>; macs: Set<string> }

/** Parses --allow-server values (IP or MAC, comma or space separated); null marks a bad entry. */
export function parseAllowList(values: string[]): { list: AllowList; bad: string[] } {
  const list: AllowList = { ips: new Set(), macs: new Set() };
  const bad: string[] = [];
  for (const v of values.flatMap((s) => s.split(/[,\s]+/)).filter(Boolean)) {
    if (parseIp(v) !== null) list.ips.add(v);
    else {
      const mac = parseMac(v);
      if (mac) list.macs.add(macToString(mac));
      else bad.push(v);
    }
  }
  return { list, bad };
}

export function isAllowed(list: AllowList, offer: Pick<Offer, "serverId" | "sourceIp" | "sourceMac">): boolean {
  return (offer.serverId !== null && list.ips.has(offer.serverId)) ||
    list.ips.has(offer.sourceIp) || list.macs.has(offer.sourceMac);
}

export interface ReceivedFrameLike { bytes: Uint8Array; csum: ChecksumStatus; outgoing?: boolean }

/**
 * Where a server's reply to us arrives. A client's: UDP port 68, in a frame to chaddr or
 * broadcast. A relay's (--giaddr, RFC 2131 4.1): UDP port 67 at giaddr, in a frame to the
 * interface's MAC, the one the server's ARP for giaddr found (chaddr may be another).
 */
export interface ReplyPath { dstPort: number; mac: Uint8Array; dstIp?: string }

export function clientReplyPath(chaddr: Uint8Array): ReplyPath {
  return { dstPort: DHCP_CLIENT_PORT, mac: chaddr };
}

export function relayReplyPath(giaddr: string, interfaceMac: Uint8Array): ReplyPath {
  return { dstPort: DHCP_SERVER_PORT, mac: interfaceMac, dstIp: giaddr };
}

export type ReplyFrameResult =
  | { ok: true; frame: ParsedFrame }
  | { ok: false; reason: FrameDropReason | "not-to-giaddr" | "outgoing" };

/** The frame checks every reply passes before its DHCP message is decoded. */
export function parseReplyFrame(frame: ReceivedFrameLike, path: ReplyPath): ReplyFrameResult {
  if (frame.outgoing) return { ok: false, reason: "outgoing" };
  const f = parseUdpFrame(frame.bytes, { csum: frame.csum, dstPort: path.dstPort, ourMac: path.mac });
  if (!f.ok) return f;
  // A relay hears every client's broadcast to port 67 too (the watch filter): only what is
  // addressed to giaddr is an answer to us.
  if (path.dstIp !== undefined && f.frame.dstIp !== path.dstIp) return { ok: false, reason: "not-to-giaddr" };
  return f;
}

/** --server: a reply counts when its server id (54) or its source address is that server. */
export function fromServer(server: string, serverId: string | null, srcIp: string): boolean {
  return serverId === server || srcIp === server;
}

export interface CollectorOptions {
  xid: number;
  mac: Uint8Array;
  startedAt: number;   // ms, from the caller's clock
  allow?: AllowList;   // absent: nobody is rogue
  /** Where replies arrive (default: a client's, port 68 to mac). */
  replyPath?: ReplyPath;
  /** --server: offers from any other server are dropped ("other-server"), never shown or rogue. */
  server?: string;
}

/**
 * Collects OFFERs for one exchange. Every frame that is not an OFFER for our xid and MAC is
 * dropped into a counter; one Offer per server (by server id, else source IP) is kept.
 */
export class OfferCollector {
  readonly offers: Offer[] = [];
  readonly drops = new DropCounters();
  readonly warnings = new DropCounters();
  constructor(private readonly opts: CollectorOptions) {}

  /** Returns the new Offer when the frame was a first OFFER from a server, else null. */
  accept(frame: ReceivedFrameLike, now: number): Offer | null {
    try {
      return this.classify(frame, now);
    } catch (err) {
      // A broken invariant in our own decoder must not take the receive path down.
      this.drops.add("internal-error");
      return null;
    }
  }

  private classify(frame: ReceivedFrameLike, now: number): Offer | null {
    const f = parseReplyFrame(frame, this.opts.replyPath ?? clientReplyPath(this.opts.mac));
    if (!f.ok) { this.drops.add(f.reason); return null; }
    const d = decodeMessage(f.frame.payload);
    if (!d.ok) { this.drops.add(`decode-${d.error.kind}`); return null; }
    for (const w of d.warnings) this.warnings.add(w.kind);
    const msg = d.message;
    if (msg.op !== BOOTREPLY) { this.drops.add("not-reply"); return null; }
    if (msg.htype !== 1 || msg.hlen !== 6) { this.drops.add("not-ethernet"); return null; }
    if (msg.xid !== this.opts.xid) { this.drops.add("wrong-xid"); return null; }
    if (!bytesEqual(msg.chaddr.subarray(0, 6), this.opts.mac)) { this.drops.add("wrong-chaddr"); return null; }
    const type = messageType(msg);
    if (type === 0 || type >= MESSAGE_TYPES.length) { this.drops.add("no-message-type"); return null; }
    if (type !== DHCPOFFER) { this.drops.add("not-offer"); return null; }
    const serverId = getIp(msg, 54);
    if (this.opts.server !== undefined && !fromServer(this.opts.server, serverId, f.frame.srcIp)) {
      this.drops.add("other-server");
      return null;
    }
    if (msg.yiaddr === "0.0.0.0" && !serverId) { this.drops.add("offer-no-address"); return null; }
    if (!isUsableAddress(msg.yiaddr) || isSubnetEdge(msg.yiaddr, getIp(msg, 1))) { this.drops.add("offer-bad-address"); return null; }
    const key = serverId ?? f.frame.srcIp;
    const seen = this.offers.find((o) => (o.serverId ?? o.sourceIp) === key);
    if (seen) { seen.copies++; return null; }
    const offer = summarizeOffer(msg, f.frame, now - this.opts.startedAt);
    // Options that did not decode are ignored (the offer stands); count them, by code.
    for (const v of offer.options) if (v.error !== undefined) this.warnings.add(`option-${v.code}-invalid`);
    offer.rogue = this.opts.allow ? !isAllowed(this.opts.allow, offer) : false;
    this.offers.push(offer);
    return offer;
  }
}

export function summarizeOffer(msg: DhcpMessage, frame: ParsedFrame, latencyMs: number): Offer {
  const routes = getOption(msg, 121);
  const relay = getOption(msg, 82);
  const search = getOption(msg, 119);
  return {
    serverId: getIp(msg, 54),
    sourceIp: frame.srcIp,
    sourceMac: macToString(frame.srcMac),
    yiaddr: msg.yiaddr,
    siaddr: msg.siaddr,
    giaddr: msg.giaddr,
    subnetMask: getIp(msg, 1),
    routers: getIps(msg, 3),
    dns: getIps(msg, 6),
    domain: getString(msg, 15),
    search: Array.isArray(search) ? (search as string[]) : [],
    leaseTime: getU32(msg, 51),
    renewalTime: getU32(msg, 58),
    rebindingTime: getU32(msg, 59),
    classlessRoutes: Array.isArray(routes) ? (routes as ClasslessRoute[]) : [],
    ipv6OnlyPreferred: getU32(msg, 108),
    relayAgentInfo: relay ?? null,
    options: optionViews(msg),
    latencyMs: Math.round(latencyMs * 100) / 100,
    copies: 1,
    rogue: false,
  };
}

export interface DiscoverSchedule {
  /** Listening window, ms. */
  waitMs: number;
  /** Retransmit when this long has passed since the last DISCOVER, ms. */
  retryMs: number;
  /** At most this many DISCOVERs. */
  tries: number;
}

/** When the next DISCOVER goes out (ms since start), or null when no more are due. */
export function nextDiscoverAt(sent: number, s: DiscoverSchedule): number | null {
  if (sent >= s.tries) return null;
  const at = sent * s.retryMs;
  return at < s.waitMs ? at : null;
}
