// What the resident client takes from outside, as small interfaces: the link's news, the
// applier (address and routes), the lease store, the hook queue and the event sink (the
// packet Transport and the Clock/Timers are the engine driver's, cli/client/). The client
// knows nothing of how they are done: today they are netlink, files and child processes in
// this process (cli/daemon/open.ts); they can as well be messages to a privileged helper
// over a socket pair, or fakes in a unit test (test/unit/resident.test.ts).

import type { Lease } from "../../core/engine.ts";
import type { AppliedLease, ApplyReport } from "./apply.ts";
import type { HookEvent } from "./hook.ts";
import type { LoadResult, StoredLease } from "./store.ts";

export type Level = "debug" | "info" | "warn" | "error";

/** What the daemon reports: one NDJSON line each with --json, a log line otherwise. */
export interface DaemonEvent {
  level: Level;
  event: string;
  message: string;
  [key: string]: unknown;
}

/** The interface as it was when the client started. */
export interface InterfaceFacts {
  index: number;
  mac: Uint8Array;
  up: boolean;
}

/** A link changed (any of its flags, its MAC) or went away; native/netlink.ts LinkEvent fits. */
export interface LinkChange {
  kind: "new" | "del";
  ifindex: number;
  up: boolean;
  /** IFF_LOWER_UP: the driver sees a carrier. */
  carrier: boolean;
  /** aa:bb:cc:dd:ee:ff; '' when the link has none. */
  mac: string;
}

export interface LinkSource {
  listen(onLink: (change: LinkChange) => void, onError: (err: unknown) => void): void;
  close(): void;
}

/** --apply: the lease on the interface. Failures come back in the report, never as a throw. */
export interface LeaseApplier {
  /** What is on the interface now, null when nothing is. */
  readonly applied: AppliedLease | null;
  /** The metric its routes get (stored with the lease, so `lease release` can take them off). */
  readonly metric: number;
  /** After a restart: a stored lease whose address is still on the interface counts as applied. */
  adopt(lease: Lease, withRoutes: boolean): boolean;
  /** `now`: the monotonic clock, for the address's remaining lifetime. */
  apply(lease: Lease, now: number, withRoutes: boolean): ApplyReport;
  remove(): ApplyReport;
  close(): void;
}

/**
 * Without --apply: answers ARP for the leased address the kernel does not hold, so that a
 * router can deliver the server's unicast ACK to a renewal (cli/daemon/arp-responder.ts).
 */
export interface ArpSink {
  /** Answer for address (as mac) from now on; null: for nothing. */
  serve(address: string | null, mac: Uint8Array): void;
  readonly answered: number;
  close(): void;
}

/** The lease of this one interface, kept across restarts. */
export interface LeaseStore {
  /** Where it is kept (shown by lease show). */
  readonly path: string;
  /** Never throws; `wallNow` decides whether it has expired. */
  load(wallNow: number): LoadResult;
  /** Atomic; throws a StoreError (the old lease survives). */
  save(stored: StoredLease): void;
  /** Throws a StoreError. Removing what is not there is fine. */
  remove(): void;
}

/** The --hook program's queue: events run one at a time, the oldest dropped when too many wait. */
export interface HookSink {
  push(event: HookEvent): void;
  readonly dropped: number;
}
