// The link layers captures come in, down to the IPv4 header: Ethernet (with 802.1Q/802.1ad
// tags, stacked), Linux cooked SLL and SLL2 (`tcpdump -i any`), raw IP, and 802.11 data
// frames (bare or behind radiotap) carrying LLC/SNAP. Every length is checked before it is
// read; what cannot be read says why in a reason code that watch counts.
// Link types: https://www.tcpdump.org/linktypes.html and draft-ietf-opsawg-pcaplinktype.

import { macToString } from "./bytes.ts";

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113,
  LINKTYPE_LINUX_SLL2 = 276;
export const LINKTYPE_RAW = 101,
  LINKTYPE_IPV4 = 228;
export const LINKTYPE_IEEE802_11 = 105,
  LINKTYPE_IEEE802_11_RADIOTAP = 127;

const NAMES = new Map<number, string>([
  [LINKTYPE_ETHERNET, "Ethernet"],
  // DLT_RAW's number differs between systems, and pcap files carry the system's number
  [12, "raw IP (DLT_RAW)"],
  [14, "raw IP (DLT_RAW, OpenBSD)"],
  [LINKTYPE_RAW, "raw IP"],
  [LINKTYPE_IPV4, "raw IPv4"],
  [LINKTYPE_LINUX_SLL, "Linux cooked (SLL)"],
  [LINKTYPE_LINUX_SLL2, "Linux cooked v2 (SLL2)"],
  [LINKTYPE_IEEE802_11, "802.11"],
  [LINKTYPE_IEEE802_11_RADIOTAP, "802.11 with radiotap"],
]);
/** Link types some capture holds that we do not read, named so the warning says what they are. */
const OTHER_NAMES = new Map<number, string>([
  [0, "BSD loopback"],
  [9, "PPP"],
  [50, "PPP over HDLC"],
  [104, "Cisco HDLC"],
  [108, "OpenBSD loopback"],
  [192, "PPI"],
  [197, "ERF"],
  [220, "USB"],
  [239, "Netlink"],
  [249, "USBPcap"],
]);

export function isSupportedLinktype(linktype: number): boolean {
  return NAMES.has(linktype);
}

export function linktypeName(linktype: number): string {
  return NAMES.get(linktype) ?? OTHER_NAMES.get(linktype) ?? "unknown";
}

export type LinkDropReason =
  | "link-unsupported" // a link type we do not read
  | "link-short" // shorter than its link header
  | "not-ipv4" // another protocol (ARP, IPv6, …)
  | "vlan-too-deep" // more than MAX_VLAN_TAGS stacked tags
  | "radiotap-bad" // radiotap version not 0, or its length outside the frame
  | "80211-not-data" // management or control frame
  | "80211-no-data" // a data frame that carries none (null function, CF-Ack…)
  | "80211-protected" // encrypted: the payload cannot be read
  | "80211-amsdu" // an aggregate of several frames
  | "llc-not-snap"; // not AA AA 03: no ethertype to follow

export interface LinkFrame {
  /** Where the IPv4 header starts. */
  ip: number;
  /** Link addresses when the link has them: Ethernet and 802.11 both; SLL the sender's only. */
  srcMac: string | null;
  dstMac: string | null;
  /** 802.1Q/802.1ad VLAN ids, outermost first; empty when untagged. */
  vlan: number[];
}

export type LinkResult = { ok: true; link: LinkFrame } | { ok: false; reason: LinkDropReason };

const ETHERTYPE_IPV4 = 0x0800;
/** 802.1Q, 802.1ad (QinQ's outer tag), and the pre-standard QinQ 0x9100. */
const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100]);
/** Deeper stacks exist nowhere in practice; the cap keeps a hostile frame's list short. */
export const MAX_VLAN_TAGS = 8;

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const drop = (reason: LinkDropReason): LinkResult => ({ ok: false, reason });

/**
 * From the ethertype at `typeAt`, whose payload starts at `payloadAt`, through any VLAN tags
 * (each a TCI and the next ethertype), to IPv4.
 */
function ethertypeChain(b: Uint8Array, typeAt: number, payloadAt: number, srcMac: string | null, dstMac: string | null): LinkResult {
  const vlan: number[] = [];
  let t = typeAt,
    p = payloadAt;
  for (;;) {
    if (t + 2 > b.length) return drop("link-short");
    const type = u16(b, t);
    if (type === ETHERTYPE_IPV4) return { ok: true, link: { ip: p, srcMac, dstMac, vlan } };
    if (!VLAN_TPIDS.has(type)) return drop("not-ipv4");
    if (vlan.length === MAX_VLAN_TAGS) return drop("vlan-too-deep");
    if (p + 4 > b.length) return drop("link-short");
    vlan.push(u16(b, p) & 0x0fff); // the TCI's low 12 bits; priority and DEI are not shown
    t = p + 2;
    p += 4;
  }
}

function ethernet(b: Uint8Array): LinkResult {
  if (b.length < 14) return drop("link-short");
  return ethertypeChain(b, 12, 14, macToString(b, 6), macToString(b, 0));
}

/** The sender's address, when the link is Ethernet (ARPHRD_ETHER) and it has 6 bytes. */
function sllSource(b: Uint8Array, hatype: number, halen: number, addr: number): string | null {
  return hatype === 1 && halen === 6 ? macToString(b, addr) : null;
}

/**
 * SLL: packet type, ARPHRD type, address length, 8 address bytes, protocol (16 bytes).
 * libpcap puts a VLAN tag the kernel took off back in as protocol 0x8100 and a TCI.
 */
function linuxSll(b: Uint8Array): LinkResult {
  if (b.length < 16) return drop("link-short");
  return ethertypeChain(b, 14, 16, sllSource(b, u16(b, 2), u16(b, 4), 6), null);
}

/** SLL2: protocol, reserved, ifindex, ARPHRD type, packet type, address length, 8 address bytes (20). */
function linuxSll2(b: Uint8Array): LinkResult {
  if (b.length < 20) return drop("link-short");
  return ethertypeChain(b, 0, 20, sllSource(b, u16(b, 8), b[11], 12), null);
}

function rawIp(b: Uint8Array): LinkResult {
  if (b.length < 1) return drop("link-short");
  return b[0] >> 4 === 4 ? { ok: true, link: { ip: 0, srcMac: null, dstMac: null, vlan: [] } } : drop("not-ipv4");
}

/** Radiotap (version 0): its own length, little-endian, says where the 802.11 frame starts. */
function radiotap(b: Uint8Array): LinkResult {
  if (b.length < 8 || b[0] !== 0) return drop("radiotap-bad");
  const len = b[2] | (b[3] << 8);
  if (len < 8 || len > b.length) return drop("radiotap-bad");
  return ieee80211(b, len);
}

/**
 * An 802.11 data frame from `h`: frame control, duration, three addresses, sequence control,
 * a fourth address between access points, QoS control (+ HT control when Order is set), then
 * LLC/SNAP: AA AA 03, an OUI, the ethertype (IEEE 802.11-2020 9.2–9.3; RFC 1042).
 */
function ieee80211(b: Uint8Array, h: number): LinkResult {
  if (b.length < h + 24) return drop("link-short");
  const fc = b[h],
    flags = b[h + 1];
  if ((fc & 0x03) !== 0 || ((fc >> 2) & 0x03) !== 2) return drop("80211-not-data");
  const subtype = fc >> 4;
  if (subtype & 0x04) return drop("80211-no-data");
  if (flags & 0x40) return drop("80211-protected");
  const toDs = (flags & 0x01) !== 0,
    fromDs = (flags & 0x02) !== 0;
  let p = h + 24 + (toDs && fromDs ? 6 : 0);
  const qos = (subtype & 0x08) !== 0;
  if (qos) {
    if (b.length < p + 2) return drop("link-short");
    if (b[p] & 0x80) return drop("80211-amsdu");
    p += 2 + (flags & 0x80 ? 4 : 0);
  }
  if (b.length < p + 8) return drop("link-short");
  if (b[p] !== 0xaa || b[p + 1] !== 0xaa || b[p + 2] !== 0x03) return drop("llc-not-snap");
  // Who sent and who receives, by the DS bits: address 1 is the receiver, 2 the transmitter.
  const dst = toDs ? h + 16 : h + 4;
  const src = toDs && fromDs ? h + 24 : fromDs ? h + 16 : h + 10;
  return ethertypeChain(b, p + 6, p + 8, macToString(b, src), macToString(b, dst));
}

/** The IPv4 header inside a captured frame of this link type, or why there is none. */
export function unwrapLink(linktype: number, b: Uint8Array): LinkResult {
  switch (linktype) {
    case LINKTYPE_ETHERNET:
      return ethernet(b);
    case LINKTYPE_LINUX_SLL:
      return linuxSll(b);
    case LINKTYPE_LINUX_SLL2:
      return linuxSll2(b);
    case 12:
    case 14:
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
      return rawIp(b);
    case LINKTYPE_IEEE802_11_RADIOTAP:
      return radiotap(b);
    case LINKTYPE_IEEE802_11:
      return ieee80211(b, 0);
    default:
      return drop("link-unsupported");
  }
}
