// The compiled binary on its own (issue 14): dist/dhcptool copied alone into an empty
// directory, run with a PATH that has no bun, from that directory, brings a lab up itself,
// discovers in it (lab exec -- dhcptool …, and ip netns exec … /path/dhcptool …) and takes it
// down; its shim comes from a sealed memfd even with a noexec TMPDIR; it ignores the .env and
// bunfig.toml of the directory it runs in; with file capabilities an ordinary user runs it,
// and without them is told the setcap command for this very file.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { labDown } from "../../cli/lab/index.ts";
import { labName } from "./helpers.ts";
import { compiledBinary, pathOf, run, tempDir } from "./ship-helpers.ts";

let dir: string;
let bin: string;
let env: Record<string, string>;
const name = labName("bin");

beforeAll(() => {
  dir = tempDir("bin");
  bin = join(dir, "dhcptool");
  copyFileSync(compiledBinary(), bin);
  Bun.spawnSync(["chmod", "0755", bin]);
  // what the lab runs from PATH (servers come from the system's directories), and nothing else
  env = { PATH: pathOf(dir, ["ip", "setsid"]), HOME: dir, NO_COLOR: "1" };
});

afterAll(() => {
  labDown(name);
  rmSync(dir, { recursive: true, force: true });
});

const inLab = (argv: string[]) => ["ip", "netns", "exec", `${name}-c`, ...argv];

describe("the compiled binary, alone", () => {
  test("there is no bun on its PATH, and --version says the shim is embedded and came through a memfd", () => {
    expect(Bun.which("bun", { PATH: env.PATH })).toBeNull();
    const r = run([bin, "--version", "--json"], { env, cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      form: "compiled",
      executable: bin,
      script: null,
      shim: { loaded: true, source: "embedded", via: "memfd" },
    });
    const text = run([bin, "--version"], { env, cwd: dir });
    expect(text.stdout).toContain(`compiled into ${bin}\nshim embedded in the binary, loaded through a memfd\n`);
  });

  test("brings a lab up, discovers in it through lab exec and ip netns exec, takes it down", () => {
    const up = run([bin, "lab", "up", "--name", name, "--quiet"], { env, cwd: dir });
    expect(up.exitCode, up.stderr).toBe(0);
    // "dhcptool" after lab exec's -- means this binary, not a dhcptool on PATH (there is none)
    const viaLab = run([bin, "lab", "exec", "--name", name, "--", "dhcptool", "discover", "lab0", "--first", "--json"], { env, cwd: dir });
    expect(viaLab.exitCode, viaLab.stderr).toBe(0);
    expect(JSON.parse(viaLab.stdout).offers[0].serverId).toBe("198.18.0.1");
    const viaNetns = run(inLab([bin, "discover", "lab0", "--wait", "1", "--json"]), { env, cwd: dir });
    expect(viaNetns.exitCode, viaNetns.stderr).toBe(0);
    expect(JSON.parse(viaNetns.stdout).offers.map((o: { serverId: string }) => o.serverId)).toEqual(["198.18.0.1"]);
    const down = run([bin, "lab", "down", "--name", name], { env, cwd: dir });
    expect(down.exitCode, down.stderr).toBe(0);
    expect(run(["ip", "netns", "list"]).stdout).not.toContain(`${name}-c`);
  }, 30_000);

  test("a noexec TMPDIR changes nothing: the shim never touches a disk", () => {
    const tmp = join(dir, "noexec");
    mkdirSync(tmp);
    expect(run(["mount", "-t", "tmpfs", "-o", "noexec,nosuid,size=4m", "dtnoexec", tmp]).exitCode).toBe(0);
    try {
      const r = run([bin, "--version", "--json"], { env: { ...env, TMPDIR: tmp }, cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).shim).toMatchObject({ loaded: true, via: "memfd" });
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      run(["umount", tmp]);
    }
  });

  test("the working directory's .env and bunfig.toml are not read (a root tool must not run their code)", () => {
    const cwd = join(dir, "hostile-cwd");
    mkdirSync(cwd);
    writeFileSync(join(cwd, ".env"), "DHCPTOOL_SHIM=/nonexistent/evil.so\n");
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./evil.ts"]\n');
    writeFileSync(join(cwd, "evil.ts"), `require("node:fs").writeFileSync(${JSON.stringify(join(cwd, "ran"))}, "x");\n`);
    const r = run([bin, "--version", "--json"], { env, cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).shim).toMatchObject({ source: "embedded" });
    expect(existsSync(join(cwd, "ran"))).toBe(false);
  });

  test("with setcap on the binary an ordinary user discovers; without, the error names the setcap for this file", () => {
    const up = run([bin, "lab", "up", "--name", name, "--quiet"], { env, cwd: dir });
    expect(up.exitCode, up.stderr).toBe(0);
    const capped = join(dir, "capped");
    mkdirSync(capped);
    copyFileSync(bin, join(capped, "dhcptool"));
    Bun.spawnSync(["chmod", "0755", capped, join(capped, "dhcptool")]);
    const set = run(["setcap", "cap_net_raw,cap_net_admin+ep", join(capped, "dhcptool")]);
    expect(set.exitCode, set.stderr).toBe(0);
    const asUser = (program: string) =>
      run(inLab([Bun.which("setpriv") ?? "setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", program, "discover", "lab0", "--first", "--json"]), {
        env,
        cwd: "/",
      });
    const ok = asUser(join(capped, "dhcptool"));
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).offers).toHaveLength(1);
    const refused = asUser(bin);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`no permission to open a raw socket on lab0: run as root, or: sudo setcap cap_net_raw,cap_net_admin+ep ${bin}\n`);
    run([bin, "lab", "down", "--name", name], { env });
  }, 30_000);
});
