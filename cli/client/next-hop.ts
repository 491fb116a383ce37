// Where a unicast to a server leaves the link (IO: rtnetlink, and a datagram to wake ARP).
// The client's messages go out as raw frames, so the kernel's routing does not pick the
// Ethernet destination for them: a server beyond a router must get the frame in the router's
// MAC (a frame to ff:ff:ff:ff:ff:ff is not routed). The kernel is asked the way it would go
// itself (RTM_GETROUTE through IFACE, as `ip route get SERVER oif IFACE`), then the gateway's
// MAC (RTM_GETNEIGH). A gateway not in the neighbour table yet is made to resolve: one empty
// UDP datagram to its discard port (RFC 863) through the ordinary stack makes the kernel ARP
// for it, as any first packet to it would.

import { parseMac } from "../../core/bytes.ts";
import { escapeText } from "../../core/escape.ts";
import { UserError } from "../errors.ts";
import { log } from "../log.ts";

const DISCARD_PORT = 9;
/** How long a gateway has to answer ARP (the kernel's first request goes at once; it retries each second). */
const RESOLVE_MS = 1500;
const POLL_MS = 20;

export interface NextHop {
  /** The gateway the kernel routes the server through; null: the server is on the link. */
  gateway: string | null;
  /** The gateway's MAC (null when on the link: the caller keeps its own choice there). */
  mac: Uint8Array | null;
}

/**
 * The next hop from iface to server. On the link (or no route at all: an interface without
 * an address, as discover often runs) the answer has no MAC: the caller's default stands.
 * Through a gateway: its MAC, resolved if need be (onResolving is told before that wait, up to
 * 1.5 s); throws a UserError when it does not answer.
 */
export async function nextHop(iface: string, server: string, onResolving?: (gateway: string) => void): Promise<NextHop> {
  const { interfaceInfo } = await import("../../native/rawsocket.ts");
  const { NetlinkRoute } = await import("../../native/netlink.ts");
  const ifindex = interfaceInfo(iface).index;
  const nl = NetlinkRoute.open();
  try {
    let gateway: string | null;
    try {
      const route = nl.routeTo(server, ifindex);
      gateway = route.type === "unicast" ? route.gateway : null;
    } catch (err) {
      log.debug(`no route to ${server} through ${escapeText(iface)}: ${String(err)}`);
      return { gateway: null, mac: null };
    }
    if (gateway === null) return { gateway: null, mac: null };
    const known = () => nl.neighbours(ifindex).find((n) => n.address === gateway && n.usable)?.mac ?? null;
    let mac = known();
    if (mac === null) {
      log.verbose(`${server} is routed through ${gateway}, not yet in the neighbour table: waking ARP for it`);
      onResolving?.(gateway);
      await wakeArp(gateway);
      for (const until = performance.now() + RESOLVE_MS; mac === null && performance.now() < until; ) {
        await Bun.sleep(POLL_MS);
        mac = known();
      }
    }
    if (mac === null) {
      throw new UserError(
        `${server} is routed through ${gateway} on ${escapeText(iface)}, which did not answer ARP: ` +
          `give its MAC with --server-mac (ip neigh show ${gateway})`,
      );
    }
    log.verbose(`${server} is routed through ${gateway} (${mac}): the frame goes to that MAC`);
    return { gateway, mac: parseMac(mac) };
  } finally {
    nl.close();
  }
}

/** One empty datagram to the gateway's discard port: the kernel ARPs for it to send it. */
function wakeArp(gateway: string): Promise<void> {
  // required here: importing node:dgram would cost every discover and request ~0.6 ms of
  // start-up for the few that are routed
  const { createSocket }: typeof import("node:dgram") = require("node:dgram");
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    const done = () => {
      try {
        s.close();
      } catch {
        /* closed already */
      }
      resolve();
    };
    s.on("error", done);
    s.send(new Uint8Array(0), DISCARD_PORT, gateway, done);
  });
}
