// What a person types wrong gets one line in dhcptool's own voice and exit 2; help pages fit
// 80 columns, are the same however asked for, and list what they promise.

import { describe, expect, test } from "bun:test";
import discover from "../../cli/commands/discover.ts";
import lab from "../../cli/commands/lab.ts";
import lease from "../../cli/commands/lease.ts";
import request from "../../cli/commands/request.ts";
import watch from "../../cli/commands/watch.ts";

const MAIN = `${import.meta.dir}/../../cli/main.ts`;

function run(args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", COLUMNS: "", ...env },
  });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

describe("wrong input: one line, exit 2", () => {
  test.each([
    [["discover"], "which interface? e.g. dhcptool discover eth0 (or eth0 eth1, or --all)"],
    [["request"], "missing IFACE: dhcptool request IFACE"],
    [["request", "lo", "eth0"], `unexpected argument "eth0": dhcptool request takes one IFACE`],
    [["discover", "eth0", "eth0"], "eth0 is named twice"],
    [["lease", "decode", "a", "b"], `unexpected argument "b": dhcptool lease decode takes one FILE|-`],
    [["discover", "lo", "--wait"], "--wait needs a value: --wait S"],
    [["discover", "lo", "--wait", "--json"], "--wait needs a value: --wait S"],
    [["request", "lo", "--json", "--format", "env"], "--json and --format env contradict each other: give one of them"],
    [["discover", "lo", "-q", "-v"], "-q (errors only) and -v (more detail) contradict each other: give one of them"],
    [["discover", "lo", "-qv"], "-q (errors only) and -v (more detail) contradict each other: give one of them"],
    [["discover", "lo", "--hostname", "x", "--no-hostname"], "--hostname and --no-hostname contradict each other: give one of them"],
    [["discover", "lo", "--mac", "ff:ff:ff:ff:ff:ff"], "--mac ff:ff:ff:ff:ff:ff is a broadcast address: a client MAC must be unicast"],
    [["discover", "lo", "--mac", "01:00:5e:00:00:01"], "--mac 01:00:5e:00:00:01 is a multicast address: a client MAC must be unicast"],
    [["discover", "lo", "--mac", "00:00:00:00:00:00"], "--mac 00:00:00:00:00:00 is all zeros: a client MAC must be a unicast address"],
    [["lease", "decline", "lo", "--address", "192.0.2.9"], "missing --server IP: dhcptool lease decline IFACE --address IP --server IP"],
    [["discover", "lo", "--bogus"], "unknown option --bogus: dhcptool discover --help lists the options"],
    [["frob"], `unknown command "frob": dhcptool --help lists them`],
    [["lease"], "missing COMMAND: dhcptool lease show|renew|rebind|release|decline|inform|decode …"],
    [["lease", "frob"], `unknown command "lease frob": dhcptool lease show|renew|rebind|release|decline|inform|decode`],
    [["discover", "lo"], "lo is the loopback interface: DHCP needs an Ethernet link (e.g. eth0)"],
  ])("%j", (args, message) => {
    const r = run(args);
    expect(r.err).toBe(`error: ${message}\n`);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
  });
});

/** What these tests read of a command (CommandDef's generic args do not assign to each other). */
interface Cmd {
  args?: unknown;
  subCommands?: unknown;
}
const subsOf = (d: Cmd) => (d.subCommands ?? {}) as Record<string, () => Promise<Cmd>>;
const argsOf = (d: Cmd) => (d.args ?? {}) as Record<string, object>;

const ALL: [string, Cmd][] = [
  ["discover", discover],
  ["request", request],
  ["watch", watch],
  ["lab", lab],
  ["lease", lease],
];

async function commandLines(): Promise<string[][]> {
  const out: string[][] = [];
  for (const [name, def] of ALL) {
    out.push([name]);
    for (const sub of Object.keys(subsOf(def))) out.push([name, sub]);
  }
  return out;
}

describe("help", () => {
  test("every command's and subcommand's --help fits 80 columns (and a pipe is 80 wide)", async () => {
    for (const c of [[], ...(await commandLines())]) {
      for (const env of [{ COLUMNS: "80" }, {}] as Record<string, string>[]) {
        const r = run([...c, "--help"], env);
        expect(r.code).toBe(0);
        const long = r.out.split("\n").filter((l) => l.length > 80);
        expect({ command: c, long }).toEqual({ command: c, long: [] });
      }
    }
  });

  test("wider terminal: the text is reflowed to it", () => {
    const wide = run(["discover", "--help"], { COLUMNS: "120" }).out.split("\n");
    expect(Math.max(...wide.map((l) => l.length))).toBeGreaterThan(80);
    expect(wide.every((l) => l.length <= 120)).toBe(true);
  });

  test("dhcptool help X is dhcptool X --help", async () => {
    for (const c of await commandLines()) expect(run(["help", ...c]).out).toBe(run([...c, "--help"]).out);
  });

  test("lease --help: one page, every subcommand listed, each example once", () => {
    const page = run(["lease", "--help"]).out;
    for (const sub of Object.keys(subsOf(lease))) expect(page).toMatch(new RegExp(`^  ${sub} `, "m"));
    const examples = page.split("\n").filter((l) => /^ {2}(\S.*\| )?dhcptool lease \S+/.test(l));
    expect(examples.length).toBeGreaterThan(8);
    expect(new Set(examples).size).toBe(examples.length);
    const decode = run(["lease", "decode", "--help"]).out;
    expect(decode).toMatch(/^Usage: dhcptool lease decode \[FILE\|-\] \[options\]/);
    expect(decode).toContain("dhcptool lease decode capture.pcap");
    expect(decode).not.toContain("dhcptool lease renew");
  });

  test("the options root help names for discover, request, watch, lease and lab are taken by each of them and their subcommands", async () => {
    const root = run(["--help"]).out;
    const section = root.slice(
      root.indexOf("Options of discover, request, watch, lease and lab:"),
      root.indexOf("\n\n", root.indexOf("Options of discover, request, watch, lease and lab:")),
    );
    const flags = [...section.matchAll(/--([a-z-]+)/g)].map((m) => m[1]).filter((f) => f !== "help");
    expect(flags).toEqual(["json", "verbose", "quiet"]);
    for (const [, def] of ALL) {
      const defs = [def, ...(await Promise.all(Object.values(subsOf(def)).map((load) => load())))];
      for (const d of defs.filter((x) => x.args)) for (const f of flags) expect(Object.keys(argsOf(d))).toContain(f);
    }
  });

  test("root help's examples are valid command lines", async () => {
    const { checkCommandLine } = await import("../../cli/args.ts");
    const root = run(["--help"]).out;
    const examples = root
      .slice(root.indexOf("Examples:"))
      .split("\n")
      .filter((l) => l.startsWith("  dhcptool "));
    expect(examples.length).toBeGreaterThan(3);
    for (const line of examples) {
      for (const part of line.trim().split(/ && |; /)) {
        const argv = part.split(/\s+/).slice(1);
        const [name, ...rest] = argv;
        const def = ALL.find(([n]) => n === name)![1];
        const sub = def.subCommands && rest[0] ? await subsOf(def)[rest[0]]() : null;
        expect(() => checkCommandLine(sub ? `${name} ${rest[0]}` : name, argsOf(sub ?? def), sub ? rest.slice(1) : rest)).not.toThrow();
      }
    }
  });
});
