// discover --daemon (the resident prober) against real dnsmasq servers in namespaces: a
// server appears, one is rogue, one goes away and comes back, SIGTERM ends it with a summary.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { labDown, startServer, stopServer, type LabState } from "../../cli/lab/index.ts";
import { dhcptool, EventStream, MAIN, startLab } from "./helpers.ts";

describe("discover --daemon with two dnsmasq servers, one allowed", () => {
  let lab: LabState;
  let daemon: ReturnType<typeof Bun.spawn> | null = null;
  beforeAll(() => {
    lab = startLab("probe", { servers: 2 });
  });
  afterAll(() => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill("SIGKILL");
    if (lab) labDown(lab.name);
  });

  test("new, rogue, vanished, back; SIGTERM gives a summary and exit 5; one chaddr throughout", async () => {
    const argv = [
      "ip",
      "netns",
      "exec",
      lab.clientNs,
      process.execPath,
      MAIN,
      "discover",
      "lab0",
      "--daemon",
      "--interval",
      "1",
      "--wait",
      "0.5",
      "--json",
      "--allow-server",
      "198.18.0.1",
    ];
    const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    daemon = p;
    const out = new EventStream(p.stdout);
    const stderr = new Response(p.stderr).text();

    const start = await out.waitFor("start event", (e) => e.event === "start", 3000);
    expect(start).toMatchObject({ interface: "lab0", intervalS: 1, waitS: 0.5, vanishAfter: 2, allowServers: ["198.18.0.1"] });
    expect(start.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);

    // the first probes: both servers are new, the second is rogue
    await out.waitFor("server-new 198.18.0.1", (e) => e.event === "server-new" && e.server === "198.18.0.1", 5000);
    await out.waitFor("server-new 198.18.0.2", (e) => e.event === "server-new" && e.server === "198.18.0.2", 5000);
    await out.waitFor("rogue 198.18.0.2", (e) => e.event === "rogue" && e.server === "198.18.0.2", 5000);
    await out.waitFor("a second probe", () => out.events.filter((e) => e.event === "probe").length >= 2, 5000);
    const new1 = out.find((e) => e.event === "server-new" && e.server === "198.18.0.1");
    const new2 = out.find((e) => e.event === "server-new" && e.server === "198.18.0.2");
    expect(new1).toMatchObject({
      rogue: false,
      subnetMask: "255.255.255.0",
      routers: ["198.18.0.1"],
      dns: ["198.18.0.1"],
      domain: "lab.example",
      leaseTime: 3600,
    });
    expect(new2).toMatchObject({ rogue: true, routers: ["198.18.0.2"] });
    expect(out.find((e) => e.event === "rogue")).toMatchObject({ server: "198.18.0.2", sourceIp: "198.18.0.2", reason: "first-seen" });
    expect(out.find((e) => e.event === "rogue" && e.server === "198.18.0.1")).toBeUndefined();
    expect(out.events.filter((e) => e.event === "probe").length).toBeGreaterThanOrEqual(2);
    for (const e of out.events) expect(Number.isNaN(Date.parse(e.time))).toBe(false);

    // server 2 stops answering: vanished after two probes without it
    stopServer(lab, 2);
    const vanished = await out.waitFor("server-vanished", (e) => e.event === "server-vanished" && e.server === "198.18.0.2", 5000);
    expect(vanished.missedProbes).toBe(2);
    expect(out.find((e) => e.event === "server-vanished" && e.server === "198.18.0.1")).toBeUndefined();

    // and back: server-back, and rogue again
    startServer(lab, 2);
    const back = await out.waitFor("server-back", (e) => e.event === "server-back" && e.server === "198.18.0.2", 5000);
    expect(back.rogue).toBe(true);
    await out.waitFor("rogue after back", (e) => e.event === "rogue" && e.reason === "back", 1000);
    // same configuration on restart: nothing changed
    expect(out.find((e) => e.event === "server-changed")).toBeUndefined();

    p.kill("SIGTERM");
    const code = await p.exited;
    await out.closed();
    expect(code).toBe(5);
    const summary = out.events.at(-1)!;
    expect(summary.event).toBe("summary");
    expect(summary).toMatchObject({ serversSeen: 2, rogueServers: ["198.18.0.2"], rogueSeen: true, probesFailed: 0 });
    expect(summary.probes as number).toBeGreaterThanOrEqual(5);
    const err = await stderr;
    expect(err).toContain("rogue DHCP server: 198.18.0.2");
    expect(err).not.toContain("probe failed");

    // every probe used the one MAC from the start event, and only DISCOVERs went out
    const log1 = await Bun.file(`${lab.servers[0].dir}/log`).text();
    const macs = new Set([...log1.matchAll(/DHCPDISCOVER\(srv0\) ([0-9a-f:]{17})/g)].map((m) => m[1]));
    expect(macs).toEqual(new Set([start.mac as string]));
    expect([...log1.matchAll(/DHCPDISCOVER/g)].length).toBeGreaterThanOrEqual(5);
    for (const s of lab.servers) {
      const log = await Bun.file(`${s.dir}/log`).text();
      expect(log).not.toMatch(/DHCP(REQUEST|RELEASE|DECLINE)/);
      expect(log).toContain(`DHCPDISCOVER(srv0) ${start.mac}`);
    }
  }, 20000);
});

describe("discover --daemon: errors", () => {
  test("usage: --interval without --daemon, --first with --daemon, an interval under 1 s", async () => {
    for (const args of [
      ["--interval", "5"],
      ["--daemon", "--first"],
      ["--vanish-after", "2"],
      ["--daemon", "--interval", "0.5"],
      ["--daemon", "--vanish-after", "0"],
    ]) {
      const r = await dhcptool(null, ["discover", "lo", ...args]);
      expect({ args, code: r.exitCode }).toEqual({ args, code: 2 });
      expect(r.stderr).not.toContain("    at ");
    }
  });

  test("a missing interface at start: exit 1 at once, as for one-shot", async () => {
    const r = await dhcptool(null, ["discover", "nosuchif0", "--daemon", "--interval", "1"], 5000);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('interface "nosuchif0" does not exist');
    expect(r.stdout).toBe("");
  });
});
