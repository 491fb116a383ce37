// The README stays true: every fenced `sh` block says how it is checked, by its info string,
// and is checked that way.
//   ```sh lab      run as written, as root, by bash -e -o pipefail, with dhcptool on PATH
//                  (these sources) and sudo a no-op; `lab` commands get a --name of the
//                  test's own so that nothing else's lab is touched
//   ```sh network  needs a real network (eth0, a server at 192.0.2.1): every dhcptool command
//                  line in it must parse as dhcptool parses it (no usage error)
//   ```sh setup    the newcomer's two commands, verbatim (CI runs them: scripts/setup.sh --dev
//                  then bun run test)
// Blocks of any other language (`text`, `toml`) are sample output or files, not commands.

import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkCommandLine } from "../../cli/args.ts";
import discover from "../../cli/commands/discover.ts";
import lab from "../../cli/commands/lab.ts";
import lease from "../../cli/commands/lease.ts";
import request from "../../cli/commands/request.ts";
import watch from "../../cli/commands/watch.ts";
import { labDown } from "../../cli/lab/index.ts";
import { labName, MAIN } from "./helpers.ts";

const ROOT = join(import.meta.dir, "../..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

interface Block {
  lang: string;
  tag: string;
  body: string;
  line: number;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && lines[i] !== "```") body.push(lines[i]);
    out.push({ lang: open[1], tag: open[2], body: body.join("\n"), line: start + 1 });
  }
  return out;
}

const all = blocks(README);
const sh = all.filter((b) => b.lang === "sh");

/** Shell words of one simple command (quotes kept together, not expanded). */
function words(command: string): string[] {
  return [...command.matchAll(/'[^']*'|"(?:\\.|[^"])*"|\S+/g)].map((m) => m[0].replace(/^(['"])(.*)\1$/, "$2"));
}

interface Cmd {
  args?: unknown;
  subCommands?: unknown;
}
const COMMANDS: Record<string, Cmd> = { discover, request, watch, lab, lease };

/** Every `dhcptool …` command line of a block: its arguments, as dhcptool would get them. */
function dhcptoolLines(body: string): string[][] {
  const out: string[][] = [];
  for (const raw of body.split("\n")) {
    const line = raw.replace(/\s+#.*$/, "");
    for (const part of line.split(/\|\||&&|[|;&]|\$\(/)) {
      let w = words(part.trim());
      const redirect = w.findIndex((x) => /^\d?(>>?|<)/.test(x)); // the shell's, not dhcptool's
      if (redirect >= 0) w = w.slice(0, redirect);
      if (w[0] === "sudo") w.shift();
      if (w[0] === "dhcptool") out.push(w.slice(1));
    }
  }
  return out;
}

async function checkLine(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "man" || name === "completion") return;
  const def = COMMANDS[name];
  if (!def) throw new Error(`not a dhcptool command: ${argv.join(" ")}`);
  const subs = (def.subCommands ?? {}) as Record<string, () => Promise<Cmd>>;
  const sub = rest[0] !== undefined && Object.hasOwn(subs, rest[0]) ? await subs[rest[0]]() : null;
  const args = sub ? rest.slice(1) : rest;
  const dash = args.indexOf("--");
  checkCommandLine(sub ? `${name} ${rest[0]}` : name, (sub ?? def).args as Record<string, object>, dash < 0 ? args : args.slice(0, dash));
  // `lab exec -- dhcptool …`: the command it runs, too
  if (dash >= 0 && args[dash + 1] === "dhcptool") await checkLine(args.slice(dash + 2));
}

describe("README", () => {
  test("every sh block says how it is checked", () => {
    expect(sh.length).toBeGreaterThan(8);
    for (const b of sh) expect({ line: b.line, tag: b.tag }).toEqual({ line: b.line, tag: expect.stringMatching(/^(lab|network|setup)$/) });
  });

  test("the newcomer's two commands, verbatim", () => {
    const setup = sh.filter((b) => b.tag === "setup").map((b) => b.body);
    expect(setup).toEqual(["bash scripts/setup.sh && bun run demo", "bash scripts/setup.sh --dev && bun run test"]);
  });

  test("network blocks: every dhcptool command line parses", async () => {
    const lines = sh.filter((b) => b.tag === "network" || b.tag === "lab").flatMap((b) => dhcptoolLines(b.body));
    expect(lines.length).toBeGreaterThan(30);
    for (const argv of lines) {
      try {
        await checkLine(argv);
      } catch (err) {
        throw new Error(`README: dhcptool ${argv.join(" ")}: ${(err as Error).message}`);
      }
    }
  });

  describe("lab blocks run as written", () => {
    const dir = mkdtempSync(join(tmpdir(), "dt-readme-"));
    const bin = join(dir, "bin");
    const names: string[] = [];
    Bun.spawnSync(["mkdir", "-p", bin]);
    writeFileSync(join(bin, "sudo"), '#!/bin/sh\nexec "$@"\n');
    // dhcptool: these sources; `lab ACTION` gets the block's own lab name unless one is given
    writeFileSync(
      join(bin, "dhcptool"),
      `#!/bin/bash
if [ "$1" = lab ] && [[ " $* " != *" --name "* ]]; then
  action=$2; shift 2; set -- lab "$action" --name "$DT_LAB" "$@"
fi
exec "${process.execPath}" "${MAIN}" "$@"
`,
    );
    chmodSync(join(bin, "sudo"), 0o755);
    chmodSync(join(bin, "dhcptool"), 0o755);
    symlinkSync(join(ROOT, "test"), join(dir, "test")); // the fixtures the blocks name

    afterAll(() => {
      for (const n of names) labDown(n);
      rmSync(dir, { recursive: true, force: true });
    });

    for (const b of sh.filter((x) => x.tag === "lab")) {
      test(`README line ${b.line}`, async () => {
        const name = labName("rd");
        names.push(name);
        const p = Bun.spawn(["bash", "-e", "-o", "pipefail", "-c", b.body], {
          cwd: dir,
          stdout: "pipe",
          stderr: "pipe",
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, DT_LAB: name, NO_COLOR: "1" },
        });
        const killer = setTimeout(() => p.kill("SIGKILL"), 90_000);
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        clearTimeout(killer);
        if (code !== 0) throw new Error(`README line ${b.line}: exit ${code}\nstdout: ${out}\nstderr: ${err}`);
        expect(err).not.toMatch(/^error:/m);
      }, 120_000);
    }
  });
});
