// Least privilege (issue "hardening" item 1): one-shot commands parse the wire as the default
// --user (dhcptool's own account, test/lab/account.test.ts) with no capability once their
// socket is open, the prober keeps only CAP_NET_RAW, --user root keeps root, and the commands
// that need no privilege run as nobody from the start. The
// daemon's own drop (CAP_NET_ADMIN for --apply, every thread) is checked in daemon.test.ts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { inClient, labDown, type LabState } from "../../cli/lab/index.ts";
import { taskPrivileges } from "../../native/privilege.ts";
import { MAIN, RUNS_AS, dhcptool, startLab } from "./helpers.ts";

let lab: LabState;
beforeAll(() => {
  lab = startLab("prv", { servers: 1 });
});
afterAll(() => {
  labDown(lab.name);
});

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** -v's line once a command has become the default --user, with what it kept (group 1) and its thread count (2). */
const becameDefault = (what: string) =>
  new RegExp(
    `${literal(what)}: now uid ${RUNS_AS.uid} gid ${RUNS_AS.gid} \\(${literal(`${RUNS_AS.name}, ${RUNS_AS.why}`)}\\), capabilities kept: (.*) \\(checked in /proc/self/status, (\\d+) threads\\)`,
  );

describe("privilege drop", () => {
  test("discover, request and watch parse replies as the default --user with no capability", async () => {
    for (const args of [
      ["discover", "lab0", "--first"],
      ["request", "lab0", "--release"],
      ["watch", "lab0", "--duration", "0.3"],
    ]) {
      const r = await dhcptool(lab, [...args, "-v"]);
      expect(r.exitCode).toBe(0);
      const m = r.stderr.match(becameDefault(args[0]));
      expect({ args, kept: m?.[1] ?? r.stderr }).toEqual({ args, kept: "none" });
      expect(Number(m![2])).toBeGreaterThan(1);
    }
  }, 30_000);

  test("the prober keeps CAP_NET_RAW (a socket per probe), nothing else", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--daemon", "--interval", "1", "--wait", "0.5", "-v", "--json"], 5000);
    // It runs until killed; dhcptool() kills it at the timeout (exit by signal).
    expect(r.stderr.match(becameDefault("discover --daemon"))?.[1]).toBe("cap_net_raw");
    expect(r.stdout).toContain('"event":"probe"');
  }, 15_000);

  test("--user root keeps root; an unknown user is a usage error", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--first", "-v", "--user", "root"]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("discover: keeping root (--user root)");
    const bad = await dhcptool(lab, ["discover", "lab0", "--user", "no-such-user-here"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--user no-such-user-here: no such user");
  }, 30_000);

  test("lease decode and lease show need no privilege: they run as nobody", async () => {
    const asNobody = (args: string[]) => {
      const p = Bun.spawnSync(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", process.execPath, MAIN, ...args],
        { stdout: "pipe", stderr: "pipe", stdin: new TextEncoder().encode(OFFER_HEX) },
      );
      return { exitCode: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
    };
    const dec = asNobody(["lease", "decode", "-", "--json"]);
    expect(dec.exitCode).toBe(0);
    expect(JSON.parse(dec.stdout).packets[0].message.messageType).toBe("OFFER");
    const show = asNobody(["lease", "show", "--state-dir", "/nonexistent", "--run-dir", "/nonexistent"]);
    expect(show.exitCode).toBe(3);
    expect(show.stdout).toContain("no leases");
  });

  test("an ordinary user with a copy of bun that has cap_net_raw (setcap) runs discover", async () => {
    const dir = mkdtempSync("/tmp/dtcap-");
    try {
      chmodSync(dir, 0o755);
      const bun = join(dir, "bun");
      copyFileSync(process.execPath, bun);
      chmodSync(bun, 0o755);
      const set = Bun.spawnSync(["setcap", "cap_net_raw,cap_net_admin+ep", bun], { stderr: "pipe" });
      expect(set.exitCode, set.stderr.toString()).toBe(0);
      const p = Bun.spawnSync(
        inClient(lab, ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", bun, MAIN, "discover", "lab0", "--first", "--json", "-v"]),
        { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
      );
      expect(p.exitCode, p.stderr.toString()).toBe(0);
      expect(JSON.parse(p.stdout.toString()).offers).toHaveLength(1);
      expect(p.stderr.toString()).toContain("discover: not root (uid 1000): keeping the file capabilities");
      // Without the capability the same user is told what to do, naming bun's real file
      // (setcap refuses the symlink that `command -v bun` finds).
      const plain = Bun.spawnSync(
        inClient(lab, ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", process.execPath, MAIN, "discover", "lab0", "--first"]),
        { stderr: "pipe" },
      );
      expect(plain.exitCode).toBe(1);
      expect(plain.stderr.toString()).toContain(`run as root, or: sudo setcap cap_net_raw,cap_net_admin+ep ${realpathSync(process.execPath)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test("taskPrivileges reads the kernel's account of every thread", () => {
    const field = (text: string, name: string) => text.match(new RegExp(`^${name}:[ \\t]*(.*)$`, "m"))![1].trim();
    // every thread there before and after, and none that was never there (Bun's pool threads come and go)
    const listed = () => readdirSync("/proc/self/task").map(Number);
    const before = listed();
    const tasks = taskPrivileges();
    const after = listed();
    const seen = tasks.map((t) => t.tid);
    expect(before.filter((t) => after.includes(t) && !seen.includes(t))).toEqual([]);
    expect(seen.filter((t) => !before.includes(t) && !after.includes(t))).toEqual([]);
    for (const { tid, status } of tasks) {
      let text: string;
      try {
        text = readFileSync(`/proc/self/task/${tid}/status`, "utf8");
      } catch {
        continue;
      } // ended meanwhile
      expect(status).toEqual({
        uid: field(text, "Uid").split(/\s+/).map(Number),
        gid: field(text, "Gid").split(/\s+/).map(Number),
        groups: field(text, "Groups").split(/\s+/).filter(Boolean).map(Number),
        capInh: BigInt(`0x${field(text, "CapInh")}`),
        capPrm: BigInt(`0x${field(text, "CapPrm")}`),
        capEff: BigInt(`0x${field(text, "CapEff")}`),
        capBnd: BigInt(`0x${field(text, "CapBnd")}`),
        capAmb: BigInt(`0x${field(text, "CapAmb")}`),
        noNewPrivs: field(text, "NoNewPrivs") === "1",
        seccomp: Number(field(text, "Seccomp")),
      });
    }
    // this test runs as root with every capability: the bits above 31 must come through too
    expect(tasks.find((t) => t.tid === process.pid)!.status.capEff > 0xffffffffn).toBe(true);
  });
});

// A dnsmasq OFFER as hex (the message only), enough for lease decode to show.
const OFFER_HEX = await Bun.file(`${import.meta.dir}/../fixtures/dnsmasq-offer.hex`).text();
