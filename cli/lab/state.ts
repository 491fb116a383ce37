// The lab's vocabulary and its state file: what a lab is made of (namespaces, a client end,
// servers), the options `lab up` takes, and the JSON record in LAB_ROOT/<name>/state.json
// that every later command (status, exec, block, down, tests) reads the lab back from.

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LAB_ROOT = process.env.DHCPTOOL_LAB_DIR ?? "/run/dhcptool/lab";
export const LAB_SUBNET = "198.18.0";
export const CLIENT_IFACE = "lab0";
export const SERVER_IFACE = "srv0";
export const MAX_SERVERS = 4;

export const SERVER_KIND_NAMES = ["dnsmasq", "kea", "isc", "udhcpd"] as const;
export type ServerKindName = (typeof SERVER_KIND_NAMES)[number];
export const DEFAULT_LEASE_TIME = 3600;
/** dnsmasq silently raises a shorter lease to two minutes; the lab refuses instead. */
export const DNSMASQ_MIN_LEASE_TIME = 120;

/** Something the lab could not do (a command failed, a server did not start): exit 1. */
export class LabError extends Error {}
/** Options that cannot make a lab (a bad name, kinds, timers): a usage error, exit 2. */
export class LabUsageError extends LabError {}

export interface LabServer {
  index: number;          // 1-based
  kind: ServerKindName;
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
  kinds?: ServerKindName[];
  /** Lease time in seconds for every server (default 3600; dnsmasq's minimum is 120). */
  leaseTime?: number;
  /** T1 in seconds (default lease/2). */
  renewTime?: number;
  /** T2 in seconds (default lease·7/8). */
  rebindTime?: number;
}

/** A lease as a server's lease file records it. */
export interface LabLease {
  address: string;
  mac: string;
  /** Unix time in seconds. */
  expiresAt: number;
  hostname: string | null;
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

export function serverOf(state: LabState, i: number): LabServer {
  const s = state.servers.find((x) => x.index === i);
  if (!s) throw new LabError(`lab "${state.name}" has no server ${i}`);
  return s;
}
