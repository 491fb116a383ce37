// The lab's vocabulary and its state file: what a lab is made of (namespaces, client links,
// servers, a router), the options `lab up` takes, and the JSON record in
// LAB_ROOT/<name>/state.json that every later command (status, exec, block, down, tests) reads
// the lab back from.

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LAB_ROOT = process.env.DHCPTOOL_LAB_DIR ?? "/run/dhcptool/lab";
/** The servers' segment: 198.18.0.0/24 (every subnet of the lab is a /24 in 198.18.0.0/16). */
export const LAB_SUBNET = "198.18.0";
export const LAB_MASK = "255.255.255.0";
/** Addresses per server pool by default (one /24 shared by up to four servers). */
export const DEFAULT_POOL = 40;
/**
 * A bigger --pool (a load run, request --clients) makes the one segment of a flat lab a /16:
 * the pools sit in blocks from 198.18.16.0 up, 224 /24s shared among the servers.
 */
export const WIDE_PREFIX_LEN = 16;
export const WIDE_POOL_BLOCKS = 224;

/** The dotted mask of a prefix length: 16 → 255.255.0.0. */
export function maskOf(prefixLen: number): string {
  const m = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join(".");
}

/** The most addresses --pool can give each of `servers` servers (a wide lab's share of its blocks). */
export function maxPool(servers: number): number {
  return Math.floor(WIDE_POOL_BLOCKS / Math.max(1, servers)) * 256 - 1;
}
export const CLIENT_IFACE = "lab0";
export const SERVER_IFACE = "srv0";
export const MAX_SERVERS = 4;
export const MAX_LINKS = 4;

export const SERVER_KIND_NAMES = ["dnsmasq", "kea", "isc", "udhcpd"] as const;
export type ServerKindName = (typeof SERVER_KIND_NAMES)[number];
export const RELAY_KIND_NAMES = ["dhcrelay", "dnsmasq"] as const;
export type RelayKindName = (typeof RELAY_KIND_NAMES)[number];
/** flat: client and servers on one segment; routed: a router with a DHCP relay between them. */
export const TOPOLOGIES = ["flat", "routed"] as const;
export type Topology = (typeof TOPOLOGIES)[number];
export const DEFAULT_LEASE_TIME = 3600;
/** dnsmasq silently raises a shorter lease to two minutes; the lab refuses instead. */
export const DNSMASQ_MIN_LEASE_TIME = 120;

/** Something the lab could not do (a command failed, a server did not start): exit 1. */
export class LabError extends Error {}
/** Options that cannot make a lab (a bad name, kinds, timers): a usage error, exit 2. */
export class LabUsageError extends LabError {}

export interface LabServer {
  index: number; // 1-based
  kind: ServerKindName;
  ns: string;
  ip: string;
  /** The hub's bridge its srv0 is joined to (its segment). */
  bridge: string;
  /**
   * The pool it hands out, on the /24 at network (the client's link: its own segment, or the
   * segment behind the router that relays), naming router as option 3 (itself on its own segment).
   */
  network: string;
  /** network's prefix length: 24, or 16 with a --pool too big for a /24. */
  prefixLen: number;
  rangeStart: string;
  rangeEnd: string;
  router: string;
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

/** A client interface (lab0, lab1…) and the segment (a bridge in the hub) it is on. */
export interface LabLink {
  iface: string;
  bridge: string;
  network: string; // 198.18.N.0, a /24 (a /16 with a big --pool)
  prefixLen: number;
}

/** One side of the router: its interface, address, and the hub's bridge it is joined to. */
export interface RouterPort {
  iface: string;
  ip: string;
  bridge: string;
}

/** The routed topology's middle namespace: forwarding, and a DHCP relay from down (clients) to up (servers). */
export interface LabRouter {
  ns: string;
  dir: string;
  relay: RelayKindName;
  pid: number | null;
  down: RouterPort;
  up: RouterPort;
  /** Where the relay sends what it hears on down. */
  servers: string[];
}

export interface LabState {
  name: string;
  dir: string;
  hubNs: string;
  clientNs: string;
  /** The first client interface (links[0].iface). */
  clientIface: string;
  topology: Topology;
  links: LabLink[];
  /** A bridge in the client namespace with lab0 as its port (lab up --client-bridge), or null. */
  clientBridge: string | null;
  router: LabRouter | null;
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
  /** flat (default) or routed: the servers behind a router that relays. */
  topology?: Topology;
  /** The relay on the router (routed only; default dhcrelay). */
  relay?: RelayKindName;
  /** Client interfaces, each on its own segment with its own servers (flat only; default 1). */
  links?: number;
  /** lab0 becomes a port of a bridge br0 in the client namespace. */
  clientBridge?: boolean;
  /** Addresses in each server's pool (default 40; more makes the flat lab's segment a /16). */
  pool?: number;
}

/** A lease as a server's lease file records it. */
export interface LabLease {
  address: string;
  mac: string;
  /** Unix time in seconds. */
  expiresAt: number;
  hostname: string | null;
}

/** The /24 network an address of the lab is on: 198.18.1.7 → 198.18.1.0. */
export function networkOf(ip: string): string {
  return ip.replace(/\.\d+$/, ".0");
}

/** name is one of list (a kind, a relay, a topology): narrows a string from the command line. */
export function isOneOf<T extends string>(list: readonly T[], name: string): name is T {
  return (list as readonly string[]).includes(name);
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
  // a lab brought up by an older dhcptool: flat, one link, dnsmasq with an hour's lease
  state.topology ??= "flat";
  state.links ??= [{ iface: state.clientIface, bridge: "br0", network: `${LAB_SUBNET}.0`, prefixLen: 24 }];
  for (const l of state.links) l.prefixLen ??= 24;
  state.clientBridge ??= null;
  state.router ??= null;
  for (const s of state.servers) {
    s.bridge ??= "br0";
    s.network ??= `${LAB_SUBNET}.0`;
    s.prefixLen ??= 24;
    s.router ??= s.ip;
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
