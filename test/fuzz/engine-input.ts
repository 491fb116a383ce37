// What the engine target feeds step(): configs (resident and one-shot, with and without a
// stored lease, odd retry settings) and server replies built for the exchange under way —
// right or wrong xid and MAC, the address asked for or another, the chosen server or
// another, lease times from sane to hostile, options from hostile-values.ts — encoded as a
// server would, and sometimes mangled on the way.

import { parseMac } from "../../core/bytes.ts";
import type { ClientState, EngineConfig, Lease } from "../../core/engine.ts";
import { encodeMessage, type OptionBytes } from "../../core/message.ts";
import { CLIENT_MAC, SERVER_MAC, ip4 } from "../unit/helpers.ts";
import { messageBytesMutated } from "./frame-input.ts";
import { classlessRoutes, domainNames, hostileOption, hostileText, ipList, maskBytes, secondsBytes, u32Bytes } from "./hostile-values.ts";
import { Rng } from "./rng.ts";

export const SERVER = "198.18.0.1";
export const OTHER = "198.18.0.2";
const OTHER_MAC = parseMac("02:00:00:00:00:ee")!;
const HOSTILE_ADDRESSES = ["0.0.0.0", "255.255.255.255", "127.0.0.1", "224.0.0.1", "240.0.0.1", "198.18.0.0", "198.18.0.255", "10.0.0.1", "198.18.0.1"];
export const LEASE_SECONDS = [1, 2, 3, 8, 10, 60, 120, 3600, 86400, 0x7fffffff, 0xfffffffe, 0xffffffff];

const LAB_EXAMPLE = Uint8Array.from("lab.example", (c) => c.charCodeAt(0));
const plausibleAddress = (rng: Rng) => `198.18.0.${rng.range(2, 254)}`;
const anyAddress = (rng: Rng) =>
  rng.chance(0.6) ? plausibleAddress(rng) : rng.chance(0.5) ? rng.pick(HOSTILE_ADDRESSES) : [0, 0, 0, 0].map(() => rng.int(256)).join(".");

/** xids and jitter: uniform, or stuck at either end of [0, 1). */
function randomSource(rng: Rng): () => number {
  const mode = rng.weighted<string>([
    [8, "uniform"],
    [1, "zero"],
    [1, "top"],
  ]);
  if (mode === "zero") return () => 0;
  if (mode === "top") return () => 1 - 2 ** -32;
  const own = new Rng(rng.u32());
  return () => own.float();
}

/** A lease as the store would hand it back: maybe expired, maybe infinite, maybe about to end. */
function storedLease(rng: Rng, now: number): Lease {
  const leaseTime = rng.pick(LEASE_SECONDS);
  const infinite = leaseTime === 0xffffffff;
  const t1 = Math.floor(leaseTime / 2),
    t2 = Math.floor((leaseTime * 7) / 8);
  const acquiredAt =
    now -
    rng.weighted([
      [2, () => rng.int(1000)],
      [2, () => rng.int(leaseTime * 1000 + 1)],
      [1, () => leaseTime * 2000],
    ])();
  return {
    address: plausibleAddress(rng),
    serverId: rng.chance(0.8) ? SERVER : OTHER,
    serverMac: SERVER_MAC,
    subnetMask: rng.chance(0.8) ? "255.255.255.0" : null,
    routers: [SERVER],
    routes: [],
    dns: [SERVER],
    domain: "lab.example",
    search: [],
    leaseTime,
    t1: infinite ? leaseTime : t1,
    t2: infinite ? leaseTime : t2,
    infinite,
    ipv6OnlyWait: null,
    adjusted: [],
    acquiredAt,
    renewAt: infinite ? null : acquiredAt + t1 * 1000,
    rebindAt: infinite ? null : acquiredAt + t2 * 1000,
    expiresAt: infinite ? null : acquiredAt + leaseTime * 1000,
    options: [],
  };
}

function extraOptions(rng: Rng): OptionBytes[] {
  return Array.from({ length: rng.range(1, 4) }, () => {
    const o = hostileOption(rng);
    // as --option gives them (parseOptionArg): codes 1-254, one instance's worth
    return { code: o.code === 0 || o.code === 255 ? 43 : o.code, data: o.data.subarray(0, 255) };
  });
}

export function engineConfig(rng: Rng, now: number, previous?: EngineConfig): EngineConfig {
  const keepMac = previous && rng.chance(0.7);
  const mac = keepMac ? previous.identity.mac : rng.chance(0.85) ? CLIENT_MAC : Uint8Array.from(rng.bytes(6), (b, i) => (i === 0 ? b & 0xfe : b));
  const hostname = rng.weighted<string | null>([
    [4, "lab"],
    [1, null],
    [1, String.fromCharCode(...hostileText(rng, 80))],
  ]);
  return {
    identity: {
      mac,
      hostname,
      preferIpv6: rng.chance(0.3),
      ...(rng.chance(0.1) ? { clientId: Uint8Array.of(255, ...rng.bytes(rng.range(1, 20))) } : {}),
      ...(rng.chance(0.1) ? { vendorClass: hostileText(rng, 40) } : {}),
    },
    resident: rng.chance(0.5),
    // The shell's domain: --timeout is at least 0.1 s (cli/commands/discover.ts parseNumber).
    // 1 ms made a one-shot send 1000 REQUESTs a second, which no command line can ask for.
    retryMs: rng.pick([100, 1000, 2000, 3000, 10_000, rng.range(100, 60_000)]),
    tries: rng.range(1, 6),
    ...(rng.chance(0.15) ? { requestedAddress: anyAddress(rng) } : {}),
    broadcastFlag: rng.chance(0.5),
    ...(rng.chance(0.2) ? { extra: extraOptions(rng) } : {}),
    ...(rng.chance(0.3) ? { rebootTimeoutMs: rng.pick([0, 1, 1000, 6000, 60_000]) } : {}),
    ...(rng.chance(0.3) ? { residentRequestTries: rng.range(0, 6) } : {}),
    ...(rng.chance(0.15) ? { ignoreServers: [rng.pick([SERVER, OTHER])] } : {}),
    storedLease: !previous && rng.chance(0.25) ? storedLease(rng, now) : null,
    random: randomSource(rng),
  };
}

export interface ReplyBytes {
  payload: Uint8Array;
  srcIp: string;
  srcMac: Uint8Array;
}

/** The address and server this exchange expects, when there is one. */
function expected(s: ClientState): { address: string | null; server: string | null } {
  switch (s.phase) {
    case "REQUESTING":
      return { address: s.chosen?.address ?? null, server: s.chosen?.serverId ?? null };
    case "REBOOTING":
      return { address: s.rebootAddress, server: null };
    case "RENEWING":
    case "REBINDING":
      return { address: s.lease?.address ?? null, server: s.lease?.serverId ?? null };
    default:
      return { address: null, server: null };
  }
}

/** A server's manner: the lease it gives (null: any) and how often a reply goes wrong in some way (0–1). */
export interface ServerManner {
  lease: number | null;
  sloppy: number;
}

/**
 * A server's reply to whatever the client is doing now. A tidy server (sloppy 0) answers as
 * RFC 2131 says: the type the phase expects, our xid and MAC, the address and server id the
 * exchange is about, its lease. Each sloppy draw makes one thing wrong: type, server,
 * address, xid, chaddr, op, a mask, odd T1/T2, hostile options, mangled bytes.
 */
export function reply(rng: Rng, s: ClientState, manner: ServerManner): ReplyBytes {
  const off = () => rng.chance(manner.sloppy);
  const exp = expected(s);
  const natural = s.phase === "SELECTING" ? 2 : off() && rng.chance(0.5) ? 6 : 5;
  const type = off() && rng.chance(0.3) ? rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 18, 19, 255]) : natural;
  const server =
    exp.server && !(off() && rng.chance(0.3))
      ? exp.server
      : rng.weighted([
          [3, SERVER],
          [2, OTHER],
          [1, anyAddress(rng)],
        ]);
  const address = type === 6 ? "0.0.0.0" : exp.address && !(off() && rng.chance(0.3)) ? exp.address : rng.chance(0.7) ? plausibleAddress(rng) : anyAddress(rng);
  const xid =
    off() && rng.chance(0.2)
      ? rng.weighted([
          [1, () => rng.u32()],
          [1, () => (s.xid ^ 1) >>> 0],
        ])()
      : s.xid;
  const chaddr = off() && rng.chance(0.2) ? rng.pick([OTHER_MAC, Uint8Array.of(...s.config.identity.mac, ...new Uint8Array(10))]) : s.config.identity.mac;

  const options: OptionBytes[] = [];
  const add = (p: number, code: number, data: () => Uint8Array) => {
    if (rng.chance(p)) options.push({ code, data: data() });
  };
  if (type !== 0) options.push({ code: 53, data: Uint8Array.of(type) });
  if (!(off() && rng.chance(0.2))) options.push({ code: 54, data: off() && rng.chance(0.2) ? ipList(rng) : ip4(server) });
  if (type !== 6) {
    if (!(off() && rng.chance(0.2)))
      options.push({
        code: 51,
        data: manner.lease !== null && !off() ? u32Bytes(manner.lease) : rng.chance(0.7) ? u32Bytes(rng.pick(LEASE_SECONDS)) : secondsBytes(rng),
      });
    add(0.3 * manner.sloppy, 58, () => secondsBytes(rng));
    add(0.3 * manner.sloppy, 59, () => secondsBytes(rng));
    add(0.8, 1, () => (off() ? maskBytes(rng) : ip4(rng.pick(["255.255.255.0", "255.255.255.0", "255.255.255.254", "255.255.255.255"]))));
    add(0.7, 3, () => (off() ? ipList(rng) : ip4(SERVER)));
    add(0.6, 6, () => (off() ? ipList(rng) : ip4(SERVER)));
    add(0.4, 15, () => (off() ? hostileText(rng) : LAB_EXAMPLE));
    add(0.2 * manner.sloppy, 12, () => hostileText(rng));
    add(0.2 * manner.sloppy, 119, () => domainNames(rng));
    add(0.2 * manner.sloppy, 121, () => classlessRoutes(rng));
    add(s.config.identity.preferIpv6 ? 0.3 * manner.sloppy : 0.02, 108, () => secondsBytes(rng));
  } else add(0.6, 56, () => hostileText(rng));
  if (off())
    for (let i = rng.pick([1, 2, 4]); i > 0; i--) {
      const o = hostileOption(rng);
      if (o.code !== 0 && o.code !== 255 && o.code !== 52) options.push(o);
    }
  if (options.length > 1 && off() && rng.chance(0.2)) options.push(options[rng.int(options.length)]); // RFC 3396 repeat

  const fields = {
    op: off() && rng.chance(0.1) ? 1 : 2,
    xid,
    chaddr,
    yiaddr: address,
    siaddr: rng.chance(0.5) ? SERVER : "0.0.0.0",
    flags: rng.chance(0.5) ? 0x8000 : 0,
    options,
  };
  let payload: Uint8Array;
  try {
    payload = encodeMessage(rng.chance(0.1) ? { ...fields, maxLength: 576 } : fields); // 576: overflow into file/sname (52)
  } catch {
    payload = encodeMessage(fields); // too much even for file and sname: a server would send it long
  }
  if (off() && rng.chance(0.3)) payload = messageBytesMutated(rng, payload);
  const right = !(off() && rng.chance(0.3));
  return {
    payload,
    srcIp: right ? server : rng.pick([SERVER, OTHER, "0.0.0.0"]),
    srcMac: right ? SERVER_MAC : rng.pick([SERVER_MAC, OTHER_MAC]),
  };
}
