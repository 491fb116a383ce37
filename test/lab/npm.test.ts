// The npm package (issue 14): `npm pack` makes a tarball of bundled JS (no TypeScript), the
// launcher and a prebuilt linux-x64 shim; `npm i -g` of it into a temporary prefix, and
// `bun add -g`, give a dhcptool that runs --version and a discover in a lab namespace; with
// no bun on PATH the launcher says what is missing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { labDown, type LabState } from "../../cli/lab/index.ts";
import { startLab } from "./helpers.ts";
import { ROOT, pathOf, run, tempDir } from "./ship-helpers.ts";

let lab: LabState;
let dir: string;
let tarball: string;

beforeAll(() => {
  lab = startLab("npm", { servers: 1 });
  dir = tempDir("npm");
  // npm pack runs prepack: the shim and the bundle are built fresh
  const pack = run(["npm", "pack", "--silent", "--pack-destination", dir], {
    env: { ...process.env, npm_config_update_notifier: "false" },
    cwd: ROOT,
  });
  if (pack.exitCode !== 0) throw new Error(`npm pack: ${pack.stderr}`);
  tarball = join(dir, pack.stdout.trim().split("\n").at(-1) ?? "");
});
afterAll(() => {
  labDown(lab.name);
  rmSync(dir, { recursive: true, force: true });
});

/** Every file `dhcptool` resolves to, and what --version and a lab discover say with it. */
function checkInstalled(command: string, packageDir: string) {
  const env = { ...process.env, NO_COLOR: "1" };
  const v = run([command, "--version", "--json"], { env, cwd: "/" });
  expect(v.exitCode, v.stderr).toBe(0);
  const version = JSON.parse(v.stdout);
  expect(version).toMatchObject({
    form: "bundle",
    script: join(packageDir, "dist/main.js"),
    shim: { loaded: true, source: "file", path: join(packageDir, "native/build/libdhcptool.so") },
  });
  const d = run(["ip", "netns", "exec", lab.clientNs, command, "discover", "lab0", "--first", "--json"], {
    env,
    cwd: "/",
  });
  expect(d.exitCode, d.stderr).toBe(0);
  expect(JSON.parse(d.stdout).offers[0].serverId).toBe("198.18.0.1");
}

describe("the npm package", () => {
  test("the tarball holds the launcher, bundled JS, the prebuilt shim and its sources, and no TypeScript", () => {
    const list = run(["tar", "tzf", tarball])
      .stdout.trim()
      .split("\n")
      .map((f) => f.replace(/^package\//, ""));
    expect(list).toContain("bin/dhcptool");
    expect(list).toContain("dist/main.js");
    expect(list).toContain("native/build/libdhcptool.so");
    expect(list).toContain("native/shim.c");
    expect(list).toContain("packaging/systemd/dhcptool-client@.service");
    expect(list.filter((f) => f.endsWith(".ts"))).toEqual([]);
    const main = run(["tar", "xzOf", tarball, "package/dist/main.js"]).stdout;
    expect(main.startsWith("#!/usr/bin/env bun\n")).toBe(true);
    const manifest = JSON.parse(run(["tar", "xzOf", tarball, "package/package.json"]).stdout);
    expect(manifest.bin).toEqual({ dhcptool: "bin/dhcptool" });
    // everything is bundled: installing it fetches nothing
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(Object.keys(manifest.scripts).filter((s) => /install|prepare/.test(s))).toEqual([]);
  });

  test("npm i -g into a prefix gives a dhcptool that runs and discovers in a lab namespace", () => {
    const prefix = join(dir, "npm-prefix");
    const r = run(["npm", "install", "--global", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, tarball]);
    expect(r.exitCode, r.stderr).toBe(0);
    checkInstalled(join(prefix, "bin/dhcptool"), join(prefix, "lib/node_modules/dhcptool"));
  }, 60_000);

  test("bun add -g gives the same", () => {
    const home = join(dir, "bun-home");
    const r = run([process.execPath, "add", "--global", tarball], { env: { ...process.env, BUN_INSTALL: home } });
    expect(r.exitCode, r.stderr).toBe(0);
    checkInstalled(join(home, "bin/dhcptool"), realpathSync(join(home, "install/global/node_modules/dhcptool")));
  }, 60_000);

  test("without bun on PATH the launcher says so, and how to get it (exit 1)", () => {
    const prefix = join(dir, "npm-prefix");
    const path = pathOf(dir, ["sh", "readlink"]);
    const r = run([join(prefix, "bin/dhcptool"), "--version"], { env: { PATH: path } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toStartWith("dhcptool: needs Bun (https://bun.sh) on PATH, and there is none: npm install -g bun\n");
    expect(readdirSync(path).sort()).toEqual(["readlink", "sh"]);
  });
});
