// The resident client's whole world in memory: the fake wire and its scripted server, a
// hand-turned clock, and fakes for the store, the applier, the link and the hook that record
// what they were asked. Every piece satisfies an interface of cli/daemon/resident-io.ts.

import { ResidentClient, type ResidentOptions } from "../../cli/daemon/resident.ts";
import type { ArpSink, DaemonEvent, LeaseApplier, LeaseStore, LinkChange, LinkSource } from "../../cli/daemon/resident-io.ts";
import type { ApplyReport } from "../../cli/daemon/apply.ts";
import { DEFAULT_SETTINGS } from "../../cli/daemon/config.ts";
import type { HookEvent } from "../../cli/daemon/hook.ts";
import type { LoadResult, StoredLease } from "../../cli/daemon/store.ts";
import { macToString } from "../../core/bytes.ts";
import type { Lease } from "../../core/engine.ts";
import { FakeServer, MemoryWire } from "./fake-net.ts";
import { ManualClock } from "./fake-time.ts";
import { CLIENT_MAC, SERVER_MAC } from "./helpers.ts";

export const SERVER = "198.18.0.1";
export const ADDR = "198.18.0.100";
export const IFINDEX = 7;

export class MemoryStore implements LeaseStore {
  readonly path = "/state/eth0.json";
  stored: StoredLease | null = null;
  saves: StoredLease[] = [];
  removes = 0;
  /** Set: save() throws it (a full disk). */
  saveError: Error | null = null;
  load(wallNow: number): LoadResult {
    if (!this.stored) return { ok: false, reason: "missing", detail: "no lease" };
    const end = this.stored.lease.expiresAt === null ? null : Date.parse(this.stored.lease.expiresAt);
    return { ok: true, stored: this.stored, expired: end !== null && end <= wallNow };
  }
  save(s: StoredLease): void {
    if (this.saveError) throw this.saveError;
    this.stored = structuredClone(s);
    this.saves.push(this.stored);
  }
  remove(): void {
    this.stored = null;
    this.removes++;
  }
}

export class FakeApplier implements LeaseApplier {
  applied: { address: string; prefix: number; routes: [] } | null = null;
  readonly metric = 1000 + IFINDEX;
  calls: string[] = [];
  closed = false;
  /** Addresses already on the interface (adopt() finds them). */
  onInterface: string[] = [];
  adopt(lease: Lease): boolean {
    this.calls.push(`adopt ${lease.address}`);
    if (!this.onInterface.includes(lease.address)) return false;
    this.applied = { address: lease.address, prefix: 24, routes: [] };
    return true;
  }
  apply(lease: Lease): ApplyReport {
    this.calls.push(`apply ${lease.address}`);
    this.applied = { address: lease.address, prefix: 24, routes: [] };
    return { done: [`address ${lease.address}/24`], failed: [] };
  }
  remove(): ApplyReport {
    this.calls.push(`remove ${this.applied?.address}`);
    this.applied = null;
    return { done: ["removed"], failed: [] };
  }
  close(): void {
    this.closed = true;
  }
}

export class FakeLinks implements LinkSource {
  #onLink: ((c: LinkChange) => void) | null = null;
  closed = false;
  listen(onLink: (c: LinkChange) => void): void {
    this.#onLink = onLink;
  }
  close(): void {
    this.closed = true;
  }
  emit(over: Partial<LinkChange>): void {
    this.#onLink?.({ kind: "new", ifindex: IFINDEX, up: true, carrier: true, mac: macToString(CLIENT_MAC), ...over });
  }
}

export interface WorldOptions {
  stored?: StoredLease;
  linkUp?: boolean;
  mac?: ResidentOptions["mac"];
  /** The wall clock's time when the client is built (it loads the store then). */
  wallAt?: number;
  /** No --apply: no applier, and this answers ARP for the lease instead. */
  arp?: ArpSink;
}

export class World {
  readonly clock = new ManualClock();
  readonly wire = new MemoryWire();
  readonly server = new FakeServer(this.wire, SERVER, SERVER_MAC, ADDR);
  readonly store = new MemoryStore();
  readonly applier = new FakeApplier();
  readonly links = new FakeLinks();
  readonly hooks: HookEvent[] = [];
  readonly events: DaemonEvent[] = [];
  /** Set: the engine's random() throws, so step() does (a broken invariant, as far as the shell can tell). */
  explode = false;
  readonly client: ResidentClient;
  exit: number | null = null;
  #n = 0;

  constructor(o: WorldOptions = {}) {
    if (o.stored) this.store.stored = o.stored;
    if (o.wallAt !== undefined) this.clock.wallOffsetMs = o.wallAt - this.clock.now();
    this.server.now = () => this.clock.now();
    this.clock.afterFire = () => this.wire.flush();
    this.client = new ResidentClient(
      {
        iface: "eth0",
        mac: o.mac ?? "interface",
        identity: { hostname: "lab" },
        settings: { ...DEFAULT_SETTINGS },
        broadcastFlag: false,
        extra: [],
      },
      {
        facts: { index: IFINDEX, mac: CLIENT_MAC, up: o.linkUp ?? true },
        transport: this.wire.client,
        links: this.links,
        applier: o.arp ? null : this.applier,
        arp: o.arp ?? null,
        store: this.store,
        hook: {
          push: (e) => {
            this.hooks.push(e);
          },
          dropped: 0,
        },
        emit: (e) => {
          this.events.push(e);
        },
        timers: this.clock,
        clock: this.clock,
        // Distinct xids and jitter, the same every run.
        random: () => {
          if (this.explode) throw new Error("boom: an invariant broke inside step()");
          return (this.#n++ * 0.6180339887) % 1;
        },
      },
    );
    void this.client.done.then((code) => {
      this.exit = code;
    });
  }

  start(): void {
    this.client.start();
    this.wire.flush();
  }

  get phase(): string {
    return this.client.status().phase as string;
  }
  armedAt(timer: string): number {
    return this.clock.armedAt(timer) ?? NaN;
  }
  named(event: string, from = 0): DaemonEvent[] {
    return this.events.slice(from).filter((e) => e.event === event);
  }
  hookReasons(from = 0): string[] {
    return this.hooks.slice(from).map((h) => h.reason);
  }
}

/** A lease file as the daemon writes it, for `clock`'s wall time, still valid for `secondsLeft`. */
export function storedLease(wallNow: number, secondsLeft: number, mac = macToString(CLIENT_MAC)): StoredLease {
  const iso = (ms: number) => new Date(ms).toISOString();
  const acquired = wallNow - (3600 - secondsLeft) * 1000;
  return {
    version: 1,
    interface: "eth0",
    mac,
    savedAt: iso(acquired),
    lease: {
      address: ADDR,
      serverId: SERVER,
      serverMac: macToString(SERVER_MAC),
      subnetMask: "255.255.255.0",
      routers: [SERVER],
      routes: [{ destination: "0.0.0.0", prefix: 0, router: SERVER }],
      dns: [SERVER],
      domain: null,
      search: [],
      leaseTime: 3600,
      t1: 1800,
      t2: 3150,
      infinite: false,
      ipv6OnlyWait: null,
      adjusted: [],
      acquiredAt: iso(acquired),
      renewAt: iso(acquired + 1800_000),
      rebindAt: iso(acquired + 3150_000),
      expiresAt: iso(acquired + 3600_000),
      options: [{ code: 53, hex: "05" }],
    },
  };
}
