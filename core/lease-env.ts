// A lease as environment variables for hook programs and `--format env`, under the names
// dhclient-script made the convention (new_ip_address, new_routers, …). Pure: the caller
// decides how the pairs travel (a hook's environment, or quoted lines to `source`).

import { fromHex, ipToU32, parseIp, u32ToIp } from "./bytes.ts";
import { escapeText } from "./escape.ts";
import type { Lease, RawOption } from "./engine-types.ts";
import { decodeOption } from "./options.ts";
import { isSubOptionList, subOptionsText } from "./vendor-options.ts";

/**
 * The fields of a lease the variables are made from: the engine's Lease, with its end as a
 * wall-clock ISO string and its server MAC as text (core/lease-record.ts's LeaseRecord fits).
 * options: every option of the ACK as hex; 12 (the host name the server gave) is read from it.
 */
export type LeaseEnvFields = Pick<
  Lease,
  "address" | "subnetMask" | "routers" | "routes" | "dns" | "domain" | "search" | "leaseTime" | "t1" | "t2" | "serverId"
> & { serverMac: string; expiresAt: string | null; options?: readonly RawOption[] };

export type LeaseVarPrefix = "new_" | "old_";

/**
 * The lease as [name, value] pairs, in a fixed order. Values are escaped as dhcpcd escapes
 * them (issue 11 finding 8), with the tool's one scheme (core/escape.ts escapeText):
 * printable ASCII as is, a backslash doubled, every other byte as \xNN. Wire strings are
 * Latin-1 (one char per byte, core/option-codecs.ts text), so a server's 0x9b reaches a hook
 * as the four characters \x9b, never as a byte a terminal would act on, and a NUL as \x00
 * (an environment string cannot hold one). The raw bytes are in the hook's JSON (the
 * lease's options, as hex). No shell quoting: an environment value is never parsed.
 */
export function leaseVars(lease: LeaseEnvFields, prefix: LeaseVarPrefix): [string, string][] {
  const net = networkOf(lease.address, lease.subnetMask);
  const vars: [string, string][] = [
    ["ip_address", lease.address],
    ["subnet_mask", lease.subnetMask ?? ""],
    ["broadcast_address", net?.broadcast ?? ""],
    ["prefix_length", net ? String(net.prefix) : ""],
    ["routers", lease.routers.join(" ")],
    ["classless_static_routes", lease.routes.map((r) => `${r.destination}/${r.prefix} ${r.router}`).join(" ")],
    ["domain_name_servers", lease.dns.join(" ")],
    ["domain_name", lease.domain ?? ""],
    ["domain_search", lease.search.join(" ")],
    ["host_name", hostNameOption(lease.options) ?? ""],
    ["lease_time", String(lease.leaseTime)],
    ["renewal_time", String(lease.t1)],
    ["rebinding_time", String(lease.t2)],
    ["expiry", lease.expiresAt ?? ""],
    ["dhcp_server_identifier", lease.serverId],
    ["dhcp_server_mac", lease.serverMac],
    // in the syntax --option 43= and 82= take: 1=text,2=hex:0a0b (43 that is not sub-options: hex:…)
    ["vendor_encapsulated_options", subOptionsOption(lease.options, 43)],
    ["relay_agent_information", subOptionsOption(lease.options, 82)],
  ];
  return vars.map(([name, value]) => [prefix + name, envValue(value)]);
}

/** An environment value: printable ASCII as is, `\` as `\\`, any other byte as `\xNN`. */
export function envValue(value: string): string {
  return escapeText(value);
}

/** Prefix length of a contiguous mask (ones then zeros), or null. */
export function maskPrefix(mask: string): number | null {
  const m = parseIp(mask);
  if (m === null) return null;
  const inv = ~m >>> 0;
  if ((inv & (inv + 1)) !== 0) return null; // ones after a zero: not a mask (HOSTILE 24)
  return 32 - Math.log2(inv + 1);
}

/**
 * Prefix length and broadcast address from the mask. /31 and /32 have no broadcast address
 * (RFC 3021: both addresses of a /31 are hosts), so a hook must not be told one.
 */
function networkOf(address: string, mask: string | null): { prefix: number; broadcast: string | null } | null {
  if (mask === null || parseIp(address) === null) return null;
  const prefix = maskPrefix(mask);
  if (prefix === null) return null;
  if (prefix >= 31) return { prefix, broadcast: null };
  return { prefix, broadcast: u32ToIp((ipToU32(address) | (~ipToU32(mask) >>> 0)) >>> 0) };
}

/** Option 12 from the ACK's raw options (hex), as Latin-1 text like every wire string. */
function hostNameOption(options: LeaseEnvFields["options"]): string | null {
  const o = options?.find((x) => x.code === 12);
  if (!o || o.hex.length === 0 || o.hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(o.hex)) return null;
  let s = "";
  for (let i = 0; i < o.hex.length; i += 2) s += String.fromCharCode(parseInt(o.hex.slice(i, i + 2), 16));
  return s;
}

/** Option 43 or 82 from the ACK's raw options as sub-options text; "" when absent or not decodable. */
function subOptionsOption(options: LeaseEnvFields["options"], code: 43 | 82): string {
  const o = options?.find((x) => x.code === code);
  const data = o ? fromHex(o.hex) : null;
  if (!data) return "";
  const r = decodeOption(code, data);
  if (!r.ok) return "";
  if (isSubOptionList(r.value)) return subOptionsText(r.value);
  return typeof r.value === "string" && r.value !== "" ? `hex:${r.value}` : "";
}
