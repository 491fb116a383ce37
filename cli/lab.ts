// The lab: our own network namespaces joined through a bridge, real DHCP servers (dnsmasq)
// in some, a client end for dhcptool in another. Users try the tool in it; tests use it.
// Everything lives in 198.18.0.0/24 (RFC 2544 benchmarking range), only inside the
// namespaces; nothing is routed anywhere else. Processes are killed only by their own PID.
//
//   <name>-c   lab0 ──┐
//   <name>-s1  srv0 ──┤ br0 in <name>-hub
//   <name>-s2  srv0 ──┘

import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LAB_ROOT = process.env.DHCPTOOL_LAB_DIR ?? "/run/dhcptool/lab";
export const LAB_SUBNET = "198.18.0";
export const CLIENT_IFACE = "lab0";
export const SERVER_IFACE = "srv0";
export const MAX_SERVERS = 4;

export class LabError extends Error {}

export interface LabServer {
  index: number;          // 1-based
  ns: string;
  ip: string;
  rangeStart: string;
  rangeEnd: string;
  pid: number | null;
  dir: string;
  extraArgs: string[];
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
}

function run(argv: string[], what: string): string {
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
  try {
    return JSON.parse(readFileSync(statePath(name), "utf8")) as LabState;
  } catch {
    return null;
  }
}

function writeLab(state: LabState): void {
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

export function labUp(opts: LabOptions = {}): LabState {
  const name = opts.name ?? "dtlab";
  if (!validLabName(name)) throw new LabError(`lab name "${name}": use 1-10 lower-case letters and digits, starting with a letter`);
  const count = opts.servers ?? 1;
  if (!Number.isInteger(count) || count < 0 || count > MAX_SERVERS) throw new LabError(`servers: 0 to ${MAX_SERVERS}`);
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
      const server = addServer(state, i, opts.serverArgs?.[i - 1] ?? [], opts.ping ?? false);
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

function addServer(state: LabState, i: number, extraArgs: string[], ping: boolean): LabServer {
  const ns = `${state.name}-s${i}`;
  const ip = `${LAB_SUBNET}.${i}`;
  const server: LabServer = {
    index: i, ns, ip,
    rangeStart: `${LAB_SUBNET}.${50 + i * 50}`, rangeEnd: `${LAB_SUBNET}.${50 + i * 50 + 39}`,
    pid: null, dir: join(state.dir, `s${i}`),
    extraArgs: ping ? extraArgs : ["--no-ping", ...extraArgs],
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
    `--dhcp-range=${s.rangeStart},${s.rangeEnd},255.255.255.0,1h`,
    `--dhcp-option=option:router,${s.ip}`,
    `--dhcp-option=option:dns-server,${s.ip}`,
    "--dhcp-option=option:domain-name,lab.example",
    "--dhcp-option=option:domain-search,lab.example,example.org",
    `--dhcp-leasefile=${join(s.dir, "leases")}`,
    `--pid-file=${join(s.dir, "pid")}`,
    `--log-facility=${join(s.dir, "log")}`,
    "--log-dhcp",
    "--user=root",
    "--group=root",
    ...s.extraArgs,
  ];
}

/** Starts (or restarts) dnsmasq for server i; dnsmasq daemonizes once it is listening. */
export function startServer(state: LabState, i: number): LabServer {
  const s = state.servers.find((x) => x.index === i);
  if (!s) throw new LabError(`lab "${state.name}" has no server ${i}`);
  if (s.pid !== null) stopServer(state, i);
  if (!Bun.which("dnsmasq")) throw new LabError("dnsmasq is not installed (apt-get install dnsmasq-base)");
  const pidFile = join(s.dir, "pid");
  rmSync(pidFile, { force: true });
  run(["ip", "netns", "exec", s.ns, ...dnsmasqArgs(s)], `starting dnsmasq in ${s.ns}`);
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new LabError(`dnsmasq in ${s.ns} wrote no usable pid`);
  s.pid = pid;
  writeLab(state);
  return s;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops server i's dnsmasq by the PID we recorded, waiting up to 2 s for it to go. */
export function stopServer(state: LabState, i: number): void {
  const s = state.servers.find((x) => x.index === i);
  if (!s || s.pid === null) return;
  const pid = s.pid;
  // Only a dnsmasq we started: check the PID still names one before signalling it.
  let comm = "";
  try { comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim(); } catch { /* gone */ }
  if (comm === "dnsmasq") {
    process.kill(pid, "SIGTERM");
    const until = Date.now() + 2000;
    while (alive(pid) && Date.now() < until) Bun.sleepSync(10);
    if (alive(pid)) process.kill(pid, "SIGKILL");
  }
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

export function serverLeases(s: LabServer): string {
  try { return readFileSync(join(s.dir, "leases"), "utf8"); } catch { return ""; }
}

export function serverMac(state: LabState, i: number): string {
  const s = state.servers.find((x) => x.index === i);
  if (!s) throw new LabError(`no server ${i}`);
  const out = run(["ip", "-n", s.ns, "-o", "link", "show", SERVER_IFACE], "reading a MAC");
  const mac = out.match(/link\/ether ([0-9a-f:]{17})/)?.[1];
  if (!mac) throw new LabError(`no MAC on ${s.ns}/${SERVER_IFACE}`);
  return mac;
}
