// The times a lease carries, made sane (RFC 2131 4.4.5, RFC 8925 3.4), and the other
// lease fields whose meaning depends on more than one option. Pure and total: every input,
// however hostile, gives an answer or a reason, never an exception.

import { parseIp } from "./bytes.ts";
import { getIp, getIps, getOption, getU32, type DhcpMessage } from "./message.ts";
import type { ClasslessRoute } from "./option-codecs.ts";

export const INFINITE = 0xffffffff;
/** Shorter leases have no whole second for T1 (it would be 0: renew at once, forever). */
export const MIN_LEASE = 2;
/** RFC 8925 3.4: MIN_V6ONLY_WAIT. */
export const MIN_V6ONLY_WAIT = 300;

export interface LeaseTimes {
  /** Seconds; INFINITE for an infinite lease. */
  lease: number;
  t1: number;
  t2: number;
  infinite: boolean;
  /** What was corrected, for the log: e.g. "t1 >= t2: both reset to the defaults". */
  adjusted: string[];
}

/**
 * Lease, T1 and T2 from options 51, 58, 59. A missing or zero lease is no lease (RFC 2131
 * requires 51 in an ACK; 0 would expire at once), and so is one under MIN_LEASE: the reason
 * comes back instead. T1
 * defaults to lease/2, T2 to lease*7/8; when T1 >= T2 or T2 >= lease, both are reset.
 */
export function leaseTimes(lease: number | null, t1: number | null, t2: number | null): LeaseTimes | { error: string } {
  if (lease === null) return { error: "no lease time (option 51)" };
  if (lease === 0) return { error: "lease time 0" };
  if (lease < MIN_LEASE) return { error: `lease time ${lease} s: too short to renew (at least ${MIN_LEASE} s)` };
  if (lease === INFINITE) return { lease, t1: INFINITE, t2: INFINITE, infinite: true, adjusted: [] };
  const adjusted: string[] = [];
  const defT1 = Math.floor(lease / 2),
    defT2 = Math.floor((lease * 7) / 8);
  let r1 = t1 ?? defT1,
    r2 = t2 ?? defT2;
  if (r1 === 0 || r1 >= r2 || r2 >= lease) {
    // T1 0 would renew at once, forever
    if (t1 !== null || t2 !== null) adjusted.push(`T1 ${t1 ?? "-"} / T2 ${t2 ?? "-"} do not fit lease ${lease}: reset to ${defT1} / ${defT2}`);
    r1 = defT1;
    r2 = defT2;
  }
  return { lease, t1: r1, t2: r2, infinite: false, adjusted };
}

export function messageLeaseTimes(msg: DhcpMessage): LeaseTimes | { error: string } {
  return leaseTimes(getU32(msg, 51), getU32(msg, 58), getU32(msg, 59));
}

/** Option 108 honoured only when asked for; a value under 300 s counts as 300 (RFC 8925). */
export function ipv6OnlyWait(msg: DhcpMessage, asked: boolean): number | null {
  if (!asked) return null;
  const v = getU32(msg, 108);
  return v === null ? null : Math.max(v, MIN_V6ONLY_WAIT);
}

/**
 * The routes a lease installs: RFC 3442 says a client that receives 121 ignores 3 (the
 * default route then comes from 121's 0/0 entry, if any).
 */
export function effectiveRoutes(msg: DhcpMessage): ClasslessRoute[] {
  const classless = getOption(msg, 121);
  if (Array.isArray(classless)) return classless as ClasslessRoute[];
  return getIps(msg, 3)
    .slice(0, 1)
    .map((router) => ({ destination: "0.0.0.0", prefix: 0, router }));
}

/** yiaddr a client could use: not 0/8, loopback, multicast/reserved or broadcast (HOSTILE 24). */
export function isUsableAddress(ip: string): boolean {
  const v = parseIp(ip);
  if (v === null) return false;
  const first = v >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

/**
 * The network or broadcast address of the offered subnet: no host address (HOSTILE 24).
 * /31 and /32 have neither (RFC 3021), so they pass; with no valid mask nothing can be said.
 */
export function isSubnetEdge(address: string, mask: string | null): boolean {
  if (mask === null) return false;
  const m = parseIp(mask),
    a = parseIp(address);
  if (m === null || a === null) return false;
  const host = ~m >>> 0;
  if (host <= 1) return false;
  return (a & host) >>> 0 === host || (a & host) >>> 0 === 0;
}

/** The subnet mask if it is a real (contiguous) one; null otherwise. */
export function subnetMask(msg: DhcpMessage): string | null {
  return getIp(msg, 1);
}
