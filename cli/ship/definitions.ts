// The command tree as plain data, read at run time from the citty definitions the commands
// themselves export (cli/main.ts's lazy table): shell completions and the man page are made
// from it, so they list whatever flags exist today, with the descriptions --help shows.

import type { ArgDef, CommandDef } from "citty";

// biome-ignore lint/suspicious/noExplicitAny: each command keeps its own args type, as in citty's SubCommandsDef
export type CommandTable = Readonly<Record<string, () => Promise<CommandDef<any>>>>;
export type ExamplesTable = Readonly<Record<string, () => Promise<string>>>;

/** What a value is, for a shell to offer candidates. */
export type ValueKind = { kind: "interface" } | { kind: "option-name" } | { kind: "file" } | { kind: "choice"; choices: string[] } | { kind: "text" };

export interface FlagSpec {
  /** long name without dashes */
  name: string;
  /** one-letter aliases (-v) and long ones */
  short: string[];
  long: string[];
  takesValue: boolean;
  valueHint: string;
  value: ValueKind;
  description: string;
}

export interface PositionalSpec {
  name: string;
  valueHint: string;
  required: boolean;
  value: ValueKind;
  description: string;
}

export interface CommandSpec {
  /** ["lease", "show"] */
  path: string[];
  description: string;
  flags: FlagSpec[];
  positionals: PositionalSpec[];
  subcommands: CommandSpec[];
}

type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);

async function resolve<T>(value: Resolvable<T>): Promise<T> {
  return typeof value === "function" ? (value as () => T | Promise<T>)() : value;
}

/** How a value is completed, from what the definition says about it. */
function valueKind(name: string, def: ArgDef): ValueKind {
  const hint = (def.valueHint ?? "").toUpperCase();
  const choices = "options" in def && Array.isArray(def.options) ? def.options.map(String) : [];
  if (choices.length) return { kind: "choice", choices };
  if (hint.replace(/(…|\.\.\.)$/, "") === "IFACE") return { kind: "interface" }; // IFACE…: several of them
  // --option CODE|NAME=VALUE: the registry's names (core/options.ts)
  if (name === "option") return { kind: "option-name" };
  if (/\b(FILE|DIR|PROG|PATH)\b/.test(hint)) return { kind: "file" };
  return { kind: "text" };
}

function aliasesOf(def: ArgDef): string[] {
  if (!("alias" in def) || def.alias === undefined) return [];
  return typeof def.alias === "string" ? [def.alias] : [...def.alias];
}

async function describe(path: string[], def: CommandDef): Promise<CommandSpec | null> {
  const meta = (await resolve(def.meta ?? {})) ?? {};
  if (meta.hidden) return null;
  const args = (await resolve(def.args ?? {})) ?? {};
  const flags: FlagSpec[] = [];
  const positionals: PositionalSpec[] = [];
  for (const [name, arg] of Object.entries(args)) {
    const common = {
      valueHint: arg.valueHint ?? name.toUpperCase(),
      value: valueKind(name, arg),
      description: arg.description ?? "",
    };
    if (arg.type === "positional") {
      // citty: a positional is required unless it says otherwise or has a default
      positionals.push({ name, required: arg.required !== false && arg.default === undefined, ...common });
      continue;
    }
    const aliases = aliasesOf(arg);
    flags.push({
      name,
      short: aliases.filter((a) => a.length === 1),
      long: [name, ...aliases.filter((a) => a.length > 1)],
      takesValue: arg.type !== "boolean",
      ...common,
    });
  }
  const subcommands: CommandSpec[] = [];
  const subs = def.subCommands ? await resolve(def.subCommands) : {};
  for (const [name, sub] of Object.entries(subs ?? {})) {
    const spec = await describe([...path, name], await resolve(sub));
    if (spec) subcommands.push(spec);
  }
  return { path, description: meta.description ?? "", flags, positionals, subcommands };
}

/** Every command of the table, in the table's order, with its subcommands. */
export async function describeCommands(table: CommandTable): Promise<CommandSpec[]> {
  const out: CommandSpec[] = [];
  for (const [name, load] of Object.entries(table)) {
    const spec = await describe([name], await load());
    if (spec) out.push(spec);
  }
  return out;
}

/** The command and every subcommand below it, depth first. */
export function flatten(specs: CommandSpec[]): CommandSpec[] {
  return specs.flatMap((s) => [s, ...flatten(s.subcommands)]);
}

/** "IFACE [FILE]" as --help writes a usage line. */
export function usageOf(spec: CommandSpec): string {
  const pos = spec.positionals.map((p) => (p.required ? p.valueHint : `[${p.valueHint}]`));
  const sub = spec.subcommands.length ? [spec.subcommands.map((s) => s.path.at(-1)).join("|")] : [];
  return ["dhcptool", ...spec.path, ...sub, ...pos].join(" ");
}
