// The lab with Kea and short lease timers, and blockUnicast(): what a resident client's tests
// need to see a real server answer a unicast renewal, stop hearing unicast (so the client
// rebinds by broadcast), vanish (so the lease runs out) and come back.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import {
  blockUnicast,
  labDown,
  labUp,
  LabError,
  readLab,
  serverLeaseList,
  serverMac,
  startServer,
  stopServer,
  SERVER_IFACE,
  type LabState,
} from "../../cli/lab/index.ts";
import { captureOn, dhcptool, labName, running, sendRenewal, startLab, type RenewalRequest } from "./helpers.ts";

const LEASE = 6,
  T1 = 2,
  T2 = 4;

/** Bound through a whole DORA by `dhcptool request`, as a user would take a lease. */
async function takeLease(lab: LabState, mac: string) {
  const r = await dhcptool(lab, ["request", "lab0", "--json", "--mac", mac]);
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout).lease;
}

/** What tcpdump sees arrive on the server's srv0 while fn runs: one text line per datagram. */
async function seenByServer(lab: LabState, i: number, fn: () => Promise<unknown>): Promise<string[]> {
  const cap = await captureOn(lab.servers[i - 1].ns, SERVER_IFACE, "udp port 67", { direction: "in" });
  try {
    await fn();
  } finally {
    await cap.stop();
  }
  return (await cap.stop()).filter((l) => l.includes(" > ")); // stopped already: the same lines
}

describe("a Kea server with a 6 s lease", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("kea", { servers: 1, kinds: ["kea"], leaseTime: LEASE, renewTime: T1, rebindTime: T2 });
  });
  afterAll(() => {
    if (lab) labDown(lab.name);
  });

  const renewal = (mode: RenewalRequest["mode"], mac: string, address: string, waitMs = 1500) =>
    sendRenewal(lab, { mode, mac, address, serverIp: "198.18.0.1", serverMac: serverMac(lab, 1), waitMs });

  test("the state file records the kind and timers; Kea runs by the recorded PID", () => {
    const s = readLab(lab.name)!.servers[0];
    expect(s).toMatchObject({ kind: "kea", ip: "198.18.0.1", leaseTime: LEASE, renewTime: T1, rebindTime: T2, unicastBlocked: false });
    expect(readFileSync(`/proc/${s.pid}/comm`, "utf8").trim()).toBe("kea-dhcp4");
  });

  test("discover sends no DISCOVER once Kea has offered (each copy would cost a new address), and shows one offer", async () => {
    let out: { discoversSent: number; offers: { yiaddr: string; copies: number }[] } | null = null;
    const seen = await seenByServer(lab, 1, async () => {
      const r = await dhcptool(lab, ["discover", "lab0", "--json", "--wait", "2.5", "--timeout", "0.5", "--mac", "02:00:00:00:0e:09"]);
      expect(r.exitCode).toBe(0);
      out = JSON.parse(r.stdout);
    });
    expect(seen.filter((l) => /Request from 02:00:00:00:0e:09|BOOTP\/DHCP, Request/.test(l))).toHaveLength(1);
    expect(out!.discoversSent).toBe(1);
    expect(out!.offers.map((o) => o.copies)).toEqual([1]);
  });

  test("dhcptool request gets Kea's lease with the configured lease time, T1 and T2", async () => {
    const lease = await takeLease(lab, "02:00:00:00:0e:01");
    const s = lab.servers[0];
    expect(lease.serverId).toBe("198.18.0.1");
    expect(lease.serverMac).toBe(serverMac(lab, 1));
    expect([lease.leaseTime, lease.t1, lease.t2]).toEqual([LEASE, T1, T2]);
    expect(lease.routers).toEqual(["198.18.0.1"]);
    expect(lease.dns).toEqual(["198.18.0.1"]);
    expect(lease.domain).toBe("lab.example");
    expect(lease.search).toEqual(["lab.example", "example.org"]);
    const last = (ip: string) => Number(ip.split(".")[3]);
    expect(last(lease.address)).toBeGreaterThanOrEqual(last(s.rangeStart));
    expect(last(lease.address)).toBeLessThanOrEqual(last(s.rangeEnd));
    const held = serverLeaseList(s).find((l) => l.address === lease.address);
    expect(held?.mac).toBe("02:00:00:00:0e:01");
    expect(Math.abs(held!.expiresAt - (Date.now() / 1000 + LEASE))).toBeLessThan(2);
  });

  test("Kea ACKs a unicast RENEWING REQUEST and a broadcast REBINDING one, to the client's MAC", async () => {
    const mac = "02:00:00:00:0e:02";
    const lease = await takeLease(lab, mac);
    for (const mode of ["renew", "rebind"] as const) {
      const ack = await renewal(mode, mac, lease.address);
      expect(ack).toMatchObject({ type: 5, yiaddr: lease.address, leaseTime: LEASE, t1: T1, t2: T2, serverId: "198.18.0.1", dstMac: mac });
    }
  });

  test("blockUnicast drops the unicast renewal before it reaches Kea; broadcasts still get through", async () => {
    const mac = "02:00:00:00:0e:03";
    const lease = await takeLease(lab, mac);
    blockUnicast(lab, 1, true);
    try {
      expect(readLab(lab.name)!.servers[0].unicastBlocked).toBe(true);
      let renew = null,
        rebind = null;
      const blocked = await seenByServer(lab, 1, async () => {
        renew = await renewal("renew", mac, lease.address, 1000);
        rebind = await renewal("rebind", mac, lease.address);
        const d = await dhcptool(lab, ["discover", "lab0", "--first", "--wait", "3", "--json", "--mac", "02:00:00:00:0e:04"]);
        expect(d.exitCode).toBe(0);
        expect(JSON.parse(d.stdout).offers[0].serverId).toBe("198.18.0.1");
      });
      expect(renew).toMatchObject({ type: null });
      expect(rebind).toMatchObject({ type: 5, yiaddr: lease.address });
      expect(blocked.filter((l) => l.includes("> 198.18.0.1.67"))).toEqual([]);
      expect(blocked.filter((l) => l.includes(`${lease.address}.68 > 255.255.255.255.67`))).toHaveLength(1); // REBINDING
      expect(blocked.filter((l) => l.includes("0.0.0.0.68 > 255.255.255.255.67"))).toHaveLength(1); // DISCOVER
    } finally {
      blockUnicast(lab, 1, false);
    }
    expect(readLab(lab.name)!.servers[0].unicastBlocked).toBe(false);
    let renew = null;
    const open = await seenByServer(lab, 1, async () => {
      renew = await renewal("renew", mac, lease.address);
    });
    expect(renew).toMatchObject({ type: 5, yiaddr: lease.address, dstMac: mac });
    expect(open.filter((l) => l.includes(`${lease.address}.68 > 198.18.0.1.67`))).toHaveLength(1);
  });

  test("a stopped Kea answers nothing; started again, it still knows the lease and ACKs the rebind", async () => {
    const mac = "02:00:00:00:0e:05";
    const lease = await takeLease(lab, mac);
    const pid = lab.servers[0].pid!;
    stopServer(lab, 1);
    expect(lab.servers[0].pid).toBeNull();
    expect(running(pid)).toBe(false);
    expect(await renewal("rebind", mac, lease.address, 800)).toMatchObject({ type: null });
    startServer(lab, 1);
    expect(await renewal("rebind", mac, lease.address)).toMatchObject({ type: 5, yiaddr: lease.address });
  });

  test(
    "a lease nobody renews runs out: Kea reclaims it within a second of expiry",
    async () => {
      const lease = await takeLease(lab, "02:00:00:00:0e:06");
      const s = lab.servers[0];
      expect(serverLeaseList(s).map((l) => l.address)).toContain(lease.address);
      await Bun.sleep(LEASE * 1000 + 1500);
      expect(serverLeaseList(s).map((l) => l.address)).not.toContain(lease.address);
    },
    (LEASE + 5) * 1000,
  );
});

describe("dnsmasq with lease timers", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("dmt", { servers: 1, leaseTime: 120, renewTime: 30, rebindTime: 90 });
  });
  afterAll(() => {
    if (lab) labDown(lab.name);
  });

  test("dhcptool request gets dnsmasq's lease with lease time 120, T1 30, T2 90", async () => {
    const lease = await takeLease(lab, "02:00:00:00:0d:01");
    expect([lease.leaseTime, lease.t1, lease.t2]).toEqual([120, 30, 90]);
    expect(serverLeaseList(lab.servers[0]).find((l) => l.address === lease.address)?.mac).toBe("02:00:00:00:0d:01");
  });

  test("a lease under dnsmasq's 120 s minimum is refused before anything is built", () => {
    const name = labName("dmin");
    expect(() => labUp({ name, servers: 1, leaseTime: 60 })).toThrow(LabError);
    expect(() => labUp({ name, servers: 1, leaseTime: 60 })).toThrow(/at least 120 s/);
    expect(readLab(name)).toBeNull();
    expect(existsSync(`/run/netns/${name}-hub`)).toBe(false);
  });

  test("timers out of order are refused", () => {
    expect(() => labUp({ name: labName("dord"), servers: 1, kinds: ["kea"], leaseTime: 10, renewTime: 8, rebindTime: 5 })).toThrow(
      /renew \(T1 8 s\) < rebind \(T2 5 s\)/,
    );
  });
});

describe("dhcptool lab up --kind", () => {
  const name = labName("cli");
  afterAll(() => {
    labDown(name);
  });

  test("a Kea server and a dnsmasq server on one segment, both offering 120 s; block/unblock; down", async () => {
    const up = await dhcptool(null, ["lab", "up", "--name", name, "--servers", "2", "--kind", "kea,dnsmasq", "--lease-time", "120"]);
    expect(up.exitCode).toBe(0);
    expect(up.stdout).toMatch(/server 1: .* kea 198\.18\.0\.1 pid \d+.*lease 120 s/);
    expect(up.stdout).toMatch(/server 2: .* dnsmasq 198\.18\.0\.2 pid \d+.*lease 120 s/);
    const lab = readLab(name)!;
    const d = await dhcptool(lab, ["discover", "lab0", "--json", "--wait", "1.5"]);
    const offers = JSON.parse(d.stdout)
      .offers.map((o: { serverId: string; leaseTime: number }) => [o.serverId, o.leaseTime])
      .sort();
    expect(offers).toEqual([
      ["198.18.0.1", 120],
      ["198.18.0.2", 120],
    ]);

    expect((await dhcptool(null, ["lab", "block", "--name", name, "--server", "2"])).exitCode).toBe(0);
    expect((await dhcptool(null, ["lab", "status", "--name", name])).stdout).toMatch(/server 2: .*unicast blocked/);
    expect((await dhcptool(null, ["lab", "unblock", "--name", name, "--server", "2"])).exitCode).toBe(0);
    expect((await dhcptool(null, ["lab", "status", "--name", name])).stdout).not.toContain("unicast blocked");

    const pids = lab.servers.map((s) => s.pid!);
    expect((await dhcptool(null, ["lab", "down", "--name", name])).exitCode).toBe(0);
    expect(readLab(name)).toBeNull();
    for (const pid of pids) expect(running(pid)).toBe(false);
  });

  test("usage errors: an unknown kind, too many kinds, a lease under dnsmasq's minimum", async () => {
    expect((await dhcptool(null, ["lab", "up", "--name", name, "--kind", "bind"])).exitCode).toBe(2);
    expect((await dhcptool(null, ["lab", "up", "--name", name, "--kind", "kea,kea"])).exitCode).toBe(2);
    const short = await dhcptool(null, ["lab", "up", "--name", name, "--lease-time", "30"]);
    expect(short.exitCode).toBe(2);
    expect(short.stderr).toContain("dnsmasq grants at least 120 s");
    expect(readLab(name)).toBeNull();
  });
});
