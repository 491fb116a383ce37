// Messages a client sends, built as the seed (dhcpleased frontend.c build_packet) builds
// them: op 1, htype 1, hlen 6, the cookie, 53, 12, 61, 60, 55, 50, 54, END, padded to 300.
// Small modifier-style inputs; no IO, no clock, no randomness (xid comes from the caller).

import { encodeMessage, BOOTREQUEST, type OptionBytes } from "./message.ts";
import { writeIp } from "./bytes.ts";
import { buildUdpFrame, BROADCAST_MAC, DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from "./frame.ts";
import { DHCPDECLINE, DHCPDISCOVER, DHCPRELEASE } from "./options.ts";

/** 1 subnet, 3 routers, 6 DNS, 12 host name, 15 domain, 28 broadcast, 119 search, 121 routes. */
export const DEFAULT_REQUEST_LIST = [1, 3, 6, 12, 15, 28, 119, 121];
export const IPV6_ONLY_PREFERRED = 108;
export const BROADCAST_FLAG = 0x8000;

export interface ClientIdentity {
  mac: Uint8Array;
  /** Host name to send in option 12, already cut at the first dot; null sends none. */
  hostname: string | null;
  /** Whole option 61 value (type + id); default 01 + MAC. */
  clientId?: Uint8Array;
  vendorClass?: Uint8Array;
  requestList?: number[];
  preferIpv6?: boolean;
}

export interface RequestParams {
  messageType: number;
  xid: number;
  secs?: number;
  broadcastFlag?: boolean;
  ciaddr?: string;
  /** A relay agent's address (RFC 2131 4.1): the server answers to giaddr:67. */
  giaddr?: string;
  /** Relay hops (RFC 1542 4.1.1): 1 when we speak as the first relay agent, else 0. */
  hops?: number;
  requestedIp?: string;
  serverId?: string;
  /** Extra options from the user, in the order given; they replace defaults of the same code. */
  extra?: OptionBytes[];
}

export function shortHostname(name: string): string {
  const dot = name.indexOf(".");
  return (dot < 0 ? name : name.slice(0, dot)).slice(0, 255);
}

/** Option 61 from the MAC: type 1 (Ethernet), then the address. Not [1, ...mac]: spreading a typed array costs a one-shot ~0.15 ms the first time. */
function hardwareClientId(mac: Uint8Array): Uint8Array {
  const id = new Uint8Array(1 + mac.length);
  id[0] = 1;
  id.set(mac, 1);
  return id;
}

function ipOption(code: number, ip: string): OptionBytes {
  const data = new Uint8Array(4);
  writeIp(data, 0, ip);
  return { code, data };
}

export function clientOptions(id: ClientIdentity, p: RequestParams): OptionBytes[] {
  const opts: OptionBytes[] = [{ code: 53, data: Uint8Array.of(p.messageType) }];
  if (id.hostname) opts.push({ code: 12, data: new TextEncoder().encode(id.hostname) });
  const clientId = id.clientId ?? hardwareClientId(id.mac);
  opts.push({ code: 61, data: clientId });
  if (id.vendorClass) opts.push({ code: 60, data: id.vendorClass });
  const list = [...(id.requestList ?? DEFAULT_REQUEST_LIST)];
  if (id.preferIpv6 && !list.includes(IPV6_ONLY_PREFERRED)) list.push(IPV6_ONLY_PREFERRED);
  opts.push({ code: 55, data: new Uint8Array(list) }); // not Uint8Array.from: its first call costs a one-shot ~0.1 ms
  if (p.requestedIp) opts.push(ipOption(50, p.requestedIp));
  if (p.serverId) opts.push(ipOption(54, p.serverId));
  if (!p.extra?.length) return opts;
  const replaced = new Set(p.extra.map((o) => o.code));
  return [...opts.filter((o) => o.code === 53 || !replaced.has(o.code)), ...p.extra.filter((o) => o.code !== 53)];
}

export function buildClientMessage(id: ClientIdentity, p: RequestParams): Uint8Array {
  return encodeMessage({
    op: BOOTREQUEST,
    xid: p.xid,
    chaddr: id.mac,
    secs: p.secs ?? 0,
    hops: p.hops ?? 0,
    flags: p.broadcastFlag ? BROADCAST_FLAG : 0,
    ciaddr: p.ciaddr,
    giaddr: p.giaddr,
    options: clientOptions(id, p),
  });
}

export function buildDiscover(id: ClientIdentity, p: Omit<RequestParams, "messageType">): Uint8Array {
  return buildClientMessage(id, { ...p, messageType: DHCPDISCOVER });
}

export interface GiveBackParams {
  xid: number;
  /** The leased (RELEASE) or refused (DECLINE) address. */
  address: string;
  serverId: string;
  /** Option 56: why, for the server's log. */
  message?: string;
}

/**
 * RFC 2131 table 5: RELEASE (ciaddr = the address) and DECLINE (ciaddr 0, 50 = the address)
 * name the server (54) and carry 61 so it finds the lease; nothing else (no 55, no 12).
 */
function giveBack(id: ClientIdentity, type: number, p: GiveBackParams): Uint8Array {
  const options: OptionBytes[] = [{ code: 53, data: Uint8Array.of(type) }];
  if (type === DHCPDECLINE) options.push(ipOption(50, p.address));
  options.push(ipOption(54, p.serverId), { code: 61, data: id.clientId ?? hardwareClientId(id.mac) });
  if (p.message) options.push({ code: 56, data: new TextEncoder().encode(p.message) });
  return encodeMessage({ op: BOOTREQUEST, xid: p.xid, chaddr: id.mac, ciaddr: type === DHCPRELEASE ? p.address : undefined, options });
}

export function buildRelease(id: ClientIdentity, p: GiveBackParams): Uint8Array {
  return giveBack(id, DHCPRELEASE, p);
}

export function buildDecline(id: ClientIdentity, p: GiveBackParams): Uint8Array {
  return giveBack(id, DHCPDECLINE, p);
}

export interface Destination {
  mac: Uint8Array;
  ip: string;
  srcIp: string;
  /** 68 normally; a relay (giaddr) speaks from 67. */
  srcPort?: number;
}

/** Broadcast from 0.0.0.0:68 to 255.255.255.255:67, as a client without an address sends. */
export const BROADCAST_DESTINATION: Destination = { mac: BROADCAST_MAC, ip: "255.255.255.255", srcIp: "0.0.0.0" };

export function frameClientMessage(srcMac: Uint8Array, dhcp: Uint8Array, to: Destination = BROADCAST_DESTINATION): Uint8Array {
  return buildUdpFrame({
    srcMac,
    dstMac: to.mac,
    srcIp: to.srcIp,
    dstIp: to.ip,
    srcPort: to.srcPort ?? DHCP_CLIENT_PORT,
    dstPort: DHCP_SERVER_PORT,
    payload: dhcp,
  });
}
