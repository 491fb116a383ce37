// dhcptool's own account (issue 11, finding 5's last part): every process that runs as nobody
// could signal a daemon that ran as nobody. scripts/install.sh (run by setup.sh, as CI does)
// creates the system user `dhcptool`, and it is the default --user: a process running as nobody
// now gets EPERM from kill(2) against the resident client, the prober and watch --daemon, which
// keep running; the same daemon started with `--user nobody` is stopped by it (the old default,
// and the proof that the kill reaches it when the uid is shared). The install is checked in a
// mount and PID namespace of its own over a copy of /etc, so the machine's accounts stay as
// they are: the account is created (and recorded), used, and removed by --uninstall only when
// the install created it. Which account is chosen from a passwd file: test/unit/privilege.test.ts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inClient, labDown, type LabState } from "../../cli/lab/index.ts";
import { daemonDirs, lease, removeDirs, Resident, type DaemonDirs } from "./daemon-helpers.ts";
import { RUNS_AS, eventually, idLine, running, startLab } from "./helpers.ts";
import { ROOT } from "./ship-helpers.ts";

let lab: LabState;
let dirs: DaemonDirs;
const residents: Resident[] = [];
beforeAll(() => {
  lab = startLab("acc", { servers: 1 });
  dirs = daemonDirs();
});
afterAll(async () => {
  for (const r of residents) await r.stop();
  labDown(lab.name);
  removeDirs(dirs);
});

const NOBODY = 65534;

/** Starts a resident command and resolves once it runs as `uid` (its sockets are open). */
async function resident(args: string[], uid: number): Promise<Resident> {
  const r = new Resident(lab, args);
  residents.push(r);
  const status = () => {
    try {
      return readFileSync(`/proc/${r.proc.pid}/status`, "utf8");
    } catch {
      return "";
    }
  };
  expect(await eventually(() => idLine("Uid", uid).test(status()), 15_000), r.stderr.join(" | ")).toBe(true);
  return r;
}

/** kill -TERM PID from a process that runs as nobody (no groups, no capability). */
function killAsNobody(pid: number): { exitCode: number; stderr: string } {
  const p = Bun.spawnSync(
    inClient(lab, [
      "setpriv",
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "--inh-caps=-all",
      "--bounding-set=-all",
      "/bin/kill",
      "-TERM",
      String(pid),
    ]),
    { stdout: "pipe", stderr: "pipe" },
  );
  return { exitCode: p.exitCode ?? -1, stderr: p.stderr.toString() };
}

const DAEMONS: [string, () => string[]][] = [
  ["the resident client", () => ["request", "lab0", "--daemon", "--json", "--state-dir", dirs.state, "--run-dir", dirs.run]],
  ["the prober", () => ["discover", "lab0", "--daemon", "--json", "--interval", "5", "--wait", "0.5"]],
  ["watch --daemon", () => ["watch", "lab0", "--daemon", "--json"]],
];

describe("the default --user is dhcptool's own account", () => {
  test("setup.sh made it: a system account of its own, not nobody's uid, no home, no login shell", () => {
    expect(RUNS_AS).toMatchObject({ name: "dhcptool" });
    expect(RUNS_AS.uid).not.toBe(NOBODY);
    expect(RUNS_AS.gid).not.toBe(NOBODY);
    const entry = Bun.spawnSync(["getent", "passwd", "dhcptool"], { stdout: "pipe" }).stdout.toString().trim().split(":");
    expect(entry.slice(5)).toEqual(["/nonexistent", "/usr/sbin/nologin"]);
    expect(Number(entry[2])).toBeLessThan(1000); // a system uid (SYS_UID_MAX 999)
  });

  test.each(DAEMONS)(
    "a process running as nobody cannot signal %s (EPERM); it keeps running",
    async (_what, args) => {
      const r = await resident(args(), RUNS_AS.uid);
      const k = killAsNobody(r.proc.pid);
      expect(k.exitCode).not.toBe(0);
      expect(k.stderr).toContain("Operation not permitted");
      // kill(2) refused the signal outright: none is pending, the process is the same one
      expect(running(r.proc.pid)).toBe(true);
      expect(r.proc.exitCode).toBeNull();
      if (args()[0] === "request") {
        // and it still does its work: it takes a lease and answers on its control socket
        await r.event("bound", 15_000);
        const show = await lease(lab, dirs, ["show", "lab0", "--json"]);
        expect(show.exitCode, show.stderr).toBe(0);
        expect(JSON.parse(show.stdout)).toMatchObject({ phase: "BOUND" });
      }
      expect(await r.stop()).toBe(0);
    },
    30_000,
  );

  test("the same daemon as --user nobody (the old default) is stopped by any process running as nobody", async () => {
    const r = await resident(["watch", "lab0", "--daemon", "--json", "--user", "nobody"], NOBODY);
    const k = killAsNobody(r.proc.pid);
    expect(k).toEqual({ exitCode: 0, stderr: "" });
    expect(await r.exited).toBe(0); // SIGTERM: its clean stop
  }, 30_000);
});

describe("scripts/install.sh and the account (a namespace over a copy of /etc)", () => {
  let etc: string;
  let prefix: string;
  let out: Map<string, string>;

  beforeAll(() => {
    etc = mkdtempSync(join(tmpdir(), "dtetc-"));
    prefix = mkdtempSync(join(tmpdir(), "dtprefix-"));
    cpSync(join(ROOT, "test/fixtures/captures/ethernet.pcap"), join(prefix, "x.pcap"));
    // Each step prints "KEY: value". `who` is what watch --read -v says it became (it drops to
    // --user after opening the file, like every command). The PID namespace has its own /proc,
    // so userdel sees no process of the account (lab daemons elsewhere may run as its uid).
    const script = `
      set -euo pipefail
      cp -a /etc/. "$ETC/" && mount --bind "$ETC" /etc
      sed -i '/^dhcptool:/d' /etc/passwd /etc/shadow /etc/group /etc/gshadow  # a machine without it
      who() { bun "$ROOT/cli/main.ts" watch --read "$PREFIX/x.pcap" -v 2>&1 >/dev/null | sed -n 's/^watch --read: now \\(.*\\), capabilities kept.*/\\1/p'; }
      manifest() { grep -E '^(user|group) ' "$PREFIX/share/dhcptool/installed" | tr '\\n' ' ' || true; }
      entry() { getent "$1" dhcptool || echo none; }
      echo "before: $(who)"
      bash "$ROOT/scripts/install.sh" 2>&1 | grep -E 'user|group' | sed 's/^/install: /' || true
      echo "passwd: $(entry passwd)"; echo "group: $(entry group)"; echo "after: $(who)"
      bash "$ROOT/scripts/install.sh" >/dev/null 2>&1
      echo "manifest: $(manifest)"
      bash "$ROOT/scripts/install.sh" --uninstall 2>&1 | grep -E 'user|group' | tr '\\n' ' ' | sed 's/^/uninstall: /'; echo
      echo "gone: $(entry passwd) $(entry group)"
      useradd --system --no-create-home --user-group dhcptool  # the administrator's own
      bash "$ROOT/scripts/install.sh" >/dev/null 2>&1
      echo "manifest2: $(manifest)"
      bash "$ROOT/scripts/install.sh" --uninstall >/dev/null 2>&1
      echo "kept: $(entry passwd | cut -d: -f1) $(entry group | cut -d: -f1)"
    `;
    const p = Bun.spawnSync(["unshare", "--mount", "--pid", "--fork", "--mount-proc", "bash", "-c", script], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, ETC: etc, PREFIX: prefix, ROOT, NO_COLOR: "1" },
    });
    if (p.exitCode !== 0) throw new Error(`the install script failed (${p.exitCode}): ${p.stderr.toString()}`);
    out = new Map(
      p.stdout
        .toString()
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
    );
  }, 180_000);
  afterAll(() => {
    rmSync(etc, { recursive: true, force: true });
    rmSync(prefix, { recursive: true, force: true });
  });

  test("without the account, commands run as nobody and -v says why", () => {
    expect(out.get("before")).toBe("uid 65534 gid 65534 (nobody, the default --user: no dhcptool account here (scripts/setup.sh creates it))");
  });

  test("the install creates a system user and group dhcptool, no home, no shell; commands then run as it", () => {
    const [name, , uid, gid, , home, shell] = out.get("passwd")!.split(":");
    expect({ name, home, shell }).toEqual({ name: "dhcptool", home: "/nonexistent", shell: "/usr/sbin/nologin" });
    expect(Number(uid)).toBeLessThan(1000);
    expect(out.get("group")).toBe(`dhcptool:x:${gid}:`);
    expect(out.get("install")).toBe(`setup: created the system user dhcptool (uid ${uid})`);
    expect(out.get("after")).toBe(`uid ${uid} gid ${gid} (dhcptool, the default --user: this tool's own account)`);
  });

  test("a second install keeps it as its own; --uninstall removes the user and group it created", () => {
    expect(out.get("manifest")).toBe("user dhcptool group dhcptool");
    expect(out.get("uninstall")).toBe("setup: removed the user dhcptool");
    expect(out.get("gone")).toBe("none none");
  });

  test("an account that was there before the install is not recorded, and stays after --uninstall", () => {
    expect(out.get("manifest2")).toBe("");
    expect(out.get("kept")).toBe("dhcptool dhcptool");
  });
});
