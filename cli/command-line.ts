// A command line, read once: the checks citty leaves to us, in our words (unknown flags, a flag
// given no value, missing or extra positionals, flags that contradict each other: exit 2),
// and the arguments a command's run() gets, in citty's shape (ParsedArgs of its definition).
//
// Commands are citty commands (defineCommand, their args, meta and subcommands; main.ts routes
// to them), but citty's runCommand is not what runs them: its parser is node:util's parseArgs,
// and importing node:util alone costs ~1.8 ms of a one-shot's ~10 (docs/BENCHMARKS.md, "Where
// a discover's time goes"). parseCommandLine gives what citty's parseArgs gives for the same
// definitions and tokens, test/unit/command-line.test.ts holds it to that, token for token,
// against citty itself.

import type { ArgsDef, CommandContext, CommandDef, ParsedArgs } from "citty";
import { escapeText } from "../core/escape.ts";
import { UsageError } from "./errors.ts";

/** citty's defineCommand (an identity that types the definition), without importing citty at run time. */
export function defineCommand<const T extends ArgsDef = ArgsDef>(def: CommandDef<T>): CommandDef<T> {
  return def;
}

type ArgDefLike = { type?: string; alias?: string | readonly string[] };

const aliasesOf = (def: ArgDefLike): readonly string[] => (def.alias === undefined ? [] : typeof def.alias === "string" ? [def.alias] : def.alias);

/** Rejects flags the command does not declare (citty passes them silently). */
export function rejectUnknownFlags(rawArgs: string[], defs: Record<string, ArgDefLike>): void {
  const known = new Set<string>(["help", "h"]);
  // (a regular expression only for a camelCase name: dozens of replace() calls cost a one-shot ~0.1 ms)
  const kebab = (s: string) => (s === s.toLowerCase() ? s : s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()));
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    known.add(name);
    known.add(kebab(name));
    if (def.type === "boolean") {
      known.add("no-" + name);
      known.add("no-" + kebab(name));
    }
    for (const a of aliasesOf(def)) known.add(a);
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

type ArgDef = ArgDefLike & { required?: boolean; valueHint?: string };

/** The usage line: `dhcptool discover IFACE`, `dhcptool lease decline IFACE --address IP --server IP`. */
export function usageLine(command: string, defs: Record<string, ArgDef>): string {
  const parts = [`dhcptool ${command}`];
  for (const [name, d] of Object.entries(defs)) {
    if (d.type === "positional") parts.push(d.required ? (d.valueHint ?? name.toUpperCase()) : `[${d.valueHint ?? name.toUpperCase()}]`);
  }
  for (const [name, d] of Object.entries(defs)) {
    if (d.type === "string" && d.required) parts.push(`--${name} ${d.valueHint ?? "VALUE"}`);
  }
  return parts.join(" ");
}

/** A token that is a flag, not a value (a lone "-" is stdin; -1 would be a number). */
const isFlag = (t: string) => t.startsWith("-") && t !== "-" && !/^-\d/.test(t);

/**
 * What citty leaves unchecked or says in its own words, in ours (exit 2): unknown flags, a
 * flag that needs a value given none, missing and extra positionals, missing required flags,
 * flags that contradict each other. `command` is how the command is typed ("lease decline").
 */
export function checkCommandLine(command: string, defs: Record<string, ArgDef>, rawArgs: string[]): void {
  try {
    rejectUnknownFlags(rawArgs, defs);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}: dhcptool ${command} --help lists the options`);
  }
  const usage = () => usageLine(command, defs); // for an error only
  const byName = new Map<string, [string, ArgDef]>();
  for (const [name, d] of Object.entries(defs)) {
    byName.set(name, [name, d]);
    for (const al of aliasesOf(d)) byName.set(al, [name, d]);
  }
  const given = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const t = rawArgs[i];
    if (t === "--") break;
    if (!isFlag(t)) {
      positionals.push(t);
      continue;
    }
    const [flag, inline] = t.startsWith("--") ? [t.slice(2).split("=")[0], t.includes("=")] : [t.slice(1), false];
    const letters = t.startsWith("--") ? [flag] : [...flag];
    for (const l of letters) {
      const [name, d] = byName.get(l) ?? byName.get(l.replace(/^no-/, "")) ?? [l, {}];
      given.add(l.startsWith("no-") && !byName.has(l) ? `no-${name}` : name);
      if (d.type === "string" && !inline) {
        const value = rawArgs[i + 1];
        if (value === undefined || isFlag(value)) throw new UsageError(`--${name} needs a value: --${name} ${d.valueHint ?? "VALUE"}`);
        i++;
      }
    }
  }
  const wanted = Object.entries(defs).filter(([, d]) => d.type === "positional");
  const missing = wanted.filter(([, d]) => d.required).slice(positionals.length);
  if (missing.length) {
    const [name, d] = missing[0];
    throw new UsageError(`missing ${d.valueHint ?? name.toUpperCase()}: ${usage()}`);
  }
  // IFACE…: a positional that takes several (discover eth0 eth1)
  const several = wanted.some(([, d]) => (d.valueHint ?? "").endsWith("…"));
  if (positionals.length > wanted.length && !several) {
    const what = wanted.length ? `takes one ${wanted.map(([n, d]) => d.valueHint ?? n.toUpperCase()).join(" ")}` : "takes no argument";
    throw new UsageError(`unexpected argument "${escapeText(positionals[wanted.length])}": dhcptool ${command} ${what}`);
  }
  for (const [name, d] of Object.entries(defs)) {
    if (d.type === "string" && d.required && !given.has(name)) throw new UsageError(`missing --${name} ${d.valueHint ?? "VALUE"}: ${usage()}`);
  }
  const both = (a: string, b: string, why: string) => {
    if (given.has(a) && given.has(b)) throw new UsageError(`${why}: give one of them`);
  };
  both("quiet", "verbose", "-q (errors only) and -v (more detail) contradict each other");
  both("hostname", "no-hostname", "--hostname and --no-hostname contradict each other");
  if (given.has("json") && given.has("format")) {
    const i = rawArgs.findIndex((t) => t === "--format" || t.startsWith("--format="));
    const format = rawArgs[i].includes("=") ? rawArgs[i].split("=")[1] : rawArgs[i + 1];
    // request's --format is an output (text, json, env); lease decode's an input (hex, raw, …)
    if (format === "text" || format === "env") throw new UsageError(`--json and --format ${escapeText(format)} contradict each other: give one of them`);
  }
}

/**
 * The arguments as citty's parseArgs reads these tokens against these definitions: positionals
 * in `_` (everything after "--" too) and under their names in order; a string flag takes its
 * inline value (--x=v) or the next token, whatever it is ("" at the end); a boolean is true,
 * or `value !== "false"` inline; --no-X makes X false whatever came before or after; short
 * letters may be grouped (-vw); aliases carry the value both ways. Repeats: the last wins
 * (allValues() reads every one). Call checkCommandLine first: this one does not judge.
 */
export function parseCommandLine<T extends ArgsDef>(defs: T, rawArgs: string[]): ParsedArgs<T> {
  const out: Record<string, unknown> & { _: string[] } = { _: [] };
  const byName = new Map<string, [string, ArgDefLike]>();
  for (const [name, d] of Object.entries(defs) as [string, ArgDefLike][]) {
    if (d.type === "positional") continue;
    byName.set(name, [name, d]);
    for (const al of aliasesOf(d)) byName.set(al, [name, d]);
  }
  // --no-X comes out first, wherever it stands before "--": it never is a flag's value.
  const negated: string[] = [];
  const tokens: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    if (rawArgs[i] === "--") {
      tokens.push(...rawArgs.slice(i));
      break;
    }
    if (rawArgs[i].startsWith("--no-")) negated.push(rawArgs[i].slice(5));
    else tokens.push(rawArgs[i]);
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === "--") {
      out._.push(...tokens.slice(i + 1));
      break;
    }
    if (t.startsWith("--") && t.length > 2) {
      // under the name given (--v is "v", which the aliases then copy to "verbose" if unset)
      const eq = t.indexOf("=");
      const flag = eq < 0 ? t.slice(2) : t.slice(2, eq);
      const inline = eq < 0 ? undefined : t.slice(eq + 1);
      const d = byName.get(flag)?.[1] ?? {};
      if (d.type === "string") out[flag] = inline ?? (i + 1 < tokens.length ? tokens[++i] : "");
      else out[flag] = inline === undefined ? true : d.type === "boolean" ? inline !== "false" : inline;
    } else if (t.startsWith("-") && t.length > 1) {
      // a short letter stands for the flag it is an alias of
      for (let k = 1; k < t.length; k++) {
        const [name, d] = byName.get(t[k]) ?? [t[k], {}];
        if (d.type === "string") {
          // -xVALUE, or -x VALUE: the rest of the group is the value
          out[name] = k + 1 < t.length ? t.slice(k + 1) : i + 1 < tokens.length ? tokens[++i] : "";
          break;
        }
        out[name] = true;
      }
    } else {
      out._.push(t);
    }
  }
  for (const flag of negated) {
    const [name, d] = byName.get(flag) ?? [flag, {}];
    out[flag] = false;
    out[name] = false;
    for (const al of aliasesOf(d)) out[al] = false;
  }
  // A name and its alias: whichever is unset takes the other's value (two different values stay).
  for (const [name, d] of byName.values()) {
    for (const al of aliasesOf(d)) {
      if (out[al] !== undefined && out[name] === undefined) out[name] = out[al];
      if (out[name] !== undefined && out[al] === undefined) out[al] = out[name];
    }
  }
  let next = 0;
  for (const [name, d] of Object.entries(defs) as [string, ArgDefLike][]) {
    if (d.type === "positional" && next < out._.length) out[name] = out._[next++];
  }
  return out as ParsedArgs<T>;
}

/** Checks the command line (checkCommandLine) and runs the command with what parseCommandLine reads from it. */
// biome-ignore lint/suspicious/noExplicitAny: any command, whatever its args (as citty's SubCommandsDef)
export async function runCommand(title: string, cmd: CommandDef<any>, rawArgs: string[]): Promise<unknown> {
  const defs = (cmd.args ?? {}) as ArgsDef;
  checkCommandLine(title, defs, rawArgs);
  const context: CommandContext<ArgsDef> = { rawArgs, args: parseCommandLine(defs, rawArgs), cmd };
  return cmd.run?.(context);
}
