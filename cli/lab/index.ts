// The lab: our own network namespaces joined through bridges, real DHCP servers (dnsmasq, Kea,
// ISC dhcpd or busybox udhcpd) in some, a client end for dhcptool in another, and in the
// routed topology a router with a DHCP relay between them. Users try the tool in it; tests use
// it. Everything lives in 198.18.0.0/16 (RFC 2544 benchmarking range), only inside the
// namespaces; nothing is routed anywhere else. Processes are killed only by their own PID.
//
// This module brings a lab up and down and starts and stops its servers and relay. The
// network's shape is in topology.ts; what differs between server programs in their ServerKind
// (kinds.ts), between relays in relay.ts; the state file in state.ts; dropping unicast to a
// server in block.ts.

import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { serverKind } from "./kinds.ts";
import { namespaceExists, reportingWaits, run, stopOurs } from "./proc.ts";
import { relayKind } from "./relay.ts";
import {
  DEFAULT_LEASE_TIME,
  DEFAULT_POOL,
  DNSMASQ_MIN_LEASE_TIME,
  isOneOf,
  maxPool,
  LAB_ROOT,
  LabError,
  LabUsageError,
  MAX_LINKS,
  MAX_SERVERS,
  readLab,
  RELAY_KIND_NAMES,
  SERVER_IFACE,
  SERVER_KIND_NAMES,
  serverOf,
  TOPOLOGIES,
  validLabName,
  writeLab,
  type LabLease,
  type LabOptions,
  type LabServer,
  type LabState,
  type ServerKindName,
} from "./state.ts";
import { buildNetwork, planLab, type Plan } from "./topology.ts";

export { blockUnicast } from "./block.ts";
export {
  CLIENT_IFACE,
  DEFAULT_LEASE_TIME,
  DNSMASQ_MIN_LEASE_TIME,
  isOneOf,
  LAB_ROOT,
  LAB_SUBNET,
  LabError,
  LabUsageError,
  listLabs,
  MAX_LINKS,
  MAX_SERVERS,
  readLab,
  RELAY_KIND_NAMES,
  SERVER_IFACE,
  SERVER_KIND_NAMES,
  serverOf,
  TOPOLOGIES,
  type LabLease,
  type LabLink,
  type LabOptions,
  type LabRouter,
  type LabServer,
  type LabState,
  type RelayKindName,
  type ServerKindName,
  type Topology,
} from "./state.ts";

function checkTimers(opts: LabOptions, kinds: ServerKindName[]): Plan["timers"] {
  const t = { leaseTime: opts.leaseTime ?? DEFAULT_LEASE_TIME, renewTime: opts.renewTime ?? null, rebindTime: opts.rebindTime ?? null };
  const whole = (n: number | null, what: string, max = 0xfffffffe) => {
    if (n !== null && (!Number.isInteger(n) || n < 1 || n > max)) throw new LabUsageError(`${what} ${n}: a whole number of seconds, 1 or more`);
  };
  whole(t.leaseTime, "lease time", 0xffffffff); // 0xffffffff: an infinite lease (RFC 2131 3.3)
  whole(t.renewTime, "renew time (T1)");
  whole(t.rebindTime, "rebind time (T2)");
  if (kinds.includes("dnsmasq") && t.leaseTime < DNSMASQ_MIN_LEASE_TIME) {
    throw new LabUsageError(`lease time ${t.leaseTime} s: dnsmasq grants at least ${DNSMASQ_MIN_LEASE_TIME} s (--kind kea, isc or udhcpd grant shorter ones)`);
  }
  // RFC 2131 4.4.5: T1 < T2 < lease; a server sending otherwise is a test of its own (serverArgs)
  const t1 = t.renewTime ?? t.leaseTime / 2,
    t2 = t.rebindTime ?? (t.leaseTime * 7) / 8;
  if (!(t1 < t2 && t2 < t.leaseTime)) {
    throw new LabUsageError(`timers: need renew (T1 ${t1} s) < rebind (T2 ${t2} s) < lease (${t.leaseTime} s)`);
  }
  return t;
}

/** The options as a plan, or a LabUsageError saying which cannot make a lab. */
function checkOptions(opts: LabOptions): Plan {
  const name = opts.name ?? "dtlab";
  if (!validLabName(name)) throw new LabUsageError(`lab name "${name}": use 1-10 lower-case letters and digits, starting with a letter`);
  const topology = opts.topology ?? "flat",
    links = opts.links ?? 1;
  if (!isOneOf(TOPOLOGIES, topology)) throw new LabUsageError(`topology "${topology}": use ${TOPOLOGIES.join(" or ")}`);
  if (!Number.isInteger(links) || links < 1 || links > MAX_LINKS) throw new LabUsageError(`links: 1 to ${MAX_LINKS}`);
  if (topology === "routed" && links > 1) throw new LabUsageError("a routed lab has one client link (--links 1)");
  const relay = opts.relay ?? "dhcrelay";
  if (!isOneOf(RELAY_KIND_NAMES, relay)) throw new LabUsageError(`relay "${relay}": use ${RELAY_KIND_NAMES.join(" or ")}`);
  if (opts.relay !== undefined && topology !== "routed") throw new LabUsageError("a relay needs the routed topology (--topology routed)");
  // one server per link unless told
  const count = opts.servers ?? links;
  if (!Number.isInteger(count) || count < 0 || count > MAX_SERVERS) throw new LabUsageError(`servers: 0 to ${MAX_SERVERS}`);
  if (topology === "routed" && count === 0) throw new LabUsageError("a routed lab needs a server for its relay to send to");
  const kinds = Array.from({ length: count }, (_, i) => opts.kinds?.[i] ?? "dnsmasq");
  for (const k of kinds) if (!isOneOf(SERVER_KIND_NAMES, k)) throw new LabUsageError(`server kind "${k}": use ${SERVER_KIND_NAMES.join(", ")}`);
  if ((opts.kinds?.length ?? 0) > count) throw new LabUsageError(`${opts.kinds!.length} server kinds for ${count} server(s)`);
  kinds.forEach((k, i) => {
    if (k !== "dnsmasq" && opts.serverArgs?.[i]?.length) throw new LabUsageError(`server ${i + 1} is ${k}: serverArgs are dnsmasq arguments`);
  });
  // udhcpd hands out one range on its own link: it has no pool for a relayed one
  if (topology === "routed" && kinds.includes("udhcpd"))
    throw new LabUsageError("udhcpd cannot serve through a relay: use dnsmasq, kea or isc behind the router");
  const pool = opts.pool ?? DEFAULT_POOL;
  if (!Number.isInteger(pool) || pool < 1 || pool > maxPool(count))
    throw new LabUsageError(`pool: 1 to ${maxPool(count)} addresses per server with ${count} server(s)`);
  if (pool > DEFAULT_POOL && (topology !== "flat" || links > 1)) {
    throw new LabUsageError(`a pool of more than ${DEFAULT_POOL} makes the lab's one segment a /16: flat with one link only`);
  }
  return {
    name,
    dir: join(LAB_ROOT, name),
    topology,
    relay,
    links,
    clientBridge: opts.clientBridge ?? false,
    kinds,
    timers: checkTimers(opts, kinds),
    serverArgs: opts.serverArgs ?? [],
    ping: opts.ping ?? false,
    pool,
  };
}

/**
 * Builds the lab and starts its servers and relay; returns once every one is listening.
 * progress is told each step as it begins, and again as a wait for a server goes on (about
 * every 10 ms: this runs synchronously), for a status line on a terminal.
 */
export function labUp(opts: LabOptions = {}, progress?: (step: string) => void): LabState {
  const plan = checkOptions(opts);
  const { name } = plan;
  if (process.getuid?.() !== 0) throw new LabError("the lab needs root to create network namespaces (run with sudo)");
  if (readLab(name) || namespaceExists(`${name}-hub`)) {
    throw new LabError(`lab "${name}" is already up (dhcptool lab down --name ${name})`);
  }
  const state = planLab(plan);
  for (const dir of [state.dir, ...state.servers.map((s) => s.dir), ...(state.router ? [state.router.dir] : [])]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  writeLab(state); // written first, so `down` can clean up a half-built lab
  const say = progress ?? (() => {});
  try {
    return reportingWaits(progress && ((wait) => progress(`lab ${name}: ${wait}`)), () => {
      const namespaces = 2 + state.servers.length + (state.router ? 1 : 0);
      say(`lab ${name}: making the network (${namespaces} namespaces, bridges and veth pairs)`);
      buildNetwork(state);
      for (const s of state.servers) {
        say(`lab ${name}: starting server ${s.index} of ${state.servers.length}, ${s.kind} in ${s.ns}`);
        startServer(state, s.index);
      }
      if (state.router) {
        say(`lab ${name}: starting the relay, ${state.router.relay} in ${state.router.ns}`);
        startRelay(state);
      }
      return state;
    });
  } catch (err) {
    labDown(name);
    throw err;
  }
}

/** Starts (or restarts) server i; returns once it is listening. */
export function startServer(state: LabState, i: number): LabServer {
  const s = serverOf(state, i);
  if (s.pid !== null) stopServer(state, i);
  s.pid = serverKind(s.kind).start(s);
  writeLab(state);
  return s;
}

/** Stops server i by the PID we recorded (only while it still names that server), waiting until it has gone. */
export function stopServer(state: LabState, i: number): void {
  const s = state.servers.find((x) => x.index === i);
  if (!s || s.pid === null) return;
  stopOurs(s.pid, serverKind(s.kind).comm, s.ns);
  s.pid = null;
  writeLab(state);
}

/** Starts (or restarts) the routed lab's relay; returns once it is listening. */
export function startRelay(state: LabState): void {
  const r = state.router;
  if (!r) throw new LabError(`lab "${state.name}" has no router (lab up --topology routed)`);
  stopRelay(state);
  r.pid = relayKind(r.relay).start(r);
  writeLab(state);
}

export function stopRelay(state: LabState): void {
  const r = state.router;
  if (!r || r.pid === null) return;
  stopOurs(r.pid, relayKind(r.relay).comm, r.ns);
  r.pid = null;
  writeLab(state);
}

export function labDown(name = "dtlab"): boolean {
  const state = readLab(name);
  let found = false;
  if (state) {
    found = true;
    try {
      stopRelay(state);
    } catch {
      /* keep tearing down */
    }
    for (const s of state.servers) {
      try {
        stopServer(state, s.index);
      } catch {
        /* keep tearing down */
      }
    }
  }
  const namespaces = state
    ? [state.clientNs, ...state.servers.map((s) => s.ns), ...(state.router ? [state.router.ns] : []), state.hubNs]
    : [`${name}-c`, `${name}-r`, `${name}-hub`, ...Array.from({ length: MAX_SERVERS }, (_, i) => `${name}-s${i + 1}`)];
  for (const ns of namespaces) {
    if (namespaceExists(ns)) {
      found = true;
      deleteNamespace(ns);
    }
  }
  rmSync(join(LAB_ROOT, name), { recursive: true, force: true });
  return found;
}

/**
 * `ip netns del`, tried again while the name is still there (a busy mount or a failed fork
 * leaves it): a namespace left behind is said on stderr with ip's words, not passed over.
 */
function deleteNamespace(ns: string): void {
  let why = "";
  for (let attempt = 0; attempt < 5 && namespaceExists(ns); attempt++) {
    if (attempt > 0) Bun.sleepSync(100 * attempt);
    const r = Bun.spawnSync(["ip", "netns", "del", ns], { stdout: "ignore", stderr: "pipe" });
    why = r.stderr.toString().trim() || `exit ${r.exitCode}`;
  }
  if (namespaceExists(ns)) process.stderr.write(`lab: could not delete network namespace ${ns}: ${why}\n`);
}

/** argv that runs a command inside the lab's client namespace. */
export function inClient(state: LabState, argv: string[]): string[] {
  return ["ip", "netns", "exec", state.clientNs, ...argv];
}

/**
 * The leases server s holds now, from its lease file (udhcpd writes its file once a second, so
 * it may be that late).
 */
export function serverLeaseList(s: LabServer): LabLease[] {
  const kind = serverKind(s.kind);
  let file = new Uint8Array();
  try {
    file = readFileSync(join(s.dir, kind.leaseFile));
  } catch {
    /* none written yet */
  }
  return kind.leases(file);
}

export function serverMac(state: LabState, i: number): string {
  const s = serverOf(state, i);
  const out = run(["ip", "-n", s.ns, "-o", "link", "show", SERVER_IFACE], "reading a MAC");
  const mac = out.match(/link\/ether ([0-9a-f:]{17})/)?.[1];
  if (!mac) throw new LabError(`no MAC on ${s.ns}/${SERVER_IFACE}`);
  return mac;
}
