// Leases to store, shared by the store's unit tests and its root-only lab tests.

import * as fs from "node:fs";
import { parseMac } from "../../core/bytes.ts";
import type { Lease } from "../../core/engine.ts";
import { leaseRecord } from "../../core/lease-record.ts";
import type { StoredLease } from "../../cli/daemon/store.ts";

export const ACQUIRED = Date.parse("2030-01-01T00:00:00.000Z");

/** An engine lease on a monotonic clock that started 1000 ms before ACQUIRED. */
export function engineLease(over: Partial<Lease> = {}): Lease {
  return {
    address: "198.18.0.100",
    serverId: "198.18.0.1",
    serverMac: parseMac("02:00:00:00:00:fe")!,
    subnetMask: "255.255.255.0",
    routers: ["198.18.0.1"],
    routes: [{ destination: "0.0.0.0", prefix: 0, router: "198.18.0.1" }],
    dns: ["198.18.0.1", "198.18.0.2"],
    domain: "lab.example",
    search: ["lab.example"],
    leaseTime: 3600,
    t1: 1800,
    t2: 3150,
    infinite: false,
    ipv6OnlyWait: null,
    adjusted: [],
    acquiredAt: 1000,
    renewAt: 1000 + 1800_000,
    rebindAt: 1000 + 3150_000,
    expiresAt: 1000 + 3600_000,
    options: [
      { code: 53, hex: "05" },
      { code: 51, hex: "00000e10" },
    ],
    ...over,
  };
}

export function stored(iface = "eth0", over: Partial<Lease> = {}): StoredLease {
  return {
    version: 1,
    interface: iface,
    mac: "02:00:00:00:00:01",
    savedAt: new Date(ACQUIRED).toISOString(),
    lease: leaseRecord(engineLease(over), ACQUIRED - 1000),
  };
}

export const read = (p: string) => fs.readFileSync(p, "utf8");
export const tempFiles = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith(".tmp"));
