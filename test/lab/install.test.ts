// `dhcptool` on the PATH (issue 14): scripts/setup.sh installs the binary, the man page and
// bash/zsh/fish completions under PREFIX; the installed command works from any directory and
// in a lab namespace; the man page renders without a groff warning and covers every flag the
// commands define; each shell loads its completion; --uninstall removes exactly what was
// installed. The last test checks this machine's own install (/usr/local), which CI makes.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { labDown, type LabState } from "../../cli/lab/index.ts";
import { describeCommands, flatten } from "../../cli/ship/definitions.ts";
import { startLab } from "./helpers.ts";
import { ROOT, compiledBinary, run, tempDir } from "./ship-helpers.ts";

let lab: LabState;
let prefix: string;
const files = {
  bin: "bin/dhcptool",
  man: "share/man/man1/dhcptool.1",
  bash: "share/bash-completion/completions/dhcptool",
  zsh: "share/zsh/site-functions/_dhcptool",
  fish: "share/fish/vendor_completions.d/dhcptool.fish",
};
const at = (f: keyof typeof files) => join(prefix, files[f]);

beforeAll(() => {
  lab = startLab("ins", { servers: 1 });
  compiledBinary();
  prefix = tempDir("ins");
  // what was there before the install must be there after the uninstall
  mkdirSync(join(prefix, "share/man/man1"), { recursive: true });
  writeFileSync(join(prefix, "share/man/man1/other.1"), ".TH OTHER 1\n");
});
afterAll(() => {
  labDown(lab.name);
  rmSync(prefix, { recursive: true, force: true });
});

describe("setup.sh installs dhcptool", () => {
  test("setup puts the binary, man page and completions under PREFIX", () => {
    const r = run(["bash", `${ROOT}/scripts/setup.sh`], { env: { ...process.env, PREFIX: prefix } });
    expect(r.exitCode, r.stderr).toBe(0);
    for (const f of Object.keys(files) as (keyof typeof files)[]) {
      expect(statSync(at(f)).mode & 0o777, f).toBe(f === "bin" ? 0o755 : 0o644);
    }
    expect(readFileSync(at("bin"))).toEqual(readFileSync(compiledBinary()));
  }, 120_000);

  test("the installed command runs from any directory, by name from PATH, and in a lab namespace", () => {
    const env = { ...process.env, PATH: `${join(prefix, "bin")}:${process.env.PATH}`, NO_COLOR: "1" };
    const v = run(["dhcptool", "--version", "--json"], { env, cwd: "/" });
    expect(v.exitCode, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ form: "compiled", executable: at("bin") });
    // ip netns exec finds "dhcptool" on PATH the way a user's shell does
    const d = run(["ip", "netns", "exec", lab.clientNs, "dhcptool", "discover", "lab0", "--first", "--json"], {
      env,
      cwd: "/",
    });
    expect(d.exitCode, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).offers[0].serverId).toBe("198.18.0.1");
  }, 30_000);

  test("man renders the page without warnings; groff -ww finds nothing; man finds it by name", async () => {
    const groff = run(["groff", "-ww", "-man", "-z", at("man")]);
    expect(groff.exitCode).toBe(0);
    expect(groff.stderr).toBe("");
    const man = run(["man", "-l", at("man")], { env: { ...process.env, MANWIDTH: "80", MAN_KEEP_STDERR: "1" } });
    expect(man.exitCode).toBe(0);
    expect(man.stderr).toBe("");
    for (const section of ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "SECURITY"]) {
      expect(man.stdout).toContain(`\n${section}\n`);
    }
    expect(run(["man", "-w", "dhcptool"], { env: { ...process.env, MANPATH: join(prefix, "share/man") } }).stdout.trim()).toBe(at("man"));
    // every flag of every command, as the definitions have it today
    const { default: discover } = await import("../../cli/commands/discover.ts");
    const { default: lease } = await import("../../cli/commands/lease.ts");
    const specs = await describeCommands({ discover: async () => discover, lease: async () => lease });
    const page = readFileSync(at("man"), "utf8");
    for (const spec of flatten(specs)) {
      for (const f of spec.flags) expect(page).toContain(`\\fB\\-\\-${f.name.replace(/-/g, "\\-")}\\fR`);
    }
  });

  test("bash loads its completion and completes commands, flags and interfaces", () => {
    const script =
      `source ${at("bash")}; complete -p dhcptool; COMP_LINE='dhcptool request lab0 --dae'; COMP_POINT=\${#COMP_LINE}; _dhcptool; echo "\${COMPREPLY[*]}"; ` +
      `COMP_LINE='dhcptool watch '; COMP_POINT=\${#COMP_LINE}; _dhcptool; echo "\${COMPREPLY[*]}"`;
    const r = run(["ip", "netns", "exec", lab.clientNs, "bash", "-c", script]);
    expect(r.stderr).toBe("");
    const [registered, daemon, ifaces] = r.stdout.trim().split("\n");
    expect(registered).toBe("complete -F _dhcptool dhcptool");
    expect(daemon).toBe("--daemon");
    // the lab namespace's own interfaces (sysfs follows the namespace)
    expect(ifaces.split(" ").sort()).toEqual(["lab0", "lo"]);
  });

  test("zsh: the file parses, and compinit picks it up from fpath for dhcptool", () => {
    expect(run(["zsh", "-n", at("zsh")]).exitCode).toBe(0);
    const r = run([
      "zsh",
      "-f",
      "-c",
      `fpath=(${join(prefix, "share/zsh/site-functions")} $fpath); autoload -U compinit; compinit -u -D; print -r -- $_comps[dhcptool]`,
    ]);
    expect(r.stdout.trim()).toBe("_dhcptool");
    const text = readFileSync(at("zsh"), "utf8");
    expect(text).toContain("'--option=[Add or replace an option: CODE|NAME=VALUE");
    expect(text).toContain(":__dhcptool_option_names'");
    expect(text).toContain("'1:IFACE:__dhcptool_interfaces'");
  });

  test("fish: the file parses, and fish completes from the vendor directory", () => {
    expect(run(["fish", "--no-execute", at("fish")]).exitCode).toBe(0);
    // fish autoloads a command's completions from fish_complete_path once the command is on PATH;
    // its own configuration comes from an empty home
    const home = join(prefix, "fish-home");
    const env = {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: home,
      XDG_DATA_HOME: home,
      PATH: `${join(prefix, "bin")}:${process.env.PATH}`,
    };
    const complete = (line: string) =>
      run(["fish", "-c", `set -p fish_complete_path ${join(prefix, "share/fish/vendor_completions.d")}; complete -C '${line}'`], { env }).stdout;
    expect(complete("dhcptool disc")).toMatch(/^discover\t/);
    expect(complete("dhcptool discover lo --option domain-s")).toMatch(/^domain-search=\t/);
    expect(complete("dhcptool lease ")).toContain("decode\t");
  });

  test("setup.sh --uninstall removes what the install put there and nothing else; a changed file stays", () => {
    rmSync(join(prefix, "fish-home"), { recursive: true, force: true });
    writeFileSync(at("zsh"), "# changed by the user\n");
    const r = run(["bash", `${ROOT}/scripts/setup.sh`, "--uninstall"], { env: { ...process.env, PREFIX: prefix } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`left ${at("zsh")}: it changed since it was installed`);
    const left = run(["find", prefix, "-mindepth", "1"]).stdout.trim().split("\n").sort();
    expect(left).toEqual(
      ["share", "share/man", "share/man/man1", "share/man/man1/other.1", "share/zsh", "share/zsh/site-functions", "share/zsh/site-functions/_dhcptool"].map(
        (p) => join(prefix, p),
      ),
    );
  });
});

// scripts/setup.sh (the README's first command, and CI's) installs in /usr/local: what it put
// there must be what a user gets.
describe("this machine's install (/usr/local, by scripts/setup.sh)", () => {
  test("dhcptool is /usr/local/bin/dhcptool: it runs from /, in a lab namespace by name, under sudo; man finds its page", () => {
    expect(existsSync("/usr/local/share/dhcptool/installed"), "not installed here: run bash scripts/setup.sh").toBe(true);
    const env = { ...process.env, PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NO_COLOR: "1" };
    expect(Bun.which("dhcptool", { PATH: env.PATH })).toBe("/usr/local/bin/dhcptool");
    const v = run(["dhcptool", "--version", "--json"], { env, cwd: "/" });
    expect(v.exitCode, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ form: "compiled", shim: { source: "embedded" } });
    const d = run(["ip", "netns", "exec", lab.clientNs, "dhcptool", "discover", "lab0", "--first", "--json"], {
      env,
      cwd: "/",
    });
    expect(d.exitCode, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).offers).toHaveLength(1);
    // sudo finds it through its secure_path, whatever PATH the caller has
    const asSudo = run(["sudo", "-n", "ip", "netns", "exec", lab.clientNs, "dhcptool", "discover", "lab0", "--first", "--json"], {
      env: { PATH: "/usr/bin:/bin", NO_COLOR: "1" },
      cwd: "/",
    });
    expect(asSudo.exitCode, asSudo.stderr).toBe(0);
    expect(JSON.parse(asSudo.stdout).offers).toHaveLength(1);
    // (Debian links /usr/local/man to share/man, and man may name either)
    expect(realpathSync(run(["man", "-w", "dhcptool"], { env }).stdout.trim())).toBe("/usr/local/share/man/man1/dhcptool.1");
  }, 30_000);
});
