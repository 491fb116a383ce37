// The resident prober (`discover --daemon`, in the spirit of dhcp_probe) as a pure procedure:
// each probe's OFFERs come in with the time, events about the servers go out. Which servers
// are new, which changed what they hand out, which stopped answering, which came back, which
// are rogue. No IO and no clock: the shell runs the probes and passes `now` (ms).
//
// A server is known by its server identifier (option 54), else by its source IP, as the
// OfferCollector keys offers. The offered address changes from probe to probe (that is a
// pool doing its job); what is compared is what the server says about the network.

import { isAllowed, type AllowList } from "./allow-list.ts";
import type { Offer } from "./offers.ts";

/** Servers remembered at most: a flood of fake servers cannot grow memory without limit. */
export const MAX_TRACKED_SERVERS = 256;
/** Rogue servers listed in the summary at most (the exit status does not depend on the list). */
export const MAX_LISTED_ROGUES = 256;

/** A server's stable facts: the same from probe to probe unless its configuration changed. */
export interface ServerFacts {
  sourceIp: string;
  sourceMac: string;
  subnetMask: string | null;
  routers: string[];
  dns: string[];
  domain: string | null;
  search: string[];
  /** Option 121 as "destination/prefix via router", in the server's order. */
  classlessRoutes: string[];
  leaseTime: number | null;
}

export type FactField = keyof ServerFacts;
export type FactValue = ServerFacts[FactField];

/** The fields compared between probes, in the order changes are listed. */
export const COMPARED_FIELDS: readonly FactField[] = [
  "subnetMask",
  "routers",
  "dns",
  "domain",
  "search",
  "classlessRoutes",
  "leaseTime",
  "sourceIp",
  "sourceMac",
];

export interface FactChange {
  field: FactField;
  old: FactValue;
  new: FactValue;
}

/** What one probe saw of a server, beside its facts. */
interface Sighting {
  offered: string;
  latencyMs: number;
  rogue: boolean;
}

export type ServerNewEvent = { event: "server-new"; server: string } & Sighting & ServerFacts;
export type ServerBackEvent = { event: "server-back"; server: string; absentProbes: number } & Sighting & ServerFacts;
export interface ServerChangedEvent {
  event: "server-changed";
  server: string;
  changes: FactChange[];
}
export interface ServerVanishedEvent {
  event: "server-vanished";
  server: string;
  missedProbes: number;
  lastSeen: number;
}
export interface RogueEvent {
  event: "rogue";
  server: string;
  sourceIp: string;
  sourceMac: string;
  /** first-seen: its first offer; back: it answers again after vanishing; changed: it no longer matches --allow-server. */
  reason: "first-seen" | "back" | "changed";
}
export interface ProbeSummaryEvent {
  event: "probe";
  probe: number;
  /** Offers this probe collected (one per server). */
  offers: number;
  /** Servers answering now or not yet counted as vanished. */
  servers: number;
  /** Offers this probe from servers outside --allow-server. */
  rogue: number;
  durationMs: number;
  /** Set when the probe itself failed (interface gone or down, …): it counts as no sighting and no miss. */
  error?: string;
}

export type ProbeEvent = ServerNewEvent | ServerBackEvent | ServerChangedEvent | ServerVanishedEvent | RogueEvent | ProbeSummaryEvent;

export interface ServerRecord {
  server: string;
  facts: ServerFacts;
  status: "present" | "vanished";
  rogue: boolean;
  firstSeen: number;
  lastSeen: number;
  /** Probes that had an offer from it. */
  probesSeen: number;
  /** Successful probes in a row without an offer from it. */
  missed: number;
  /** Probe number of the latest sighting. */
  lastProbe: number;
}

export interface ProbeRunSummary {
  event: "summary";
  probes: number;
  probesFailed: number;
  /** Servers that appeared (server-new events) during the run. */
  serversSeen: number;
  /** Servers dropped from memory to stay within MAX_TRACKED_SERVERS. */
  serversForgotten: number;
  servers: Omit<ServerRecord, "missed" | "lastProbe" | "facts">[];
  rogueServers: string[];
  /** More rogue servers were seen than rogueServers lists. */
  rogueServersTruncated: boolean;
}

export interface ProbeTrackerOptions {
  /** null: nobody is rogue. */
  allow: AllowList | null;
  /** Successful probes in a row without an offer before a server counts as vanished (≥ 1). */
  vanishAfter: number;
  maxServers?: number;
}

export function factsOf(offer: Offer): ServerFacts {
  return {
    sourceIp: offer.sourceIp,
    sourceMac: offer.sourceMac,
    subnetMask: offer.subnetMask,
    routers: [...offer.routers],
    dns: [...offer.dns],
    domain: offer.domain,
    search: [...offer.search],
    classlessRoutes: offer.classlessRoutes.map((r) => `${r.destination}/${r.prefix} via ${r.router}`),
    leaseTime: offer.leaseTime,
  };
}

function sameValue(a: FactValue, b: FactValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    // Order matters: routers and DNS servers are listed in order of preference.
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return a === b;
}

export function diffFacts(old: ServerFacts, now: ServerFacts): FactChange[] {
  const changes: FactChange[] = [];
  for (const field of COMPARED_FIELDS) {
    if (!sameValue(old[field], now[field])) changes.push({ field, old: old[field], new: now[field] });
  }
  return changes;
}

export function serverKey(offer: Pick<Offer, "serverId" | "sourceIp">): string {
  return offer.serverId ?? offer.sourceIp;
}

export class ProbeTracker {
  private readonly servers = new Map<string, ServerRecord>();
  private readonly rogues = new Set<string>();
  private readonly maxServers: number;
  private probes = 0;
  private probesFailed = 0;
  private serversSeen = 0;
  private serversForgotten = 0;
  private rogueOverflow = false;

  constructor(private readonly opts: ProbeTrackerOptions) {
    if (!Number.isInteger(opts.vanishAfter) || opts.vanishAfter < 1) throw new RangeError(`vanishAfter must be a whole number ≥ 1, not ${opts.vanishAfter}`);
    this.maxServers = opts.maxServers ?? MAX_TRACKED_SERVERS;
    if (!Number.isInteger(this.maxServers) || this.maxServers < 1) throw new RangeError(`maxServers must be ≥ 1, not ${this.maxServers}`);
  }

  /** A server outside --allow-server answered at some time during the run. */
  get rogueSeen(): boolean {
    return this.rogues.size > 0 || this.rogueOverflow;
  }

  get tracked(): number {
    return this.servers.size;
  }

  server(key: string): Readonly<ServerRecord> | undefined {
    return this.servers.get(key);
  }

  /** One completed probe: the offers it collected, when it ended, how long it took. */
  observe(offers: readonly Offer[], now: number, durationMs: number): ProbeEvent[] {
    const probe = ++this.probes;
    const events: ProbeEvent[] = [];
    let rogueOffers = 0;
    for (const offer of offers) {
      const key = serverKey(offer);
      const rec = this.servers.get(key);
      if (rec?.lastProbe === probe) continue; // a second offer under one key in one probe: the first stands
      const facts = factsOf(offer);
      const rogue = this.opts.allow !== null && !isAllowed(this.opts.allow, offer);
      if (rogue) rogueOffers++;
      const sighting: Sighting = { offered: offer.yiaddr, latencyMs: offer.latencyMs, rogue };
      if (!rec) {
        this.makeRoom();
        this.servers.set(key, {
          server: key,
          facts,
          status: "present",
          rogue,
          firstSeen: now,
          lastSeen: now,
          probesSeen: 1,
          missed: 0,
          lastProbe: probe,
        });
        this.serversSeen++;
        events.push({ event: "server-new", server: key, ...sighting, ...facts });
        if (rogue) events.push(this.rogueEvent(key, facts, "first-seen"));
        continue;
      }
      const wasVanished = rec.status === "vanished";
      const wasRogue = rec.rogue;
      const changes = diffFacts(rec.facts, facts);
      if (wasVanished) events.push({ event: "server-back", server: key, absentProbes: rec.missed, ...sighting, ...facts });
      if (changes.length) events.push({ event: "server-changed", server: key, changes });
      if (rogue && (wasVanished || !wasRogue)) events.push(this.rogueEvent(key, facts, wasVanished ? "back" : "changed"));
      rec.facts = facts;
      rec.status = "present";
      rec.rogue = rogue;
      rec.lastSeen = now;
      rec.missed = 0;
      rec.lastProbe = probe;
      rec.probesSeen++;
      // Most recently seen last: eviction walks the map from the front.
      this.servers.delete(key);
      this.servers.set(key, rec);
    }
    for (const rec of this.servers.values()) {
      if (rec.lastProbe === probe) continue;
      rec.missed++;
      if (rec.status === "present" && rec.missed >= this.opts.vanishAfter) {
        rec.status = "vanished";
        events.push({ event: "server-vanished", server: rec.server, missedProbes: rec.missed, lastSeen: rec.lastSeen });
      }
    }
    events.push({
      event: "probe",
      probe,
      offers: new Set(offers.map(serverKey)).size,
      servers: this.presentCount(),
      rogue: rogueOffers,
      durationMs: Math.round(durationMs),
    });
    return events;
  }

  /**
   * A probe that could not run (interface gone or down, send failed). It is neither a
   * sighting nor a miss: not knowing is not the same as a server that stopped answering.
   */
  failed(error: string, _now: number, durationMs: number): ProbeEvent[] {
    const probe = ++this.probes;
    this.probesFailed++;
    return [{ event: "probe", probe, offers: 0, servers: this.presentCount(), rogue: 0, durationMs: Math.round(durationMs), error }];
  }

  summary(): ProbeRunSummary {
    return {
      event: "summary",
      probes: this.probes,
      probesFailed: this.probesFailed,
      serversSeen: this.serversSeen,
      serversForgotten: this.serversForgotten,
      servers: [...this.servers.values()]
        .sort((a, b) => a.firstSeen - b.firstSeen || (a.server < b.server ? -1 : a.server > b.server ? 1 : 0))
        .map(({ server, status, rogue, firstSeen, lastSeen, probesSeen }) => ({ server, status, rogue, firstSeen, lastSeen, probesSeen })),
      rogueServers: [...this.rogues],
      rogueServersTruncated: this.rogueOverflow,
    };
  }

  private presentCount(): number {
    let n = 0;
    for (const rec of this.servers.values()) if (rec.status === "present") n++;
    return n;
  }

  private rogueEvent(server: string, facts: ServerFacts, reason: RogueEvent["reason"]): RogueEvent {
    if (!this.rogues.has(server)) {
      if (this.rogues.size < MAX_LISTED_ROGUES) this.rogues.add(server);
      else this.rogueOverflow = true;
    }
    return { event: "rogue", server, sourceIp: facts.sourceIp, sourceMac: facts.sourceMac, reason };
  }

  /** Forgets one server when full: the longest-vanished first, else the least recently seen. */
  private makeRoom(): void {
    if (this.servers.size < this.maxServers) return;
    let victim: ServerRecord | undefined;
    for (const rec of this.servers.values()) {
      // least recently seen first
      if (rec.status === "vanished") {
        victim = rec;
        break;
      }
    }
    victim ??= this.servers.values().next().value;
    if (victim) {
      this.servers.delete(victim.server);
      this.serversForgotten++;
    }
  }
}
