// `dhcptool lease show [IFACE]` and `lease renew|rebind IFACE`: talking to a running
// `request --daemon` over its control socket. `show` needs no daemon: without one it reads
// the stored lease file (no privilege needed beyond reading it).

import type { ParsedArgs } from "citty";
import { defineCommand } from "../command-line.ts";
import { readdirSync } from "node:fs";
import { escapeText } from "../../core/escape.ts";
import { dirArgs, dirsFromArgs, ifaceFromArgs, outputArgs, rejectUnknownFlags } from "../args.ts";
import { callControl, controlPath, ControlError, type ControlCommand } from "../daemon/control.ts";
import { interfaceNameProblem } from "../daemon/paths.ts";
import { leasePath, listStored, loadLease } from "../daemon/store.ts";
import { EXIT, UserError } from "../errors.ts";
import { print, printJson } from "../log.ts";
import { renderShown, type Shown } from "../render-lease.ts";

async function showOne(iface: string, stateDir: string, runDir: string): Promise<Shown | null> {
  const path = controlPath(runDir, iface);
  try {
    const r = await callControl(path, { cmd: "show" }, 5000);
    if (r.ok) return r as unknown as Shown;
  } catch (err) {
    if (!(err instanceof ControlError)) throw err;
  }
  const stored = loadLease(stateDir, iface);
  if (!stored.ok) {
    if (stored.reason === "missing") return null;
    throw new UserError(`${leasePath(stateDir, iface)}: ${stored.reason}: ${stored.detail}`);
  }
  const s = stored.stored;
  return {
    interface: iface,
    source: "file",
    phase: stored.expired ? "EXPIRED" : "STORED",
    mac: s.mac,
    savedAt: s.savedAt,
    lease: s.lease,
    stateFile: leasePath(stateDir, iface),
  };
}

export const showArgs = {
  iface: { type: "positional", required: false, description: "Interface (default: every interface with a daemon or a stored lease)", valueHint: "IFACE" },
  ...dirArgs,
  ...outputArgs,
} as const;

export const show = defineCommand({
  meta: { name: "show", description: "Show the lease of an interface: from its daemon, or the stored file when none runs" },
  args: showArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, showArgs);
    const { stateDir, runDir } = dirsFromArgs(args);
    let names: string[];
    if (args.iface) names = [ifaceFromArgs(args.iface, "dhcptool lease show eth0")];
    else {
      const sockets = (() => {
        try {
          return readdirSync(runDir)
            .filter((f) => f.endsWith(".sock"))
            .map((f) => f.slice(0, -5));
        } catch {
          return [];
        }
      })();
      names = [...new Set([...sockets, ...listStored(stateDir)])].filter((n) => interfaceNameProblem(n) === null).sort();
    }
    const shown: Shown[] = [];
    for (const n of names) {
      const s = await showOne(n, stateDir, runDir);
      if (s) shown.push(s);
    }
    if (args.json) printJson(args.iface ? (shown[0] ?? null) : shown);
    else print(shown.map((s) => renderShown(s)).join("\n"));
    if (shown.length === 0) {
      if (!args.json)
        print(
          args.iface
            ? `no lease known for ${escapeText(String(args.iface))} (no daemon, nothing in ${stateDir})\n`
            : `no leases (no daemons in ${runDir}, nothing in ${stateDir})\n`,
        );
      return EXIT.noAnswer;
    }
    return EXIT.ok;
  },
});

const ifaceArg = { iface: { type: "positional", required: true, description: "Interface the daemon manages", valueHint: "IFACE" } } as const;
export const controlArgs = { ...ifaceArg, ...dirArgs, ...outputArgs } as const;

/** Sends `cmd` to the daemon of IFACE and prints its answer. */
async function toDaemon(cmd: ControlCommand, args: ParsedArgs<typeof controlArgs>): Promise<number> {
  const iface = ifaceFromArgs(args.iface, `dhcptool lease ${cmd} eth0`);
  const { runDir } = dirsFromArgs(args);
  const path = controlPath(runDir, iface);
  let r;
  try {
    r = await callControl(path, { cmd });
  } catch (err) {
    if (err instanceof ControlError) throw new UserError(`no dhcptool daemon answers for ${iface}: ${err.message}`);
    throw err;
  }
  if (args.json) printJson(r);
  else if (r.ok) print(`${iface}: ${String(r.result)}\n`);
  if (!r.ok) throw new UserError(`the daemon refused: ${escapeText(r.error)}`);
  return EXIT.ok;
}

/** `lease renew|rebind IFACE`: one control command, its answer printed. */
function controlCommand(cmd: "renew" | "rebind", description: string) {
  return defineCommand({
    meta: { name: cmd, description },
    args: controlArgs,
    async run({ args, rawArgs }) {
      rejectUnknownFlags(rawArgs, controlArgs);
      return await toDaemon(cmd, args);
    },
  });
}

export const renew = controlCommand("renew", "Ask the daemon of IFACE to renew now (unicast to its server; a new DISCOVER when it has no lease)");
export const rebind = controlCommand("rebind", "Ask the daemon of IFACE to rebind now (broadcast, any server may answer)");
