// The systemd units (issue 14): systemd-analyze verify finds nothing to say about them, their
// exposure score stays "OK", and each unit's ExecStart line, run as systemd would run it (its
// capability bounding set, nothing ambient or inheritable, no_new_privs, its umask, its state
// and runtime directories) inside a lab namespace, does its job: the client binds and puts the
// lease on the interface, the prober and the monitor start. A bounding set without
// CAP_NET_RAW shows the harness restricts for real: the client then cannot start.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { labDown, type LabState } from "../../cli/lab/index.ts";
import { eventually, idLine, inNs, RUNS_AS, startLab } from "./helpers.ts";
import { ROOT, compiledBinary, installInto, run, tempDir } from "./ship-helpers.ts";

const UNITS = join(ROOT, "packaging/systemd");
const INSTALLED = "/usr/local/bin/dhcptool";

let lab: LabState;
let dir: string;
beforeAll(() => {
  lab = startLab("sd", { servers: 1 });
  dir = tempDir("sd");
});
afterAll(() => {
  labDown(lab.name);
  rmSync(dir, { recursive: true, force: true });
});

/** A unit file's [Service] and [Unit] settings: key → every value given (in order). */
function settings(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of readFileSync(join(UNITS, file), "utf8").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("[")) continue;
    const eq = line.indexOf("=");
    out.set(line.slice(0, eq), [...(out.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

const one = (s: Map<string, string[]>, key: string) => s.get(key)?.at(-1) ?? "";

/** The capability bits of a CapabilityBoundingSet= value ("CAP_NET_RAW CAP_SETUID"). */
const CAP_NUMBERS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
};
function capMask(set: string): bigint {
  return set
    .split(/\s+/)
    .filter(Boolean)
    .reduce((m, c) => m | (1n << BigInt(CAP_NUMBERS[c] ?? 63)), 0n);
}

interface Opts {
  bounding?: string;
  vars?: Record<string, string>;
  strace?: string;
}

/**
 * The unit's ExecStart for interface lab0, as systemd would start it: %i, ${STATE_DIRECTORY}
 * and ${RUNTIME_DIRECTORY} filled in, $VAR split into words (none when unset: /etc/default/
 * dhcptool absent), our binary for the installed path; under setpriv with the unit's
 * bounding set (opts.bounding replaces it, for the negative control).
 */
function execStart(file: string, dirs: { state: string; run: string }, opts: Opts = {}): string[] {
  const s = settings(file);
  const words = one(s, "ExecStart")
    .split(/\s+/)
    .flatMap((w) => {
      const v = w.match(/^\$([A-Z_]+)$/);
      if (v) return (opts.vars?.[v[1]] ?? "").split(/\s+/).filter(Boolean);
      return [
        w
          .replace("%i", "lab0")
          .replace(/\$\{STATE_DIRECTORY\}/, dirs.state)
          .replace(/\$\{RUNTIME_DIRECTORY\}/, dirs.run),
      ];
    });
  expect(words[0]).toBe(INSTALLED);
  words[0] = compiledBinary();
  const caps = (opts.bounding ?? one(s, "CapabilityBoundingSet"))
    .split(/\s+/)
    .filter(Boolean)
    .map((c) => "+" + c.replace(/^CAP_/, "").toLowerCase());
  expect(one(s, "AmbientCapabilities")).toBe("");
  expect(one(s, "NoNewPrivileges")).toBe("yes");
  const setpriv = [
    Bun.which("setpriv") ?? "setpriv",
    `--bounding-set=-all${caps.length ? "," + caps.join(",") : ""}`,
    "--inh-caps=-all",
    "--ambient-caps=-all",
    "--no-new-privs",
  ];
  const traced = opts.strace ? ["strace", "-f", "-qq", "-c", "-o", opts.strace, ...words] : words;
  return ["ip", "netns", "exec", lab.clientNs, "sh", "-c", `umask ${one(s, "UMask")} && exec "$@"`, "sh", ...setpriv, "--", ...traced];
}

/** Every system call in a systemd set (@group or name), groups expanded. */
function syscallSet(item: string): Set<string> {
  if (!item.startsWith("@")) return new Set([item]);
  const out = run(["systemd-analyze", "syscall-filter", item])
    .stdout.split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  return new Set(out.flatMap((x) => [...syscallSet(x)]));
}

/** What a unit's SystemCallFilter= lines allow: the allow list, minus each ~deny list. */
function allowedSyscalls(file: string): Set<string> {
  let allowed = new Set<string>();
  for (const line of settings(file).get("SystemCallFilter") ?? []) {
    const deny = line.startsWith("~");
    const names = new Set(
      line
        .replace(/^~/, "")
        .split(/\s+/)
        .flatMap((x) => [...syscallSet(x)]),
    );
    allowed = deny ? new Set([...allowed].filter((x) => !names.has(x))) : new Set([...allowed, ...names]);
  }
  return allowed;
}

function unitDirs(name: string): { state: string; run: string } {
  const root = join(dir, name);
  mkdirSync(join(root, "state"), { recursive: true, mode: 0o700 }); // StateDirectoryMode=0700
  mkdirSync(join(root, "run"), { recursive: true, mode: 0o755 });
  Bun.spawnSync(["chmod", "0755", root]);
  return { state: join(root, "state"), run: join(root, "run") };
}

describe("systemd units", () => {
  test("systemd-analyze verify has nothing to say about any of them", () => {
    const files = readdirSync(UNITS)
      .filter((f) => f.endsWith(".service"))
      .sort();
    expect(files).toEqual(["dhcptool-client@.service", "dhcptool-probe@.service", "dhcptool-watch@.service"]);
    // verify needs ExecStart's program and Documentation's man page: this machine's install
    // when scripts/setup.sh made one, else an install under a temporary PREFIX
    let unitDir = UNITS;
    let env: Record<string, string | undefined> = process.env;
    if (!existsSync(INSTALLED)) {
      const prefix = join(dir, "prefix");
      installInto(prefix);
      unitDir = join(dir, "units");
      mkdirSync(unitDir);
      for (const f of files) writeFileSync(join(unitDir, f), readFileSync(join(UNITS, f), "utf8").replaceAll(INSTALLED, join(prefix, "bin/dhcptool")));
      env = { ...process.env, MANPATH: join(prefix, "share/man") };
    }
    for (const f of files) {
      const r = run(["systemd-analyze", "verify", join(unitDir, f)], { env });
      expect({ f, exitCode: r.exitCode, out: r.stdout + r.stderr }).toEqual({ f, exitCode: 0, out: "" });
      const security = run(["systemd-analyze", "security", "--offline=yes", join(unitDir, f)], { env });
      const score = Number(security.stdout.match(/Overall exposure level for \S+: ([\d.]+)/)?.[1]);
      expect({ f, score }).toEqual({ f, score: expect.any(Number) });
      expect(score).toBeLessThanOrEqual(3.0);
    }
  }, 60_000);

  test("the client unit's ExecStart, under the unit's capabilities, binds and applies the lease", async () => {
    const dirs = unitDirs("client");
    const p = Bun.spawn(execStart("dhcptool-client@.service", dirs), {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    try {
      const stored = join(dirs.state, "lab0.json");
      expect(await eventually(() => existsSync(stored), 15_000)).toBe(true);
      const lease = JSON.parse(readFileSync(stored, "utf8")).lease;
      expect(lease).toMatchObject({ serverId: "198.18.0.1" });
      // --apply: the address is on the interface
      expect(await eventually(() => inNs(lab.clientNs, ["ip", "-4", "-o", "addr", "show", "dev", "lab0"]).includes(`inet ${lease.address}/24`), 5000)).toBe(
        true,
      );
      const shown = run([compiledBinary(), "lease", "show", "lab0", "--json", "--state-dir", dirs.state, "--run-dir", dirs.run]);
      expect(shown.exitCode, shown.stderr).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({
        source: "daemon",
        phase: "BOUND",
        applied: true,
        lease: { address: lease.address },
      });
      // what it runs as once bound: its own account with no capability, no_new_privs, under seccomp, and
      // never a capability outside the unit's bounding set (in any thread); CAP_NET_ADMIN is
      // the privileged helper's alone
      const status = readFileSync(`/proc/${p.pid}/status`, "utf8");
      expect(status).toMatch(idLine("Uid", RUNS_AS.uid));
      expect(status).toMatch(/^CapEff:\s+0000000000000000$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(status).toMatch(/^Seccomp:\s+2$/m);
      const helper = Number(readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, "utf8").trim().split(/\s+/)[0]);
      const helperStatus = readFileSync(`/proc/${helper}/status`, "utf8");
      expect(readFileSync(`/proc/${helper}/comm`, "utf8").trim()).toBe("dhcptool-priv");
      expect(helperStatus).toMatch(/^CapEff:\s+0000000000001000$/m);
      const unit = capMask(one(settings("dhcptool-client@.service"), "CapabilityBoundingSet"));
      for (const task of readdirSync(`/proc/${p.pid}/task`)) {
        const bnd = BigInt("0x" + (readFileSync(`/proc/${p.pid}/task/${task}/status`, "utf8").match(/^CapBnd:\s+(\w+)$/m)?.[1] ?? "ffff"));
        expect(bnd & ~unit).toBe(0n);
      }
    } finally {
      p.kill("SIGTERM");
      await p.exited;
      inNs(lab.clientNs, ["ip", "addr", "flush", "dev", "lab0"]);
    }
  }, 30_000);

  test("the same ExecStart with CAP_NET_RAW left out of the bounding set cannot start", async () => {
    const dirs = unitDirs("client-noraw");
    const p = Bun.spawn(execStart("dhcptool-client@.service", dirs, { bounding: "CAP_NET_ADMIN CAP_SETUID CAP_SETGID CAP_SETPCAP CAP_KILL" }), {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await p.exited).toBe(1);
    expect(await new Response(p.stderr).text()).toContain("no permission");
  }, 15_000);

  // /etc/default/dhcptool's variables as a user might set them: a short probe window
  const vars = { DHCPTOOL_PROBE_ARGS: "--wait 1 --interval 2" };
  for (const [file, ready] of [
    ["dhcptool-probe@.service", /server-new/],
    ["dhcptool-watch@.service", /"event":"start"/],
  ] as const) {
    test(`${file}'s ExecStart starts under its capabilities and keeps none it does not need`, async () => {
      const dirs = unitDirs(file);
      const p = Bun.spawn(execStart(file, dirs, { vars }), {
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, NO_COLOR: "1" },
      });
      let out = "";
      const reader = (async () => {
        for await (const c of p.stdout) out += new TextDecoder().decode(c);
      })();
      try {
        expect(await eventually(() => ready.test(out), 15_000)).toBe(true);
        const status = readFileSync(`/proc/${p.pid}/status`, "utf8");
        expect(status).toMatch(idLine("Uid", RUNS_AS.uid));
        // the prober opens a socket per probe: CAP_NET_RAW; the monitor keeps nothing
        expect(status).toMatch(file.includes("probe") ? /^CapEff:\s+0000000000002000$/m : /^CapEff:\s+0000000000000000$/m);
      } finally {
        p.kill("SIGTERM");
        await p.exited;
        await reader;
      }
    }, 30_000);
  }

  // Every unit's ExecStart under strace while it does its job; each system call made must be
  // one the unit's SystemCallFilter allows (systemd would answer any other with EPERM).
  const jobs: [string, (dirs: { state: string; run: string }) => void, RegExp][] = [
    ["dhcptool-client@.service", (d) => run([compiledBinary(), "lease", "renew", "lab0", "--state-dir", d.state, "--run-dir", d.run]), /"event":"renew"/],
    ["dhcptool-probe@.service", () => {}, /server-new/],
    ["dhcptool-watch@.service", () => run(["ip", "netns", "exec", lab.clientNs, compiledBinary(), "discover", "lab0", "--first"]), /"event":"packet"/],
  ];
  for (const [file, work, done] of jobs) {
    test(`${file}: every system call it makes is inside its SystemCallFilter`, async () => {
      const dirs = unitDirs(`strace-${file}`);
      const trace = join(dir, `${file}.strace`);
      const args: Record<string, string> = file.includes("client") ? { DHCPTOOL_CLIENT_ARGS: "--json" } : {};
      const p = Bun.spawn(execStart(file, dirs, { vars: { ...vars, ...args }, strace: trace }), {
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, NO_COLOR: "1" },
      });
      let out = "";
      const reader = (async () => {
        for await (const c of p.stdout) out += new TextDecoder().decode(c);
      })();
      // strace is p.pid (ip, sh and setpriv exec into it); dhcptool is its child
      const child = () => Number(readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, "utf8").trim().split(" ")[0]);
      try {
        expect(await eventually(() => /"event":"(start|bound|probe)"|server-new|bound/.test(out), 15_000)).toBe(true);
        work(dirs);
        expect(await eventually(() => done.test(out), 15_000)).toBe(true);
      } finally {
        process.kill(child(), "SIGTERM");
        await p.exited;
        await reader;
        if (file.includes("client")) inNs(lab.clientNs, ["ip", "addr", "flush", "dev", "lab0"]);
      }
      const used = readFileSync(trace, "utf8")
        .split("\n")
        .map((l) => l.trim().split(/\s+/).at(-1) ?? "")
        .filter((name) => /^[a-z][a-z0-9_]*$/.test(name) && name !== "total" && name !== "syscall");
      expect(used.length).toBeGreaterThan(20);
      const allowed = allowedSyscalls(file);
      expect(
        used.filter((name) => !allowed.has(name)),
        file,
      ).toEqual([]);
    }, 45_000);
  }
});
