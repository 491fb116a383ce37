// The messages the client engine sends, per state (RFC 2131 table 4 for REQUEST, 4.4.6 for
// RELEASE). Split from engine.ts along the seam "what goes on the wire" vs "when and why".

import { buildClientMessage, buildRelease } from "./client.ts";
import { DHCPDISCOVER, DHCPRELEASE, DHCPREQUEST } from "./options.ts";
import type { Action, ClientState, Destination } from "./engine.ts";

const SECOND = 1000;

export function secsSince(s: ClientState, now: number): number {
  return Math.min(0xffff, Math.max(0, Math.floor((now - s.exchangeStartedAt) / SECOND)));
}

export function sendDiscover(s: ClientState, now: number): Action {
  const c = s.config;
  const payload = buildClientMessage(c.identity, {
    messageType: DHCPDISCOVER, xid: s.xid, secs: secsSince(s, now), broadcastFlag: c.broadcastFlag, extra: c.extra,
  });
  return { kind: "send", messageType: DHCPDISCOVER, xid: s.xid, payload, to: "broadcast", srcIp: "0.0.0.0" };
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
  let payload: Uint8Array, to: Destination = "broadcast", srcIp = "0.0.0.0";
  switch (s.phase) {
    case "REQUESTING":
      payload = buildClientMessage(c.identity, { ...base, requestedIp: s.chosen!.address, serverId: s.chosen!.serverId });
      break;
    case "REBOOTING":
      payload = buildClientMessage(c.identity, { ...base, requestedIp: s.rebootAddress! });
      break;
    case "RENEWING":
      payload = buildClientMessage(c.identity, { ...base, broadcastFlag: false, ciaddr: s.lease!.address });
      to = { ip: s.lease!.serverId, mac: macBytes(s.lease!.serverMac) };
      srcIp = s.lease!.address;
      break;
    case "REBINDING":
      payload = buildClientMessage(c.identity, { ...base, ciaddr: s.lease!.address });
      srcIp = s.lease!.address;
      break;
    default:
      throw new Error(`engine: no REQUEST in ${s.phase}`); // broken invariant, not network input
  }
  return { kind: "send", messageType: DHCPREQUEST, xid: s.xid, payload, to, srcIp };
}

/** RFC 2131 4.4.6: RELEASE unicast to the server, ciaddr set, 54 server id; 61 so it finds the lease. */
export function sendRelease(s: ClientState, xid: number): Action {
  const lease = s.lease!;
  const payload = buildRelease(s.config.identity, { xid, address: lease.address, serverId: lease.serverId });
  return { kind: "send", messageType: DHCPRELEASE, xid, payload, to: { ip: lease.serverId, mac: macBytes(lease.serverMac) }, srcIp: lease.address };
}

export function macBytes(text: string): Uint8Array {
  return Uint8Array.from(text.split(":").map((h) => parseInt(h, 16)));
}
