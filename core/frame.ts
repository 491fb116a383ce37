// Ethernet II / IPv4 / UDP around a DHCP message: building frames to send, and taking
// received frames apart with every length checked (HOSTILE.md items 1–7).

import { ipFromBytes, isBroadcastMac, writeIp } from "./bytes.ts";
import { fold, ipv4HeaderChecksum, sum16, udpChecksum } from "./checksum.ts";

export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const IPPROTO_UDP = 17;
export const IPTOS_LOWDELAY = 0x10;
export const DHCP_SERVER_PORT = 67,
  DHCP_CLIENT_PORT = 68;
export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export interface UdpFrameSpec {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  ttl?: number; // default 128, as the seed sends
  tos?: number; // default low delay
  ipId?: number;
}

/** Builds a whole frame with correct IPv4 header and UDP checksums. */
export function buildUdpFrame(spec: UdpFrameSpec): Uint8Array {
  const udpLen = 8 + spec.payload.length;
  const ipLen = 20 + udpLen;
  const frame = new Uint8Array(ETH_HLEN + ipLen);
  const dv = new DataView(frame.buffer);
  frame.set(spec.dstMac.subarray(0, 6), 0);
  frame.set(spec.srcMac.subarray(0, 6), 6);
  dv.setUint16(12, ETHERTYPE_IPV4);
  const ip = ETH_HLEN;
  frame[ip] = 0x45;
  frame[ip + 1] = spec.tos ?? IPTOS_LOWDELAY;
  dv.setUint16(ip + 2, ipLen);
  dv.setUint16(ip + 4, spec.ipId ?? 0);
  dv.setUint16(ip + 6, 0); // no fragmentation
  frame[ip + 8] = spec.ttl ?? 128;
  frame[ip + 9] = IPPROTO_UDP;
  writeIp(frame, ip + 12, spec.srcIp);
  writeIp(frame, ip + 16, spec.dstIp);
  dv.setUint16(ip + 10, ipv4HeaderChecksum(frame, ip, 20));
  const udp = ip + 20;
  dv.setUint16(udp, spec.srcPort);
  dv.setUint16(udp + 2, spec.dstPort);
  dv.setUint16(udp + 4, udpLen);
  frame.set(spec.payload, udp + 8);
  dv.setUint16(udp + 6, udpChecksum(frame, ip, udp, udpLen));
  return frame;
}

/** Tag protocol identifiers: an 802.1Q (VLAN) tag, an 802.1ad (QinQ service) tag. */
export const TPID_8021Q = 0x8100,
  TPID_8021AD = 0x88a8;

/** An 802.1Q/802.1ad tag: VLAN id (0: a priority tag only), priority code point, TPID. */
export interface VlanTag {
  id: number;
  pcp: number;
  tpid: number;
}

/** The tag a TCI (PCP 3 bits, DEI 1, VID 12) and a TPID stand for. */
export function vlanTag(tci: number, tpid: number): VlanTag {
  return { id: tci & 0x0fff, pcp: (tci >>> 13) & 7, tpid };
}

/**
 * A copy of an Ethernet frame with a VLAN tag inserted after the MAC addresses: the 4 bytes
 * a trunk port carries (IEEE 802.1Q 9.3), TPID then PCP, DEI 0 and VID. What was the
 * ethertype now follows the tag; nothing else moves, so no checksum changes.
 */
export function tagFrame(frame: Uint8Array, vlanId: number, pcp = 0, tpid = TPID_8021Q): Uint8Array {
  if (frame.length < ETH_HLEN) throw new RangeError(`a frame of ${frame.length} bytes has no Ethernet header to tag`);
  if (!Number.isInteger(vlanId) || vlanId < 0 || vlanId > 4095) throw new RangeError(`VLAN id ${vlanId} is not 0-4095`);
  if (!Number.isInteger(pcp) || pcp < 0 || pcp > 7) throw new RangeError(`priority ${pcp} is not 0-7`);
  if (!Number.isInteger(tpid) || tpid < 0x600 || tpid > 0xffff) throw new RangeError(`TPID ${tpid} is not an ethertype`);
  return insertVlanTag(frame, tpid, (pcp << 13) | vlanId);
}

/**
 * A copy of a frame (at least an Ethernet header long) with the 4 bytes TPID, TCI after its
 * MAC addresses, taken as given: how a receiver puts back a tag the kernel took off.
 */
export function insertVlanTag(frame: Uint8Array, tpid: number, tci: number): Uint8Array {
  const tagged = new Uint8Array(frame.length + 4);
  tagged.set(frame.subarray(0, 12));
  tagged[12] = (tpid >>> 8) & 0xff;
  tagged[13] = tpid & 0xff;
  tagged[14] = (tci >>> 8) & 0xff;
  tagged[15] = tci & 0xff;
  tagged.set(frame.subarray(12), 16);
  return tagged;
}

/** What the kernel said about the checksum of a received frame (PACKET_AUXDATA). */
export type ChecksumStatus = "valid" | "partial" | "unknown";

export type FrameDropReason =
  | "frame-short"
  | "not-ipv4"
  | "ip-header-bad"
  | "ip-version"
  | "not-udp"
  | "ip-fragment"
  | "ip-length"
  | "ip-checksum"
  | "udp-length"
  | "udp-checksum"
  | "wrong-port"
  | "not-for-us";

export interface ParsedFrame extends Ipv4Udp {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
}

export type FrameResult = { ok: true; frame: ParsedFrame } | { ok: false; reason: FrameDropReason };

export interface FrameCheck {
  csum: ChecksumStatus;
  /** Required UDP destination port; null accepts any (watch mode). */
  dstPort: number | null;
  /** When set, the Ethernet destination must be this MAC or broadcast (client mode). */
  ourMac?: Uint8Array;
}

const drop = (reason: FrameDropReason): { ok: false; reason: FrameDropReason } => ({ ok: false, reason });

export function parseUdpFrame(b: Uint8Array, check: FrameCheck): FrameResult {
  if (b.length < ETH_HLEN + 20) return drop("frame-short");
  if (((b[12] << 8) | b[13]) !== ETHERTYPE_IPV4) return drop("not-ipv4");
  if (check.ourMac && !isBroadcastMac(b, 0)) {
    for (let i = 0; i < 6; i++) if (b[i] !== check.ourMac[i]) return drop("not-for-us");
  }
  const r = parseIpv4Udp(b, ETH_HLEN, check);
  if (!r.ok) return r;
  return { ok: true, frame: { dstMac: b.subarray(0, 6), srcMac: b.subarray(6, 12), ...r.packet } };
}

/** IPv4 and UDP as parseIpv4Udp finds them. */
export interface Ipv4Udp {
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  ttl: number;
  /** The UDP payload, trimmed to the UDP length (trailing bytes are not trusted). */
  payload: Uint8Array;
  /** "zero": the header checksum was 0 and `ipChecksumZero` let it through. */
  ipChecksum: "ok" | "zero";
  /** Offsets of the IPv4 and UDP headers in the frame, and the UDP length. */
  ip: number;
  udp: number;
  udpLength: number;
}

export interface Ipv4UdpCheck {
  csum: ChecksumStatus;
  dstPort: number | null;
  /**
   * Captures only: a header checksum of 0 is accepted (and reported). A capture taken on the
   * sending host shows frames before the NIC filled the checksum in (offload); live receive
   * never sees them so, and keeps the strict check.
   */
  ipChecksumZero?: boolean;
}

/** The IPv4 header at `ip` and the UDP datagram in it, every length checked (HOSTILE.md 1–6). */
const u16 = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];

export function parseIpv4Udp(b: Uint8Array, ip: number, check: Ipv4UdpCheck): { ok: true; packet: Ipv4Udp } | { ok: false; reason: FrameDropReason } {
  if (b.length < ip + 20) return drop("frame-short");
  if (b[ip] >> 4 !== 4) return drop("ip-version");
  const ihl = (b[ip] & 0x0f) * 4;
  if (ihl < 20 || ip + ihl > b.length) return drop("ip-header-bad");
  if (b[ip + 9] !== IPPROTO_UDP) return drop("not-udp");
  const fragment = u16(b, ip + 6);
  if ((fragment & 0x1fff) !== 0 || (fragment & 0x2000) !== 0) return drop("ip-fragment");
  const totalLen = u16(b, ip + 2);
  if (ip + totalLen > b.length || totalLen < ihl + 8) return drop("ip-length");
  // The IPv4 header is never checked by anyone before a packet socket sees it.
  let ipChecksum: Ipv4Udp["ipChecksum"] = "ok";
  if (fold(sum16(b, ip, ihl)) !== 0xffff) {
    if (!check.ipChecksumZero || u16(b, ip + 10) !== 0) return drop("ip-checksum");
    ipChecksum = "zero";
  }
  const udp = ip + ihl;
  const udpLen = u16(b, udp + 4);
  if (udpLen < 8 || udp + udpLen > ip + totalLen) return drop("udp-length");
  const storedSum = u16(b, udp + 6);
  // "partial": the sender's stack left the checksum for offload (veth, local), it is not
  // filled in; "valid": the NIC verified it. Otherwise verify; zero means none was sent.
  if (check.csum === "unknown" && storedSum !== 0) {
    let sum = sum16(b, ip + 12, 8) + IPPROTO_UDP + udpLen;
    sum = sum16(b, udp, udpLen, sum);
    if (fold(sum) !== 0xffff) return drop("udp-checksum");
  }
  const dstPort = u16(b, udp + 2);
  if (check.dstPort !== null && dstPort !== check.dstPort) return drop("wrong-port");
  return {
    ok: true,
    packet: {
      // remembered texts (bytes.ts): flat strings, and no new one per packet from the same hosts
      srcIp: ipFromBytes(b, ip + 12),
      dstIp: ipFromBytes(b, ip + 16),
      srcPort: u16(b, udp),
      dstPort,
      ttl: b[ip + 8],
      payload: b.subarray(udp + 8, udp + udpLen),
      ipChecksum,
      ip,
      udp,
      udpLength: udpLen,
    },
  };
}
