// `dhcptool lab up|down|status|exec`: a private network with real DHCP servers to try the
// tool on, made of network namespaces on this machine (needs root).

import { defineCommand } from "citty";
import { inClient, labDown, labUp, listLabs, readLab, LabError, MAX_SERVERS } from "../lab.ts";
import { outputArgs, parseNumber, rejectUnknownFlags } from "../args.ts";
import { EXIT, UsageError, UserError } from "../errors.ts";
import { printJson } from "../render.ts";
import { log, print } from "../log.ts";

export const labExamples = `
Examples:
  dhcptool lab up                         one dnsmasq server, client end lab0 in netns dtlab-c
  dhcptool lab up --servers 2             two servers on one segment (the second looks rogue)
  dhcptool lab exec -- dhcptool discover lab0
  ip netns exec dtlab-c dhcptool discover lab0 --json
  dhcptool lab status
  dhcptool lab down

The lab uses 198.18.0.0/24 (RFC 2544 benchmarking range) inside its own namespaces only:
<name>-c (client, interface lab0), <name>-s1.. (dnsmasq on srv0, 198.18.0.N), <name>-hub (bridge).
State and server logs live in /run/dhcptool/lab/<name>/.`;

const labArgs = {
  action: { type: "positional", required: true, description: "up, down, status or exec", valueHint: "ACTION" },
  name: { type: "string", description: "Lab name, 1-10 lower-case letters/digits (default dtlab)", valueHint: "NAME" },
  servers: { type: "string", description: `DHCP servers to start, 0-${MAX_SERVERS} (default 1)`, valueHint: "N" },
  ping: { type: "boolean", description: "Let dnsmasq ping an address before offering it (slower first offer, as in the field)" },
  ...outputArgs,
} as const;

function describe(name: string): void {
  const s = readLab(name);
  if (!s) { log.info(`lab "${name}" is not up`); return; }
  print(`lab ${s.name}: client netns ${s.clientNs}, interface ${s.clientIface}\n`);
  for (const x of s.servers) {
    print(`  server ${x.index}: netns ${x.ns}, dnsmasq ${x.ip} pid ${x.pid ?? "stopped"}, pool ${x.rangeStart}-${x.rangeEnd}\n`);
  }
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
          const state = labUp({ name, servers, ping: args.ping === true });
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
          if (cmd[0] === "dhcptool") cmd.splice(0, 1, process.execPath, Bun.main);
          const p = Bun.spawn(inClient(state, cmd), { stdio: ["inherit", "inherit", "inherit"] });
          return await p.exited;
        }
        default:
          throw new UsageError(`lab ${String(args.action)}: use up, down, status or exec`);
      }
    } catch (err) {
      if (err instanceof LabError) throw new UserError(err.message);
      throw err;
    }
  },
});
