// The lab: our own network namespaces joined through a bridge, real DHCP servers (dnsmasq,
// Kea, ISC dhcpd or busybox udhcpd) in some, a client end for dhcptool in another. Users try
// the tool in it; tests use it.
// Everything lives in 198.18.0.0/24 (RFC 2544 benchmarking range), only inside the
// namespaces; nothing is routed anywhere else. Processes are killed only by their own PID.
//
//   <name>-c   lab0 ──┐
//   <name>-s1  srv0 ──┤ br0 in <name>-hub
//   <name>-s2  srv0 ──┘
//
// This module brings a lab up and down and starts and stops its servers; what differs between
// server programs is in their ServerKind (kinds.ts), the state file in state.ts, dropping
// unicast to a server in block.ts.

import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { serverKind } from "./kinds.ts";
import { namespaceExists, run, stopOurs } from "./proc.ts";
import {
  CLIENT_IFACE, DEFAULT_LEASE_TIME, DNSMASQ_MIN_LEASE_TIME, LAB_ROOT, LAB_SUBNET, LabError, LabUsageError, MAX_SERVERS,
  readLab, SERVER_IFACE, SERVER_KIND_NAMES, serverOf, validLabName, writeLab,
  type LabLease, type LabOptions, type LabServer, type LabState, type ServerKindName,
} from "./state.ts";

export { blockUnicast } from "./block.ts";
export { isServerKindName } from "./kinds.ts";
export {
  CLIENT_IFACE, DEFAULT_LEASE_TIME, DNSMASQ_MIN_LEASE_TIME, LAB_ROOT, LAB_SUBNET, LabError, LabUsageError, listLabs, MAX_SERVERS,
  readLab, SERVER_IFACE, SERVER_KIND_NAMES, serverOf,
  type LabLease, type LabOptions, type LabServer, type LabState, type ServerKindName,
} from "./state.ts";

interface Timers { leaseTime: number; renewTime: number | null; rebindTime: number | null }

function checkTimers(opts: LabOptions, kinds: ServerKindName[]): Timers {
  const t: Timers = { leaseTime: opts.leaseTime ?? DEFAULT_LEASE_TIME, renewTime: opts.renewTime ?? null, rebindTime: opts.rebindTime ?? null };
  const whole = (n: number | null, what: string) => {
    if (n !== null && (!Number.isInteger(n) || n < 1 || n > 0xfffffffe)) throw new LabUsageError(`${what} ${n}: a whole number of seconds, 1 or more`);
  };
  whole(t.leaseTime, "lease time");
  whole(t.renewTime, "renew time (T1)");
  whole(t.rebindTime, "rebind time (T2)");
  if (kinds.includes("dnsmasq") && t.leaseTime < DNSMASQ_MIN_LEASE_TIME) {
    throw new LabUsageError(`lease time ${t.leaseTime} s: dnsmasq grants at least ${DNSMASQ_MIN_LEASE_TIME} s (--kind kea, isc or udhcpd grant shorter ones)`);
  }
  // RFC 2131 4.4.5: T1 < T2 < lease; a server sending otherwise is a test of its own (serverArgs)
  const t1 = t.renewTime ?? t.leaseTime / 2, t2 = t.rebindTime ?? t.leaseTime * 7 / 8;
  if (!(t1 < t2 && t2 < t.leaseTime)) {
    throw new LabUsageError(`timers: need renew (T1 ${t1} s) < rebind (T2 ${t2} s) < lease (${t.leaseTime} s)`);
  }
  return t;
}

export function labUp(opts: LabOptions = {}): LabState {
  const name = opts.name ?? "dtlab";
  if (!validLabName(name)) throw new LabUsageError(`lab name "${name}": use 1-10 lower-case letters and digits, starting with a letter`);
  const count = opts.servers ?? 1;
  if (!Number.isInteger(count) || count < 0 || count > MAX_SERVERS) throw new LabUsageError(`servers: 0 to ${MAX_SERVERS}`);
  const kinds = Array.from({ length: count }, (_, i) => opts.kinds?.[i] ?? "dnsmasq");
  for (const k of kinds) if (!SERVER_KIND_NAMES.includes(k)) throw new LabUsageError(`server kind "${k}": use ${SERVER_KIND_NAMES.join(", ")}`);
  if ((opts.kinds?.length ?? 0) > count) throw new LabUsageError(`${opts.kinds!.length} server kinds for ${count} server(s)`);
  kinds.forEach((k, i) => {
    if (k !== "dnsmasq" && opts.serverArgs?.[i]?.length) throw new LabUsageError(`server ${i + 1} is ${k}: serverArgs are dnsmasq arguments`);
  });
  const timers = checkTimers(opts, kinds);
  if (process.getuid?.() !== 0) throw new LabError("the lab needs root to create network namespaces (run with sudo)");
  if (readLab(name) || namespaceExists(`${name}-hub`)) {
    throw new LabError(`lab "${name}" is already up (dhcptool lab down --name ${name})`);
  }
  const dir = join(LAB_ROOT, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const state: LabState = {
    name, dir, hubNs: `${name}-hub`, clientNs: `${name}-c`, clientIface: CLIENT_IFACE, servers: [],
  };
  writeLab(state); // written first, so `down` can clean up a half-built lab
  try {
    run(["ip", "netns", "add", state.hubNs], "creating a network namespace");
    run(["ip", "netns", "add", state.clientNs], "creating a network namespace");
    const hub = ["ip", "-n", state.hubNs];
    run([...hub, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0"], "creating the bridge");
    run([...hub, "link", "set", "br0", "up"], "bringing the bridge up");
    run(["ip", "-n", state.clientNs, "link", "add", CLIENT_IFACE, "type", "veth", "peer", "name", "c0", "netns", state.hubNs], "creating the client veth");
    run([...hub, "link", "set", "c0", "master", "br0", "up"], "joining the client to the bridge");
    run(["ip", "-n", state.clientNs, "link", "set", CLIENT_IFACE, "up"], "bringing the client up");
    run(["ip", "-n", state.clientNs, "link", "set", "lo", "up"], "bringing lo up");
    for (let i = 1; i <= count; i++) {
      const server = addServer(state, i, kinds[i - 1], timers, opts.serverArgs?.[i - 1] ?? [], opts.ping ?? false);
      state.servers.push(server);
      writeLab(state);
      startServer(state, i);
    }
    return state;
  } catch (err) {
    labDown(name);
    throw err;
  }
}

function addServer(state: LabState, i: number, kind: ServerKindName, timers: Timers, extraArgs: string[], ping: boolean): LabServer {
  const ns = `${state.name}-s${i}`;
  const ip = `${LAB_SUBNET}.${i}`;
  const server: LabServer = {
    index: i, kind, ns, ip,
    // .100-.139, .150-.189, .200-.239; server 4 gets what is left below the broadcast address
    rangeStart: `${LAB_SUBNET}.${50 + i * 50}`, rangeEnd: `${LAB_SUBNET}.${Math.min(50 + i * 50 + 39, 254)}`,
    pid: null, dir: join(state.dir, `s${i}`),
    extraArgs: kind !== "dnsmasq" || ping ? extraArgs : ["--no-ping", ...extraArgs],
    ...timers,
    unicastBlocked: false,
  };
  mkdirSync(server.dir, { recursive: true, mode: 0o700 });
  run(["ip", "netns", "add", ns], "creating a network namespace");
  run(["ip", "-n", ns, "link", "add", SERVER_IFACE, "type", "veth", "peer", "name", `s${i}`, "netns", state.hubNs], "creating a server veth");
  run(["ip", "-n", state.hubNs, "link", "set", `s${i}`, "master", "br0", "up"], "joining a server to the bridge");
  run(["ip", "-n", ns, "addr", "add", `${ip}/24`, "dev", SERVER_IFACE], "addressing a server");
  run(["ip", "-n", ns, "link", "set", SERVER_IFACE, "up"], "bringing a server up");
  run(["ip", "-n", ns, "link", "set", "lo", "up"], "bringing lo up");
  return server;
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

export function labDown(name = "dtlab"): boolean {
  const state = readLab(name);
  let found = false;
  if (state) {
    found = true;
    for (const s of state.servers) {
      try { stopServer(state, s.index); } catch { /* keep tearing down */ }
    }
  }
  const namespaces = state
    ? [state.clientNs, ...state.servers.map((s) => s.ns), state.hubNs]
    : [`${name}-c`, `${name}-hub`, ...Array.from({ length: MAX_SERVERS }, (_, i) => `${name}-s${i + 1}`)];
  for (const ns of namespaces) {
    if (namespaceExists(ns)) {
      found = true;
      Bun.spawnSync(["ip", "netns", "del", ns], { stdout: "ignore", stderr: "ignore" });
    }
  }
  rmSync(join(LAB_ROOT, name), { recursive: true, force: true });
  return found;
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
  return serverKind(s.kind).leases(s);
}

export function serverMac(state: LabState, i: number): string {
  const s = serverOf(state, i);
  const out = run(["ip", "-n", s.ns, "-o", "link", "show", SERVER_IFACE], "reading a MAC");
  const mac = out.match(/link\/ether ([0-9a-f:]{17})/)?.[1];
  if (!mac) throw new LabError(`no MAC on ${s.ns}/${SERVER_IFACE}`);
  return mac;
}
