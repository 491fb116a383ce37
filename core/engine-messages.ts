// The messages the client engine sends, per state (RFC 2131 table 4 for REQUEST, 4.4.6 for
// RELEASE). Split from engine.ts along the seam "what goes on the wire" vs "when and why".

import { buildClientMessage, buildRelease, type RequestParams } from "./client.ts";
import { BROADCAST_MAC, DHCP_SERVER_PORT } from "./frame.ts";
import { DHCPDISCOVER, DHCPRELEASE, DHCPREQUEST } from "./options.ts";
import type { Action, ClientState, Destination, EngineConfig } from "./engine-types.ts";

const SECOND = 1000;

export function secsSince(s: ClientState, now: number): number {
  return Math.min(0xffff, Math.max(0, Math.floor((now - s.exchangeStartedAt) / SECOND)));
}

type Send = Extract<Action, { kind: "send" }>;

/** The relay fields (RFC 1542 4.1.1: the first relay agent sets giaddr, hops 1) when relaying. */
function relayFields(c: EngineConfig): Pick<RequestParams, "giaddr" | "hops"> {
  return c.relay ? { giaddr: c.relay.giaddr, hops: 1 } : {};
}

/**
 * Where a message the client would broadcast goes: broadcast from srcIp:68 (RFC 2131 4.1);
 * with --server unicast to that server; with --giaddr from giaddr:67, as its relay agent
 * would forward it (RFC 1542 4.1.1). srcIp is the client's own: 0.0.0.0, or its lease's.
 */
function broadcastRoute(c: EngineConfig, srcIp: string): Pick<Send, "to" | "srcIp" | "srcPort"> {
  const to: Destination = c.server ? { ip: c.server.ip, mac: c.server.mac ?? BROADCAST_MAC } : "broadcast";
  if (c.relay) return { to, srcIp: c.relay.giaddr, srcPort: DHCP_SERVER_PORT };
  // Linux drops a unicast from 0.0.0.0 as a martian source: the shell hands us an address
  // the interface holds, when it has one.
  if (c.server && srcIp === "0.0.0.0") return { to, srcIp: c.server.srcIp ?? srcIp };
  return { to, srcIp };
}

export function sendDiscover(s: ClientState, now: number): Action {
  const c = s.config;
  const payload = buildClientMessage(c.identity, {
    messageType: DHCPDISCOVER,
    xid: s.xid,
    secs: secsSince(s, now),
    broadcastFlag: c.broadcastFlag,
    extra: c.extra,
    ...relayFields(c),
  });
  return { kind: "send", messageType: DHCPDISCOVER, xid: s.xid, payload, ...broadcastRoute(c, "0.0.0.0") };
}

/**
 * RFC 2131 4.3.2 / table 4, the REQUEST per state:
 *   REQUESTING  broadcast, ciaddr 0, 50 requested address, 54 server id
 *   REBOOTING   broadcast, ciaddr 0, 50 requested address
 *   RENEWING    unicast to the server, ciaddr = our address, no 50/54
 *   REBINDING   broadcast, ciaddr = our address, no 50/54
 */
export function sendRequest(s: ClientState, now: number): Action {
  const c = s.config;
  const base = { messageType: DHCPREQUEST, xid: s.xid, secs: secsSince(s, now), broadcastFlag: c.broadcastFlag, extra: c.extra };
  const relayed = { ...base, ...relayFields(c) };
  let payload: Uint8Array, route: Pick<Send, "to" | "srcIp" | "srcPort">;
  switch (s.phase) {
    case "REQUESTING":
      payload = buildClientMessage(c.identity, { ...relayed, requestedIp: s.chosen!.address, serverId: s.chosen!.serverId });
      route = broadcastRoute(c, "0.0.0.0");
      break;
    case "REBOOTING":
      payload = buildClientMessage(c.identity, { ...relayed, requestedIp: s.rebootAddress! });
      route = broadcastRoute(c, "0.0.0.0");
      break;
    case "RENEWING":
      // The client's own unicast to the lease's server, never through a relay (RFC 2131 4.4.5).
      payload = buildClientMessage(c.identity, { ...base, broadcastFlag: false, ciaddr: s.lease!.address });
      route = { to: { ip: s.lease!.serverId, mac: s.lease!.serverMac }, srcIp: s.lease!.address };
      break;
    case "REBINDING":
      payload = buildClientMessage(c.identity, { ...relayed, ciaddr: s.lease!.address });
      route = broadcastRoute(c, s.lease!.address);
      break;
    default:
      throw new Error(`engine: no REQUEST in ${s.phase}`); // broken invariant, not network input
  }
  return { kind: "send", messageType: DHCPREQUEST, xid: s.xid, payload, ...route };
}

/** RFC 2131 4.4.6: RELEASE unicast to the server, ciaddr set, 54 server id; 61 so it finds the lease. */
export function sendRelease(s: ClientState, xid: number): Action {
  const lease = s.lease!;
  const payload = buildRelease(s.config.identity, { xid, address: lease.address, serverId: lease.serverId });
  return { kind: "send", messageType: DHCPRELEASE, xid, payload, to: { ip: lease.serverId, mac: lease.serverMac }, srcIp: lease.address };
}
