// ARP (RFC 826) for Ethernet and IPv4, as much as a host that holds an address needs: read a
// request (every field checked: the frame comes off the wire) and build the reply. The
// resident client answers for a leased address it has not put on the interface, so that a
// router can deliver the server's unicast ACK to a renewal (cli/daemon/arp-responder.ts).

import { bytesEqual, ipFromBytes, writeIp } from "./bytes.ts";
import { ETH_HLEN } from "./frame.ts";

export const ETHERTYPE_ARP = 0x0806;
const ARP_LEN = 28;
const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;
const OP_REQUEST = 1,
  OP_REPLY = 2;

export interface ArpRequest {
  senderMac: Uint8Array;
  /** 0.0.0.0 in an RFC 5227 probe (someone checking that the address is free). */
  senderIp: string;
  targetIp: string;
}

export type ArpParse = { ok: true; request: ArpRequest } | { ok: false; reason: string };

/** An Ethernet frame holding an ARP request for IPv4 over Ethernet, or why not. */
export function parseArpRequest(frame: Uint8Array): ArpParse {
  if (frame.length < ETH_HLEN + ARP_LEN) return { ok: false, reason: "arp-short" };
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (v.getUint16(12) !== ETHERTYPE_ARP) return { ok: false, reason: "not-arp" };
  const a = ETH_HLEN;
  if (v.getUint16(a) !== HTYPE_ETHERNET || v.getUint16(a + 2) !== PTYPE_IPV4 || frame[a + 4] !== 6 || frame[a + 5] !== 4) {
    return { ok: false, reason: "arp-not-ipv4-ethernet" };
  }
  if (v.getUint16(a + 6) !== OP_REQUEST) return { ok: false, reason: "arp-not-request" };
  const senderMac = frame.slice(a + 8, a + 14);
  // The sender must be a unicast station that says so in the Ethernet header too.
  if ((senderMac[0]! & 1) !== 0 || !bytesEqual(senderMac, frame.subarray(6, 12))) return { ok: false, reason: "arp-bad-sender" };
  return { ok: true, request: { senderMac, senderIp: ipFromBytes(frame, a + 14), targetIp: ipFromBytes(frame, a + 24) } };
}

/** The reply a host at ourIp/ourMac sends to a request: unicast to the asker (RFC 826). */
export function buildArpReply(ourMac: Uint8Array, ourIp: string, req: ArpRequest): Uint8Array {
  const f = new Uint8Array(ETH_HLEN + ARP_LEN);
  const v = new DataView(f.buffer);
  f.set(req.senderMac, 0);
  f.set(ourMac.subarray(0, 6), 6);
  v.setUint16(12, ETHERTYPE_ARP);
  const a = ETH_HLEN;
  v.setUint16(a, HTYPE_ETHERNET);
  v.setUint16(a + 2, PTYPE_IPV4);
  f[a + 4] = 6;
  f[a + 5] = 4;
  v.setUint16(a + 6, OP_REPLY);
  f.set(ourMac.subarray(0, 6), a + 8);
  writeIp(f, a + 14, ourIp);
  f.set(req.senderMac, a + 18);
  writeIp(f, a + 24, req.senderIp);
  return f;
}
