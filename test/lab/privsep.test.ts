// Issue 11, the privileged helper and the process layout, against dnsmasq in a lab: what the
// helper refuses (nonsense routes, malformed messages), routes as shared property (a default
// route on another link is never replaced or removed), the lock no local user can take, the
// state directory never chowned, SIGHUP reading a 0600 root config, a STOP hook that
// ignores SIGTERM not outliving the daemon, and nothing sent before the privilege drop.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inClient, labDown, type LabState } from "../../cli/lab/index.ts";
import { Daemon, daemonDirs, dhcpRoutes, ipv4Addresses, lease, removeDirs, type DaemonDirs } from "./daemon-helpers.ts";
import { eventually, inNs, RUNS_AS, running, startLab } from "./helpers.ts";

let lab: LabState;
let d: DaemonDirs;
const daemons: Daemon[] = [];

beforeAll(() => {
  lab = startLab("priv", { servers: 1 });
  d = daemonDirs();
});

afterEach(async () => {
  for (const x of daemons.splice(0)) await x.stop();
});

afterAll(() => {
  labDown(lab.name);
  removeDirs(d);
});

function start(extra: string[] = [], dirs = d): Daemon {
  const x = new Daemon(lab, dirs, extra);
  daemons.push(x);
  return x;
}

/** The helper driver (test/lab/privsep-driver.ts) in the client namespace: one parsed JSON line per step. */
function driver(scenario: string): Record<string, unknown> {
  const text = inNs(lab.clientNs, [process.execPath, join(import.meta.dir, "privsep-driver.ts"), scenario, "lab0", d.state, d.run]);
  return Object.fromEntries(
    text
      .trim()
      .split("\n")
      .map((l) => {
        const j = JSON.parse(l);
        return [j.step, j.value];
      }),
  );
}

const routes = () => inNs(lab.clientNs, ["ip", "route", "show", "table", "main"]);

describe("the helper itself", () => {
  test("refuses nonsense routes and a /0 mask, adds the rest at 1000 + ifindex with NLM_F_EXCL, and takes off exactly those", () => {
    const r = driver("apply") as Record<string, { status: number; done: string[]; failed: string[] }>;
    const metric = r.ready as unknown as { metric: number; ifindex: number };
    expect(metric.metric).toBe(1000 + metric.ifindex);
    expect(r.apply.done).toEqual([
      "address 198.18.0.150/24",
      `route default via 198.18.0.1 metric ${metric.metric}`,
      `route 198.18.9.0/24 via 198.18.0.1 metric ${metric.metric}`,
    ]);
    expect(r.apply.failed.map((f) => f.replace(/^route (\S+) .*refused: /, "$1 "))).toEqual([
      "127.0.0.0/8 loopback (127/8)",
      "224.0.0.0/4 multicast or reserved (224/3)",
      "240.0.0.0/4 multicast or reserved (224/3)",
      "255.255.255.255/32 255.255.255.255/32",
      "0.0.0.0/32 0.0.0.0/32",
      "198.18.0.0/24 the connected subnet (the kernel's own route)",
      "198.18.7.0/24 a gateway that is our own address",
    ]);
    expect(r["zero-mask"]).toMatchObject({ status: -22, failed: ["address 198.18.0.151/0 refused: a /0 mask (or none that fits)"] });
    expect(r.remove.failed).toEqual([]);
    expect(ipv4Addresses(lab)).toEqual([]);
    expect(routes()).not.toContain("proto dhcp");
  });

  test("a datagram that breaks the protocol (version, length, route count, type, blob length) is refused and changes nothing", () => {
    const r = driver("malformed") as Record<string, { status: number; failed: string[] }>;
    for (const step of ["bad-version", "bad-length-field", "short-lease", "too-many-routes", "unknown-type", "blob-length-lies"]) {
      expect(r[step]).toMatchObject({ status: -71 }); // EPROTO
    }
    expect(r["hook-without-hook"]).toMatchObject({ status: -22, failed: ["no hook was configured"] });
    expect(r["still-answers"]).toMatchObject({ status: 0 });
    expect(ipv4Addresses(lab)).toEqual([]);
    expect(existsSync(join(d.state, "lab0.json"))).toBe(false);
  });
});

describe("the resident client with its helper", () => {
  test("finding 1: the host's default route on another link is neither replaced nor removed; ours has its own metric", async () => {
    inNs(lab.clientNs, ["ip", "link", "add", "tdum0", "type", "veth", "peer", "name", "tdum1"]); // no dummy module here
    inNs(lab.clientNs, ["ip", "link", "set", "tdum1", "up"]);
    try {
      inNs(lab.clientNs, ["ip", "link", "set", "tdum0", "up"]);
      inNs(lab.clientNs, ["ip", "addr", "add", "198.19.0.1/24", "dev", "tdum0"]);
      inNs(lab.clientNs, ["ip", "route", "add", "default", "via", "198.19.0.254", "dev", "tdum0"]);
      const x = start(["--apply"]);
      await x.leased(10_000);
      const metric = x.events.find((e) => e.event === "helper")!.metric as number;
      expect(routes()).toContain("default via 198.19.0.254 dev tdum0");
      expect(routes()).toContain(`default via 198.18.0.1 dev lab0 proto dhcp metric ${metric}`);
      expect(await x.stop()).toBe(0);
      // Restarted and released: the host's route is still there, ours is gone.
      const y = start(["--apply"]);
      await y.leased(10_000);
      y.kill("SIGTERM");
      expect(await y.exited).toBe(0);
      expect(routes()).toContain("default via 198.19.0.254 dev tdum0");
    } finally {
      inNs(lab.clientNs, ["ip", "link", "del", "tdum0"]);
    }
  }, 40_000);

  test("finding 2: nothing is sent before the drop: the first DISCOVER follows the 'dropped' event", async () => {
    const x = start([]);
    await x.leased(10_000);
    const dropped = x.events.findIndex((e) => e.event === "dropped");
    const firstSent = x.events.findIndex((e) => e.event === "sent");
    expect(dropped).toBeGreaterThanOrEqual(0);
    expect(dropped).toBeLessThan(firstSent);
    expect(x.events[dropped].uid).toBe(RUNS_AS.uid);
  }, 20_000);

  test("finding 6: a local user who binds the old abstract name and cannot create the lock file does not keep the daemon from starting", async () => {
    const squat = Bun.spawn(
      inClient(lab, [
        "setpriv",
        "--reuid",
        "4242",
        "--regid",
        "4242",
        "--clear-groups",
        "--",
        process.execPath,
        "-e",
        `Bun.listen({ unix: "\\0dhcptool/lab0", socket: { data() {} } }); require("fs").writeFileSync(${JSON.stringify(join(d.run, "lab0.lock"))}, "x"); ` +
          `setInterval(() => {}, 1000)`,
      ]),
      { stdout: "ignore", stderr: "pipe" },
    );
    try {
      const x = start([]);
      await x.leased(10_000);
      expect(statSync(join(d.run, "lab0.lock")).uid).toBe(0);
    } finally {
      squat.kill("SIGKILL");
    }
  }, 20_000);

  test("finding 5: a --state-dir that is a symlink is refused, its target not chowned; a world-writable one is refused", async () => {
    const target = join(d.root, "rootdir");
    mkdirSync(target, { mode: 0o700 });
    const link = join(d.root, "statelink");
    symlinkSync(target, link);
    const x = start([], { ...d, state: link });
    expect(await x.exited).toBe(1);
    expect(x.stderr.join("\n")).toContain("is a symbolic link or not a directory (not followed)");
    expect(statSync(target).uid).toBe(0);
    const open = join(d.root, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    const y = start([], { ...d, state: open });
    expect(await y.exited).toBe(1);
    expect(y.stderr.join("\n")).toContain("is writable by group or others (mode 777)");
    // The daemon's own state directory: root's, 0700, the lease file root's too.
    const z = start([]);
    await z.leased(10_000);
    expect(statSync(d.state).uid).toBe(0);
    expect(statSync(d.state).mode & 0o777).toBe(0o700);
    expect(statSync(join(d.state, "lab0.json")).uid).toBe(0);
  }, 30_000);

  test("finding 4: SIGHUP re-reads a 0600 root config through the helper", async () => {
    const conf = join(d.root, "secret.toml");
    writeFileSync(conf, `[interface.lab0]\nhost-name = "first"\n`);
    chmodSync(conf, 0o600);
    const x = start(["--config", conf]);
    await x.leased(10_000);
    const from = x.events.length;
    writeFileSync(conf, `[interface.lab0]\nhost-name = "second"\n`);
    x.kill("SIGHUP");
    const r = await x.event("reconfigure", 5000, from);
    expect(r.message).toContain("settings changed");
    expect(x.events.slice(from).some((e) => e.event === "reload" && e.level === "error")).toBe(false);
  }, 20_000);

  test("finding 9: a STOP hook that ignores SIGTERM, and what it started, do not outlive the daemon", async () => {
    const pids = join(d.root, "hook-pids");
    writeFileSync(pids, "");
    chmodSync(pids, 0o666);
    const hook = join(d.root, "stubborn.sh");
    writeFileSync(hook, `#!/bin/sh\ntrap '' TERM\n[ "$reason" = STOP ] || exit 0\nsleep 300 &\necho "$$ $!" >> ${pids}\nwhile :; do sleep 1; done\n`);
    chmodSync(hook, 0o755);
    const x = start(["--hook", hook, "--hook-timeout", "60"]);
    await x.leased(10_000);
    x.kill("SIGTERM");
    await eventually(() => readFileSync(pids, "utf8").trim() !== "", 5000);
    const started = readFileSync(pids, "utf8").trim().split(/\s+/).map(Number);
    expect(started).toHaveLength(2);
    // The daemon waits for the hook up to its time limit (60 s here); a supervisor's SIGKILL
    // then ends it: its helper sees the socket close and ends the hook's whole group.
    await eventually(() => started.every(running), 1000);
    x.kill("SIGKILL");
    await x.exited;
    expect(await eventually(() => !started.some(running), 5000)).toBe(true);
    // The hook ran as the daemon's --user, not root.
    expect(readFileSync(hook, "utf8")).toContain("trap");
  }, 30_000);

  test("lease release with no daemon takes off what --apply put on, as the stored lease records it; says so when it was not applied", async () => {
    const x = start(["--apply"]);
    const b = await x.leased(10_000);
    expect(JSON.parse(readFileSync(join(d.state, "lab0.json"), "utf8")).applied).toMatchObject({ routes: true });
    x.kill("SIGKILL"); // gone without a word: the address and routes stay, the lease stays stored
    await x.exited;
    expect(ipv4Addresses(lab).map((a) => a.local)).toEqual([b.address as string]);
    await eventually(() => !existsSync(`/proc/${x.events.find((e) => e.event === "helper")!.pid}`), 3000);
    const r = await lease(lab, d, ["release", "lab0"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`taken off lab0: remove route`);
    expect(ipv4Addresses(lab)).toEqual([]);
    expect(dhcpRoutes(lab)).toEqual([]);
    // Without --apply there is nothing to take off, and it says so.
    const y = start([]);
    await y.leased(10_000);
    y.kill("SIGKILL");
    await y.exited;
    await eventually(() => !existsSync(`/proc/${y.events.find((e) => e.event === "helper")!.pid}`), 3000);
    const r2 = await lease(lab, d, ["release", "lab0"]);
    expect(r2.stdout).toContain("the interface was not touched: the stored lease was not applied (--apply)");
  }, 40_000);
});
