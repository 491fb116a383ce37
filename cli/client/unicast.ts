// --server and --giaddr against the interface they are used on (IO: its addresses): from
// which address a unicast goes, whether a relay address is really there, and the frame a
// DISCOVER goes in.

import { ipToU32 } from "../../core/bytes.ts";
import { BROADCAST_DESTINATION, type Destination } from "../../core/client.ts";
import type { UnicastServer } from "../../core/engine.ts";
import { escapeText } from "../../core/escape.ts";
import { BROADCAST_MAC, DHCP_SERVER_PORT } from "../../core/frame.ts";
import { UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { nextHop } from "./next-hop.ts";

/** --server (with --server-mac) and --giaddr as given: unicast to this server, maybe as a relay. */
export interface UnicastChoice {
  server: { ip: string; mac: Uint8Array | null } | null;
  /** Relay simulation from this address (needs server). */
  giaddr: string | null;
}

interface InterfaceAddress {
  address: string;
  netmask: string;
  iface: string;
}

/** IPv4 addresses on an interface in this namespace (labelled ones, IFACE:x, included), or on all. */
export function interfaceAddresses(iface?: string): InterfaceAddress[] {
  // required here: node:os would cost every discover ~0.2 ms of start-up for the few that ask
  const { networkInterfaces }: typeof import("node:os") = require("node:os");
  return Object.entries(networkInterfaces())
    .filter(([name]) => iface === undefined || name === iface || name.startsWith(`${iface}:`))
    .flatMap(([name, addrs]) =>
      (addrs ?? [])
        .filter((a) => a.family === "IPv4" || (a.family as unknown) === 4)
        .map((a) => ({ address: a.address, netmask: a.netmask, iface: name.replace(/:.*$/, "") })),
    );
}

const sameSubnet = (a: string, b: string, mask: string) => ((ipToU32(a) ^ ipToU32(b)) & ipToU32(mask)) === 0;

/** How the exchange reaches the server: the engine's `server` and `relay` (none: broadcast). */
export interface UnicastRoute {
  server?: UnicastServer;
  relay?: { giaddr: string };
}

/**
 * A relay's giaddr must be on IFACE: the server ARPs for it and sends its answer there. A
 * plain --server unicast goes from an address IFACE holds, since Linux drops a unicast from
 * 0.0.0.0 as a martian source.
 */
export async function resolveUnicast(iface: string, o: UnicastChoice): Promise<UnicastRoute> {
  if (!o.server) return {};
  const addrs = interfaceAddresses(iface);
  // No --server-mac: a server beyond a router gets the frame in the router's MAC.
  const mac = o.server.mac ?? (await nextHop(iface, o.server.ip)).mac;
  const server: UnicastServer = { ip: o.server.ip, ...(mac ? { mac } : {}) };
  const name = escapeText(iface);
  if (o.giaddr !== null) {
    checkRelayAddress(iface, o.giaddr, addrs);
    return { server, relay: { giaddr: o.giaddr } };
  }
  const from = addrs.find((a) => sameSubnet(a.address, server.ip, a.netmask)) ?? addrs[0];
  if (from) return { server: { ...server, srcIp: from.address } };
  log.warn(
    `${name} has no IPv4 address: the unicast to ${server.ip} goes from 0.0.0.0, which a server on a Linux ` +
      `UDP socket (dnsmasq) drops as a martian source (raw-socket servers such as Kea answer); add an address to ${name} ` +
      `(ip addr add ADDRESS/PREFIX dev ${name})`,
  );
  return { server };
}

/**
 * --giaddr must be an address of this host: the server sends its answer to giaddr. On IFACE
 * itself (the server ARPs for it there), or on another interface, as dhcrelay on a router
 * sends with its client-side address as giaddr out of its server-side interface (RFC 1542
 * 4.1.1): the answer is then routed back to the host, in through IFACE when that is the way
 * from the server.
 */
export function checkRelayAddress(iface: string, giaddr: string, addrs = interfaceAddresses(iface)): void {
  if (addrs.some((a) => a.address === giaddr)) return;
  const name = escapeText(iface);
  const elsewhere = interfaceAddresses().find((a) => a.address === giaddr);
  if (elsewhere) {
    log.verbose(
      `--giaddr ${giaddr} is on ${escapeText(elsewhere.iface)}, not ${name}: relaying as a router does; ` +
        `the server's answer must be routed back in through ${name}`,
    );
    return;
  }
  const held = addrs.length ? `${name} has ${addrs.map((a) => a.address).join(", ")}` : `${name} has no IPv4 address`;
  throw new UsageError(
    `--giaddr ${giaddr} is not an address of this host (${held}): the server sends its answer ` +
      `to giaddr, so add it first, e.g. ip addr add ${giaddr}/24 dev ${name}`,
  );
}

/** The frame a DISCOVER goes in: broadcast, or unicast to --server (from giaddr:67 when relaying). */
export function unicastDestination(route: UnicastRoute): Destination {
  const s = route.server;
  if (!s) return BROADCAST_DESTINATION;
  const to = { mac: s.mac ?? BROADCAST_MAC, ip: s.ip };
  return route.relay ? { ...to, srcIp: route.relay.giaddr, srcPort: DHCP_SERVER_PORT } : { ...to, srcIp: s.srcIp ?? "0.0.0.0" };
}
