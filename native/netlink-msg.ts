/**
 * rtnetlink requests, built in pure TypeScript (no FFI, no IO), and the
 * constants they share with netlink-parse.ts, which reads what the kernel
 * sends back. The shim only moves these bytes (native/netlink.c) and
 * native/netlink.ts puts the pieces together.
 *
 * Requests are laid out as iproute2 lays them out (same fixed part, same
 * attributes in the same order), so a request can be checked byte for byte
 * against what `ip` sends for the same command (see the unit tests). The
 * shim fills in nlmsg_seq and nlmsg_pid; they are 0 here.
 *
 * Builders answer `{ ok: false, reason }` for a request the kernel would
 * refuse (host bits in a route's destination, a zero lifetime, ...) rather
 * than throw: lease data that reach them came off the wire.
 *
 * Netlink headers and integers are in host byte order; addresses in
 * attributes are in network order, as on the wire.
 */
import { parseIp } from "../core/bytes.ts";

export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// linux/netlink.h, linux/rtnetlink.h, linux/if_addr.h, linux/if_link.h
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWNEIGH = 28;
export const RTM_GETNEIGH = 30;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

const AF_UNSPEC = 0;
export const AF_INET = 2;
export const NLMSG_HDRLEN = 16;
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_BROADCAST = 4;
export const IFA_CACHEINFO = 6;
const IFA_FLAGS = 8;
const IFA_F_NOPREFIXROUTE = 0x200;

export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RT_TABLE_MAIN = 254;
/** RTPROT_DHCP: marks routes as ours, and makes deletes match only routes with it. */
export const RTPROT_DHCP = 16;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_NOWHERE = 255; // in a delete: any scope
const RTN_UNSPEC = 0;
const RTN_UNICAST = 1;

const IFLA_EXT_MASK = 29;
const RTEXT_FILTER_SKIP_STATS = 1 << 3;

export type BuildResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

export interface Attribute {
  type: number;
  data: Uint8Array;
}

export const align4 = (n: number) => (n + 3) & ~3;

export function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, HOST_LE);
  return b;
}

export function ipBytes(ip: number): Uint8Array {
  return new Uint8Array([ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255]);
}

/** One request: header, the fixed part (already filled), then the attributes, each padded to 4. */
export function message(type: number, flags: number, fixed: Uint8Array, attributes: Attribute[] = []): Uint8Array {
  let length = NLMSG_HDRLEN + align4(fixed.length);
  for (const a of attributes) length += align4(4 + a.data.length);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint32(0, length, HOST_LE);
  view.setUint16(4, type, HOST_LE);
  view.setUint16(6, flags, HOST_LE);
  // seq and pid stay 0: the shim numbers each request
  out.set(fixed, NLMSG_HDRLEN);
  let at = NLMSG_HDRLEN + align4(fixed.length);
  for (const a of attributes) {
    view.setUint16(at, 4 + a.data.length, HOST_LE);
    view.setUint16(at + 2, a.type, HOST_LE);
    out.set(a.data, at + 4);
    at += align4(4 + a.data.length);
  }
  return out;
}

const isU32 = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
export const isIfindex = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n > 0 && n <= 0x7fffffff;
const isPrefix = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 32;
const ipOf = (text: unknown): number | null => (typeof text === "string" ? parseIp(text) : null);

export interface AddressSpec {
  ifindex: number;
  address: string;
  prefix: number;
  broadcast?: string;
  /** Seconds; both default to forever. The kernel removes the address when valid runs out. */
  validSec?: number;
  preferredSec?: number;
  /** Leave the subnet route to the caller (it may want it with a metric). */
  noPrefixRoute?: boolean;
  /** Update an address that is already there (new lifetimes on renewal) instead of failing. */
  replace?: boolean;
}

function ifaddrmsg(prefix: number, ifindex: number): Uint8Array {
  const fixed = new Uint8Array(IFADDRMSG_LEN);
  fixed[0] = AF_INET;
  fixed[1] = prefix;
  // ifa_flags 0, ifa_scope RT_SCOPE_UNIVERSE
  new DataView(fixed.buffer).setUint32(4, ifindex, HOST_LE);
  return fixed;
}

function checkAddress(spec: AddressSpec): { address: number } | { reason: string } {
  if (!isIfindex(spec.ifindex)) return { reason: `interface index ${String(spec.ifindex)} is not valid` };
  const address = ipOf(spec.address);
  if (address === null) return { reason: `${String(spec.address)} is not an IPv4 address` };
  if (!isPrefix(spec.prefix)) return { reason: `prefix length ${String(spec.prefix)} is not 0 to 32` };
  return { address };
}

/** RTM_NEWADDR: IFA_LOCAL and IFA_ADDRESS (the same: not point-to-point), IFA_BROADCAST, IFA_FLAGS, IFA_CACHEINFO. */
export function buildNewAddress(spec: AddressSpec): BuildResult {
  const checked = checkAddress(spec);
  if ("reason" in checked) return { ok: false, reason: checked.reason };
  const local = ipBytes(checked.address);
  const attributes: Attribute[] = [{ type: IFA_LOCAL, data: local }];
  if (spec.broadcast !== undefined) {
    const broadcast = ipOf(spec.broadcast);
    if (broadcast === null) return { ok: false, reason: `broadcast ${String(spec.broadcast)} is not an IPv4 address` };
    attributes.push({ type: IFA_BROADCAST, data: ipBytes(broadcast) });
  }
  if (spec.noPrefixRoute) attributes.push({ type: IFA_FLAGS, data: u32(IFA_F_NOPREFIXROUTE) });
  attributes.push({ type: IFA_ADDRESS, data: local });
  if (spec.validSec !== undefined || spec.preferredSec !== undefined) {
    const valid = spec.validSec;
    const preferred = spec.preferredSec ?? valid;
    if (!isU32(valid) || valid === 0) return { ok: false, reason: `valid lifetime ${String(valid)} is not 1 to 4294967295 s` };
    if (!isU32(preferred) || preferred > valid) {
      return { ok: false, reason: `preferred lifetime ${String(preferred)} is not 0 to the valid lifetime (${valid} s)` };
    }
    // struct ifa_cacheinfo: ifa_prefered first, then ifa_valid; the stamps are the kernel's
    const cacheinfo = new Uint8Array(16);
    cacheinfo.set(u32(preferred), 0);
    cacheinfo.set(u32(valid), 4);
    attributes.push({ type: IFA_CACHEINFO, data: cacheinfo });
  }
  const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | (spec.replace ? NLM_F_REPLACE : NLM_F_EXCL);
  return { ok: true, bytes: message(RTM_NEWADDR, flags, ifaddrmsg(spec.prefix, spec.ifindex), attributes) };
}

/** RTM_DELADDR: the kernel finds the address by index, prefix length and IFA_LOCAL. */
export function buildDeleteAddress(spec: Pick<AddressSpec, "ifindex" | "address" | "prefix">): BuildResult {
  const checked = checkAddress(spec);
  if ("reason" in checked) return { ok: false, reason: checked.reason };
  const local = ipBytes(checked.address);
  const attributes = [
    { type: IFA_LOCAL, data: local },
    { type: IFA_ADDRESS, data: local },
  ];
  return { ok: true, bytes: message(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, ifaddrmsg(spec.prefix, spec.ifindex), attributes) };
}

export interface RouteSpec {
  ifindex: number;
  /** Network address, host bits zero; 0.0.0.0 with prefix 0 for the default route. */
  destination: string;
  prefix: number;
  /** null (or 0.0.0.0, as option 121 says it): on-link, the destination is on this interface. */
  gateway: string | null;
  metric?: number;
  replace?: boolean;
}

/**
 * RTM_NEWROUTE / RTM_DELROUTE in the main table with protocol dhcp. Adds are
 * scope universe through a gateway, scope link on-link; deletes say "any
 * scope" (as `ip route del` does) but keep the protocol, so they only ever
 * match a route that a DHCP client installed.
 */
function buildRoute(spec: RouteSpec, remove: boolean): BuildResult {
  if (!isIfindex(spec.ifindex)) return { ok: false, reason: `interface index ${String(spec.ifindex)} is not valid` };
  const destination = ipOf(spec.destination);
  if (destination === null) return { ok: false, reason: `destination ${String(spec.destination)} is not an IPv4 address` };
  if (!isPrefix(spec.prefix)) return { ok: false, reason: `prefix length ${String(spec.prefix)} is not 0 to 32` };
  const hostBits = spec.prefix === 32 ? 0 : 0xffffffff >>> spec.prefix;
  if ((destination & hostBits) !== 0) {
    return { ok: false, reason: `${spec.destination}/${spec.prefix} has host bits set: not a network address` };
  }
  let gateway: number | null = null;
  if (spec.gateway !== null) {
    gateway = ipOf(spec.gateway);
    if (gateway === null) return { ok: false, reason: `gateway ${String(spec.gateway)} is not an IPv4 address` };
    if (gateway === 0) gateway = null;
  }
  if (spec.metric !== undefined && !isU32(spec.metric)) {
    return { ok: false, reason: `metric ${String(spec.metric)} is not 0 to 4294967295` };
  }

  const fixed = new Uint8Array(RTMSG_LEN);
  fixed[0] = AF_INET;
  fixed[1] = spec.prefix; // rtm_dst_len; src_len and tos 0
  fixed[4] = RT_TABLE_MAIN;
  fixed[5] = RTPROT_DHCP;
  fixed[6] = remove ? RT_SCOPE_NOWHERE : gateway === null ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  fixed[7] = remove ? RTN_UNSPEC : RTN_UNICAST;
  // rtm_flags 0
  const attributes: Attribute[] = [];
  if (spec.prefix > 0) attributes.push({ type: RTA_DST, data: ipBytes(destination) }); // a default route has none
  if (gateway !== null) attributes.push({ type: RTA_GATEWAY, data: ipBytes(gateway) });
  if (spec.metric !== undefined) attributes.push({ type: RTA_PRIORITY, data: u32(spec.metric) });
  attributes.push({ type: RTA_OIF, data: u32(spec.ifindex) });
  const flags = remove ? NLM_F_REQUEST | NLM_F_ACK : NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | (spec.replace ? NLM_F_REPLACE : NLM_F_EXCL);
  return { ok: true, bytes: message(remove ? RTM_DELROUTE : RTM_NEWROUTE, flags, fixed, attributes) };
}

export const buildNewRoute = (spec: RouteSpec): BuildResult => buildRoute(spec, false);
export const buildDeleteRoute = (spec: RouteSpec): BuildResult => buildRoute(spec, true);

/** RTM_GETADDR dump of every IPv4 address (the kernel filters by index only in strict mode). */
export function buildGetAddressDump(): Uint8Array {
  return message(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, ifaddrmsg(0, 0));
}

function ifinfomsg(ifindex: number): Uint8Array {
  const fixed = new Uint8Array(IFINFOMSG_LEN);
  fixed[0] = AF_UNSPEC;
  new DataView(fixed.buffer).setInt32(4, ifindex, HOST_LE);
  return fixed;
}

/** RTM_GETLINK dump of every link, without counters (they are large and unused). */
export function buildGetLinkDump(): Uint8Array {
  return message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, ifinfomsg(0), [{ type: IFLA_EXT_MASK, data: u32(RTEXT_FILTER_SKIP_STATS) }]);
}

/** RTM_GETLINK for one index. */
export function buildGetLink(ifindex: number): BuildResult {
  if (!isIfindex(ifindex)) return { ok: false, reason: `interface index ${String(ifindex)} is not valid` };
  return {
    ok: true,
    bytes: message(RTM_GETLINK, NLM_F_REQUEST, ifinfomsg(ifindex), [{ type: IFLA_EXT_MASK, data: u32(RTEXT_FILTER_SKIP_STATS) }]),
  };
}
