// `dhcptool discover IFACE`: broadcast DISCOVER, collect every OFFER, show who answered,
// with what, and how fast.

import { hostname as osHostname } from "node:os";
import { defineCommand } from "citty";
import { parseIp, parseMac, fromHex } from "../../core/bytes.ts";
import { shortHostname, DEFAULT_REQUEST_LIST } from "../../core/client.ts";
import { escapeText } from "../../core/escape.ts";
import { isUsableAddress } from "../../core/lease-times.ts";
import type { OptionBytes } from "../../core/message.ts";
import { parseOptionArg } from "../../core/options.ts";
import { allValues, allowListFromArgs, outputArgs, parseNumber, rejectUnknownFlags } from "../args.ts";
import { EXIT, UsageError } from "../errors.ts";
import { log, print } from "../log.ts";
import { accountFromArgs, dropAfterOpen, userArg } from "../privilege.ts";
import { runDiscover, type DiscoverOptions } from "../client/discover.ts";
import { checkRelayAddress } from "../client/unicast.ts";

export const discoverArgs = {
  iface: { type: "positional", required: true, description: "Interface to send on (e.g. eth0)", valueHint: "IFACE" },
  wait: { type: "string", description: "Listen for offers this many seconds (default 5)", valueHint: "S" },
  first: { type: "boolean", description: "Stop at the first offer" },
  timeout: { type: "string", description: "Retransmit the DISCOVER after S seconds (default 2)", valueHint: "S" },
  tries: { type: "string", description: "Send at most N DISCOVERs inside the window (default 3)", valueHint: "N" },
  mac: { type: "string", description: "Client MAC: the interface's (default), aa:bb:cc:dd:ee:ff, or random", valueHint: "MAC" },
  "client-id": { type: "string", description: "Option 61 as hex (type byte first); default 01 + MAC", valueHint: "HEX" },
  hostname: { type: "string", description: "Host name for option 12 (default: this host's, up to the first dot)", valueHint: "NAME" },
  "no-hostname": { type: "boolean", description: "Send no host name" },
  "vendor-class": { type: "string", description: "Option 60 vendor class identifier", valueHint: "TEXT" },
  "request-options": { type: "string", description: "Option 55 list (default 1,3,6,12,15,28,119,121)", valueHint: "1,3,6" },
  "broadcast-flag": { type: "boolean", description: "Ask servers to broadcast their reply (BOOTP flags bit)" },
  "prefer-ipv6": { type: "boolean", description: "Ask for option 108, IPv6-only preferred (RFC 8925)" },
  option: { type: "string", description: "Add or replace an option: CODE|NAME=VALUE, typed (121=192.0.2.0/24,10.0.0.1) or hex:BYTES; repeatable", valueHint: "CODE=VALUE" },
  "allow-server": { type: "string", description: "A legitimate server (IP or MAC; repeat or comma-separate). Any other that answers is rogue: exit 5", valueHint: "IP|MAC" },
  server: { type: "string", description: "Ask this one server by unicast instead of broadcasting; replies from any other are dropped", valueHint: "IP" },
  "server-mac": { type: "string", description: "With --server: the Ethernet destination (default ff:ff:ff:ff:ff:ff, since nothing ARPs for the server)", valueHint: "MAC" },
  giaddr: { type: "string", description: "Relay simulation: send as a relay agent at IP (an address on IFACE), with giaddr and hops 1, from IP:67 to --server; the server answers to IP:67", valueHint: "IP" },
  // --- resident prober (cli/probe.ts) ---
  daemon: { type: "boolean", description: "Stay resident: probe every --interval seconds with one stable MAC, report new, changed, vanished and rogue servers" },
  interval: { type: "string", description: "With --daemon: seconds between probes (default 60, at least 1); --wait is kept below it", valueHint: "S" },
  "vanish-after": { type: "string", description: "With --daemon: a server missing from N probes in a row has vanished (default 2)", valueHint: "N" },
  ...userArg,
  // --- end resident prober ---
  ...outputArgs,
} as const;

export const discoverExamples = `
Examples:
  dhcptool discover eth0                      every server on eth0, as a table
  dhcptool discover eth0 --first              the first offer only; quickest check
  dhcptool discover eth0 --json | jq '.offers[].serverId'
  dhcptool discover eth0 --allow-server 192.0.2.1 || echo "rogue DHCP server!"
  dhcptool discover eth0 --mac random --wait 10 --verbose
  dhcptool discover eth0 --option user-class=ipxe --option 93=7   as a UEFI PXE client would
  dhcptool discover eth0 --server 192.0.2.1   ask that server alone, by unicast (dhcping-style)
  dhcptool discover eth0 --server 192.0.2.1 --server-mac 52:54:00:12:34:56   …in a frame to its MAC
  dhcptool discover eth0 --giaddr 192.0.2.5 --server 192.0.2.1   as a relay agent at 192.0.2.5 would
  dhcptool discover eth0 --daemon --allow-server 192.0.2.1    probe every 60 s, report changes
  dhcptool discover eth0 --daemon --interval 300 --json >> probe.ndjson   one event per line
  dhcptool discover eth0 --daemon --mac random --vanish-after 3   one random MAC, kept all run

Exit status:
  0 at least one offer   3 no offer in the window   5 a server outside --allow-server answered
  1 error (interface missing or down, no permission)   2 usage error
  --daemon runs until SIGTERM or Ctrl-C, prints a summary, then exits 0, or 5 if a server
  outside --allow-server answered at any time during the run (1 if the interface is missing
  at start; a probe that fails later is logged and probing goes on). SIGUSR1: a summary now.

Latency is measured from the first DISCOVER; DISCOVERs are retransmitted (same xid) every
--timeout seconds, at most --tries times, inside the --wait window.

--server IP sends the DISCOVER to IP instead of 255.255.255.255, in a frame to the Ethernet
broadcast address (or --server-mac), from an IPv4 address IFACE holds (the one in IP's subnet
first). With no address on IFACE it goes from 0.0.0.0, which servers on a Linux UDP socket
(dnsmasq) drop as a martian source; raw-socket servers (Kea, ISC dhcpd) answer it. Only
replies from IP (server id or source address) count: others are dropped and counted
(other-server), so they are never shown and never rogue. A server beyond a router needs
--server-mac with the router's MAC (a frame to the Ethernet broadcast address is not
routed) and --giaddr (without a relay address it answers on its own link).
--giaddr IP (needs --server) plays the relay agent (RFC 1542, RFC 2131 4.1): giaddr = IP,
hops 1, sent from IP:67, so the server answers to IP:67 and picks the pool of IP's subnet.
IP must be an address on IFACE (the server ARPs for it; ip addr add IP/24 dev IFACE).

--daemon (in the spirit of dhcp_probe) repeats this exchange every --interval seconds with
one MAC kept for the whole run (the interface's, --mac, or one random MAC drawn at start) and
sends only DISCOVERs, so it binds no lease and drains no pool. Events: server-new,
server-changed (mask, routers, DNS, domain, search, routes, lease time, source IP or MAC:
not the offered address), server-vanished (no offer in --vanish-after probes in a row),
server-back, rogue, and a probe line per probe (with --verbose; always in --json).`;

type Parsed = Record<string, string | boolean | string[] | undefined>;

export function discoverOptionsFromArgs(args: Parsed, rawArgs: string[]): DiscoverOptions {
  const iface = String(args.iface ?? "");
  if (!iface) throw new UsageError("which interface? e.g. dhcptool discover eth0");
  const waitS = parseNumber(args.wait as string | undefined, "wait", { min: 0.1, max: 3600, fallback: 5 });
  const retryS = parseNumber(args.timeout as string | undefined, "timeout", { min: 0.1, max: 3600, fallback: 2 });
  const tries = parseNumber(args.tries as string | undefined, "tries", { min: 1, max: 100, integer: true, fallback: 3 });

  let mac: DiscoverOptions["mac"] = "interface";
  if (typeof args.mac === "string" && args.mac !== "") {
    if (args.mac === "random") mac = "random";
    else {
      const m = parseMac(args.mac);
      if (!m) throw new UsageError(`--mac "${args.mac}" is not a MAC address (aa:bb:cc:dd:ee:ff or random)`);
      mac = m;
    }
  }
  let clientId: Uint8Array | undefined;
  if (typeof args["client-id"] === "string") {
    const b = fromHex(args["client-id"]);
    if (!b || b.length < 2 || b.length > 255) throw new UsageError("--client-id takes 2 to 255 bytes of hex, type byte first (e.g. 01aabbccddeeff)");
    clientId = b;
  }
  let requestList = DEFAULT_REQUEST_LIST;
  if (typeof args["request-options"] === "string") {
    const codes = args["request-options"].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
    if (!codes.length || codes.some((c) => !Number.isInteger(c) || c < 1 || c > 254)) {
      throw new UsageError("--request-options takes option codes 1-254, comma-separated (e.g. 1,3,6)");
    }
    requestList = codes;
  }
  let hostname: string | null = null;
  // citty turns --no-hostname into hostname=false; read the raw flag to be sure.
  if (!rawArgs.includes("--no-hostname") && args.hostname !== false) {
    const h = typeof args.hostname === "string" ? args.hostname : shortHostname(osHostname());
    if (h.length > 255) throw new UsageError("--hostname is longer than 255 bytes");
    hostname = h || null;
  }
  let vendorClass: Uint8Array | undefined;
  if (typeof args["vendor-class"] === "string") {
    vendorClass = new TextEncoder().encode(args["vendor-class"]);
    if (vendorClass.length === 0 || vendorClass.length > 255) throw new UsageError("--vendor-class takes 1 to 255 bytes");
  }
  const extra: OptionBytes[] = [];
  for (const value of allValues(rawArgs, "option")) {
    const r = parseOptionArg(value);
    if (!r.ok) throw new UsageError(`--option ${value}: ${r.reason}`);
    if (r.code === 53) throw new UsageError("--option 53: discover sends DISCOVERs; the message type is not an option here");
    extra.push({ code: r.code, data: r.data });
  }
  const allow = allowListFromArgs(rawArgs);
  const { server, giaddr } = unicastFromArgs(args);
  return {
    iface, waitMs: waitS * 1000, retryMs: retryS * 1000, tries, first: args.first === true, mac,
    identity: { hostname, clientId, vendorClass, requestList, preferIpv6: args["prefer-ipv6"] === true },
    broadcastFlag: args["broadcast-flag"] === true,
    extra,
    allow,
    server,
    giaddr,
  };
}

function unicastFromArgs(args: Parsed): Pick<DiscoverOptions, "server" | "giaddr"> {
  const text = (flag: string) => {
    const v = args[flag];
    if (v === undefined) return null;
    if (typeof v !== "string" || v === "") throw new UsageError(`--${flag} needs a value`);
    return v;
  };
  const host = (flag: string, v: string | null) => {
    if (v !== null && (parseIp(v) === null || !isUsableAddress(v))) throw new UsageError(`--${flag} "${v}" is not a unicast IPv4 address`);
    return v;
  };
  const ip = host("server", text("server"));
  const giaddr = host("giaddr", text("giaddr"));
  const macText = text("server-mac");
  let mac: Uint8Array | null = null;
  if (macText !== null) {
    mac = parseMac(macText);
    if (!mac || (mac[0] & 1) !== 0) throw new UsageError(`--server-mac "${macText}" is not a unicast MAC address (aa:bb:cc:dd:ee:ff)`);
  }
  if (ip === null) {
    if (giaddr !== null) throw new UsageError(`--giaddr needs --server IP: a relay agent unicasts to its server (e.g. --giaddr ${giaddr} --server 192.0.2.1)`);
    if (mac !== null) throw new UsageError("--server-mac goes with --server IP (the server it belongs to)");
    return { server: null, giaddr: null };
  }
  if (giaddr === ip) throw new UsageError("--giaddr is our (the relay agent's) address; --server is the server's: they differ");
  return { server: { ip, mac }, giaddr };
}

export default defineCommand({
  meta: { name: "discover", description: "Find the DHCP servers on a link: who answers, what they offer, how fast" },
  args: discoverArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, discoverArgs);
    const opts = discoverOptionsFromArgs(args as Parsed, rawArgs);
    // --- resident prober: cli/probe.ts checks --daemon/--interval/--vanish-after and runs it ---
    if (args.daemon === true || args.interval !== undefined || args["vanish-after"] !== undefined) {
      // Each probe checks again; a giaddr missing at start is a usage error, not a failing probe.
      if (opts.giaddr !== null) checkRelayAddress(opts.iface, opts.giaddr);
      const { runProbeDaemon } = await import("../probe.ts");
      return runProbeDaemon(args as Parsed, opts);
    }
    // --- end resident prober ---
    // The OFFERs are parsed as --user (nobody) with no capability left.
    const account = accountFromArgs(args as Parsed);
    const result = await runDiscover({ ...opts, afterOpen: () => dropAfterOpen(account, [], "discover") });
    const rogue = result.rogueServers.length > 0;
    for (const r of result.rogueServers) log.warn(`rogue DHCP server: ${escapeText(r)} is not in --allow-server`);
    if (args.json) {
      const { printJson } = await import("../render.ts");
      printJson(result);
    } else {
      const render = await import("../render.ts");
      if (result.offers.length) print(render.renderOfferTable(result.offers, opts.allow !== null));
      if (args.verbose) for (const o of result.offers) print(render.renderOfferDetail(o) + "\n");
      const drops = Object.entries(result.dropped).map(([k, v]) => `${k} ${v}`).join(", ");
      log.verbose(`xid ${result.xid}, mac ${result.mac}, ${result.discoversSent} DISCOVER(s), ${result.elapsedMs} ms` +
        (drops ? `; dropped: ${drops}` : "") + (result.kernelDrops ? `; kernel drops ${result.kernelDrops}` : ""));
      if (!result.offers.length) log.warn(`no DHCP offer on ${escapeText(result.interface)} within ${opts.waitMs / 1000} s`);
    }
    return rogue ? EXIT.rogue : result.offers.length ? EXIT.ok : EXIT.noAnswer;
  },
});
