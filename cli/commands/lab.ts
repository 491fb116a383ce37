// `dhcptool lab up|down|status|exec|block|unblock`: a private network with real DHCP servers
// to try the tool on, made of network namespaces on this machine (needs root).

import { defineCommand } from "citty";
import { blockUnicast } from "../lab-block.ts";
import {
  inClient, labDown, labUp, listLabs, readLab, LabError, MAX_SERVERS, SERVER_KINDS, DNSMASQ_MIN_LEASE_TIME,
  type LabServer, type ServerKind,
} from "../lab.ts";
import { outputArgs, parseNumber, rejectUnknownFlags } from "../args.ts";
import { EXIT, UsageError, UserError } from "../errors.ts";
import { selfCommand } from "../../native/self.ts";
import { printJson } from "../render.ts";
import { log, print } from "../log.ts";

export const labExamples = `
Examples:
  dhcptool lab up                         one dnsmasq server, client end lab0 in netns dtlab-c
  dhcptool lab up --servers 2             two servers on one segment (the second looks rogue)
  dhcptool lab up --kind kea --lease-time 10
                                          Kea with a 10 s lease (T1 5 s, T2 9 s): watch a client renew
  dhcptool lab up --servers 2 --kind kea,dnsmasq --lease-time 120 --renew-time 30 --rebind-time 90
  dhcptool lab up --servers 4 --kind dnsmasq,kea,isc,udhcpd
                                          four servers, one of each kind: try a command on all four
  dhcptool lab block --server 1           server 1 stops hearing unicast (renewals); broadcasts pass
  dhcptool lab unblock --server 1
  dhcptool lab exec -- dhcptool discover lab0
  ip netns exec dtlab-c dhcptool discover lab0 --json
  dhcptool lab status
  dhcptool lab down

The lab uses 198.18.0.0/24 (RFC 2544 benchmarking range) inside its own namespaces only:
<name>-c (client, interface lab0), <name>-s1.. (a server on srv0, 198.18.0.N), <name>-hub
(bridge). Server kinds: dnsmasq, kea (apt-get install kea-dhcp4-server), isc (ISC dhcpd,
isc-dhcp-server; authoritative: it NAKs a REQUEST for an address it cannot give), udhcpd (busybox).
State and server logs live in /run/dhcptool/lab/<name>/. Leases shorter than
${DNSMASQ_MIN_LEASE_TIME} s need another kind than dnsmasq: dnsmasq will not grant them. ISC dhcpd
and udhcpd send T1/T2 only when --renew-time/--rebind-time are given.
block drops unicast IPv4 UDP to the server's port 67 on its bridge port, so a client's RENEWING
REQUEST goes unanswered while its REBINDING broadcast still gets through.`;

const labArgs = {
  action: {
    type: "positional", required: true, description: "up, down, status, exec, block or unblock", valueHint: "ACTION",
    options: ["up", "down", "status", "exec", "block", "unblock"], // for completion (cli/ship/definitions.ts)
  },
  name: { type: "string", description: "Lab name, 1-10 lower-case letters/digits (default dtlab)", valueHint: "NAME" },
  servers: { type: "string", description: `DHCP servers to start, 0-${MAX_SERVERS} (default 1)`, valueHint: "N" },
  kind: { type: "string", description: `Server software: ${SERVER_KINDS.join(", ")}; one for all or a comma list per server (default dnsmasq)`, valueHint: "KIND" },
  "lease-time": { type: "string", description: `Lease time in seconds (default 3600; dnsmasq at least ${DNSMASQ_MIN_LEASE_TIME})`, valueHint: "S" },
  "renew-time": { type: "string", description: "T1 (option 58) in seconds (default half the lease)", valueHint: "S" },
  "rebind-time": { type: "string", description: "T2 (option 59) in seconds (default 7/8 of the lease)", valueHint: "S" },
  server: { type: "string", description: "block/unblock: which server, 1-N (default 1)", valueHint: "N" },
  ping: { type: "boolean", description: "Let dnsmasq ping an address before offering it (slower first offer, as in the field)" },
  ...outputArgs,
} as const;

function describe(name: string): void {
  const s = readLab(name);
  if (!s) { log.info(`lab "${name}" is not up`); return; }
  print(`lab ${s.name}: client netns ${s.clientNs}, interface ${s.clientIface}\n`);
  for (const x of s.servers) {
    print(`  server ${x.index}: netns ${x.ns}, ${x.kind} ${x.ip} pid ${x.pid ?? "stopped"}, pool ${x.rangeStart}-${x.rangeEnd}, ${timers(x)}` +
      `${x.unicastBlocked ? ", unicast blocked" : ""}\n`);
  }
}

function timers(x: LabServer): string {
  const t = [`lease ${x.leaseTime} s`];
  if (x.renewTime !== null) t.push(`T1 ${x.renewTime} s`);
  if (x.rebindTime !== null) t.push(`T2 ${x.rebindTime} s`);
  return t.join(", ");
}

/** --kind: one kind for every server, or a comma list with one per server. */
function kindsFromArg(value: string | undefined, servers: number): ServerKind[] | undefined {
  if (value === undefined || value === "") return undefined;
  const kinds = value.split(",").map((k) => k.trim());
  for (const k of kinds) {
    if (!(SERVER_KINDS as readonly string[]).includes(k)) throw new UsageError(`--kind "${k}": use ${SERVER_KINDS.join(", ")}`);
  }
  if (kinds.length === 1) return Array<ServerKind>(servers).fill(kinds[0] as ServerKind);
  if (kinds.length !== servers) throw new UsageError(`--kind lists ${kinds.length} kinds for ${servers} server(s): give one, or one per server`);
  return kinds as ServerKind[];
}

function seconds(value: unknown, flag: string): number | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  return parseNumber(value, flag, { min: 1, max: 0xfffffffe, integer: true, fallback: 0 });
}

export default defineCommand({
  meta: { name: "lab", description: "A private test network with real DHCP servers (network namespaces; root)" },
  args: labArgs,
  async run({ args, rawArgs }) {
    const dash = rawArgs.indexOf("--");
    rejectUnknownFlags(dash < 0 ? rawArgs : rawArgs.slice(0, dash), labArgs);
    const name = typeof args.name === "string" && args.name ? args.name : "dtlab";
    try {
      switch (args.action) {
        case "up": {
          const servers = parseNumber(args.servers as string | undefined, "servers", { min: 0, max: MAX_SERVERS, integer: true, fallback: 1 });
          const state = labUp({
            name, servers, ping: args.ping === true,
            kinds: kindsFromArg(args.kind as string | undefined, servers),
            leaseTime: seconds(args["lease-time"], "lease-time"),
            renewTime: seconds(args["renew-time"], "renew-time"),
            rebindTime: seconds(args["rebind-time"], "rebind-time"),
          });
          if (args.json) printJson(state);
          else {
            describe(name);
            log.info(`try: ip netns exec ${state.clientNs} dhcptool discover ${state.clientIface}`);
          }
          return EXIT.ok;
        }
        case "down": {
          const found = labDown(name);
          if (!found) log.info(`lab "${name}" was not up`);
          return EXIT.ok;
        }
        case "status": {
          if (args.json) printJson(listLabs().map((n) => readLab(n)));
          else if (typeof args.name === "string") describe(name);
          else {
            const labs = listLabs();
            if (!labs.length) log.info("no lab is up (dhcptool lab up)");
            for (const n of labs) describe(n);
          }
          return EXIT.ok;
        }
        case "exec": {
          const state = readLab(name);
          if (!state) throw new UserError(`lab "${name}" is not up (dhcptool lab up)`);
          const cmd = dash < 0 ? [] : rawArgs.slice(dash + 1);
          if (!cmd.length) throw new UsageError("lab exec -- COMMAND [ARGS]");
          // "dhcptool" inside the lab means this very program.
          if (cmd[0] === "dhcptool") cmd.splice(0, 1, ...selfCommand());
          const p = Bun.spawn(inClient(state, cmd), { stdio: ["inherit", "inherit", "inherit"] });
          return await p.exited;
        }
        case "block":
        case "unblock": {
          const state = readLab(name);
          if (!state) throw new UserError(`lab "${name}" is not up (dhcptool lab up)`);
          const n = state.servers.length;
          if (!n) throw new UserError(`lab "${name}" has no servers`);
          const server = parseNumber(args.server as string | undefined, "server", { min: 1, max: n, integer: true, fallback: 1 });
          blockUnicast(state, server, args.action === "block");
          log.info(`server ${server} (${state.servers[server - 1].ip}): unicast to port 67 ${args.action === "block" ? "dropped" : "passes again"}`);
          return EXIT.ok;
        }
        default:
          throw new UsageError(`lab ${String(args.action)}: use up, down, status, exec, block or unblock`);
      }
    } catch (err) {
      if (err instanceof LabError) throw new UserError(err.message);
      throw err;
    }
  },
});
