// `lease release IFACE` with no daemon running: what --apply put on the interface comes off
// again, as the stored lease records it (its address, and with `applied.routes` its routes
// at `applied.metric`), through the same privileged helper a daemon uses, which takes the
// interface's lock first (so no daemon can be running meanwhile) and removes only the
// lease's own address and its routes at that metric. Without `applied` nothing is touched,
// and the caller says so.

import { resolve } from "node:path";
import { leaseFromRecord } from "../../core/lease-record.ts";
import { Applier } from "./apply.ts";
import type { StoredLease } from "./store.ts";

export interface Unapplied {
  /** false: the stored lease says --apply was not used; nothing was touched. */
  applied: boolean;
  /** The address was still on the interface (and came off). */
  found: boolean;
  done: string[];
  failed: string[];
}

export async function unapplyStored(s: StoredLease, stateDir: string, runDir: string): Promise<Unapplied> {
  if (!s.applied) return { applied: false, found: false, done: [], failed: [] };
  const lease = leaseFromRecord(s.lease, 0);
  if (lease === null) return { applied: true, found: false, done: [], failed: ["the stored lease's times or server MAC do not parse"] };
  const { PrivHelper } = await import("../../native/privsep.ts");
  const helper = PrivHelper.spawn({
    iface: s.interface,
    metric: s.applied.metric,
    stateDir: resolve(stateDir),
    runDir: resolve(runDir),
    config: null,
    hook: null,
    hookUid: 0,
    hookGid: 0,
    hookTimeoutMs: 1000,
  });
  try {
    const applier = new Applier(helper);
    if (!applier.adopt(lease, s.applied.routes)) return { applied: true, found: false, done: [], failed: [] };
    const r = applier.remove();
    return { applied: true, found: true, done: r.done, failed: r.failed };
  } finally {
    helper.close();
  }
}
