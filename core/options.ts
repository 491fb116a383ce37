// The options registry: code → name, codec, RFC. It is data: adding an option is one row.
// Every registered option decodes to a typed value and encodes back from one; unknown codes
// stay raw and print as hex. Nothing here throws on wire input: errors are values with the
// option code and an offset into its data.

import { fromHex, hexRange } from "./bytes.ts";
import * as c from "./option-codecs.ts";
import type { Codec } from "./option-codecs.ts";
import { CodecError } from "./codecs/codec.ts";

export type { ClasslessRoute, ClientFqdn, ClientId, SubOption, VendorBlock } from "./option-codecs.ts";

export interface OptionSpec {
  readonly code: number;
  readonly name: string;
  readonly codec: Codec<unknown>;
  readonly rfc: string;
}

const ips = c.ipList();
const T = (code: number, name: string, codec: Codec<unknown>, rfc = "2132"): OptionSpec => ({ code, name, codec, rfc });

const SPECS: OptionSpec[] = [
  // RFC 2132 section 3: vendor extensions
  T(1, "subnet-mask", c.mask),
  T(2, "time-offset", c.i32),
  T(3, "routers", ips),
  T(4, "time-servers", ips),
  T(5, "ien116-name-servers", ips),
  T(6, "dns-servers", ips),
  T(7, "log-servers", ips),
  T(8, "cookie-servers", ips),
  T(9, "lpr-servers", ips),
  T(10, "impress-servers", ips),
  T(11, "resource-location-servers", ips),
  T(12, "hostname", c.text),
  T(13, "boot-file-size", c.u16),
  T(14, "merit-dump-file", c.text),
  T(15, "domain-name", c.text),
  T(16, "swap-server", c.ip),
  T(17, "root-path", c.text),
  T(18, "extensions-path", c.text),
  // section 4: IP layer per host
  T(19, "ip-forwarding", c.bool),
  T(20, "non-local-source-routing", c.bool),
  T(21, "policy-filter", c.ipPairs),
  T(22, "max-datagram-reassembly", c.u16),
  T(23, "default-ip-ttl", c.u8),
  T(24, "path-mtu-aging-timeout", c.seconds),
  T(25, "path-mtu-plateau-table", c.uintList(2, { min: 1 })),
  // section 5: IP layer per interface
  T(26, "interface-mtu", c.u16),
  T(27, "all-subnets-local", c.bool),
  T(28, "broadcast-address", c.ip),
  T(29, "perform-mask-discovery", c.bool),
  T(30, "mask-supplier", c.bool),
  T(31, "router-discovery", c.bool),
  T(32, "router-solicitation-address", c.ip),
  T(33, "static-routes", c.ipPairs),
  // sections 6-7: link and TCP
  T(34, "trailer-encapsulation", c.bool),
  T(35, "arp-cache-timeout", c.seconds),
  T(36, "ethernet-encapsulation", c.bool),
  T(37, "tcp-default-ttl", c.u8),
  T(38, "tcp-keepalive-interval", c.seconds),
  T(39, "tcp-keepalive-garbage", c.bool),
  // section 8: applications and services
  T(40, "nis-domain", c.text),
  T(41, "nis-servers", ips),
  T(42, "ntp-servers", ips),
  T(43, "vendor-specific", c.vendorSpecific),
  T(44, "netbios-name-servers", ips),
  T(45, "netbios-dd-servers", ips),
  T(46, "netbios-node-type", c.u8),
  T(47, "netbios-scope", c.text),
  T(48, "x-font-servers", ips),
  T(49, "x-display-managers", ips),
  // section 9: DHCP extensions
  T(50, "requested-address", c.ip),
  T(51, "lease-time", c.seconds),
  T(52, "overload", c.overload),
  T(53, "message-type", c.messageType),
  T(54, "server-id", c.ip),
  T(55, "parameter-request-list", c.uintList(1, { min: 1 })),
  T(56, "message", c.text),
  T(57, "max-message-size", c.u16),
  T(58, "renewal-time", c.seconds),
  T(59, "rebinding-time", c.seconds),
  T(60, "vendor-class-id", c.text),
  T(61, "client-id", c.clientId),
  T(64, "nisplus-domain", c.text),
  T(65, "nisplus-servers", ips),
  T(66, "tftp-server-name", c.text),
  T(67, "bootfile-name", c.text),
  T(68, "mobile-ip-home-agents", c.ipList({ allowEmpty: true })),
  T(69, "smtp-servers", ips),
  T(70, "pop3-servers", ips),
  T(71, "nntp-servers", ips),
  T(72, "www-servers", ips),
  T(73, "finger-servers", ips),
  T(74, "irc-servers", ips),
  T(75, "streettalk-servers", ips),
  T(76, "stda-servers", ips),
  // later RFCs
  T(77, "user-class", c.lengthPrefixedList, "3004"),
  T(78, "slp-directory-agent", c.hex, "2610"),
  T(79, "slp-service-scope", c.hex, "2610"),
  T(80, "rapid-commit", c.flag, "4039"),
  T(81, "client-fqdn", c.clientFqdn, "4702"),
  T(82, "relay-agent-info", c.subOptions, "3046"),
  T(85, "nds-servers", ips, "2241"),
  T(86, "nds-tree-name", c.text, "2241"),
  T(87, "nds-context", c.text, "2241"),
  T(88, "bcmcs-domains", c.domainList, "4280"),
  T(89, "bcmcs-addresses", ips, "4280"),
  T(90, "authentication", c.hex, "3118"),
  T(91, "client-last-transaction-time", c.seconds, "4388"),
  T(92, "associated-ip", ips, "4388"),
  T(93, "client-system-architecture", c.uintList(2, { min: 1 }), "4578"),
  T(94, "client-ndi", c.ndi, "4578"),
  T(97, "client-machine-id", c.uuid, "4578"),
  T(98, "user-auth", c.text, "2485"),
  T(99, "geoconf-civic", c.hex, "4776"),
  T(100, "pcode", c.text, "4833"),
  T(101, "tcode", c.text, "4833"),
  T(108, "ipv6-only-preferred", c.seconds, "8925"),
  T(112, "netinfo-address", ips, "3679"),
  T(113, "netinfo-tag", c.text, "3679"),
  T(114, "captive-portal", c.text, "8910"),
  T(116, "auto-config", c.u8, "2563"),
  T(117, "name-service-search", c.uintList(2, { min: 1 }), "2937"),
  T(118, "subnet-selection", c.ip, "3011"),
  T(119, "domain-search", c.domainList, "3397"),
  T(120, "sip-servers", c.sipServers, "3361"),
  T(121, "classless-routes", c.classlessRoutes, "3442"),
  T(122, "cablelabs-client-config", c.hex, "3495"),
  T(123, "geoconf", c.hex, "6225"),
  T(124, "vendor-class", c.vendorBlocks, "3925"),
  T(125, "vendor-specific-info", c.vendorBlocks, "3925"),
  T(136, "pana-agents", ips, "5192"),
  T(137, "lost-server", c.domainList, "5223"),
  T(138, "capwap-controllers", ips, "5417"),
  T(141, "sip-ua-config-domains", c.domainList, "6011"),
  T(142, "andsf-addresses", ips, "6153"),
  T(145, "forcerenew-nonce-capable", c.uintList(1, { min: 1 }), "6704"),
  T(150, "tftp-servers", ips, "5859"),
  T(159, "v4-portparams", c.hex, "7618"),
  T(161, "mud-url", c.text, "8520"),
  T(162, "v4-dnr", c.hex, "9463"),
  T(209, "pxelinux-config-file", c.text, "5071"),
  T(210, "pxelinux-path-prefix", c.text, "5071"),
  T(211, "pxelinux-reboot-time", c.seconds, "5071"),
  T(249, "ms-classless-routes", c.classlessRoutes, "Microsoft"),
  T(252, "wpad", c.text, "draft-ietf-wrec-wpad"),
];

export const OPTIONS: ReadonlyMap<number, OptionSpec> = new Map(SPECS.map((s) => [s.code, s]));
export const OPTIONS_BY_NAME: ReadonlyMap<string, OptionSpec> = new Map(SPECS.map((s) => [s.name, s]));
/** The decode path's lookup: an array by code (a Map lookup costs more than the read of a u32). */
/** Filled by a plain loop: Array.from's first call costs a one-shot ~0.2 ms (core/bytes.ts). */
const BY_CODE: (OptionSpec | undefined)[] = [];
for (let code = 0; code < 256; code++) BY_CODE.push(OPTIONS.get(code));

export function optionName(code: number): string {
  return OPTIONS.get(code)?.name ?? `option-${code}`;
}

export const MESSAGE_TYPES = c.MESSAGE_TYPE_NAMES;
export const DHCPDISCOVER = 1,
  DHCPOFFER = 2,
  DHCPREQUEST = 3,
  DHCPDECLINE = 4,
  DHCPACK = 5,
  DHCPNAK = 6,
  DHCPRELEASE = 7,
  DHCPINFORM = 8;

export type OptionValue = unknown;

export interface OptionError {
  kind: "option";
  code: number;
  offset: number;
  reason: string;
}
export type OptionResult = { ok: true; value: OptionValue } | { ok: false; error: OptionError };

/** Decodes one option's (already concatenated) value by its registered codec; unknown: hex. */
export function decodeOption(code: number, data: Uint8Array): OptionResult {
  return decodeOptionAt(code, data, 0, data.length);
}

/** decodeOption of the value at buf[off, off + len), read in place (no view of it is made). */
export function decodeOptionAt(code: number, buf: Uint8Array, off: number, len: number): OptionResult {
  const spec = BY_CODE[code];
  if (spec === undefined) return { ok: true, value: hexRange(buf, off, off + len) };
  const v = spec.codec.read(buf, off, len);
  return v instanceof CodecError ? { ok: false, error: { kind: "option", code, offset: v.offset, reason: v.reason } } : { ok: true, value: v };
}

/** Encodes a typed value of a registered option (an unknown code takes hex). */
export function encodeOption(code: number, value: OptionValue): Uint8Array {
  const codec = OPTIONS.get(code)?.codec ?? c.hex;
  const out = new Uint8Array(codec.encodingLength(value));
  codec.encode(value, out, 0);
  return out;
}

/**
 * Parses `CODE|NAME=VALUE` as a user types it on the command line: the value by the option's
 * codec (`121=192.0.2.0/24,10.0.0.1`, `domain-search=a.example,b.example`), or raw bytes with
 * `hex:` for any option (`43=hex:0102ff`). Returns the option's wire bytes or a message.
 */
export function parseOptionArg(arg: string): { ok: true; code: number; data: Uint8Array } | { ok: false; reason: string } {
  const eq = arg.indexOf("=");
  const key = (eq < 0 ? arg : arg.slice(0, eq)).trim();
  const value = eq < 0 ? "" : arg.slice(eq + 1);
  const spec = /^\d+$/.test(key) ? OPTIONS.get(Number(key)) : OPTIONS_BY_NAME.get(key.toLowerCase());
  const code = /^\d+$/.test(key) ? Number(key) : spec?.code;
  if (code === undefined) return { ok: false, reason: `unknown option "${key}" (a code 1-254 or a name like domain-search)` };
  if (code < 1 || code > 254) return { ok: false, reason: `option code ${code} is outside 1-254` };
  if (value.startsWith("hex:")) {
    const data = fromHex(value.slice(4));
    if (!data) return { ok: false, reason: `option ${code}: "${value}" is not hex` };
    return { ok: true, code, data };
  }
  if (!spec) return { ok: false, reason: `option ${code} is not one we know how to type: give its bytes as ${code}=hex:…` };
  if (eq < 0 && spec.codec !== c.flag) return { ok: false, reason: `option ${spec.name} needs a value: ${key}=VALUE` };
  const r = spec.codec.parse(value);
  if (!r.ok) return { ok: false, reason: `option ${code} (${spec.name}): ${r.error.reason}` };
  return { ok: true, code, data: encodeOption(code, r.value) };
}
