/**
 * rtnetlink messages from the kernel, parsed in pure TypeScript (no FFI, no
 * IO): link and address notifications, dump answers, errors. The requests
 * and the shared constants are in netlink-msg.ts.
 *
 * The bytes come from the kernel, but are read as if from anyone: every
 * length is checked before it is used, and the result is a value,
 * `{ ok: false, error }` with what was wrong and where, never an exception.
 */
import { ipFromBytes, toHex } from "../core/bytes.ts";
import {
  AF_INET,
  align4,
  HOST_LE,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_CACHEINFO,
  IFA_LOCAL,
  IFADDRMSG_LEN,
  IFINFOMSG_LEN,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
} from "./netlink-msg.ts";

const NLA_TYPE_MASK = 0x3fff; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
const IFA_LABEL = 3;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_OPERSTATE = 16;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_SLAVE_KIND = 4;
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_LOWER_UP = 0x10000;
const MAX_ADDR_LEN = 32;

/** RFC 2863 operational states, as IFLA_OPERSTATE numbers them. */
const OPERSTATES = ["unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"] as const;
export type OperState = (typeof OPERSTATES)[number];

export interface NetlinkParseError {
  kind: "short" | "length" | "type" | "attribute" | "family" | "address";
  /** Where in the bytes handed to the parser (message parsers: in the message). */
  offset: number;
  reason: string;
}
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: NetlinkParseError };

const fail = (kind: NetlinkParseError["kind"], offset: number, reason: string) => ({ ok: false, error: { kind, offset, reason } }) as const;

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** The whole message, header included (a view, not a copy). */
  bytes: Uint8Array;
}

const viewOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Splits a datagram (or the shim's back-to-back dump) into messages; one bad length fails it all. */
export function splitMessages(bytes: Uint8Array): ParseResult<NetlinkMessage[]> {
  const view = viewOf(bytes);
  const messages: NetlinkMessage[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < NLMSG_HDRLEN) {
      return fail("short", at, `${bytes.length - at} bytes left, a netlink header needs ${NLMSG_HDRLEN}`);
    }
    const length = view.getUint32(at, HOST_LE);
    if (length < NLMSG_HDRLEN || length > bytes.length - at) {
      return fail("length", at, `message length ${length} with ${bytes.length - at} bytes left`);
    }
    messages.push({
      type: view.getUint16(at + 4, HOST_LE),
      flags: view.getUint16(at + 6, HOST_LE),
      seq: view.getUint32(at + 8, HOST_LE),
      pid: view.getUint32(at + 12, HOST_LE),
      bytes: bytes.subarray(at, at + length),
    });
    at += align4(length); // the last message's padding may be missing
  }
  return { ok: true, value: messages };
}

/** type → payload (first occurrence), from `from` to the end of the message. */
export function parseAttributes(message: Uint8Array, from: number): ParseResult<Map<number, Uint8Array>> {
  const view = viewOf(message);
  const attributes = new Map<number, Uint8Array>();
  let at = from;
  while (message.length - at >= 4) {
    const length = view.getUint16(at, HOST_LE);
    if (length < 4 || length > message.length - at) {
      return fail("attribute", at, `attribute length ${length} with ${message.length - at} bytes left`);
    }
    const type = view.getUint16(at + 2, HOST_LE) & NLA_TYPE_MASK;
    if (!attributes.has(type)) attributes.set(type, message.subarray(at + 4, at + length));
    at += align4(length);
  }
  return { ok: true, value: attributes };
}

/** The text of a NUL-terminated attribute; bytes that are not UTF-8 become U+FFFD, nothing throws. */
function cString(b: Uint8Array | undefined): string {
  if (!b) return "";
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

const readU32 = (b: Uint8Array | undefined): number | null => (b && b.length >= 4 ? viewOf(b).getUint32(0, HOST_LE) : null);

export interface LinkMessage {
  kind: "new" | "del";
  ifindex: number;
  name: string;
  /** aa:bb:cc:dd:ee:ff; '' when the link has no hardware address. */
  mac: string;
  flags: number;
  up: boolean;
  running: boolean;
  /** IFF_LOWER_UP: the driver sees a carrier. */
  carrier: boolean;
  /** 0 when the message does not say. */
  mtu: number;
  operstate: OperState;
  /** ifi_type, an ARPHRD_* number (1: Ethernet, 772: loopback). */
  hardwareType: number;
  /** The index of the link this one is enslaved to (a bridge, a bond), or null. */
  master: number | null;
  /** What kind of link this is (IFLA_INFO_KIND: "bridge", "veth", "bond", …), null for a plain NIC. */
  linkKind: string | null;
  /** What it is a port of (IFLA_INFO_SLAVE_KIND: "bridge", "bond", …), null when it is nobody's. */
  portKind: string | null;
}

/** RTM_NEWLINK / RTM_DELLINK. */
export function parseLinkMessage(message: Uint8Array): ParseResult<LinkMessage> {
  const split = header(message, [RTM_NEWLINK, RTM_DELLINK], IFINFOMSG_LEN);
  if (!split.ok) return split;
  const view = viewOf(message);
  const ifindex = view.getInt32(NLMSG_HDRLEN + 4, HOST_LE);
  const flags = view.getUint32(NLMSG_HDRLEN + 8, HOST_LE);
  const parsed = parseAttributes(message, NLMSG_HDRLEN + IFINFOMSG_LEN);
  if (!parsed.ok) return parsed;
  const attributes = parsed.value;
  const address = attributes.get(IFLA_ADDRESS);
  if (address && address.length > MAX_ADDR_LEN) return fail("address", 0, `hardware address of ${address.length} bytes`);
  const operstate = attributes.get(IFLA_OPERSTATE);
  const linkInfo = attributes.get(IFLA_LINKINFO);
  const info = linkInfo ? parseAttributes(linkInfo, 0) : null;
  if (info && !info.ok) return info;
  const infoText = (type: number) => (info?.ok && info.value.has(type) ? cString(info.value.get(type)) || null : null);
  return {
    ok: true,
    value: {
      kind: split.value === RTM_NEWLINK ? "new" : "del",
      ifindex,
      name: cString(attributes.get(IFLA_IFNAME)),
      mac: address ? toHex(address, ":") : "",
      flags,
      up: (flags & IFF_UP) !== 0,
      running: (flags & IFF_RUNNING) !== 0,
      carrier: (flags & IFF_LOWER_UP) !== 0,
      mtu: readU32(attributes.get(IFLA_MTU)) ?? 0,
      operstate: (operstate && operstate.length >= 1 && OPERSTATES[operstate[0]!]) || "unknown",
      hardwareType: view.getUint16(NLMSG_HDRLEN + 2, HOST_LE),
      master: readU32(attributes.get(IFLA_MASTER)) || null,
      linkKind: infoText(IFLA_INFO_KIND),
      portKind: infoText(IFLA_INFO_SLAVE_KIND),
    },
  };
}

export interface AddressMessage {
  kind: "new" | "del";
  ifindex: number;
  /** The interface's own address (IFA_LOCAL, or IFA_ADDRESS when there is no local). */
  address: string;
  prefix: number;
  broadcast: string | null;
  label: string;
  /** Seconds left; null when the message carries no lifetimes. 4294967295 is forever. */
  validSec: number | null;
  preferredSec: number | null;
}

/** RTM_NEWADDR / RTM_DELADDR for IPv4; other families are an error of kind 'family'. */
export function parseAddressMessage(message: Uint8Array): ParseResult<AddressMessage> {
  const split = header(message, [RTM_NEWADDR, RTM_DELADDR], IFADDRMSG_LEN);
  if (!split.ok) return split;
  const family = message[NLMSG_HDRLEN]!;
  if (family !== AF_INET) return fail("family", NLMSG_HDRLEN, `address family ${family}, not IPv4`);
  const prefix = message[NLMSG_HDRLEN + 1]!;
  if (prefix > 32) return fail("length", NLMSG_HDRLEN + 1, `prefix length ${prefix}`);
  const ifindex = viewOf(message).getUint32(NLMSG_HDRLEN + 4, HOST_LE);
  const parsed = parseAttributes(message, NLMSG_HDRLEN + IFADDRMSG_LEN);
  if (!parsed.ok) return parsed;
  const attributes = parsed.value;
  for (const type of [IFA_LOCAL, IFA_ADDRESS, IFA_BROADCAST]) {
    const a = attributes.get(type);
    if (a && a.length !== 4) return fail("address", 0, `IPv4 address attribute ${type} of ${a.length} bytes`);
  }
  const local = attributes.get(IFA_LOCAL) ?? attributes.get(IFA_ADDRESS);
  if (!local) return fail("address", 0, "no address in the message");
  const broadcast = attributes.get(IFA_BROADCAST);
  const cacheinfo = attributes.get(IFA_CACHEINFO);
  const lifetimes = cacheinfo && cacheinfo.length >= 8 ? viewOf(cacheinfo) : null;
  return {
    ok: true,
    value: {
      kind: split.value === RTM_NEWADDR ? "new" : "del",
      ifindex,
      address: ipFromBytes(local, 0),
      prefix,
      broadcast: broadcast ? ipFromBytes(broadcast, 0) : null,
      label: cString(attributes.get(IFA_LABEL)),
      validSec: lifetimes ? lifetimes.getUint32(4, HOST_LE) : null,
      preferredSec: lifetimes ? lifetimes.getUint32(0, HOST_LE) : null,
    },
  };
}

/** The errno an NLMSG_ERROR carries: 0 for an ACK, else positive. */
export function parseErrorMessage(message: Uint8Array): ParseResult<number> {
  const split = header(message, [NLMSG_ERROR], 4);
  if (!split.ok) return split;
  const error = viewOf(message).getInt32(NLMSG_HDRLEN, HOST_LE);
  return { ok: true, value: error < 0 ? -error : error };
}

/** Checks the header of one message (as splitMessages cut it): one of types, room for the fixed part. */
function header(message: Uint8Array, types: number[], fixedLength: number): ParseResult<number> {
  if (message.length < NLMSG_HDRLEN + fixedLength) {
    return fail("short", 0, `${message.length} bytes, this message needs at least ${NLMSG_HDRLEN + fixedLength}`);
  }
  const view = viewOf(message);
  const length = view.getUint32(0, HOST_LE);
  if (length !== message.length) return fail("length", 0, `message length ${length} in ${message.length} bytes`);
  const type = view.getUint16(4, HOST_LE);
  if (!types.includes(type)) return fail("type", 4, `message type ${type}, expected ${types.join(" or ")}`);
  return { ok: true, value: type };
}
