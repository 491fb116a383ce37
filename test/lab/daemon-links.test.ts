// Routes are shared property (issue 12's metric requirement, issue 11 finding 1) and long
// leases are scheduled right (finding 11), against Kea: two resident clients with --apply on
// two links renew a 10 s lease for a minute with `ip route` stable, each link's default route
// at its own metric (1000 + ifindex), and releasing one leaves the other's untouched; an
// infinite lease is bound, put on the interface forever and never renewed.

import { afterAll, describe, expect, test } from "bun:test";
import { labDown, type LabState } from "../../cli/lab/index.ts";
import { Daemon, daemonDirs, lease, removeDirs, type DaemonDirs } from "./daemon-helpers.ts";
import { inNs, startLab } from "./helpers.ts";

const labs: LabState[] = [];
const dirs: DaemonDirs[] = [];
const daemons: Daemon[] = [];

afterAll(async () => {
  for (const x of daemons) await x.stop();
  for (const l of labs) labDown(l.name);
  for (const d of dirs) removeDirs(d);
});

const ifindex = (lab: LabState, dev: string) => Number(inNs(lab.clientNs, ["cat", `/sys/class/net/${dev}/ifindex`]).trim());
const defaults = (lab: LabState) =>
  inNs(lab.clientNs, ["ip", "route", "show", "default"])
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();

describe("two resident clients with --apply on two links (Kea, 10 s leases)", () => {
  test("a minute of renewals: each default route at its own metric, ip route stable; releasing one leaves the other's", async () => {
    const lab = startLab("links", { servers: 2, links: 2, kinds: ["kea", "kea"], leaseTime: 10 });
    labs.push(lab);
    const d = daemonDirs();
    dirs.push(d);
    const a = new Daemon(lab, d, ["--apply"], "lab0");
    const b = new Daemon(lab, d, ["--apply"], "lab1");
    daemons.push(a, b);
    await Promise.all([a.leased(15_000), b.leased(15_000)]);
    const m0 = 1000 + ifindex(lab, "lab0"),
      m1 = 1000 + ifindex(lab, "lab1");
    expect(m0).not.toBe(m1);
    const expected = [`default via 198.18.0.1 dev lab0 proto dhcp metric ${m0} `, `default via 198.18.1.2 dev lab1 proto dhcp metric ${m1} `]
      .map((l) => l.trim())
      .sort();
    expect(defaults(lab)).toEqual(expected);
    const routes = inNs(lab.clientNs, ["ip", "route", "show", "table", "main"]);
    const from = [a.events.length, b.events.length];
    // Sampled every 2 s for a minute, while both renew every ~5 s.
    for (let i = 0; i < 30; i++) {
      await Bun.sleep(2000);
      expect(defaults(lab)).toEqual(expected);
      expect(inNs(lab.clientNs, ["ip", "route", "show", "table", "main"])).toBe(routes);
    }
    expect(a.events.slice(from[0]).filter((e) => e.event === "renew").length).toBeGreaterThanOrEqual(8);
    expect(b.events.slice(from[1]).filter((e) => e.event === "renew").length).toBeGreaterThanOrEqual(8);
    const r = await lease(lab, d, ["release", "lab0"]);
    expect(r.exitCode).toBe(0);
    expect(await a.exited).toBe(0);
    expect(defaults(lab)).toEqual([expected[1]]);
    expect(await b.stop()).toBe(0);
  }, 120_000);
});

describe("an infinite lease (Kea valid-lifetime 0xffffffff)", () => {
  test("bound as infinite, the address on forever, no renewal armed, no timer warning", async () => {
    const lab = startLab("inf", { servers: 1, kinds: ["kea"], leaseTime: 0xffffffff });
    labs.push(lab);
    const d = daemonDirs();
    dirs.push(d);
    const x = new Daemon(lab, d, ["--apply"]);
    daemons.push(x);
    const bound = await x.leased(15_000);
    expect(bound.lease).toMatchObject({ infinite: true, leaseTime: 0xffffffff, renewAt: null, rebindAt: null, expiresAt: null });
    const addr = JSON.parse(inNs(lab.clientNs, ["ip", "-j", "addr", "show", "dev", "lab0"]))[0].addr_info.find((a: { family: string }) => a.family === "inet");
    expect(addr.valid_life_time).toBe(4294967295);
    const shown = JSON.parse((await lease(lab, d, ["show", "lab0", "--json"])).stdout);
    expect(shown).toMatchObject({ phase: "BOUND", remaining: { renew: null, rebind: null, expire: null } });
    await Bun.sleep(3000);
    expect(x.events.filter((e) => e.event === "sent" && e.type === "REQUEST")).toHaveLength(1); // the one that won it
    expect(x.stderr.join("\n")).not.toContain("TimeoutOverflowWarning");
    expect(await x.stop()).toBe(0);
  }, 40_000);
});
