// `--apply`: the lease on the interface, through rtnetlink. The address goes on with its
// prefix, broadcast and the lease's remaining time as its valid lifetime (so the kernel
// removes it on its own if we die and nobody renews), then the routes the lease gives
// (option 121 when present, else a default route via the first router). Everything this
// module adds it can take off again: routes are marked proto dhcp and deleted by that mark.
//
// Errors never throw out: a route the kernel refuses (a gateway off the subnet) is a warning,
// the rest of the lease still goes on.

import { ipToU32, u32ToIp } from "../../core/bytes.ts";
import type { Lease } from "../../core/engine.ts";
import { maskPrefix } from "../../core/lease-env.ts";
import type { ClasslessRoute } from "../../core/options.ts";
import type { NetlinkRoute, RouteSpec } from "../../native/netlink.ts";

export interface AppliedLease {
  address: string;
  prefix: number;
  routes: RouteSpec[];
}

export interface ApplyReport {
  done: string[];
  failed: string[];
}

/** The prefix the lease's mask gives; /32 without a mask (then every route needs its own on-link route). */
export function leasePrefix(lease: Pick<Lease, "subnetMask">): number {
  return lease.subnetMask ? maskPrefix(lease.subnetMask) ?? 32 : 32;
}

function broadcastOf(address: string, prefix: number): string | undefined {
  if (prefix >= 31) return undefined; // RFC 3021: no broadcast on /31, none on /32
  const host = prefix === 0 ? 0xffffffff : (2 ** (32 - prefix) - 1);
  return u32ToIp((ipToU32(address) | host) >>> 0);
}

function routeSpecs(ifindex: number, routes: readonly ClasslessRoute[]): RouteSpec[] {
  return routes.map((r) => ({
    ifindex, destination: r.destination, prefix: r.prefix, gateway: r.router === "0.0.0.0" ? null : r.router,
  }));
}

const describe = (r: RouteSpec) =>
  `${r.prefix === 0 ? "default" : `${r.destination}/${r.prefix}`}${r.gateway ? ` via ${r.gateway}` : " (on-link)"}`;

const sameRoute = (a: RouteSpec, b: RouteSpec) =>
  a.destination === b.destination && a.prefix === b.prefix && a.gateway === b.gateway;

export class Applier {
  #nl: NetlinkRoute;
  #ifindex: number;
  #applied: AppliedLease | null = null;

  constructor(nl: NetlinkRoute, ifindex: number) {
    this.#nl = nl;
    this.#ifindex = ifindex;
  }

  get applied(): AppliedLease | null {
    return this.#applied;
  }

  /** After a restart: a stored lease whose address is still on the interface counts as ours. */
  adopt(lease: Lease, withRoutes: boolean): boolean {
    const prefix = leasePrefix(lease);
    const there = this.#nl.listAddresses(this.#ifindex).some((a) => a.address === lease.address);
    if (there) this.#applied = { address: lease.address, prefix, routes: withRoutes ? routeSpecs(this.#ifindex, lease.routes) : [] };
    return there;
  }

  /** Puts `lease` on the interface (replacing what an earlier lease put there). */
  apply(lease: Lease, nowMs: number, withRoutes: boolean): ApplyReport {
    const report: ApplyReport = { done: [], failed: [] };
    const prefix = leasePrefix(lease);
    const old = this.#applied;
    const routes = withRoutes ? routeSpecs(this.#ifindex, lease.routes) : [];
    if (old && (old.address !== lease.address || old.prefix !== prefix)) this.remove(report);
    const current = this.#applied;
    // Routes of the old lease that the new one does not have go first.
    for (const r of current?.routes ?? []) {
      if (!routes.some((n) => sameRoute(n, r))) this.#try(report, `remove route ${describe(r)}`, () => this.#nl.deleteRoute(r), ["ESRCH", "ENOENT"]);
    }
    const life = lease.expiresAt === null ? undefined : Math.max(1, Math.floor((lease.expiresAt - nowMs) / 1000));
    const ok = this.#try(report, `address ${lease.address}/${prefix}`, () => this.#nl.addAddress({
      ifindex: this.#ifindex, address: lease.address, prefix, broadcast: broadcastOf(lease.address, prefix),
      validSec: life, preferredSec: life, replace: true,
    }));
    if (!ok) {
      this.#applied = null;
      return report;
    }
    const installed: RouteSpec[] = [];
    for (const r of routes) {
      if (this.#try(report, `route ${describe(r)}`, () => this.#nl.addRoute({ ...r, replace: true }))) installed.push(r);
    }
    this.#applied = { address: lease.address, prefix, routes: installed };
    return report;
  }

  /** Takes off what apply() put on (routes, then the address). */
  remove(report: ApplyReport = { done: [], failed: [] }): ApplyReport {
    const a = this.#applied;
    if (!a) return report;
    for (const r of a.routes) this.#try(report, `remove route ${describe(r)}`, () => this.#nl.deleteRoute(r), ["ESRCH", "ENOENT"]);
    this.#try(report, `remove address ${a.address}/${a.prefix}`,
      () => this.#nl.deleteAddress({ ifindex: this.#ifindex, address: a.address, prefix: a.prefix }), ["EADDRNOTAVAIL", "ENODEV"]);
    this.#applied = null;
    return report;
  }

  /** Closes the route socket it was given (it is the applier's from construction on). */
  close(): void {
    this.#nl.close();
  }

  #try(report: ApplyReport, what: string, fn: () => void, okCodes: string[] = []): boolean {
    try {
      fn();
      report.done.push(what);
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && okCodes.includes(code)) {
        report.done.push(`${what} (already gone)`);
        return true;
      }
      report.failed.push(err instanceof Error ? err.message : String(err));
      return false;
    }
  }
}
