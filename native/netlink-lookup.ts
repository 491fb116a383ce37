/**
 * rtnetlink questions a one-shot asks before it unicasts to a server beyond
 * a router: which way the kernel would send to an address (RTM_GETROUTE, as
 * `ip route get ADDRESS oif IFACE`) and which MAC a neighbour has
 * (RTM_GETNEIGH, as `ip -4 neigh show`). Requests built and answers parsed
 * in pure TypeScript, as netlink-msg.ts and netlink-parse.ts do: every
 * length checked, a malformed answer is an error value, never a throw.
 */
import { ipFromBytes, parseIp, toHex } from "../core/bytes.ts";
import {
  AF_INET,
  type Attribute,
  type BuildResult,
  HOST_LE,
  ipBytes,
  isIfindex,
  message,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_HDRLEN,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTM_GETNEIGH,
  RTM_GETROUTE,
  RTM_NEWNEIGH,
  RTM_NEWROUTE,
  RTMSG_LEN,
  u32,
} from "./netlink-msg.ts";
import { parseAttributes, type ParseResult } from "./netlink-parse.ts";

const RTA_PREFSRC = 7;
const NDMSG_LEN = 12;
const NDA_DST = 1;
const NDA_LLADDR = 2;

/** rtm_type values that say how the kernel would deliver (linux/rtnetlink.h). */
const ROUTE_TYPES: Record<number, string> = {
  1: "unicast",
  2: "local",
  3: "broadcast",
  4: "anycast",
  5: "multicast",
  6: "blackhole",
  7: "unreachable",
  8: "prohibit",
  9: "throw",
};

/** Neighbour states (linux/neighbour.h) in which the entry's MAC can be used. */
const NUD_USABLE = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80; // REACHABLE STALE DELAY PROBE NOARP PERMANENT
const NUD_NAMES: [number, string][] = [
  [0x01, "incomplete"],
  [0x02, "reachable"],
  [0x04, "stale"],
  [0x08, "delay"],
  [0x10, "probe"],
  [0x20, "failed"],
  [0x40, "noarp"],
  [0x80, "permanent"],
];

const viewOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const fail = (kind: "short" | "type" | "address", offset: number, reason: string) => ({ ok: false, error: { kind, offset, reason } }) as const;

/** RTM_GETROUTE for one address, through one interface when oif is given: `ip route get ADDRESS [oif IFACE]`. */
export function buildGetRoute(destination: string, oif?: number): BuildResult {
  const dst = parseIp(destination);
  if (dst === null) return { ok: false, reason: `${String(destination)} is not an IPv4 address` };
  if (oif !== undefined && !isIfindex(oif)) return { ok: false, reason: `interface index ${String(oif)} is not valid` };
  const fixed = new Uint8Array(RTMSG_LEN);
  fixed[0] = AF_INET;
  fixed[1] = 32; // rtm_dst_len: this one address
  const attributes: Attribute[] = [{ type: RTA_DST, data: ipBytes(dst) }];
  if (oif !== undefined) attributes.push({ type: RTA_OIF, data: u32(oif) });
  return { ok: true, bytes: message(RTM_GETROUTE, NLM_F_REQUEST, fixed, attributes) };
}

/** RTM_GETNEIGH dump of the IPv4 neighbour table (filtered here: old kernels ignore a filter). */
export function buildGetNeighbourDump(): Uint8Array {
  const fixed = new Uint8Array(NDMSG_LEN);
  fixed[0] = AF_INET;
  return message(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, fixed);
}

export interface RouteAnswer {
  /** unicast, local, broadcast, unreachable, … */
  type: string;
  /** The interface it leaves by (0 when the answer does not say). */
  oif: number;
  /** The next hop when it is a router; null: the destination is on the link. */
  gateway: string | null;
  /** The source address the kernel would pick, or null. */
  prefsrc: string | null;
}

function ipAttribute(attributes: Map<number, Uint8Array>, type: number): ParseResult<string | null> {
  const a = attributes.get(type);
  if (!a) return { ok: true, value: null };
  if (a.length !== 4) return fail("address", 0, `IPv4 address attribute ${type} of ${a.length} bytes`);
  return { ok: true, value: ipFromBytes(a, 0) };
}

/** The RTM_NEWROUTE that answers buildGetRoute. */
export function parseRouteAnswer(m: Uint8Array): ParseResult<RouteAnswer> {
  if (m.length < NLMSG_HDRLEN + RTMSG_LEN) return fail("short", 0, `${m.length} bytes, a route message needs ${NLMSG_HDRLEN + RTMSG_LEN}`);
  const view = viewOf(m);
  if (view.getUint16(4, HOST_LE) !== RTM_NEWROUTE) return fail("type", 4, `message type ${view.getUint16(4, HOST_LE)}, expected ${RTM_NEWROUTE}`);
  const parsed = parseAttributes(m, NLMSG_HDRLEN + RTMSG_LEN);
  if (!parsed.ok) return parsed;
  const gateway = ipAttribute(parsed.value, RTA_GATEWAY);
  if (!gateway.ok) return gateway;
  const prefsrc = ipAttribute(parsed.value, RTA_PREFSRC);
  if (!prefsrc.ok) return prefsrc;
  const oif = parsed.value.get(RTA_OIF);
  const type = m[NLMSG_HDRLEN + 7]!;
  return {
    ok: true,
    value: {
      type: ROUTE_TYPES[type] ?? `type ${type}`,
      oif: oif && oif.length >= 4 ? viewOf(oif).getUint32(0, HOST_LE) : 0,
      gateway: gateway.value,
      prefsrc: prefsrc.value,
    },
  };
}

export interface NeighbourEntry {
  ifindex: number;
  address: string;
  /** aa:bb:cc:dd:ee:ff, or null while unresolved (incomplete, failed). */
  mac: string | null;
  /** The kernel's state words joined: "reachable", "stale", "incomplete", … */
  state: string;
  /** The MAC can be sent to (reachable, stale, delay, probe, permanent, noarp). */
  usable: boolean;
}

/** One RTM_NEWNEIGH of a dump; null for an entry that is not IPv4 (skipped, not an error). */
export function parseNeighbourMessage(m: Uint8Array): ParseResult<NeighbourEntry | null> {
  if (m.length < NLMSG_HDRLEN + NDMSG_LEN) return fail("short", 0, `${m.length} bytes, a neighbour message needs ${NLMSG_HDRLEN + NDMSG_LEN}`);
  const view = viewOf(m);
  if (view.getUint16(4, HOST_LE) !== RTM_NEWNEIGH) return fail("type", 4, `message type ${view.getUint16(4, HOST_LE)}, expected ${RTM_NEWNEIGH}`);
  if (m[NLMSG_HDRLEN] !== AF_INET) return { ok: true, value: null };
  const parsed = parseAttributes(m, NLMSG_HDRLEN + NDMSG_LEN);
  if (!parsed.ok) return parsed;
  const address = ipAttribute(parsed.value, NDA_DST);
  if (!address.ok) return address;
  if (address.value === null) return fail("address", 0, "a neighbour without an address");
  const lladdr = parsed.value.get(NDA_LLADDR);
  const state = view.getUint16(NLMSG_HDRLEN + 8, HOST_LE);
  const mac = lladdr && lladdr.length === 6 ? toHex(lladdr, ":") : null;
  return {
    ok: true,
    value: {
      ifindex: view.getInt32(NLMSG_HDRLEN + 4, HOST_LE),
      address: address.value,
      mac,
      state:
        NUD_NAMES.filter(([bit]) => (state & bit) !== 0)
          .map(([, name]) => name)
          .join(",") || "none",
      usable: mac !== null && (state & NUD_USABLE) !== 0,
    },
  };
}
