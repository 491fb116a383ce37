// The scripted path stays light: --json, --format env and discover --first --json never load
// `table` or `consola` (the human renderers, ~12 and ~17 ms of start-up); the human path does.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { inClient, labDown, type LabState } from "../../cli/lab/index.ts";
import { MAIN, startLab } from "./helpers.ts";

let lab: LabState;
beforeAll(() => {
  lab = startLab("mods", { servers: 1 });
});
afterAll(() => {
  labDown(lab.name);
});

/** The packages among table, consola and ajv that a run of dhcptool loaded, and its exit status. */
async function loaded(args: string[], pty = false): Promise<{ packages: string[]; code: number; stdout: string }> {
  const argv = [process.execPath, "--preload", `${import.meta.dir}/loaded-modules.ts`, MAIN, ...args];
  const cmd = pty ? ["script", "-qec", argv.join(" "), "/dev/null"] : argv;
  const p = Bun.spawn(inClient(lab, cmd), { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const line = (pty ? stdout : stderr).split(/\r?\n/).find((l) => l.startsWith("loaded: "));
  if (!line) throw new Error(`no "loaded:" line; stderr: ${stderr}`);
  return { packages: JSON.parse(line.slice(8)), code, stdout };
}

describe("the machine path loads no human renderer", () => {
  test.each([
    [["discover", "lab0", "--first", "--json"]],
    [["discover", "lab0", "--json", "--wait", "0.5"]],
    [["request", "lab0", "--format", "env", "--release"]],
    [["request", "lab0", "--json", "--release"]],
    [["discover", "lab0", "--json", "--wait", "0.3", "--server", "198.18.0.9"]], // with warnings logged
  ])(
    "%j",
    async (args) => {
      const r = await loaded(args);
      expect(r.code === 0 || r.code === 3).toBe(true);
      expect(r.packages).toEqual([]);
    },
    20_000,
  );
});

describe("the human path renders with them", () => {
  test("a table of offers: table (and its ajv)", async () => {
    const r = await loaded(["discover", "lab0", "--wait", "0.5"]);
    expect(r.code).toBe(0);
    expect(r.packages).toEqual(["ajv", "table"]);
  }, 20_000);

  test("a log line on a terminal: consola", async () => {
    const r = await loaded(["discover", "lab0", "--wait", "0.3", "--server", "198.18.0.9"], true);
    expect(r.code).toBe(3);
    expect(r.packages).toContain("consola");
  }, 20_000);
});
