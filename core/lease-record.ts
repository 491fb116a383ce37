// A Lease as it is stored, reported and handed to hooks: its times as wall-clock ISO strings
// and the server's MAC as text. The engine keeps times on the caller's monotonic clock and the
// MAC as bytes; these two functions cross between the forms, given the offset between the
// clocks at the moment of crossing (Clock.wallNow() - Clock.now(), read then, not at start:
// a wall clock stepped meanwhile moves what is written, never the engine's timers).

import { macToString, parseMac } from "./bytes.ts";
import type { Lease } from "./engine-types.ts";

type LeaseTimeKey = "acquiredAt" | "renewAt" | "rebindAt" | "expiresAt";

/** A Lease as it is stored and reported: its times as wall-clock ISO strings (null: never). */
export type LeaseRecord = Omit<Lease, LeaseTimeKey | "serverMac"> & {
  /** aa:bb:cc:dd:ee:ff */
  serverMac: string;
  acquiredAt: string;
  renewAt: string | null;
  rebindAt: string | null;
  expiresAt: string | null;
};

/** `wallOffsetMs`: wall-clock ms minus monotonic ms, now. */
export function leaseRecord(lease: Lease, wallOffsetMs: number): LeaseRecord {
  const iso = (t: number | null) => (t === null ? null : new Date(t + wallOffsetMs).toISOString());
  return {
    ...lease,
    serverMac: macToString(lease.serverMac),
    acquiredAt: iso(lease.acquiredAt)!,
    renewAt: iso(lease.renewAt),
    rebindAt: iso(lease.rebindAt),
    expiresAt: iso(lease.expiresAt),
  };
}

/** The record back on the monotonic clock; null when its MAC or a time does not parse. */
export function leaseFromRecord(r: LeaseRecord, wallOffsetMs: number): Lease | null {
  const serverMac = parseMac(r.serverMac);
  const mono = (iso: string | null) => (iso === null ? null : Date.parse(iso) - wallOffsetMs);
  const acquiredAt = mono(r.acquiredAt);
  if (serverMac === null || acquiredAt === null || Number.isNaN(acquiredAt)) return null;
  return { ...r, serverMac, acquiredAt, renewAt: mono(r.renewAt), rebindAt: mono(r.rebindAt), expiresAt: mono(r.expiresAt) };
}
