// The resident client's config file: what dhcpleased.conf(5) says per interface (ignore dns /
// routes, ignore a server, send client id / vendor class id / host name, prefer ipv6), as TOML
// or JSON. Top-level keys are defaults for every interface; [interface.NAME] overrides them
// key by key. The file is checked whole when it is read: an unknown key, a wrong type or a bad
// address is an error naming the file and the key path, so a typo never silently does nothing.

import * as fs from "node:fs";
import { fromHex, parseIp, parseMac, u32ToIp, bytesEqual } from "../../core/bytes.ts";
import { escapeText } from "../../core/escape.ts";
import { UserError } from "../errors.ts";
import { interfaceNameProblem } from "./paths.ts";
import { errnoText } from "./store.ts";

export interface InterfaceSettings {
  /** Do not take DNS servers, domain and search list from the lease. */
  ignoreDns: boolean;
  /** Do not take routers and classless routes from the lease. */
  ignoreRoutes: boolean;
  /** Servers (dotted quads, canonical form) whose OFFERs and ACKs are not taken. */
  ignoreServers: string[];
  /** Whole option 61 (type byte first); null: the default 01 + MAC. */
  clientId: Uint8Array | null;
  /** Option 60; null: none. */
  vendorClass: Uint8Array | null;
  /** Option 12: undefined = the default (this host's name), null = send none. */
  hostName: string | null | undefined;
  /** Ask for option 108 (RFC 8925). */
  preferIpv6: boolean;
  /** --apply: the routes' metric (undefined: 1000 + the interface's index, as dhcpcd). Read at start only. */
  routeMetric?: number;
}

export interface Config {
  /** The file it came from, for messages. */
  readonly file: string;
  /** Top-level keys: apply to every interface. */
  readonly defaults: Readonly<Partial<InterfaceSettings>>;
  /** [interface.NAME] tables, each with only the keys it sets. */
  readonly interfaces: ReadonlyMap<string, Readonly<Partial<InterfaceSettings>>>;
}

export class ConfigError extends UserError {
  constructor(
    message: string,
    readonly file: string,
    readonly keyPath: string | null = null,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

export const DEFAULT_SETTINGS: Readonly<InterfaceSettings> = Object.freeze({
  ignoreDns: false,
  ignoreRoutes: false,
  ignoreServers: [],
  clientId: null,
  vendorClass: null,
  hostName: undefined,
  preferIpv6: false,
});

/** A config file is a few lines; the helper reads it on SIGHUP into one message (native/privsep.h PRIV_MAX_BLOB). */
export const MAX_CONFIG_FILE = 64 * 1024;

export type ConfigFormat = "toml" | "json" | "auto";

// ---------------------------------------------------------------- reading

/** Reads and checks the whole file; throws ConfigError (file name, key path, what is wrong). */
/** The format a file's name says (for the bytes the helper reads on SIGHUP too). */
export function configFormatOf(path: string): ConfigFormat {
  const lower = path.toLowerCase();
  return lower.endsWith(".toml") ? "toml" : lower.endsWith(".json") ? "json" : "auto";
}

export function loadConfig(path: string): Config {
  let text: string;
  try {
    const st = fs.statSync(path);
    if (!st.isFile()) throw new ConfigError(`${escapeText(path)}: not a regular file`, path);
    if (st.size > MAX_CONFIG_FILE) throw new ConfigError(`${escapeText(path)}: ${st.size} bytes is too large for a config file`, path);
    text = fs.readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot read the config file ${escapeText(path)}: ${errnoText(e)}`, path);
  }
  return parseConfig(text, path, configFormatOf(path));
}

/** The same as loadConfig, from text already read; `file` is only used in messages. */
export function parseConfig(text: string, file: string, format: ConfigFormat): Config {
  return checkConfig(parseText(text, file, format), file);
}

function parseText(text: string, file: string, format: ConfigFormat): unknown {
  const shown = escapeText(file);
  const json = (): unknown => JSON.parse(text);
  const toml = (): unknown => Bun.TOML.parse(text);
  const message = (e: unknown) => escapeText(e instanceof Error ? e.message : String(e));
  if (format === "json") {
    try {
      return json();
    } catch (e) {
      throw new ConfigError(`${shown}: not valid JSON: ${message(e)}`, file);
    }
  }
  if (format === "toml") {
    try {
      return toml();
    } catch (e) {
      throw new ConfigError(`${shown}: not valid TOML: ${message(e)}`, file);
    }
  }
  // No telling extension: JSON first (a JSON document is rarely valid TOML), then TOML.
  let jsonError: unknown;
  try {
    return json();
  } catch (e) {
    jsonError = e;
  }
  try {
    return toml();
  } catch (e) {
    throw new ConfigError(`${shown}: neither valid JSON (${message(jsonError)}) nor valid TOML (${message(e)})`, file);
  }
}

// ---------------------------------------------------------------- checking

const KEYS = ["ignore", "ignore-servers", "client-id", "vendor-class-id", "host-name", "prefer-ipv6", "route-metric"] as const;
type Key = (typeof KEYS)[number];

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** A string shown in a message: quoted, control characters escaped (a config is not a terminal's business). */
const quoted = (s: string) => `"${escapeText(s).replace(/"/g, '\\"')}"`;

/** A key path as TOML would write it: interface."eth0.100".ignore-servers[1]. */
function keyPath(parts: (string | number)[]): string {
  let out = "";
  for (const p of parts) {
    if (typeof p === "number") out += `[${p}]`;
    else out += (out ? "." : "") + (/^[A-Za-z0-9_-]+$/.test(p) ? p : quoted(p));
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a date";
  if (typeof v === "object") return "a table";
  if (typeof v === "string") return quoted(v);
  return escapeText(String(v));
}

function checkConfig(doc: unknown, file: string): Config {
  const fail = (parts: (string | number)[], what: string): never => {
    const at = keyPath(parts);
    throw new ConfigError(`${escapeText(file)}: ${at ? `${at}: ` : ""}${what}`, file, at || null);
  };
  if (!isTable(doc)) return fail([], `the top level must be a table of settings, not ${describe(doc)}`);
  const { interface: perInterface, ...top } = doc;
  const defaults = checkSettings(top, [], fail);
  const interfaces = new Map<string, Partial<InterfaceSettings>>();
  if (perInterface !== undefined) {
    if (!isTable(perInterface)) fail(["interface"], `must be a table of interfaces ([interface.eth0]), not ${describe(perInterface)}`);
    for (const [name, table] of Object.entries(perInterface as Table)) {
      const problem = interfaceNameProblem(name);
      if (problem !== null) fail(["interface", name], `not an interface name: it ${problem}`);
      if (!isTable(table)) fail(["interface", name], `must be a table of settings, not ${describe(table)}`);
      interfaces.set(name, checkSettings(table as Table, ["interface", name], fail));
    }
  }
  return { file, defaults, interfaces };
}

type Fail = (parts: (string | number)[], what: string) => never;

function checkSettings(t: Table, at: (string | number)[], fail: Fail): Partial<InterfaceSettings> {
  const s: Partial<InterfaceSettings> = {};
  for (const [key, value] of Object.entries(t)) {
    const here = [...at, key];
    if (!(KEYS as readonly string[]).includes(key)) {
      // [interface.eth0.100] is a table "100" inside eth0 in TOML: say how to write a VLAN name.
      const hint = isTable(value) && at.length === 2 ? `; an interface name with a dot is quoted: [interface."${at[1]}.${key}"]` : "";
      fail(here, `unknown key (known: ${at.length ? "" : "interface, "}${KEYS.join(", ")})${escapeText(hint)}`);
    }
    setKey(s, key as Key, value, here, fail);
  }
  return s;
}

function setKey(s: Partial<InterfaceSettings>, key: Key, v: unknown, at: (string | number)[], fail: Fail): void {
  switch (key) {
    case "ignore": {
      if (!Array.isArray(v)) return fail(at, `must be an array of "dns" and "routes", not ${describe(v)}`);
      s.ignoreDns = false;
      s.ignoreRoutes = false;
      v.forEach((x, i) => {
        if (x === "dns") s.ignoreDns = true;
        else if (x === "routes") s.ignoreRoutes = true;
        else fail([...at, i], `${describe(x)} is not "dns" or "routes"`);
      });
      return;
    }
    case "ignore-servers": {
      if (!Array.isArray(v)) return fail(at, `must be an array of IPv4 addresses, not ${describe(v)}`);
      s.ignoreServers = v.map((x, i) => {
        const ip = typeof x === "string" ? parseIp(x) : null;
        // Canonical form, so "010.0.0.1" matches the server id "10.0.0.1" of a lease.
        return ip !== null ? u32ToIp(ip) : fail([...at, i], `${describe(x)} is not an IPv4 address`);
      });
      return;
    }
    case "client-id":
      if (typeof v !== "string") return fail(at, `must be a string ("hex:01aabb…", a MAC, or text), not ${describe(v)}`);
      s.clientId = clientIdBytes(v, at, fail);
      return;
    case "vendor-class-id": {
      if (typeof v !== "string") return fail(at, `must be a string, not ${describe(v)}`);
      const b = new TextEncoder().encode(v);
      if (b.length < 1 || b.length > 255) return fail(at, `must be 1 to 255 bytes, not ${b.length}`);
      s.vendorClass = b;
      return;
    }
    case "host-name":
      if (v === false) {
        s.hostName = null;
        return;
      }
      if (typeof v !== "string") return fail(at, `must be a string, or false to send none, not ${describe(v)}`);
      if (v.length === 0) return fail(at, `is empty: write false to send no host name`);
      if (v.includes("\0")) return fail(at, "contains a NUL byte");
      if (new TextEncoder().encode(v).length > 255) return fail(at, "is longer than 255 bytes");
      s.hostName = v;
      return;
    case "prefer-ipv6":
      if (typeof v !== "boolean") return fail(at, `must be true or false, not ${describe(v)}`);
      s.preferIpv6 = v;
      return;
    case "route-metric":
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 0xffffffff)
        return fail(at, `must be a whole number from 1 to 4294967295, not ${describe(v)}`);
      s.routeMetric = v;
      return;
  }
}

/**
 * Option 61 as dhcpleased.conf's `send client id` reads it: "hex:…" is the whole option,
 * type byte first; a MAC (aa:bb:cc:dd:ee:ff) is type 1 (Ethernet) + the MAC; anything else
 * is text, sent as type 0 + its UTF-8 bytes (RFC 2132 9.14: type 0 for an id that is not a
 * hardware address). The option holds 2 to 255 bytes.
 */
function clientIdBytes(v: string, at: (string | number)[], fail: Fail): Uint8Array {
  let b: Uint8Array;
  if (/^hex:/i.test(v)) {
    const hex = fromHex(v.slice(4));
    if (hex === null) return fail(at, `${describe(v)} is not hex bytes after "hex:" (e.g. hex:01aabbccddeeff)`);
    b = hex;
  } else if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(v)) {
    b = Uint8Array.of(1, ...parseMac(v)!);
  } else {
    b = Uint8Array.of(0, ...new TextEncoder().encode(v));
  }
  if (b.length < 2 || b.length > 255) return fail(at, `must be 2 to 255 bytes with the type byte, not ${b.length}`);
  return b;
}

// ---------------------------------------------------------------- using it

/** The settings for `iface`: built-in defaults, then the file's top level, then [interface.iface]. */
export function settingsFor(config: Config | null, iface: string): InterfaceSettings {
  const s: InterfaceSettings = { ...DEFAULT_SETTINGS, ignoreServers: [] };
  if (config === null) return s;
  for (const layer of [config.defaults, config.interfaces.get(iface) ?? {}]) {
    // Only keys the layer set override; an override replaces (a list is not merged).
    for (const [k, v] of Object.entries(layer) as [keyof InterfaceSettings, unknown][]) {
      (s as unknown as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v;
    }
  }
  return s;
}

/**
 * Whether two interfaces' settings behave the same (SIGHUP restarts only those that changed).
 * ignoreServers is compared as a set: order and repeats change nothing. routeMetric is not
 * compared: the helper's metric is fixed at start (the daemon says so when it changes).
 */
export function sameSettings(a: InterfaceSettings, b: InterfaceSettings): boolean {
  const bytes = (x: Uint8Array | null, y: Uint8Array | null) => (x === null || y === null ? x === y : bytesEqual(x, y));
  const set = (xs: string[]) => [...new Set(xs)].sort().join(",");
  return (
    a.ignoreDns === b.ignoreDns &&
    a.ignoreRoutes === b.ignoreRoutes &&
    set(a.ignoreServers) === set(b.ignoreServers) &&
    bytes(a.clientId, b.clientId) &&
    bytes(a.vendorClass, b.vendorClass) &&
    a.hostName === b.hostName &&
    a.preferIpv6 === b.preferIpv6
  );
}
