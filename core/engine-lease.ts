// The lease an ACK gives, as the engine keeps it: every time counted from our REQUEST
// (RFC 2131 4.4.1), the options the shells apply and report. Pure, like the engine.

import { toHex } from "./bytes.ts";
import type { Lease, Received } from "./engine-types.ts";
import { effectiveRoutes, ipv6OnlyWait, type LeaseTimes } from "./lease-times.ts";
import { getIp, getIps, getOption, getString } from "./message.ts";

const SECOND = 1000;

/** The lease of an ACK already checked by the engine (address, server, times), from `start`, when our REQUEST went out. */
export function leaseFromAck(r: Received, server: string, start: number, times: LeaseTimes, preferIpv6: boolean): Lease {
  const m = r.message;
  return {
    address: m.yiaddr,
    serverId: server,
    serverMac: r.srcMac.slice(0, 6),
    subnetMask: getIp(m, 1),
    routers: getIps(m, 3),
    routes: effectiveRoutes(m),
    dns: getIps(m, 6),
    domain: getString(m, 15),
    search: stringList(getOption(m, 119)),
    leaseTime: times.lease,
    t1: times.t1,
    t2: times.t2,
    infinite: times.infinite,
    ipv6OnlyWait: ipv6OnlyWait(m, preferIpv6),
    adjusted: times.adjusted,
    acquiredAt: start,
    renewAt: times.infinite ? null : start + times.t1 * SECOND,
    rebindAt: times.infinite ? null : start + times.t2 * SECOND,
    expiresAt: times.infinite ? null : start + times.lease * SECOND,
    options: [...m.options].map(([code, data]) => ({ code, hex: toHex(data) })),
  };
}

/** The lease has run out (an infinite one never does). */
export function leaseOver(lease: Lease, now: number): boolean {
  return lease.expiresAt !== null && now >= lease.expiresAt;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : [];
}
