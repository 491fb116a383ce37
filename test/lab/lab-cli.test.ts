// `dhcptool lab` as a user meets it: its help lists the actions and the topology flags, wrong
// input is a usage error (exit 2) that builds nothing, a lab that is not up is exit 3 for
// status, and with no dhcptool on PATH the hint `lab up` prints works when pasted, as does
// `lab exec -- dhcptool …` (it runs this very dhcptool).

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { labDown, readLab } from "../../cli/lab/index.ts";
import { dhcptool, labName, MAIN, running } from "./helpers.ts";

const LAB_MS = 30_000;
/** The system's directories without any that holds a dhcptool: the tool is not on this PATH. */
const PATH = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].filter((d) => !existsSync(`${d}/dhcptool`)).join(":");
const ENV = { ...process.env, PATH, NO_COLOR: "1" };

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function spawn(argv: string[]): Promise<Run> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env: ENV });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { exitCode, stdout, stderr };
}

/** dhcptool run by its full path, with dhcptool nowhere on PATH. */
const lab = (args: string[]) => spawn([process.execPath, MAIN, "lab", ...args]);

test("lab --help lists the actions and the topology options, within 80 columns", async () => {
  const r = await dhcptool(null, ["lab", "--help"]);
  expect(r.exitCode).toBe(0);
  const actions = r.stdout.slice(r.stdout.indexOf("\nActions:\n"), r.stdout.indexOf("\nExamples:\n"));
  for (const a of ["up", "down", "status", "exec", "block", "unblock"]) expect(actions).toMatch(new RegExp(`^  ${a} +\\S`, "m"));
  for (const flag of ["--topology T", "--relay RELAY", "--links N", "--client-bridge"]) expect(r.stdout).toContain(flag);
  expect(r.stdout.split("\n").filter((l) => l.length > 80)).toEqual([]);
});

describe("usage errors exit 2 and build nothing", () => {
  const name = labName("use");
  afterAll(() => {
    labDown(name);
  });
  const cases: [string[], RegExp][] = [
    [["up", "extra"], /unexpected argument "extra"/],
    [["up", "--topology", "mesh"], /--topology "mesh": use flat or routed/],
    [["up", "--relay", "dnsmasq"], /a relay needs the routed topology/],
    [["up", "--topology", "routed", "--relay", "bootpd"], /--relay "bootpd"/],
    [["up", "--topology", "routed", "--kind", "udhcpd"], /udhcpd cannot serve through a relay/],
    [["up", "--topology", "routed", "--links", "2"], /a routed lab has one client link/],
    [["up", "--topology", "routed", "--servers", "0"], /needs a server for its relay/],
    [["up", "--links", "5"], /--links must be at most 4/],
    [["up", "--lease-time", "30"], /dnsmasq grants at least 120 s/],
    [["up", "--kind", "kea", "--lease-time", "10", "--renew-time", "8", "--rebind-time", "5"], /renew \(T1 8 s\) < rebind \(T2 5 s\)/],
    [["frobnicate"], /use up, down, status, exec, block, unblock/],
    [["up", "--servers"], /--servers needs a value/],
  ];
  for (const [args, said] of cases) {
    test(`lab ${args.join(" ")}`, async () => {
      const r = await lab([args[0], "--name", name, ...args.slice(1)]);
      expect(r.stderr).toMatch(said);
      expect(r.exitCode).toBe(2);
      expect(readLab(name)).toBeNull();
      expect(existsSync(`/run/netns/${name}-hub`)).toBe(false);
    });
  }
});

test("a lab that is not up: status --name exits 3, exec and block exit 1", async () => {
  const name = labName("none");
  expect((await lab(["status", "--name", name])).exitCode).toBe(3);
  expect((await lab(["status", "--name", name, "--json"])).exitCode).toBe(3);
  const exec = await lab(["exec", "--name", name, "--", "true"]);
  expect(exec.exitCode).toBe(1);
  expect(exec.stderr).toContain(`lab "${name}" is not up`);
  expect((await lab(["block", "--name", name])).exitCode).toBe(1);
});

describe("with no dhcptool on PATH", () => {
  const name = labName("hint");
  afterAll(() => {
    labDown(name);
  }, LAB_MS);

  test(
    "a routed lab's hint works pasted into a shell; lab exec -- dhcptool runs this dhcptool; down stops all",
    async () => {
      expect(Bun.which("dhcptool", { PATH })).toBeNull();
      const up = await lab(["up", "--name", name, "--topology", "routed", "--relay", "dnsmasq", "--kind", "kea", "--lease-time", "60"]);
      expect(up.exitCode).toBe(0);
      expect(up.stdout).toMatch(/^lab \w+: routed, client netns \w+-c: lab0 198\.18\.1\.0\/24$/m);
      expect(up.stdout).toMatch(/router: netns \w+-r, 198\.18\.1\.1 \(down0\) and 198\.18\.0\.254 \(up0\), relay dnsmasq pid \d+ to 198\.18\.0\.1/);
      const hint = up.stderr.match(/try: (.*)/)?.[1];
      expect(hint).toContain(`lab exec --name ${name} -- dhcptool discover lab0`);

      const pasted = await spawn(["sh", "-c", `${hint} --json --wait 1`]);
      expect(pasted.exitCode).toBe(0);
      const offers = JSON.parse(pasted.stdout).offers;
      expect(offers.map((o: { serverId: string; giaddr: string; leaseTime: number }) => [o.serverId, o.giaddr, o.leaseTime])).toEqual([
        ["198.18.0.1", "198.18.1.1", 60],
      ]);

      const version = await lab(["exec", "--name", name, "--", "dhcptool", "--version"]);
      // this very dhcptool: the sources this test runs, not a dhcptool found somewhere
      expect(version.exitCode).toBe(0);
      expect(version.stdout).toStartWith("dhcptool 0.1.0\n");
      expect(version.stdout).toContain(`running ${resolve(MAIN)} (source)`);

      const status = await lab(["status", "--name", name]);
      expect(status.exitCode).toBe(0);
      expect(status.stdout).toMatch(/server 1: .* kea 198\.18\.0\.1 pid \d+, pool 198\.18\.1\.100-198\.18\.1\.139, lease 60 s/);
      const state = readLab(name)!;
      const pids = [state.router!.pid!, state.servers[0].pid!];
      expect(pids.every(running)).toBe(true);
      expect((await lab(["down", "--name", name])).exitCode).toBe(0);
      expect(pids.some(running)).toBe(false);
      expect(existsSync(`/run/netns/${name}-r`)).toBe(false);
    },
    LAB_MS,
  );

  test(
    "lab up --links 2 --client-bridge: status shows both links and the bridge; the hint names br0",
    async () => {
      const up = await lab(["up", "--name", name, "--links", "2", "--servers", "0", "--client-bridge"]);
      expect(up.exitCode).toBe(0);
      expect(up.stdout).toContain("lab0 198.18.0.0/24, lab1 198.18.1.0/24 (lab0 a port of br0)");
      expect(up.stderr).toContain("-- dhcptool discover br0");
      expect((await lab(["down", "--name", name])).exitCode).toBe(0);
    },
    LAB_MS,
  );
});
