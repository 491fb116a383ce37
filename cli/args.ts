// Shared argument fragments (spread into each command that takes them) and the parsing
// citty leaves to us: numbers, repeated flags, unknown flags.

import { parseAllowList, type AllowList } from "../core/allow-list.ts";
import { UsageError } from "./errors.ts";

export const outputArgs = {
  json: { type: "boolean", description: "Print results as JSON on stdout (logs stay on stderr)" },
  verbose: { type: "boolean", alias: "v", description: "More detail: every option, dropped-packet counters" },
  quiet: { type: "boolean", alias: "q", description: "Print only errors on stderr" },
} as const;

type ArgDefLike = { type?: string; alias?: string | readonly string[] };

/** Rejects flags the command does not declare (citty passes them silently). */
export function rejectUnknownFlags(rawArgs: string[], defs: Record<string, ArgDefLike>): void {
  const known = new Set<string>(["help", "h"]);
  const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    known.add(name);
    known.add(kebab(name));
    if (def.type === "boolean") { known.add("no-" + name); known.add("no-" + kebab(name)); }
    const aliases = def.alias === undefined ? [] : typeof def.alias === "string" ? [def.alias] : def.alias;
    for (const a of aliases) known.add(a);
  }
  for (const arg of rawArgs) {
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.replace(/^--?/, "").split("=")[0];
    if (arg.startsWith("--") || name.length === 1) {
      if (!known.has(name)) throw new UsageError(`unknown option ${arg.split("=")[0]}`);
    } else {
      for (const ch of name) if (!known.has(ch)) throw new UsageError(`unknown option -${ch} in ${arg}`);
    }
  }
}

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

export function parseNumber(
  value: string | undefined, flag: string,
  opts: { min?: number; max?: number; integer?: boolean; fallback: number },
): number {
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
