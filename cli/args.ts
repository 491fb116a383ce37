// Every flag that two commands share, defined once as a fragment (spread into each command
// that takes it, a description overridden where the command means it differently) and parsed
// once, typed from its definition (citty's ParsedArgs of the fragment: a command's own
// parsed args fit it, no casts). Also the parsing citty leaves to us: numbers, repeated
// flags, unknown flags.

import type { ParsedArgs } from "citty";
import { parseAllowList, type AllowList } from "../core/allow-list.ts";
import { fromHex, parseIp, parseMac } from "../core/bytes.ts";
import { shortHostname, DEFAULT_REQUEST_LIST, type ClientIdentity } from "../core/client.ts";
import { escapeText } from "../core/escape.ts";
import { isUsableAddress } from "../core/lease-times.ts";
import type { OptionBytes } from "../core/message.ts";
import { parseOptionArg } from "../core/options.ts";
import type { ClientOptions, MacChoice } from "./client/identity.ts";
import type { UnicastChoice } from "./client/unicast.ts";
import { DEFAULT_RUN_DIR, DEFAULT_STATE_DIR, interfaceNameProblem } from "./daemon/paths.ts";
import { UsageError } from "./errors.ts";
import { hostName } from "../native/libc.ts";

export { checkCommandLine, rejectUnknownFlags, usageLine } from "./command-line.ts";
import { parseMetricsAddress, type MetricsAddress } from "./metrics/address.ts";

export const outputArgs = {
  json: { type: "boolean", description: "Print results as JSON on stdout (logs stay on stderr)" },
  verbose: { type: "boolean", alias: "v", description: "More detail: every option, dropped-packet counters" },
  quiet: { type: "boolean", alias: "q", description: "Print only errors on stderr" },
} as const;

/** Tables (discover, watch, the prober, lease show): every column and list item, not fitted to the terminal. */
export const wideArg = {
  wide: { type: "boolean", alias: "w", description: "Show every column and every list item, however wide (a table fits the terminal otherwise)" },
} as const;

/** Every value given for a repeatable string flag (`--x a --x=b`), in order. */
export function allValues(rawArgs: string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i];
    if (a === "--") break;
    if (a === `--${flag}`) {
      if (i + 1 < rawArgs.length) out.push(rawArgs[++i]);
      else throw new UsageError(`--${flag} needs a value`);
    } else if (a.startsWith(`--${flag}=`)) out.push(a.slice(flag.length + 3));
  }
  return out;
}

export function parseNumber(value: string | undefined, flag: string, opts: { min?: number; max?: number; integer?: boolean; fallback: number }): number {
  if (value === undefined || value === "") return opts.fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag} takes ${opts.integer ? "a whole number" : "a number"}, not "${value}"`);
  }
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`--${flag} must be at least ${opts.min}`);
  if (opts.max !== undefined && n > opts.max) throw new UsageError(`--${flag} must be at most ${opts.max}`);
  return n;
}

/** --allow-server values (IP or MAC, repeated or comma-separated); null when none was given. */
export function allowListFromArgs(rawArgs: string[]): AllowList | null {
  const values = allValues(rawArgs, "allow-server");
  if (!values.length) return null;
  const { list, bad } = parseAllowList(values);
  if (bad.length) throw new UsageError(`--allow-server "${bad[0]}" is neither an IPv4 address nor a MAC`);
  return list;
}

// ---------------------------------------------------------------- who the client is

export const macArg = {
  mac: { type: "string", description: "Client MAC: the interface's (default), aa:bb:cc:dd:ee:ff, or random", valueHint: "MAC" },
} as const;

export const clientIdArg = {
  "client-id": { type: "string", description: "Option 61 as hex (type byte first); default 01 + MAC", valueHint: "HEX" },
} as const;

/** What DISCOVER and REQUEST carry: the identity flags of discover and request. */
export const identityArgs = {
  ...macArg,
  ...clientIdArg,
  hostname: { type: "string", description: "Host name for option 12 (default: this host's, up to the first dot)", valueHint: "NAME" },
  "no-hostname": { type: "boolean", description: "Send no host name" },
  "vendor-class": { type: "string", description: "Option 60 vendor class identifier", valueHint: "TEXT" },
  "request-options": { type: "string", description: "Option 55 list (default 1,3,6,12,15,28,119,121)", valueHint: "1,3,6" },
  "broadcast-flag": { type: "boolean", description: "Ask servers to broadcast their reply (BOOTP flags bit)" },
  "prefer-ipv6": { type: "boolean", description: "Ask for option 108, IPv6-only preferred (RFC 8925)" },
  option: {
    type: "string",
    description: "Add or replace an option: CODE|NAME=VALUE, typed (121=192.0.2.0/24,10.0.0.1) or hex:BYTES; repeatable",
    valueHint: "CODE=VALUE",
  },
} as const;

/** --mac: `random` only where a random MAC makes sense (a new exchange, not a lease given back). */
export function macFromArgs(args: ParsedArgs<typeof macArg>, opts: { random: boolean }): MacChoice | null {
  const v = args.mac;
  if (typeof v !== "string" || v === "") return null;
  if (opts.random && v === "random") return "random";
  const m = parseMac(v);
  if (!m) throw new UsageError(`--mac "${v}" is not a MAC address (aa:bb:cc:dd:ee:ff${opts.random ? " or random" : ""})`);
  // A client's chaddr and Ethernet source: a server would answer it to everyone, or to nobody.
  if (m.every((b) => b === 0)) throw new UsageError(`--mac ${v} is all zeros: a client MAC must be a unicast address`);
  if (m[0] & 1) throw new UsageError(`--mac ${v} is a ${m.every((b) => b === 0xff) ? "broadcast" : "multicast"} address: a client MAC must be unicast`);
  return m;
}

export function clientIdFromArgs(args: ParsedArgs<typeof clientIdArg>): Uint8Array | undefined {
  const v = args["client-id"];
  if (typeof v !== "string") return undefined;
  const b = fromHex(v);
  if (!b || b.length < 2 || b.length > 255) throw new UsageError("--client-id takes 2 to 255 bytes of hex, type byte first (e.g. 01aabbccddeeff)");
  return b;
}

export function identityFromArgs(args: ParsedArgs<typeof identityArgs>, rawArgs: string[]): Omit<ClientIdentity, "mac"> {
  let requestList = DEFAULT_REQUEST_LIST;
  const list = args["request-options"];
  if (typeof list === "string") {
    const codes = list
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number);
    if (!codes.length || codes.some((c) => !Number.isInteger(c) || c < 1 || c > 254)) {
      throw new UsageError("--request-options takes option codes 1-254, comma-separated (e.g. 1,3,6)");
    }
    requestList = codes;
  }
  let hostname: string | null = null;
  // citty turns --no-hostname into hostname=false (not a string): read the raw flag to be sure.
  if (!rawArgs.includes("--no-hostname") && args["no-hostname"] !== true) {
    const h = typeof args.hostname === "string" ? args.hostname : shortHostname(hostName() ?? (require("node:os") as typeof import("node:os")).hostname());
    if (h.length > 255) throw new UsageError("--hostname is longer than 255 bytes");
    hostname = h || null;
  }
  let vendorClass: Uint8Array | undefined;
  if (typeof args["vendor-class"] === "string") {
    vendorClass = new TextEncoder().encode(args["vendor-class"]);
    if (vendorClass.length === 0 || vendorClass.length > 255) throw new UsageError("--vendor-class takes 1 to 255 bytes");
  }
  return { hostname, clientId: clientIdFromArgs(args), vendorClass, requestList, preferIpv6: args["prefer-ipv6"] === true };
}

/** --option values, in the order given; `noType53` says why 53 (the message type) is refused. */
export function extraOptionsFromArgs(rawArgs: string[], noType53: string): OptionBytes[] {
  const extra: OptionBytes[] = [];
  for (const value of allValues(rawArgs, "option")) {
    if (/^(53|dhcp-message-type)\s*(=|$)/i.test(value)) throw new UsageError(`--option 53: ${noType53}`);
    const r = parseOptionArg(value);
    if (!r.ok) throw new UsageError(`--option ${value}: ${r.reason}`);
    if (r.code === 53) throw new UsageError(`--option 53: ${noType53}`);
    extra.push({ code: r.code, data: r.data });
  }
  return extra;
}

// ---------------------------------------------------------------- how it reaches servers

export const vlanArg = {
  vlan: { type: "string", description: "On a trunk: VLAN ID's frames only, ours tagged with it (no VLAN interface needed)", valueHint: "ID" },
} as const;

/** --vlan: an 802.1Q VLAN id, 1-4094; undefined when not given. */
export function vlanFromArgs(args: ParsedArgs<typeof vlanArg>): number | undefined {
  const text = flagText(args.vlan, "vlan");
  return text === null ? undefined : parseNumber(text, "vlan", { min: 1, max: 4094, integer: true, fallback: 0 });
}

export const retryArgs = {
  timeout: { type: "string", description: "Retransmit after S seconds (default 2)", valueHint: "S" },
  tries: { type: "string", description: "Send at most N times (default 3)", valueHint: "N" },
} as const;

export function retryFromArgs(args: ParsedArgs<typeof retryArgs>): { retryMs: number; tries: number } {
  return {
    retryMs: parseNumber(args.timeout, "timeout", { min: 0.1, max: 3600, fallback: 2 }) * 1000,
    tries: parseNumber(args.tries, "tries", { min: 1, max: 100, integer: true, fallback: 3 }),
  };
}

export const unicastArgs = {
  server: { type: "string", description: "Ask this one server by unicast instead of broadcasting; replies from any other are dropped", valueHint: "IP" },
  "server-mac": {
    type: "string",
    description: "With --server: the Ethernet destination (default: the router's MAC when the server is routed, else ff:ff:ff:ff:ff:ff)",
    valueHint: "MAC",
  },
  giaddr: {
    type: "string",
    description:
      "Relay simulation: send as a relay agent at IP (an address of this host), with giaddr and hops 1, from IP:67 to --server; the server answers to IP:67",
    valueHint: "IP",
  },
} as const;

/** A flag's value, or null when not given; given empty (or as a bare flag) is a usage error. */
function flagText(v: string | boolean | undefined, flag: string): string | null {
  if (v === undefined) return null;
  if (typeof v !== "string" || v === "") throw new UsageError(`--${flag} needs a value`);
  return v;
}

/** An IPv4 address a frame can be unicast to (a server, a relay agent, a host), or null when not given. */
export function hostFromArgs(v: string | undefined, flag: string): string | null {
  const text = flagText(v, flag);
  if (text !== null && (parseIp(text) === null || !isUsableAddress(text))) throw new UsageError(`--${flag} "${text}" is not a unicast IPv4 address`);
  return text;
}

/** Any IPv4 address (an address to ask for, or one the host holds), or null when not given. */
export function ipFromArgs(v: string | undefined, flag: string): string | null {
  if (v === undefined) return null;
  if (typeof v !== "string" || parseIp(v) === null) throw new UsageError(`--${flag} "${String(v)}" is not an IPv4 address`);
  return v;
}

export function serverMacFromArgs(args: ParsedArgs<Pick<typeof unicastArgs, "server-mac">>): Uint8Array | null {
  const text = flagText(args["server-mac"], "server-mac");
  if (text === null) return null;
  const mac = parseMac(text);
  if (!mac || (mac[0] & 1) !== 0) throw new UsageError(`--server-mac "${text}" is not a unicast MAC address (aa:bb:cc:dd:ee:ff)`);
  return mac;
}

export function unicastFromArgs(args: ParsedArgs<typeof unicastArgs>): UnicastChoice {
  const ip = hostFromArgs(args.server, "server");
  const giaddr = hostFromArgs(args.giaddr, "giaddr");
  const mac = serverMacFromArgs(args);
  if (ip === null) {
    if (giaddr !== null) throw new UsageError(`--giaddr needs --server IP: a relay agent unicasts to its server (e.g. --giaddr ${giaddr} --server 192.0.2.1)`);
    if (mac !== null) throw new UsageError("--server-mac goes with --server IP (the server it belongs to)");
    return { server: null, giaddr: null };
  }
  if (giaddr === ip) throw new UsageError("--giaddr is our (the relay agent's) address; --server is the server's: they differ");
  return { server: { ip, mac }, giaddr };
}

/** The flags every client exchange takes (discover and request spread them in their own order). */
export const clientArgs = { ...retryArgs, ...identityArgs, ...unicastArgs } as const;

/** IFACE (args.iface unless given) and the flags of clientArgs, as the options of cli/client (discover, request). */
export function clientOptionsFromArgs(
  args: ParsedArgs<typeof clientArgs> & { iface?: string },
  rawArgs: string[],
  command: string,
  noType53: string,
  iface: string | undefined = args.iface,
): ClientOptions {
  if (!iface) throw new UsageError(`which interface? e.g. dhcptool ${command} eth0`);
  return {
    iface,
    mac: macFromArgs(args, { random: true }) ?? "interface",
    identity: identityFromArgs(args, rawArgs),
    broadcastFlag: args["broadcast-flag"] === true,
    extra: extraOptionsFromArgs(rawArgs, noType53),
    ...retryFromArgs(args),
    ...unicastFromArgs(args),
  };
}

// ---------------------------------------------------------------- the daemon's files

export const dirArgs = {
  "state-dir": { type: "string", description: `Where the daemon stores leases (default ${DEFAULT_STATE_DIR})`, valueHint: "DIR" },
  "run-dir": { type: "string", description: `Where its control socket is (default ${DEFAULT_RUN_DIR})`, valueHint: "DIR" },
} as const;

export function dirsFromArgs(args: ParsedArgs<typeof dirArgs>): { stateDir: string; runDir: string } {
  return {
    stateDir: typeof args["state-dir"] === "string" ? args["state-dir"] : DEFAULT_STATE_DIR,
    runDir: typeof args["run-dir"] === "string" ? args["run-dir"] : DEFAULT_RUN_DIR,
  };
}

// ---------------------------------------------------------------- the resident commands' metrics

/** --metrics (watch, discover and request, each with --daemon); cli/metrics/ serves it. */
export const metricsArg = {
  metrics: {
    type: "string",
    description: "With --daemon: serve Prometheus /metrics (PORT alone: on 127.0.0.1)",
    valueHint: "[ADDR:]PORT",
  },
} as const;

/** --metrics: null when not given; a usage error without --daemon. */
export function metricsFromArgs(args: ParsedArgs<typeof metricsArg> & { daemon?: boolean }): MetricsAddress | null {
  const text = flagText(args.metrics, "metrics");
  if (text === null) return null;
  const address = parseMetricsAddress(text);
  if (args.daemon !== true) throw new UsageError("--metrics goes with --daemon (a one-shot run is over before anything scrapes it)");
  return address;
}

/** IFACE as the kernel would name an interface; `usage` is the command line to suggest. */
export function ifaceFromArgs(iface: string | undefined, usage: string): string {
  if (typeof iface !== "string" || iface === "") throw new UsageError(`which interface? e.g. ${usage}`);
  const problem = interfaceNameProblem(iface);
  if (problem) throw new UsageError(`"${escapeText(iface)}": ${problem}`);
  return iface;
}
