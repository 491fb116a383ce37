// Who a reply says it comes from, checked before anything in it is believed (issue 11,
// finding 12): a server identifier that cannot be a server's unicast address, or an Ethernet
// source that cannot be a server's NIC, would send our renewals and RELEASE somewhere no
// server is (broadcast, multicast, ourselves). Pure: the engine drops what these name.

import { parseIp } from "./bytes.ts";

/**
 * Why `id` cannot be a server identifier (option 54, or the reply's source address when it
 * has none), or null when it can: 0.0.0.0, 255.255.255.255, 0/8, loopback (127/8),
 * multicast (224/4), reserved (240/4), or one of our own addresses (`own`: the address
 * offered or held).
 */
export function badServerId(id: string, own: readonly (string | null | undefined)[]): string | null {
  const v = parseIp(id);
  if (v === null) return "not an address";
  const first = v >>> 24;
  if (first === 0) return "0.0.0.0/8";
  if (first === 127) return "loopback";
  if (first >= 224 && first < 240) return "multicast";
  if (first >= 240) return v === 0xffffffff ? "broadcast" : "reserved (240/4)";
  if (own.some((o) => o === id)) return "our own address";
  return null;
}

/**
 * Why `mac` cannot be a server's Ethernet source, or null when it can: all zeros, broadcast,
 * a group (multicast) address, or our own MAC (a reflected or forged frame).
 */
export function badSourceMac(mac: Uint8Array, own: Uint8Array): string | null {
  if (mac.length < 6) return "short";
  if (mac.subarray(0, 6).every((b) => b === 0)) return "zero";
  if (mac.subarray(0, 6).every((b) => b === 0xff)) return "broadcast";
  if (mac[0] & 1) return "multicast";
  if (own.length >= 6 && mac.subarray(0, 6).every((b, i) => b === own[i])) return "our own";
  return null;
}
