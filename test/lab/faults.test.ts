// Faults (HOSTILE 31–36, issue "hardening" item 4): kill -9 at random moments, a state
// directory that fills up or turns read-only, a control socket fed garbage, 10 MB and idle
// clients, and the interface deleted under running commands.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { labDown, type LabState } from "../../cli/lab/index.ts";
import { loadLease } from "../../cli/daemon/store.ts";
import { Daemon, daemonDirs, lease, removeDirs, type DaemonDirs } from "./daemon-helpers.ts";
import { dhcptool, eventually, inNs, startLab } from "./helpers.ts";

let lab: LabState;
let d: DaemonDirs;
const daemons: Daemon[] = [];
const mounts: string[] = [];

function start(extra: string[] = []): Daemon {
  const x = new Daemon(lab, d, extra);
  daemons.push(x);
  return x;
}

function sh(argv: string[]): void {
  const p = Bun.spawnSync(argv, { stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString()}`);
}

/** The processes that hold a packet socket in namespace ns. */
function packetSocketOwners(ns: string): Set<number> {
  return new Set([...inNs(ns, ["ss", "-0", "-p", "-n"]).matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));
}

beforeAll(() => {
  lab = startLab("flt", { servers: 1 });
  d = daemonDirs();
});

afterEach(async () => {
  for (const x of daemons.splice(0)) await x.stop();
});

afterAll(() => {
  for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
  labDown(lab.name);
  removeDirs(d);
});

/** A small random delay, reproducible from the seed printed on failure. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => (x = (x * 1103515245 + 12345) >>> 0) / 0x100000000;
}

describe("faults", () => {
  test("kill -9 at random moments, 20 rounds: the lease file is always valid and the daemon reboots into the same address", async () => {
    const seed = Date.now() & 0xffff;
    const random = rng(seed);
    let address: string | null = null;
    for (let round = 0; round < 20; round++) {
      const x = start();
      const got = await x.leased(10_000);
      if (address === null) address = got.address as string;
      expect({ round, seed, address: got.address, how: round === 0 ? "bound" : got.event }).toEqual({
        round,
        seed,
        address,
        how: round === 0 ? "bound" : "reboot",
      });
      // Renewals make it write the file again and again; the kill lands anywhere among them.
      const renews = Array.from({ length: 3 }, () => lease(lab, d, ["renew", "lab0"]));
      await Bun.sleep(Math.floor(random() * 60));
      x.kill("SIGKILL");
      await x.exited;
      await Promise.allSettled(renews);
      const stored = loadLease(d.state, "lab0");
      expect({ round, seed, ok: stored.ok, text: stored.ok ? "" : stored.detail }).toEqual({ round, seed, ok: true, text: "" });
      JSON.parse(readFileSync(join(d.state, "lab0.json"), "utf8"));
      daemons.splice(daemons.indexOf(x), 1);
    }
  }, 120_000);

  test("the state directory fills up, then turns read-only: the old lease survives, the error is clear, the daemon keeps its lease", async () => {
    const dir = join(d.root, "small");
    sh(["mkdir", "-p", dir]);
    sh(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "tmpfs", dir]);
    mounts.push(dir);
    const x = new Daemon(lab, { ...d, state: dir });
    daemons.push(x);
    const b = await x.leased(10_000);
    const file = join(dir, "lab0.json");
    const before = readFileSync(file, "utf8");
    expect(JSON.parse(before).lease.address).toBe(b.address);

    // Full: a root-owned filler takes every block.
    Bun.spawnSync(["dd", "if=/dev/zero", `of=${join(dir, "filler")}`, "bs=1k", "count=64"], { stderr: "ignore" });
    let from = x.events.length;
    expect((await lease(lab, d, ["renew", "lab0"])).exitCode).toBe(0);
    const full = await x.event("store", 5000, from);
    expect(full.level).toBe("error");
    expect(full.message).toContain(`cannot store the lease in ${file}`);
    expect(full.message).toContain("ENOSPC");
    await x.event("renew", 5000, from);
    expect(readFileSync(file, "utf8")).toBe(before);

    // Read-only.
    sh(["rm", "-f", join(dir, "filler")]);
    sh(["mount", "-o", "remount,ro", dir]);
    from = x.events.length;
    expect((await lease(lab, d, ["renew", "lab0"])).exitCode).toBe(0);
    const ro = await x.event("store", 5000, from);
    expect(ro.message).toContain("EROFS");
    expect(readFileSync(file, "utf8")).toBe(before);
    const shown = JSON.parse((await lease(lab, d, ["show", "lab0", "--json"])).stdout);
    expect(shown).toMatchObject({ phase: "BOUND", lease: { address: b.address } });
    expect(await x.stop()).toBe(0);
    sh(["umount", dir]);
    mounts.splice(mounts.indexOf(dir), 1);
  }, 60_000);

  test("the control socket: garbage, 10 MB, idle clients and one that never reads do not disturb the daemon", async () => {
    const x = start();
    await x.leased(10_000);
    const path = join(d.run, "lab0.sock");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // Talks to the socket from inside the client namespace is not needed: a unix socket is a file.
    const talk = (payload: Uint8Array | string, read = true) =>
      new Promise<string>((resolve) => {
        let out = "";
        void Bun.connect({
          unix: path,
          socket: {
            open(s) {
              s.write(payload);
              if (!read) resolve("");
            },
            data(_s, chunk) {
              if (read) out += chunk.toString();
            },
            close() {
              resolve(out);
            },
            error() {
              resolve(out);
            },
          },
        }).catch(() => resolve("connect failed"));
      });
    const garbage = JSON.parse(await talk("\x00\x1b[2J{not json\n"));
    expect(garbage).toMatchObject({ ok: false });
    expect(garbage.error).toContain("not JSON");
    expect(JSON.parse(await talk('{"cmd":"reboot the world"}\n'))).toMatchObject({ ok: false, error: expect.stringContaining("unknown command") });
    const big = JSON.parse(await talk(new Uint8Array(10 * 1024 * 1024).fill(0x41)));
    expect(big).toMatchObject({ ok: false, error: expect.stringContaining("too large") });
    // 40 clients that connect and say nothing, one that asks and never reads its answer.
    const idle = Array.from({ length: 40 }, () => talk("", false));
    await Promise.all(idle);
    await talk('{"cmd":"show"}\n', false);
    const shown = await lease(lab, d, ["show", "lab0", "--json"]);
    expect(shown.exitCode).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ source: "daemon", phase: "BOUND" });
    expect(x.proc.exitCode).toBeNull();
  }, 30_000);

  test("the interface is deleted under watch, discover and a one-shot request: they end cleanly, no stack trace", async () => {
    // Keep dnsmasq from answering, so that the request is still waiting: take the server's side down.
    inNs(lab.hubNs, ["ip", "link", "set", "s1", "down"]);
    const runs = [
      dhcptool(lab, ["watch", "lab0", "--duration", "6", "--json"], 15_000),
      dhcptool(lab, ["discover", "lab0", "--wait", "6"], 15_000),
      dhcptool(lab, ["request", "lab0", "--mac", "02:00:00:00:77:01", "--timeout", "2", "--tries", "3"], 15_000),
    ];
    // All three have their packet socket open on lab0: then the interface goes.
    expect(await eventually(() => packetSocketOwners(lab.clientNs).size >= 3, 10_000)).toBe(true);
    inNs(lab.clientNs, ["ip", "link", "del", "lab0"]);
    const results = await Promise.all(runs);
    const names = ["watch", "discover", "request"];
    results.forEach((r, i) => {
      const seen = { command: names[i], exitCode: r.exitCode, stderr: r.stderr.slice(0, 300) };
      const crashed = /\n\s+at |\d+ \| |TypeError|RangeError|panic|Segmentation/.test(r.stderr);
      expect({ ...seen, crashed, clean: [0, 1, 3].includes(r.exitCode) }).toEqual({ ...seen, crashed: false, clean: true });
      expect(r.ms).toBeLessThan(14_000);
    });
  }, 30_000);
});
