// The lab's network: which segments, addresses and pools a lab has (planLab(), no IO) and the
// namespaces, veths and bridges that make it (buildNetwork()). Each segment is a bridge in
// <name>-hub; every subnet is a /24 in 198.18.0.0/16, inside the lab's namespaces only.
//
// flat, one link (the default)            flat, --links 2 (server N on link (N-1) mod 2)
//   <name>-c  lab0 ─┐                        <name>-c  lab0 ── br0 198.18.0.0/24 ── s1, s3
//   <name>-sN srv0 ─┴ br0 198.18.0.0/24                lab1 ── br1 198.18.1.0/24 ── s2, s4
//
// routed: the servers behind a router (<name>-r) that forwards and relays DHCP
//   <name>-c lab0 ── br1 198.18.1.0/24 ── down0 .1 [<name>-r] up0 .254 ── br0 198.18.0.0/24 ── sN
//
// --client-bridge: lab0 is a port of a bridge br0 in the client namespace (the bridge holds
// the client's side of the link, as on a host whose NIC is enslaved to a bridge).

import { join } from "node:path";
import { ipToU32, u32ToIp } from "../../core/bytes.ts";
import { run } from "./proc.ts";
import {
  DEFAULT_POOL,
  LAB_SUBNET,
  LabError,
  SERVER_IFACE,
  WIDE_POOL_BLOCKS,
  WIDE_PREFIX_LEN,
  type LabLink,
  type LabRouter,
  type LabServer,
  type LabState,
  type RelayKindName,
  type ServerKindName,
  type Topology,
} from "./state.ts";

export interface Plan {
  name: string;
  dir: string;
  topology: Topology;
  relay: RelayKindName;
  links: number;
  clientBridge: boolean;
  kinds: ServerKindName[];
  /** Lease time and T1/T2 for every server. */
  timers: Pick<LabServer, "leaseTime" | "renewTime" | "rebindTime">;
  /** Extra dnsmasq arguments per server (index 0 → server 1). */
  serverArgs: string[][];
  ping: boolean;
  /** Addresses per server pool. */
  pool: number;
}

/** The servers' segment (the only one in a flat lab of one link). */
const SERVER_BRIDGE = "br0";
/** The routed lab's client link and the router's address on each side. */
const ROUTED_LINK: LabLink = { iface: "lab0", bridge: "br1", network: "198.18.1.0", prefixLen: 24 };
const ROUTER_DOWN_IP = "198.18.1.1",
  ROUTER_UP_IP = `${LAB_SUBNET}.254`;

const host = (network: string, n: number) => u32ToIp(ipToU32(network) + n);

/**
 * Server i's pool (of `servers`): in a /24, .100-.139, .150-.189, .200-.239 and, for server 4,
 * what is left below the broadcast address; in a wide lab (a /16), its share of the blocks.
 */
function poolRange(network: string, i: number, servers: number, pool: number, wide: boolean): [string, string] {
  if (!wide) return [host(network, 50 + i * 50), host(network, Math.min(50 + i * 50 + pool - 1, 254))];
  const first = 16 * 256 + (i - 1) * Math.floor(WIDE_POOL_BLOCKS / servers) * 256 + 1;
  return [host(network, first), host(network, first + pool - 1)];
}

/** Everything `lab up` will make, as the state file records it; nothing is created yet. */
export function planLab(p: Plan): LabState {
  const routed = p.topology === "routed";
  const links: LabLink[] = routed
    ? [ROUTED_LINK]
    : Array.from({ length: p.links }, (_, k) => ({ iface: `lab${k}`, bridge: `br${k}`, network: `198.18.${k}.0`, prefixLen: 24 }));
  // checkOptions() allows a wide pool only in a flat lab of one link
  const wide = p.pool > DEFAULT_POOL;
  if (wide) links[0].prefixLen = WIDE_PREFIX_LEN;
  const router: LabRouter | null = routed
    ? {
        ns: `${p.name}-r`,
        dir: join(p.dir, "r"),
        relay: p.relay,
        pid: null,
        down: { iface: "down0", ip: ROUTER_DOWN_IP, bridge: ROUTED_LINK.bridge },
        up: { iface: "up0", ip: ROUTER_UP_IP, bridge: SERVER_BRIDGE },
        servers: [],
      }
    : null;
  const servers = p.kinds.map((kind, n): LabServer => {
    const i = n + 1;
    const own = routed ? { bridge: SERVER_BRIDGE, network: `${LAB_SUBNET}.0`, prefixLen: 24 } : links[n % links.length];
    const ip = host(own.network, i);
    // the pool is on the client's link: behind the router, the relayed one
    const network = routed ? ROUTED_LINK.network : own.network;
    const [rangeStart, rangeEnd] = poolRange(network, i, p.kinds.length, p.pool, wide);
    return {
      index: i,
      kind,
      ns: `${p.name}-s${i}`,
      ip,
      bridge: own.bridge,
      network,
      prefixLen: own.prefixLen,
      rangeStart,
      rangeEnd,
      router: routed ? ROUTER_DOWN_IP : ip,
      pid: null,
      dir: join(p.dir, `s${i}`),
      extraArgs: kind !== "dnsmasq" || p.ping ? (p.serverArgs[n] ?? []) : ["--no-ping", ...(p.serverArgs[n] ?? [])],
      ...p.timers,
      unicastBlocked: false,
    };
  });
  if (router) router.servers = servers.map((s) => s.ip);
  return {
    name: p.name,
    dir: p.dir,
    hubNs: `${p.name}-hub`,
    clientNs: `${p.name}-c`,
    clientIface: links[0].iface,
    topology: p.topology,
    links,
    clientBridge: p.clientBridge ? "br0" : null,
    router,
    servers,
  };
}

/** A veth from iface in ns to peer in the hub, the peer joined to the hub's bridge; both up. */
function wire(state: LabState, ns: string, iface: string, peer: string, bridge: string): void {
  run(["ip", "-n", ns, "link", "add", iface, "type", "veth", "peer", "name", peer, "netns", state.hubNs], `creating veth ${ns}/${iface}`);
  run(["ip", "-n", state.hubNs, "link", "set", peer, "master", bridge, "up"], `joining ${ns}/${iface} to ${bridge}`);
  run(["ip", "-n", ns, "link", "set", iface, "up"], `bringing ${ns}/${iface} up`);
}

function namespace(ns: string): void {
  run(["ip", "netns", "add", ns], "creating a network namespace");
  run(["ip", "-n", ns, "link", "set", "lo", "up"], "bringing lo up");
}

/** Returns once iface in ns is up with carrier (a new bridge takes a moment to see its port's). */
function waitUp(ns: string, iface: string): void {
  const until = Date.now() + 2000;
  while (!/ state UP /.test(run(["ip", "-n", ns, "-o", "link", "show", iface], `reading ${ns}/${iface}`))) {
    if (Date.now() > until) throw new LabError(`${ns}/${iface} did not come up within 2 s`);
    Bun.sleepSync(10);
  }
}

/** Creates the namespaces, bridges and veths of a planned lab (its servers are started later). */
export function buildNetwork(state: LabState): void {
  namespace(state.hubNs);
  namespace(state.clientNs);
  const r = state.router;
  const bridges = new Set([...state.links.map((l) => l.bridge), ...state.servers.map((s) => s.bridge), ...(r ? [r.up.bridge] : [])]);
  for (const br of bridges) {
    run(["ip", "-n", state.hubNs, "link", "add", br, "type", "bridge", "forward_delay", "0", "stp_state", "0"], "creating a bridge");
    run(["ip", "-n", state.hubNs, "link", "set", br, "up"], "bringing a bridge up");
  }
  for (const [k, l] of state.links.entries()) wire(state, state.clientNs, l.iface, `c${k}`, l.bridge);
  if (state.clientBridge) {
    const c = ["ip", "-n", state.clientNs, "link"];
    run([...c, "add", state.clientBridge, "type", "bridge", "forward_delay", "0", "stp_state", "0"], "creating the client's bridge");
    run([...c, "set", state.links[0].iface, "master", state.clientBridge], "making lab0 a bridge port");
    run([...c, "set", state.clientBridge, "up"], "bringing the client's bridge up");
    waitUp(state.clientNs, state.clientBridge);
  }
  if (r) {
    namespace(r.ns);
    for (const [side, peer] of [
      [r.down, "rd"],
      [r.up, "ru"],
    ] as const) {
      wire(state, r.ns, side.iface, peer, side.bridge);
      run(["ip", "-n", r.ns, "addr", "add", `${side.ip}/24`, "dev", side.iface], "addressing the router");
    }
    run(["ip", "netns", "exec", r.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"], "letting the router forward");
  }
  for (const s of state.servers) {
    namespace(s.ns);
    wire(state, s.ns, SERVER_IFACE, `s${s.index}`, s.bridge);
    run(["ip", "-n", s.ns, "addr", "add", `${s.ip}/${s.prefixLen}`, "dev", SERVER_IFACE], "addressing a server");
    // a relayed reply goes back to the giaddr, on the client's link beyond the router
    if (r) run(["ip", "-n", s.ns, "route", "add", `${s.network}/24`, "via", r.up.ip], "routing a server to the client's link");
  }
}
