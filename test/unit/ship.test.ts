// Shipping, without privileges: the command tree read from the citty definitions, the bash
// completion it makes (run in bash), the man page's roff escaping, --version from source,
// and the native asset table (an embedded file reached through a memfd, and its fallback).

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { embedAssets, embeddedAsset, privateCopy } from "../../native/assets.ts";
import { materializeAsset } from "../../native/shim.ts";
import { describeCommands, flatten, type CommandTable } from "../../cli/ship/definitions.ts";
import { bashCompletion } from "../../cli/ship/completion-bash.ts";
import { roffText } from "../../cli/ship/man.ts";
import { OPTIONS_BY_NAME } from "../../core/options.ts";

const MAIN = resolve(import.meta.dir, "../../cli/main.ts");

const table: CommandTable = {
  discover: () => import("../../cli/commands/discover.ts").then((m) => m.default),
  lab: () => import("../../cli/commands/lab.ts").then((m) => m.default),
  lease: () => import("../../cli/commands/lease.ts").then((m) => m.default),
};

function run(args: string[], opts: { stdin?: string; cwd?: string } = {}) {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe", cwd: opts.cwd });
  return { exitCode: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("the command tree, from the definitions", () => {
  test("flags, their values and subcommands are read from what the commands declare", async () => {
    const specs = await describeCommands(table);
    const discover = specs.find((s) => s.path[0] === "discover")!;
    const flag = (name: string) => discover.flags.find((f) => f.name === name);
    expect(discover.positionals).toMatchObject([
      { name: "iface", valueHint: "IFACE…", required: false, value: { kind: "interface" } }, // several, or --all
    ]);
    expect(flag("option")).toMatchObject({ takesValue: true, value: { kind: "option-name" } });
    expect(flag("first")).toMatchObject({ takesValue: false });
    expect(flag("verbose")).toMatchObject({ short: ["v"], long: ["verbose"] });
    const lease = specs.find((s) => s.path[0] === "lease")!;
    expect(lease.subcommands.map((s) => s.path.join(" "))).toContain("lease decode");
    const decode = flatten(specs).find((s) => s.path.join(" ") === "lease decode")!;
    expect(decode.positionals[0]).toMatchObject({ required: false, value: { kind: "file" } });
    const lab = specs.find((s) => s.path[0] === "lab")!;
    expect(lab.positionals[0].value).toEqual({
      kind: "choice",
      choices: ["up", "down", "status", "exec", "block", "unblock"],
    });
  });
});

describe("bash completion", () => {
  let script: string | undefined;
  async function complete(line: string): Promise<string[]> {
    script ??= bashCompletion(await describeCommands(table), [...OPTIONS_BY_NAME.keys()]);
    const dir = mkdtempSync(join(tmpdir(), "dhcptool-bash-"));
    try {
      const file = join(dir, "dhcptool");
      await Bun.write(file, script);
      // as bash calls it: the line up to the cursor, and COMP_WORDBREAKS as an interactive shell has it
      const driver = `source "$1"; COMP_WORDBREAKS=$' \\t\\n"\\'><=;|&(:'; COMP_LINE=$2; COMP_POINT=\${#2}; _dhcptool; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const p = Bun.spawnSync(["bash", "-c", driver, "bash", file, line], { stdout: "pipe", stderr: "pipe" });
      expect(p.stderr.toString()).toBe("");
      return p.stdout.toString().split("\n").filter(Boolean);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test("commands, subcommands, flags of the command being typed", async () => {
    expect(await complete("dhcptool ")).toEqual(["discover", "lab", "lease"]);
    expect(await complete("dhcptool le")).toEqual(["lease"]);
    expect(await complete("dhcptool lease ")).toEqual(["show", "renew", "rebind", "release", "decline", "inform", "decode"]);
    expect(await complete("dhcptool discover eth0 --fi")).toEqual(["--first"]);
    expect(await complete("dhcptool lease decode --f")).toEqual(["--format"]);
    expect(await complete("dhcptool lab ")).toEqual(["up", "down", "status", "exec", "block", "unblock"]);
  });

  test("interface names from /sys/class/net, option names for --option (both spellings)", async () => {
    expect(await complete("dhcptool discover ")).toContain("lo");
    expect(await complete("dhcptool discover l")).toContain("lo");
    expect(await complete("dhcptool lease show ")).toContain("lo");
    expect(await complete("dhcptool discover lo --option domain-s")).toEqual(["domain-search="]);
    // readline replaces only what follows the last "=": the candidate is cut to match
    expect(await complete("dhcptool discover lo --option=domain-s")).toEqual(["domain-search="]);
    // a flag's value is skipped when finding the command path: --mac's value is not a positional
    expect(await complete("dhcptool discover lo --mac aa:bb:cc:dd:ee:ff --wa")).toEqual(["--wait"]);
  });
});

describe("man page text", () => {
  test("escapes backslashes and minus signs, keeps a leading dot out of column 0, spells non-ASCII as glyphs", () => {
    expect(roffText("--wait S")).toBe("\\-\\-wait S");
    expect(roffText("a\\b")).toBe("a\\eb");
    expect(roffText(".hidden\n'quoted")).toBe("\\&.hidden\n\\&'quoted");
    expect(roffText("a → b …")).toBe("a \\[u2192] b \\[u2026]");
  });
});

describe("--version from source", () => {
  test("names the version, the Bun that runs it, and the shim file it loaded", () => {
    const r = run(["--version", "--json"]);
    expect(r.exitCode).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({
      name: "dhcptool",
      version: JSON.parse(readFileSync(`${import.meta.dir}/../../package.json`, "utf8")).version,
      bun: Bun.version,
      form: "source",
      script: MAIN,
    });
    expect(v.shim).toMatchObject({ loaded: true, source: "file" });
    expect(v.shim.path).toEndWith("/native/build/libdhcptool.so");
    const text = run(["--version"]);
    expect(text.stdout).toBe(`dhcptool ${v.version}\nbun ${Bun.version} (${v.executable}) running ${v.script} (source)\nshim ${v.shim.path}\n`);
  });

  test("a DHCPTOOL_SHIM that does not load is an error that says so (exit 1), with no fallback", () => {
    const p = Bun.spawnSync([process.execPath, MAIN, "--version"], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, DHCPTOOL_SHIM: "/nonexistent/x.so" },
    });
    expect(p.exitCode).toBe(1);
    expect(p.stdout.toString()).toContain("shim not loaded: native shim /nonexistent/x.so failed to load");
    expect(p.stdout.toString()).toContain("unset DHCPTOOL_SHIM");
  });
});

describe("the native asset table", () => {
  test("an embedded file becomes an executable, sealed memfd a child process can execve", async () => {
    embedAssets({ "true-for-test": "/bin/true" });
    expect(embeddedAsset("true-for-test")).toBe("/bin/true");
    const asset = materializeAsset("true-for-test", "exec");
    try {
      expect(asset.via).toBe("memfd");
      expect(asset.path).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
      expect(readFileSync(asset.path)).toEqual(readFileSync("/bin/true"));
      const child = Bun.spawnSync([asset.path], { stdout: "pipe", stderr: "pipe" });
      expect(child.exitCode).toBe(0);
      // sealed: nobody writes to it, not even through our own fd
      const write = Bun.spawnSync(["sh", "-c", `printf x >> ${asset.path}`], { stderr: "pipe" });
      expect(write.exitCode).not.toBe(0);
      expect(readFileSync(asset.path)).toEqual(readFileSync("/bin/true"));
    } finally {
      asset.release();
    }
    expect(() => statSync(asset.path)).toThrow();
  });

  test("names are plain file names", () => {
    expect(() => embedAssets({ "../x": "/bin/true" })).toThrow(/plain file name/);
  });

  test("the fallback copy sits alone in a 0700 directory, mode 0500, and goes away", () => {
    const copy = privateCopy("helper", new Uint8Array([1, 2, 3]));
    const dir = copy.path.slice(0, copy.path.lastIndexOf("/"));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(copy.path).mode & 0o777).toBe(0o500);
    expect([...readFileSync(copy.path)]).toEqual([1, 2, 3]);
    copy.remove();
    copy.remove();
    expect(() => statSync(dir)).toThrow();
  });
});
