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
// Each other kind's part (its config, starting it, its lease file) is in its own module:
// lab-kea.ts, lab-isc.ts, lab-udhcpd.ts. blockUnicast() in lab-block.ts drops unicast to a
// server's port 67 on its bridge port (s1, s2… in the hub), so a test can make a server deaf
// to renewals while it still hears broadcasts.

import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ISC_COMM, ISC_LEASE_FILE, iscLeaseList, startIsc } from "./lab-isc.ts";
import { KEA_LEASE_FILE, keaLeaseList, startKea } from "./lab-kea.ts";
import { startUdhcpd, UDHCPD_COMM, UDHCPD_LEASE_FILE, udhcpdLeaseBytes, udhcpdLeaseList } from "./lab-udhcpd.ts";

export const LAB_ROOT = process.env.DHCPTOOL_LAB_DIR ?? "/run/dhcptool/lab";
export const LAB_SUBNET = "198.18.0";
export const CLIENT_IFACE = "lab0";
export const SERVER_IFACE = "srv0";
export const MAX_SERVERS = 4;

export const SERVER_KINDS = ["dnsmasq", "kea", "isc", "udhcpd"] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];
export const DEFAULT_LEASE_TIME = 3600;
/** dnsmasq silently raises a shorter lease to two minutes; the lab refuses instead. */
export const DNSMASQ_MIN_LEASE_TIME = 120;

export class LabError extends Error {}

/**
 * A server program from the system's directories, never from PATH: under `bun run` PATH starts
 * with node_modules/.bin, where the npm package `dhcp` (a devDependency, for the codec bench)
 * puts a `dhcpd` of its own.
 */
export function systemBinary(name: string): string | null {
  return Bun.which(name, { PATH: "/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin" });
}

export interface LabServer {
  index: number;          // 1-based
  kind: ServerKind;
  ns: string;
  ip: string;
  rangeStart: string;
  rangeEnd: string;
  pid: number | null;
  dir: string;
  /** Extra dnsmasq arguments (dnsmasq only). */
  extraArgs: string[];
  /** Lease time in seconds (option 51). */
  leaseTime: number;
  /**
   * T1 and T2 in seconds (options 58, 59); null: the server's own: dnsmasq and Kea send lease/2
   * and lease·7/8, ISC dhcpd and udhcpd send none (the client takes those values itself).
   */
  renewTime: number | null;
  rebindTime: number | null;
  /** blockUnicast() is dropping unicast to this server's port 67. */
  unicastBlocked: boolean;
}

export interface LabState {
  name: string;
  dir: string;
  hubNs: string;
  clientNs: string;
  clientIface: string;
  servers: LabServer[];
}

export interface LabOptions {
  name?: string;
  servers?: number;
  /** Extra dnsmasq arguments per server (index 0 → server 1). */
  serverArgs?: string[][];
  /** dnsmasq pings an address before offering it (~3 s for a first OFFER); off by default. */
  ping?: boolean;
  /** Server kind per server (index 0 → server 1); missing entries are dnsmasq. */
  kinds?: ServerKind[];
  /** Lease time in seconds for every server (default 3600; dnsmasq's minimum is 120). */
  leaseTime?: number;
  /** T1 in seconds (default lease/2). */
  renewTime?: number;
  /** T2 in seconds (default lease·7/8). */
  rebindTime?: number;
}

/** Runs argv to completion; a LabError saying what failed otherwise. For the lab's own modules too. */
export function run(argv: string[], what: string): string {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) {
    const err = p.stderr.toString().trim();
    throw new LabError(`${what} failed: ${argv.join(" ")}: ${err || `exit ${p.exitCode}`}`);
  }
  return p.stdout.toString();
}

export function validLabName(name: string): boolean {
  return /^[a-z][a-z0-9]{0,9}$/.test(name);
}

function statePath(name: string): string {
  return join(LAB_ROOT, name, "state.json");
}

export function readLab(name: string): LabState | null {
  let state: LabState;
  try {
    state = JSON.parse(readFileSync(statePath(name), "utf8")) as LabState;
  } catch {
    return null;
  }
  // a lab brought up before servers had kinds and timers ran dnsmasq with an hour's lease
  for (const s of state.servers) {
    s.kind ??= "dnsmasq";
    s.leaseTime ??= DEFAULT_LEASE_TIME;
    s.renewTime ??= null;
    s.rebindTime ??= null;
    s.unicastBlocked ??= false;
  }
  return state;
}

export function writeLab(state: LabState): void {
  writeFileSync(statePath(state.name), JSON.stringify(state, null, 2) + "\n");
}

export function listLabs(): string[] {
  try {
    return readdirSync(LAB_ROOT).filter((n) => existsSync(statePath(n)));
  } catch {
    return [];
  }
}

function namespaceExists(ns: string): boolean {
  return existsSync(join("/run/netns", ns));
}

interface Timers { leaseTime: number; renewTime: number | null; rebindTime: number | null }

function checkTimers(opts: LabOptions, kinds: ServerKind[]): Timers {
  const t: Timers = { leaseTime: opts.leaseTime ?? DEFAULT_LEASE_TIME, renewTime: opts.renewTime ?? null, rebindTime: opts.rebindTime ?? null };
  const whole = (n: number | null, what: string) => {
    if (n !== null && (!Number.isInteger(n) || n < 1 || n > 0xfffffffe)) throw new LabError(`${what} ${n}: a whole number of seconds, 1 or more`);
  };
  whole(t.leaseTime, "lease time");
  whole(t.renewTime, "renew time (T1)");
  whole(t.rebindTime, "rebind time (T2)");
  if (kinds.includes("dnsmasq") && t.leaseTime < DNSMASQ_MIN_LEASE_TIME) {
    throw new LabError(`lease time ${t.leaseTime} s: dnsmasq grants at least ${DNSMASQ_MIN_LEASE_TIME} s (--kind kea, isc or udhcpd grant shorter ones)`);
  }
  // RFC 2131 4.4.5: T1 < T2 < lease; a server sending otherwise is a test of its own (serverArgs)
  const t1 = t.renewTime ?? t.leaseTime / 2, t2 = t.rebindTime ?? t.leaseTime * 7 / 8;
  if (!(t1 < t2 && t2 < t.leaseTime)) {
    throw new LabError(`timers: need renew (T1 ${t1} s) < rebind (T2 ${t2} s) < lease (${t.leaseTime} s)`);
  }
  return t;
}

export function labUp(opts: LabOptions = {}): LabState {
  const name = opts.name ?? "dtlab";
  if (!validLabName(name)) throw new LabError(`lab name "${name}": use 1-10 lower-case letters and digits, starting with a letter`);
  const count = opts.servers ?? 1;
  if (!Number.isInteger(count) || count < 0 || count > MAX_SERVERS) throw new LabError(`servers: 0 to ${MAX_SERVERS}`);
  const kinds = Array.from({ length: count }, (_, i) => opts.kinds?.[i] ?? "dnsmasq");
  for (const k of kinds) if (!SERVER_KINDS.includes(k)) throw new LabError(`server kind "${k}": use ${SERVER_KINDS.join(", ")}`);
  if ((opts.kinds?.length ?? 0) > count) throw new LabError(`${opts.kinds!.length} server kinds for ${count} server(s)`);
  kinds.forEach((k, i) => {
    if (k !== "dnsmasq" && opts.serverArgs?.[i]?.length) throw new LabError(`server ${i + 1} is ${k}: serverArgs are dnsmasq arguments`);
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

function addServer(state: LabState, i: number, kind: ServerKind, timers: Timers, extraArgs: string[], ping: boolean): LabServer {
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

export function dnsmasqArgs(s: LabServer): string[] {
  return [
    "dnsmasq",
    "--conf-file=/dev/null",
    "--port=0", // DHCP only, no DNS
    `--interface=${SERVER_IFACE}`,
    "--bind-interfaces",
    `--dhcp-range=${s.rangeStart},${s.rangeEnd},255.255.255.0,${s.leaseTime === DEFAULT_LEASE_TIME ? "1h" : s.leaseTime}`,
    `--dhcp-option=option:router,${s.ip}`,
    `--dhcp-option=option:dns-server,${s.ip}`,
    "--dhcp-option=option:domain-name,lab.example",
    "--dhcp-option=option:domain-search,lab.example,example.org",
    // dnsmasq sends these instead of its own lease/2 and lease·7/8
    ...(s.renewTime === null ? [] : [`--dhcp-option=option:T1,${s.renewTime}`]),
    ...(s.rebindTime === null ? [] : [`--dhcp-option=option:T2,${s.rebindTime}`]),
    `--dhcp-leasefile=${join(s.dir, "leases")}`,
    `--pid-file=${join(s.dir, "pid")}`,
    `--log-facility=${join(s.dir, "log")}`,
    "--log-dhcp",
    "--user=root",
    "--group=root",
    ...s.extraArgs,
  ];
}

export function serverOf(state: LabState, i: number): LabServer {
  const s = state.servers.find((x) => x.index === i);
  if (!s) throw new LabError(`lab "${state.name}" has no server ${i}`);
  return s;
}

/** Starts (or restarts) server i; returns once it is listening. */
export function startServer(state: LabState, i: number): LabServer {
  const s = serverOf(state, i);
  if (s.pid !== null) stopServer(state, i);
  s.pid = kindOf(s.kind).start(s);
  writeLab(state);
  return s;
}

/** dnsmasq daemonizes once it is listening. */
function startDnsmasq(s: LabServer): number {
  const dnsmasq = systemBinary("dnsmasq");
  if (!dnsmasq) throw new LabError("dnsmasq is not installed (apt-get install dnsmasq-base)");
  const pidFile = join(s.dir, "pid");
  rmSync(pidFile, { force: true });
  run(["ip", "netns", "exec", s.ns, dnsmasq, ...dnsmasqArgs(s).slice(1)], `starting dnsmasq in ${s.ns}`);
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new LabError(`dnsmasq in ${s.ns} wrote no usable pid`);
  return pid;
}

/** Per kind: how to start it, its process's name (/proc/PID/comm), its lease file. Not a table
 * built at load time: in the import cycle with the kinds' modules, their constants may not be set yet. */
function kindOf(kind: ServerKind): { start: (s: LabServer) => number; comm: string; leaseFile: string } {
  switch (kind) {
    case "dnsmasq": return { start: startDnsmasq, comm: "dnsmasq", leaseFile: "leases" };
    case "kea": return { start: startKea, comm: "kea-dhcp4", leaseFile: KEA_LEASE_FILE };
    case "isc": return { start: startIsc, comm: ISC_COMM, leaseFile: ISC_LEASE_FILE };
    case "udhcpd": return { start: startUdhcpd, comm: UDHCPD_COMM, leaseFile: UDHCPD_LEASE_FILE };
  }
}

// The processes the lab starts (dnsmasq here, the others in their modules) are found again and
// stopped by their PID alone, and only while that PID still names them.

/** A file's text from byte `from` on; "" when it cannot be read. */
export function readText(path: string, from = 0): string {
  try { return readFileSync(path).subarray(from).toString("utf8"); } catch { return ""; }
}

/** Alive and not a zombie: an exited process whose parent has not reaped it yet counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readText(`/proc/${pid}/stat`);
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

function inode(path: string): number | null {
  try { return statSync(path).ino; } catch { return null; }
}

/** The PID still names the program we started, in the namespace we started it in. */
export function ourProcess(pid: number, comm: string, ns: string): boolean {
  if (!alive(pid) || readText(`/proc/${pid}/comm`).trim() !== comm) return false;
  const netns = inode(join("/run/netns", ns));
  return netns !== null && inode(`/proc/${pid}/ns/net`) === netns;
}

/** SIGTERM, then SIGKILL after 3 s; returns once the process is gone. */
export function signalAndWait(pid: number): void {
  process.kill(pid, "SIGTERM");
  let until = Date.now() + 3000;
  while (alive(pid) && Date.now() < until) Bun.sleepSync(10);
  if (!alive(pid)) return;
  process.kill(pid, "SIGKILL");
  until = Date.now() + 2000;
  while (alive(pid) && Date.now() < until) Bun.sleepSync(10);
  if (alive(pid)) throw new LabError(`process ${pid} did not exit after SIGKILL`);
}

/** Stops server i by the PID we recorded, waiting until it has gone. */
export function stopServer(state: LabState, i: number): void {
  const s = state.servers.find((x) => x.index === i);
  if (!s || s.pid === null) return;
  // Only a server we started: the PID must still name one, in its namespace.
  if (ourProcess(s.pid, kindOf(s.kind).comm, s.ns)) signalAndWait(s.pid);
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
 * The server's lease file as it stands: dnsmasq's lease lines, Kea's CSV (one row per change),
 * dhcpd.leases (one block per change); udhcpd's is binary (see serverLeaseList()).
 */
export function serverLeases(s: LabServer): string {
  return readText(join(s.dir, kindOf(s.kind).leaseFile));
}

export interface LabLease {
  address: string;
  mac: string;
  /** Unix time in seconds. */
  expiresAt: number;
  hostname: string | null;
}

/**
 * The leases server s holds now, from its lease file: see keaLeaseList(), iscLeaseList() and
 * udhcpdLeaseList() (udhcpd writes its file once a second, so it may be that late).
 */
export function serverLeaseList(s: LabServer): LabLease[] {
  if (s.kind === "udhcpd") return udhcpdLeaseList(udhcpdLeaseBytes(s));
  const text = serverLeases(s);
  if (s.kind === "kea") return keaLeaseList(text);
  if (s.kind === "isc") return iscLeaseList(text);
  return text.split("\n").filter(Boolean).map((line) => {
    const [expiry, mac, address, host] = line.split(" ");
    return { address, mac, expiresAt: Number(expiry), hostname: host && host !== "*" ? host : null };
  });
}

export function serverMac(state: LabState, i: number): string {
  const s = state.servers.find((x) => x.index === i);
  if (!s) throw new LabError(`no server ${i}`);
  const out = run(["ip", "-n", s.ns, "-o", "link", "show", SERVER_IFACE], "reading a MAC");
  const mac = out.match(/link\/ether ([0-9a-f:]{17})/)?.[1];
  if (!mac) throw new LabError(`no MAC on ${s.ns}/${SERVER_IFACE}`);
  return mac;
}
