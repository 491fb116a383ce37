// `--apply`: the lease on the interface, by the privileged helper (native/helper/net.c)
// that alone holds CAP_NET_ADMIN. The address goes on with its prefix and the lease's
// remaining time as its valid lifetime (so the kernel removes it on its own if we die and
// nobody renews), then the routes the lease gives (option 121 when present, else a default
// route via the first router), each at this interface's metric and never replacing a route
// that is there already (issue 11 finding 1). The helper checks every request against what
// a DHCP lease can be and refuses the rest; what it did and refused comes back as lines of
// the report. Errors never throw out: the rest of the lease still goes on.

import type { Lease } from "../../core/engine.ts";
import { maskPrefix } from "../../core/lease-env.ts";

export interface AppliedLease {
  address: string;
  prefix: number;
}

export interface ApplyReport {
  done: string[];
  failed: string[];
}

/** What the applier asks of the helper (native/privsep.ts PrivHelper fits). */
export interface ApplyChannel {
  readonly metric: number;
  apply(lease: ApplyRequest): { status: number; done: string[]; failed: string[] };
  adopt(lease: ApplyRequest): { status: number; done: string[]; failed: string[] };
  remove(): { status: number; done: string[]; failed: string[] };
}

export interface ApplyRequest {
  address: string;
  prefix: number;
  /** Seconds; null: forever. */
  validSec: number | null;
  routes: { destination: string; prefix: number; gateway: string | null }[];
}

/** The prefix the lease's mask gives; /32 without a mask (then every route needs its own on-link route). */
export function leasePrefix(lease: Pick<Lease, "subnetMask">): number {
  return lease.subnetMask ? (maskPrefix(lease.subnetMask) ?? 32) : 32;
}

/** The request for `lease`: `nowMs` on the lease's clock gives the address's remaining lifetime. */
export function applyRequest(lease: Lease, nowMs: number, withRoutes: boolean): ApplyRequest {
  return {
    address: lease.address,
    prefix: leasePrefix(lease),
    validSec: lease.expiresAt === null ? null : Math.max(1, Math.floor((lease.expiresAt - nowMs) / 1000)),
    routes: withRoutes ? lease.routes.map((r) => ({ destination: r.destination, prefix: r.prefix, gateway: r.router === "0.0.0.0" ? null : r.router })) : [],
  };
}

export class Applier {
  readonly #helper: ApplyChannel;
  #applied: AppliedLease | null = null;

  constructor(helper: ApplyChannel) {
    this.#helper = helper;
  }

  get applied(): AppliedLease | null {
    return this.#applied;
  }

  get metric(): number {
    return this.#helper.metric;
  }

  /** After a restart: a stored lease whose address is still on the interface counts as ours. */
  adopt(lease: Lease, withRoutes: boolean): boolean {
    const req = applyRequest(lease, lease.acquiredAt, withRoutes);
    const r = this.#ask(() => this.#helper.adopt(req));
    if (r.status !== 1) return false;
    this.#applied = { address: lease.address, prefix: req.prefix };
    return true;
  }

  /** Puts `lease` on the interface (the helper takes off what an earlier lease put there and this one does not name). */
  apply(lease: Lease, nowMs: number, withRoutes: boolean): ApplyReport {
    const req = applyRequest(lease, nowMs, withRoutes);
    const r = this.#ask(() => this.#helper.apply(req));
    this.#applied = r.status < 0 ? null : { address: lease.address, prefix: req.prefix };
    return { done: r.done, failed: r.failed };
  }

  /** Takes off what apply() put on (its routes, then the address). */
  remove(): ApplyReport {
    const r = this.#ask(() => this.#helper.remove());
    this.#applied = null;
    return { done: r.done, failed: r.failed };
  }

  /** The helper's life is the daemon's, not the applier's. */
  close(): void {}

  #ask(fn: () => { status: number; done: string[]; failed: string[] }): { status: number; done: string[]; failed: string[] } {
    try {
      return fn();
    } catch (err) {
      return { status: -1, done: [], failed: [err instanceof Error ? err.message : String(err)] };
    }
  }
}
