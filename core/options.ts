// The options registry: code → name and kind. One small codec per kind; the registry is
// data, so adding an option is one line. Unknown codes stay raw and print as hex.
// Decoding never throws: a bad value is an OptionError with the code and what was wrong.

import { ipFromBytes, latin1, macToString, toHex, u32ToIp } from "./bytes.ts";

export type OptionKind =
  | "ip" | "ips" | "u8" | "u16" | "u32" | "seconds" | "flag" | "string" | "bytes"
  | "messageType" | "paramList" | "clientId" | "domainList" | "classlessRoutes"
  | "relayAgentInfo" | "overload";

export interface OptionSpec {
  readonly code: number;
  readonly name: string;
  readonly kind: OptionKind;
  readonly rfc: string;
}

const SPECS: OptionSpec[] = [
  { code: 1, name: "subnet-mask", kind: "ip", rfc: "2132" },
  { code: 2, name: "time-offset", kind: "u32", rfc: "2132" },
  { code: 3, name: "routers", kind: "ips", rfc: "2132" },
  { code: 4, name: "time-servers", kind: "ips", rfc: "2132" },
  { code: 6, name: "dns-servers", kind: "ips", rfc: "2132" },
  { code: 12, name: "hostname", kind: "string", rfc: "2132" },
  { code: 15, name: "domain-name", kind: "string", rfc: "2132" },
  { code: 26, name: "interface-mtu", kind: "u16", rfc: "2132" },
  { code: 28, name: "broadcast-address", kind: "ip", rfc: "2132" },
  { code: 42, name: "ntp-servers", kind: "ips", rfc: "2132" },
  { code: 43, name: "vendor-specific", kind: "bytes", rfc: "2132" },
  { code: 44, name: "netbios-name-servers", kind: "ips", rfc: "2132" },
  { code: 50, name: "requested-address", kind: "ip", rfc: "2132" },
  { code: 51, name: "lease-time", kind: "seconds", rfc: "2132" },
  { code: 52, name: "overload", kind: "overload", rfc: "2132" },
  { code: 53, name: "message-type", kind: "messageType", rfc: "2132" },
  { code: 54, name: "server-id", kind: "ip", rfc: "2132" },
  { code: 55, name: "parameter-request-list", kind: "paramList", rfc: "2132" },
  { code: 56, name: "message", kind: "string", rfc: "2132" },
  { code: 57, name: "max-message-size", kind: "u16", rfc: "2132" },
  { code: 58, name: "renewal-time", kind: "seconds", rfc: "2132" },
  { code: 59, name: "rebinding-time", kind: "seconds", rfc: "2132" },
  { code: 60, name: "vendor-class-id", kind: "string", rfc: "2132" },
  { code: 61, name: "client-id", kind: "clientId", rfc: "2132" },
  { code: 66, name: "tftp-server-name", kind: "string", rfc: "2132" },
  { code: 67, name: "bootfile-name", kind: "string", rfc: "2132" },
  { code: 80, name: "rapid-commit", kind: "flag", rfc: "4039" },
  { code: 82, name: "relay-agent-info", kind: "relayAgentInfo", rfc: "3046" },
  { code: 108, name: "ipv6-only-preferred", kind: "seconds", rfc: "8925" },
  { code: 114, name: "captive-portal", kind: "string", rfc: "8910" },
  { code: 119, name: "domain-search", kind: "domainList", rfc: "3397" },
  { code: 121, name: "classless-routes", kind: "classlessRoutes", rfc: "3442" },
  { code: 252, name: "wpad", kind: "string", rfc: "draft-ietf-wrec-wpad" },
];

export const OPTIONS: ReadonlyMap<number, OptionSpec> = new Map(SPECS.map((s) => [s.code, s]));
export const OPTIONS_BY_NAME: ReadonlyMap<string, OptionSpec> = new Map(SPECS.map((s) => [s.name, s]));

export function optionName(code: number): string {
  return OPTIONS.get(code)?.name ?? `option-${code}`;
}

export const MESSAGE_TYPES = [
  "", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
  "FORCERENEW", "LEASEQUERY", "LEASEUNASSIGNED", "LEASEUNKNOWN", "LEASEACTIVE",
] as const;

export const DHCPDISCOVER = 1, DHCPOFFER = 2, DHCPREQUEST = 3, DHCPDECLINE = 4, DHCPACK = 5,
  DHCPNAK = 6, DHCPRELEASE = 7, DHCPINFORM = 8;

export interface ClasslessRoute { destination: string; prefix: number; router: string }

export type OptionValue =
  | string | number | boolean | string[] | number[] | ClasslessRoute[]
  | { type: number; id: string } | { code: number; hex: string }[];

export interface OptionError { kind: "option"; code: number; offset: number; reason: string }

export type OptionResult = { ok: true; value: OptionValue } | { ok: false; error: OptionError };

const fail = (code: number, offset: number, reason: string): OptionResult =>
  ({ ok: false, error: { kind: "option", code, offset, reason } });

const FIXED_LENGTH: Partial<Record<OptionKind, number>> = {
  ip: 4, u8: 1, u16: 2, u32: 4, seconds: 4, flag: 0, messageType: 1, overload: 1,
};

/** Decodes one option's (already concatenated) value by its registered kind. */
export function decodeOption(code: number, data: Uint8Array): OptionResult {
  const spec = OPTIONS.get(code);
  if (!spec) return { ok: true, value: toHex(data) };
  const kind = spec.kind;
  const want = FIXED_LENGTH[kind];
  if (want !== undefined && data.length !== want) return fail(code, 0, `length ${data.length}, expected ${want}`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (kind) {
    case "ip":
      return { ok: true, value: ipFromBytes(data, 0) };
    case "ips": {
      if (data.length === 0 || data.length % 4 !== 0) return fail(code, 0, `length ${data.length} is not a positive multiple of 4`);
      const out: string[] = [];
      for (let i = 0; i < data.length; i += 4) {
        const ip = ipFromBytes(data, i);
        if (ip === "0.0.0.0") return fail(code, i, "0.0.0.0 in an address list");
        out.push(ip);
      }
      return { ok: true, value: out };
    }
    case "u8": case "messageType": case "overload":
      return { ok: true, value: data[0] };
    case "u16":
      return { ok: true, value: dv.getUint16(0) };
    case "u32": case "seconds":
      return { ok: true, value: dv.getUint32(0) };
    case "flag":
      return { ok: true, value: true };
    case "string":
      if (data.length === 0) return fail(code, 0, "empty string");
      return { ok: true, value: latin1(data) };
    case "bytes":
      return { ok: true, value: toHex(data) };
    case "paramList":
      return { ok: true, value: Array.from(data) };
    case "clientId":
      if (data.length < 2) return fail(code, 0, `length ${data.length}, need a type and at least one byte`);
      if (data[0] === 1 && data.length !== 7) return fail(code, 0, `type 1 (Ethernet) needs 6 bytes, got ${data.length - 1}`);
      return { ok: true, value: { type: data[0], id: data[0] === 1 ? macToString(data, 1) : toHex(data.subarray(1)) } };
    case "domainList":
      return decodeDomainList(code, data);
    case "classlessRoutes":
      return decodeClasslessRoutes(code, data);
    case "relayAgentInfo":
      return decodeRelayAgentInfo(code, data);
  }
}

// RFC 1035 4.1.4 names with compression, as RFC 3397 uses them: pointers are offsets into
// the option data. Only backward pointers are followed, so a loop cannot form; names are
// capped at 255 bytes and the whole expansion at 64 KiB (a pointer bomb stops early).
const MAX_NAME = 255;
const MAX_EXPANSION = 65536;

function decodeDomainList(code: number, data: Uint8Array): OptionResult {
  const names: string[] = [];
  let pos = 0;
  let expanded = 0;
  while (pos < data.length) {
    let p = pos;
    let name = "";
    let nameLen = 0;
    let jumped = false;
    let lowestJump = pos;
    for (;;) {
      if (p >= data.length) return fail(code, p, "name runs past the end");
      const len = data[p];
      if (len === 0) { if (!jumped) pos = p + 1; break; }
      if ((len & 0xc0) === 0xc0) {
        if (p + 1 >= data.length) return fail(code, p, "truncated compression pointer");
        const target = ((len & 0x3f) << 8) | data[p + 1];
        if (target >= lowestJump) return fail(code, p, "compression pointer does not point backward");
        if (!jumped) pos = p + 2;
        jumped = true;
        lowestJump = target;
        p = target;
        continue;
      }
      if (len > 63) return fail(code, p, `label length ${len} over 63`);
      if (p + 1 + len > data.length) return fail(code, p, "label runs past the end");
      nameLen += len + 1;
      expanded += len + 1;
      if (nameLen > MAX_NAME) return fail(code, p, "name longer than 255 bytes");
      if (expanded > MAX_EXPANSION) return fail(code, p, "expansion too large");
      name += (name ? "." : "") + latin1(data.subarray(p + 1, p + 1 + len));
      p += 1 + len;
    }
    names.push(name);
  }
  return { ok: true, value: names };
}

// RFC 3442: width, the significant octets of the destination, then the router.
function decodeClasslessRoutes(code: number, data: Uint8Array): OptionResult {
  const routes: ClasslessRoute[] = [];
  let p = 0;
  if (data.length === 0) return fail(code, 0, "empty");
  while (p < data.length) {
    const prefix = data[p];
    if (prefix > 32) return fail(code, p, `prefix length ${prefix} over 32`);
    const significant = Math.ceil(prefix / 8);
    if (p + 1 + significant + 4 > data.length) return fail(code, p, "route runs past the end");
    const dest = new Uint8Array(4);
    dest.set(data.subarray(p + 1, p + 1 + significant));
    const destU32 = ((dest[0] << 24) | (dest[1] << 16) | (dest[2] << 8) | dest[3]) >>> 0;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if ((destU32 & ~mask) >>> 0 !== 0) return fail(code, p, "destination has bits set beyond the prefix");
    routes.push({ destination: u32ToIp(destU32), prefix, router: ipFromBytes(data, p + 1 + significant) });
    p += 1 + significant + 4;
  }
  return { ok: true, value: routes };
}

// RFC 3046: sub-options (code, length, value); shown as hex per sub-option for now.
function decodeRelayAgentInfo(code: number, data: Uint8Array): OptionResult {
  const subs: { code: number; hex: string }[] = [];
  let p = 0;
  while (p < data.length) {
    if (p + 2 > data.length) return fail(code, p, "sub-option header runs past the end");
    const len = data[p + 1];
    if (p + 2 + len > data.length) return fail(code, p, "sub-option runs past the end");
    subs.push({ code: data[p], hex: toHex(data.subarray(p + 2, p + 2 + len)) });
    p += 2 + len;
  }
  return { ok: true, value: subs };
}
