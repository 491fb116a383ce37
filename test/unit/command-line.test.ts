// parseCommandLine reads a command line as citty's parseArgs does (cli/command-line.ts says
// why it does not call it): the same object, key for key, for every command's definitions,
// on each command's own examples and on random token sequences made of its flags.

import { describe, expect, test } from "bun:test";
import { parseArgs, type ArgsDef, type CommandDef } from "citty";
import fc from "fast-check";
import { parseCommandLine } from "../../cli/command-line.ts";
import discover, { discoverExamples } from "../../cli/commands/discover.ts";
import lab, { labExamples } from "../../cli/commands/lab.ts";
import lease, { leaseExamples } from "../../cli/commands/lease.ts";
import request, { requestExamples } from "../../cli/commands/request.ts";
import watch, { watchExamples } from "../../cli/commands/watch.ts";

type Cmd = CommandDef<ArgsDef>;
const commands: [string, Cmd, string][] = [
  ["discover", discover as Cmd, discoverExamples],
  ["request", request as Cmd, requestExamples],
  ["watch", watch as Cmd, watchExamples],
  ["lab", lab as Cmd, labExamples],
  ["lease", lease as Cmd, leaseExamples],
];

/** Every command and subcommand with its definitions and examples: [title, defs, examples' argv after the title]. */
async function allDefinitions(): Promise<[string, ArgsDef, string[][]][]> {
  const out: [string, ArgsDef, string[][]][] = [];
  for (const [name, cmd, examples] of commands) {
    const lines = examples
      .split("\n")
      .filter((l) => l.startsWith("  dhcptool "))
      .map((l) =>
        l
          .trim()
          .split(/\s{2,}/)[0]
          .split(/\s+/)
          .slice(1),
      );
    const subs = (cmd.subCommands ?? {}) as Record<string, () => Promise<Cmd>>;
    if (cmd.args) out.push([name, cmd.args as ArgsDef, lines.filter((l) => l[0] === name).map((l) => l.slice(1))]);
    for (const [sub, load] of Object.entries(subs)) {
      const def = await load();
      out.push([`${name} ${sub}`, (def.args ?? {}) as ArgsDef, lines.filter((l) => l[0] === name && l[1] === sub).map((l) => l.slice(2))]);
    }
  }
  return out;
}

/** citty throws on a missing required argument (checkCommandLine says it first, in our words): here none is required. */
function nothingRequired(defs: ArgsDef): ArgsDef {
  return Object.fromEntries(Object.entries(defs).map(([k, d]) => [k, { ...d, required: false }]));
}

/** A flag's aliases, as citty reads its definition. */
const aliases = (d: ArgsDef[string]): string[] => {
  const a = "alias" in d ? d.alias : undefined;
  return a === undefined ? [] : typeof a === "string" ? [a] : [...a];
};

/** Both readings, on the keys a command can ask for: `_`, every name and alias, and whatever either reading set. */
function bothReadings(defs: ArgsDef, argv: string[]): { ours: Record<string, unknown>; citty: Record<string, unknown> } {
  const theirs = { ...parseArgs(argv, nothingRequired(defs)) } as Record<string, unknown>;
  const mine = { ...parseCommandLine(defs, argv) } as Record<string, unknown>;
  const keys = new Set(["_", ...Object.keys(mine)]);
  for (const [name, d] of Object.entries(defs)) {
    keys.add(name);
    for (const a of aliases(d)) keys.add(a);
  }
  const pick = (o: Record<string, unknown>) => Object.fromEntries([...keys].filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
  return { ours: pick(mine), citty: pick(theirs) };
}

const definitions = await allDefinitions();

describe("parseCommandLine reads as citty's parseArgs", () => {
  test("every command has examples to read", () => {
    expect(definitions.filter(([, , ex]) => ex.length > 0).length).toBeGreaterThan(8);
  });

  test.each(definitions.map(([title, defs, examples]) => [title, defs, examples] as const))("%s: its examples", (_title, defs, examples) => {
    for (const argv of examples) {
      const { ours, citty } = bothReadings(defs, argv);
      expect({ argv, args: ours }).toEqual({ argv, args: citty });
    }
  });

  test.each(definitions.map(([title, defs]) => [title, defs] as const))("%s: random token sequences", (_title, defs) => {
    const tokens: string[] = ["--", "-", "eth0", "x", "false", "-5", "a=b", ""];
    for (const [name, d] of Object.entries(defs)) {
      if (d.type === "positional") continue;
      tokens.push(`--${name}`, `--no-${name}`, `--${name}=`, `--${name}=false`, `--${name}=1.5`);
      for (const a of aliases(d)) tokens.push(`-${a}`, `--${a}`, `-${a}x`);
    }
    const shorts = Object.values(defs).flatMap(aliases);
    if (shorts.length > 1) tokens.push(`-${shorts.join("")}`);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 10 }), (argv) => {
        const { ours, citty } = bothReadings(defs, argv);
        expect({ argv, args: ours }).toEqual({ argv, args: citty });
      }),
      { numRuns: 300 },
    );
  });
});
