// What discover collects: which received frames count as OFFERs to us (one per server, the
// rest dropped into counters) and what each OFFER says. The shell feeds it frames and the time.

import { macToString } from "./bytes.ts";
import type { ParsedFrame } from "./frame.ts";
import { getIp, getIps, getString, getU32, messageType, getOption, optionAt, type DhcpMessage } from "./message.ts";
import { optionName, DHCPOFFER, MESSAGE_TYPES, type ClasslessRoute, type OptionValue } from "./options.ts";
import { isSubnetEdge, isUsableAddress } from "./lease-times.ts";
import { isAllowed, type AllowList } from "./allow-list.ts";
import { DropCounters } from "./drops.ts";
import { nameVendorSubOptions } from "./vendor-options.ts";
import { clientReplyPath, frameVlan, fromServer, receiveReply, replyMismatch, type ReceivedFrameLike, type ReplyPath } from "./reply.ts";

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
  /** How many copies of this OFFER (same server, same address) arrived. */
  copies: number;
  rogue: boolean;
}

export function optionViews(msg: DhcpMessage): OptionView[] {
  const out: OptionView[] = [];
  const t = msg.options;
  for (let i = 0; i < t.size; i++) {
    const code = t.codeAt(i),
      r = optionAt(t, i),
      hex = t.hexAt(i);
    out.push(r.ok ? { code, name: optionName(code), value: r.value, hex } : { code, name: optionName(code), error: r.error.reason, hex });
  }
  return nameVendorSubOptions(out);
}

/** Offers kept per exchange at most: a flood of fake offers stays bounded (HOSTILE 28). */
export const MAX_OFFERS = 256;

export interface CollectorOptions {
  xid: number;
  mac: Uint8Array;
  startedAt: number; // ms, from the caller's clock
  allow?: AllowList; // absent: nobody is rogue
  /** Where replies arrive (default: a client's, port 68 to mac). */
  replyPath?: ReplyPath;
  /** --server: offers from any other server are dropped ("other-server"), never shown or rogue. */
  server?: string;
  /**
   * The VLAN probed: null the link's own, an id on a trunk. A reply of another VLAN is dropped
   * ("other-vlan": its server is not on that link) and its VLAN noted in otherVlans.
   */
  vlan?: number | null;
}

/** Distinct other VLANs noted at most (a flood of tags stays bounded). */
const MAX_OTHER_VLANS = 16;

/**
 * Collects OFFERs for one exchange. Every frame that is not an OFFER for our xid and MAC is
 * dropped into a counter; one Offer per server (by server id, else source IP) and offered
 * address is kept: a repeat of the same offer is a copy, but a server that offers another
 * address (Kea answers each DISCOVER it hears with a new one) has made another offer, and
 * it is shown as one.
 */
export class OfferCollector {
  readonly offers: Offer[] = [];
  readonly drops = new DropCounters();
  readonly warnings = new DropCounters();
  /** The VLANs that answers to our DISCOVER came tagged with, other than the one probed (at most MAX_OTHER_VLANS). */
  readonly otherVlans = new Set<number>();
  constructor(private readonly opts: CollectorOptions) {}

  /** Returns the new Offer when the frame was a first OFFER from a server, else null. */
  accept(frame: ReceivedFrameLike, now: number): Offer | null {
    try {
      return this.classify(frame, now);
    } catch {
      // A broken invariant in our own decoder must not take the receive path down.
      this.drops.add("internal-error");
      return null;
    }
  }

  private classify(frame: ReceivedFrameLike, now: number): Offer | null {
    const r = receiveReply(frame, this.opts.replyPath ?? clientReplyPath(this.opts.mac));
    if (!r.ok) {
      this.drops.add(r.reason);
      return null;
    }
    for (const w of r.warnings) this.warnings.add(w.kind);
    const msg = r.message;
    const mismatch = replyMismatch(msg, this.opts.xid, this.opts.mac);
    if (mismatch !== null) {
      this.drops.add(mismatch);
      return null;
    }
    // An answer to our DISCOVER that came on another VLAN than the one probed is from a server
    // that is not on this link (a VLAN 10 OFFER to an untagged probe is not a native server).
    const vlan = frameVlan(frame);
    if (this.opts.vlan !== undefined && vlan !== this.opts.vlan) {
      this.drops.add("other-vlan");
      if (vlan !== null && this.otherVlans.size < MAX_OTHER_VLANS) this.otherVlans.add(vlan);
      return null;
    }
    const type = messageType(msg);
    if (type === 0 || type >= MESSAGE_TYPES.length) {
      this.drops.add("no-message-type");
      return null;
    }
    if (type !== DHCPOFFER) {
      this.drops.add("not-offer");
      return null;
    }
    const serverId = getIp(msg, 54);
    if (this.opts.server !== undefined && !fromServer(this.opts.server, serverId, r.frame.srcIp)) {
      this.drops.add("other-server");
      return null;
    }
    if (msg.yiaddr === "0.0.0.0" && !serverId) {
      this.drops.add("offer-no-address");
      return null;
    }
    if (!isUsableAddress(msg.yiaddr) || isSubnetEdge(msg.yiaddr, getIp(msg, 1))) {
      this.drops.add("offer-bad-address");
      return null;
    }
    const key = serverId ?? r.frame.srcIp;
    for (const seen of this.offers) {
      if ((seen.serverId ?? seen.sourceIp) === key && seen.yiaddr === msg.yiaddr) {
        seen.copies++;
        return null;
      }
    }
    if (this.offers.length >= MAX_OFFERS) {
      this.drops.add("too-many-offers");
      return null;
    }
    const offer = summarizeOffer(msg, r.frame, now - this.opts.startedAt);
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
