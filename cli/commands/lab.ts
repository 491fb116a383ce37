// `dhcptool lab up|down|status|exec|block|unblock`: a private network with real DHCP servers
// to try the tool on, made of network namespaces on this machine (needs root).

import type { ParsedArgs } from "citty";
import { defineCommand } from "../command-line.ts";
import {
  blockUnicast,
  DNSMASQ_MIN_LEASE_TIME,
  inClient,
  isOneOf,
  labDown,
  labUp,
  LabError,
  LabUsageError,
  listLabs,
  MAX_LINKS,
  MAX_SERVERS,
  readLab,
  RELAY_KIND_NAMES,
  SERVER_KIND_NAMES,
  TOPOLOGIES,
  type LabServer,
  type LabState,
  type ServerKindName,
} from "../lab/index.ts";
import { outputArgs, parseNumber, rejectUnknownFlags } from "../args.ts";
import { EXIT, UsageError, UserError } from "../errors.ts";
import { StepStatus } from "../live.ts";
import { log, logLevel, print, printJson } from "../log.ts";
import { selfArgv, selfCommand } from "../self.ts";

const ACTIONS = ["up", "down", "status", "exec", "block", "unblock"] as const;

export const labExamples = `
Actions:
  up        build the lab and start its servers (and its relay when routed)
  down      stop everything the lab started and remove its namespaces
  status    what is up: namespaces, servers, pools, PIDs (exit 3: --name not up)
  exec      run a command in the client namespace: lab exec -- CMD [ARGS]
            ("dhcptool" there is this dhcptool, on PATH or not)
  block     server --server N stops hearing unicast to port 67 (renewals)
  unblock   lift that

Examples:
  dhcptool lab up                  one dnsmasq server; client lab0 in dtlab-c
  dhcptool lab up --servers 2      two servers on one segment (one looks rogue)
  dhcptool lab up --kind kea --lease-time 10
                                   Kea, 10 s lease (T1 5 s, T2 9 s): renewals
  dhcptool lab up --servers 4 --kind dnsmasq,kea,isc,udhcpd
                                   one server of each kind on one segment
  dhcptool lab up --topology routed --servers 3 --kind dnsmasq,kea,isc
                                   the servers behind a router running dhcrelay
  dhcptool lab up --topology routed --relay dnsmasq
                                   the same with dnsmasq --dhcp-relay
  dhcptool lab up --links 2        lab0 and lab1, each with a server of its own
  dhcptool lab up --client-bridge  lab0 is a port of bridge br0 (discover br0)
  dhcptool lab block --server 1    server 1 stops hearing renewals
  dhcptool lab exec -- dhcptool discover lab0
  dhcptool lab status
  dhcptool lab down

Network: 198.18.0.0/16 (RFC 2544 benchmarking range), inside the lab's own
namespaces only: <name>-c (client: lab0, lab1…), <name>-s1… (a server on srv0,
198.18.0.N), <name>-hub (the bridges), <name>-r (routed: the router).
flat: link K (lab<K>) is 198.18.K.0/24, server N on link (N-1) mod --links.
routed: lab0 on 198.18.1.0/24, the router 198.18.1.1 there and 198.18.0.254
beside the servers; each server hands out 198.18.1.0/24 through the relay.
Kinds: dnsmasq, kea (kea-dhcp4-server), isc (isc-dhcp-server; authoritative:
NAKs what it cannot give), udhcpd (busybox; flat only). Relays: dhcrelay
(isc-dhcp-relay), dnsmasq. dnsmasq leases ${DNSMASQ_MIN_LEASE_TIME} s at least; ISC dhcpd and
udhcpd send T1/T2 only when given. block drops unicast IPv4 UDP to the server's
port 67 on its bridge port: a RENEWING REQUEST goes unanswered, a REBINDING
broadcast still gets through. State and logs: /run/dhcptool/lab/<name>/.`;

const labArgs = {
  // options: the words shell completion offers (cli/ship/definitions.ts)
  action: { type: "positional", required: true, description: ACTIONS.join(", "), valueHint: "ACTION", options: [...ACTIONS] },
  name: { type: "string", description: "Lab name, 1-10 lower-case letters/digits (default dtlab)", valueHint: "NAME" },
  servers: { type: "string", description: `DHCP servers, 0-${MAX_SERVERS} (default 1 per link)`, valueHint: "N" },
  kind: { type: "string", description: `${SERVER_KIND_NAMES.join(", ")}: one, or one per server`, valueHint: "KIND" },
  topology: { type: "string", description: `${TOPOLOGIES.join(" or ")}: servers behind a relay (default flat)`, valueHint: "T" },
  relay: { type: "string", description: `routed: ${RELAY_KIND_NAMES.join(" or ")} (default dhcrelay)`, valueHint: "RELAY" },
  links: { type: "string", description: `Client interfaces lab0…, 1-${MAX_LINKS}, own segment each`, valueHint: "N" },
  "client-bridge": { type: "boolean", description: "Make lab0 a port of bridge br0 in the client netns" },
  "lease-time": { type: "string", description: `Lease time, s (default 3600; dnsmasq ≥ ${DNSMASQ_MIN_LEASE_TIME})`, valueHint: "S" },
  "renew-time": { type: "string", description: "T1 (option 58), s (default half the lease)", valueHint: "S" },
  "rebind-time": { type: "string", description: "T2 (option 59), s (default 7/8 of the lease)", valueHint: "S" },
  server: { type: "string", description: "block/unblock: which server, 1-N (default 1)", valueHint: "N" },
  ping: { type: "boolean", description: "dnsmasq pings before offering (slower, as in the field)" },
  pool: { type: "string", description: "Addresses per server (default 40; more: a /16, one link)", valueHint: "N" },
  ...outputArgs,
} as const;

function timers(x: LabServer): string {
  const t = [`lease ${x.leaseTime} s`];
  if (x.renewTime !== null) t.push(`T1 ${x.renewTime} s`);
  if (x.rebindTime !== null) t.push(`T2 ${x.rebindTime} s`);
  return t.join(", ");
}

function describe(s: LabState): void {
  const links = s.links.map((l) => `${l.iface} ${l.network}/${l.prefixLen}`).join(", ");
  print(
    `lab ${s.name}: ${s.topology}, client netns ${s.clientNs}: ${links}` + `${s.clientBridge ? ` (${s.links[0].iface} a port of ${s.clientBridge})` : ""}\n`,
  );
  const r = s.router;
  if (r) {
    print(
      `  router: netns ${r.ns}, ${r.down.ip} (${r.down.iface}) and ${r.up.ip} (${r.up.iface}), ` +
        `relay ${r.relay} pid ${r.pid ?? "stopped"} to ${r.servers.join(", ")}\n`,
    );
  }
  for (const x of s.servers) {
    print(
      `  server ${x.index}: netns ${x.ns}, ${x.kind} ${x.ip} pid ${x.pid ?? "stopped"}, pool ${x.rangeStart}-${x.rangeEnd}, ${timers(x)}` +
        `${x.unicastBlocked ? ", unicast blocked" : ""}\n`,
    );
  }
}

/** --kind: one kind for every server, or a comma list with one per server. */
function kindsFromArg(value: string | undefined, servers: number): ServerKindName[] | undefined {
  if (value === undefined || value === "") return undefined;
  const kinds: ServerKindName[] = [];
  for (const k of value.split(",").map((x) => x.trim())) {
    if (!isOneOf(SERVER_KIND_NAMES, k)) throw new UsageError(`--kind "${k}": use ${SERVER_KIND_NAMES.join(", ")}`);
    kinds.push(k);
  }
  if (kinds.length === 1) return Array<ServerKindName>(servers).fill(kinds[0]);
  if (kinds.length !== servers) throw new UsageError(`--kind lists ${kinds.length} kinds for ${servers} server(s): give one, or one per server`);
  return kinds;
}

/** A string flag that must be one of list, or undefined when not given. */
function oneOf<T extends string>(value: string | undefined, list: readonly T[], flag: string): T | undefined {
  if (value === undefined || value === "") return undefined;
  if (!isOneOf(list, value)) throw new UsageError(`--${flag} "${value}": use ${list.join(" or ")}`);
  return value;
}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  return parseNumber(value, flag, { min: 1, max: 0xfffffffe, integer: true, fallback: 0 });
}

function upLab(name: string, args: ParsedArgs<typeof labArgs>, progress?: (step: string) => void): LabState {
  const links = parseNumber(args.links, "links", { min: 1, max: MAX_LINKS, integer: true, fallback: 1 });
  const servers = parseNumber(args.servers, "servers", { min: 0, max: MAX_SERVERS, integer: true, fallback: links });
  return labUp(
    {
      name,
      servers,
      links,
      ping: args.ping === true,
      clientBridge: args["client-bridge"] === true,
      kinds: kindsFromArg(args.kind, servers),
      topology: oneOf(args.topology, TOPOLOGIES, "topology"),
      relay: oneOf(args.relay, RELAY_KIND_NAMES, "relay"),
      leaseTime: seconds(args["lease-time"], "lease-time"),
      renewTime: seconds(args["renew-time"], "renew-time"),
      rebindTime: seconds(args["rebind-time"], "rebind-time"),
      pool: args.pool === undefined || args.pool === "" ? undefined : parseNumber(args.pool, "pool", { min: 1, max: 65535, integer: true, fallback: 0 }),
    },
    progress,
  );
}

/**
 * lab up with, on a terminal, a status line of the step it is at (the network, each server,
 * the wait for one to be ready, the relay) and for how long, erased before the result. labUp
 * runs synchronously, so the line is drawn from its progress calls, not from a timer.
 */
function upLabShowingSteps(name: string, args: ParsedArgs<typeof labArgs>): LabState {
  const status = StepStatus.forTerminal(args.json !== true && logLevel() >= 1);
  if (!status) return upLab(name, args);
  try {
    return upLab(name, args, (step) => status.step(step));
  } finally {
    status.stop();
  }
}

function upLabOrNot(name: string): LabState {
  const state = readLab(name);
  if (!state) throw new UserError(`lab "${name}" is not up (dhcptool lab up${name === "dtlab" ? "" : ` --name ${name}`})`);
  return state;
}

export default defineCommand({
  meta: { name: "lab", description: "A private test network with real DHCP servers (network namespaces; root)" },
  args: labArgs,
  async run({ args, rawArgs }) {
    const dash = rawArgs.indexOf("--");
    rejectUnknownFlags(dash < 0 ? rawArgs : rawArgs.slice(0, dash), labArgs);
    const extra = args._.slice(1, args._.length - (dash < 0 ? 0 : rawArgs.length - dash - 1));
    if (extra.length) throw new UsageError(`lab ${args.action}: unexpected argument "${extra[0]}"`);
    // citty gives a string flag with no value ("--servers" last) as ""
    for (const [flag, def] of Object.entries(labArgs)) {
      if (def.type === "string" && args[flag] === "") throw new UsageError(`--${flag} needs a value`);
    }
    const name = args.name || "dtlab";
    const nameFlag = name === "dtlab" ? "" : ` --name ${name}`;
    try {
      switch (args.action) {
        case "up": {
          const state = upLabShowingSteps(name, args);
          if (args.json) printJson(state);
          else {
            describe(state);
            log.info(`try: ${selfCommand()} lab exec${nameFlag} -- dhcptool discover ${state.clientBridge ?? state.clientIface}`);
          }
          return EXIT.ok;
        }
        case "down": {
          if (!labDown(name)) log.info(`lab "${name}" was not up`);
          return EXIT.ok;
        }
        case "status": {
          if (args.name) {
            const state = readLab(name);
            if (!state) {
              log.error(`lab "${name}" is not up`);
              return EXIT.noAnswer;
            }
            if (args.json) printJson(state);
            else describe(state);
            return EXIT.ok;
          }
          const labs = listLabs()
            .map((n) => readLab(n))
            .filter((s): s is LabState => s !== null);
          if (args.json) printJson(labs);
          else if (!labs.length) log.info("no lab is up (dhcptool lab up)");
          for (const s of args.json ? [] : labs) describe(s);
          return EXIT.ok;
        }
        case "exec": {
          const state = upLabOrNot(name);
          const cmd = dash < 0 ? [] : rawArgs.slice(dash + 1);
          if (!cmd.length) throw new UsageError("lab exec -- COMMAND [ARGS]");
          // "dhcptool" inside the lab means this very program, on PATH or not
          if (cmd[0] === "dhcptool") cmd.splice(0, 1, ...selfArgv());
          const p = Bun.spawn(inClient(state, cmd), { stdio: ["inherit", "inherit", "inherit"] });
          return await p.exited;
        }
        case "block":
        case "unblock": {
          const state = upLabOrNot(name);
          const n = state.servers.length;
          if (!n) throw new UserError(`lab "${name}" has no servers`);
          const server = parseNumber(args.server, "server", { min: 1, max: n, integer: true, fallback: 1 });
          blockUnicast(state, server, args.action === "block");
          log.info(`server ${server} (${state.servers[server - 1].ip}): unicast to port 67 ${args.action === "block" ? "dropped" : "passes again"}`);
          return EXIT.ok;
        }
        default:
          throw new UsageError(`lab ${String(args.action)}: use ${ACTIONS.join(", ")}`);
      }
    } catch (err) {
      if (err instanceof LabUsageError) throw new UsageError(err.message);
      if (err instanceof LabError) throw new UserError(err.message);
      throw err;
    }
  },
});
