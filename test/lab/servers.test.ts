// Every lab server kind on one segment: dnsmasq, Kea, ISC dhcpd and busybox udhcpd, each
// answering discover and request by unicast (--server) and all four answering one broadcast
// DISCOVER. Then ISC's NAK (it runs authoritative), restarting a server of each new kind by
// its PID, and `lab up --kind isc,udhcpd` with timers in seconds from the command line.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { labDown, readLab, serverLeaseList, startServer, stopServer, type LabState, type ServerKindName } from "../../cli/lab/index.ts";
import { dhcptool, eventually, inPool, labName, running, startLab } from "./helpers.ts";

const KINDS: ServerKindName[] = ["dnsmasq", "kea", "isc", "udhcpd"];
const LEASE = 600;
const CLIENT_IP = "198.18.0.5";
const LAB_TEST_MS = 30_000; // four servers, each given up to 10 s to be ready
/** dnsmasq and Kea send T1/T2 of their own (lease/2, lease·7/8); ISC dhcpd and udhcpd send none. */
const SENDS_TIMERS: Record<ServerKindName, boolean> = { dnsmasq: true, kea: true, isc: false, udhcpd: false };

/** One MAC per server, so udhcpd (which reserves an offered address for 60 s) offers the same address again. */
const macOf = (i: number) => `02:00:00:00:5e:0${i}`;

function ipInClient(lab: LabState, args: string[]): void {
  const p = Bun.spawnSync(["ip", "-n", lab.clientNs, ...args], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${p.stderr.toString()}`);
}

describe("four servers of four kinds on one segment", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("srv", { servers: 4, kinds: KINDS, leaseTime: LEASE });
    // --server needs an address in the subnet to send from (a Linux UDP socket drops 0.0.0.0 as martian)
    ipInClient(lab, ["addr", "add", `${CLIENT_IP}/24`, "dev", "lab0"]);
  }, LAB_TEST_MS);
  afterAll(() => {
    if (!lab) return;
    try {
      ipInClient(lab, ["addr", "del", `${CLIENT_IP}/24`, "dev", "lab0"]);
    } finally {
      labDown(lab.name);
    }
  }, LAB_TEST_MS);

  test("the state file records each kind; each runs by its recorded PID under its own name", () => {
    const comm: Record<ServerKindName, string> = { dnsmasq: "dnsmasq", kea: "kea-dhcp4", isc: "dhcpd", udhcpd: "udhcpd" };
    const servers = readLab(lab.name)!.servers;
    expect(servers.map((s) => [s.kind, s.ip, s.leaseTime])).toEqual(KINDS.map((k, i) => [k, `198.18.0.${i + 1}`, LEASE]));
    for (const s of servers) expect(readFileSync(`/proc/${s.pid}/comm`, "utf8").trim()).toBe(comm[s.kind]);
  });

  for (const [n, kind] of KINDS.entries()) {
    const i = n + 1,
      ip = `198.18.0.${i}`;

    test(
      `${kind}: discover --server ${ip} shows only its offer: pool address, lease time, router, DNS, domain`,
      async () => {
        const r = await dhcptool(lab, ["discover", "lab0", "--json", "--server", ip, "--wait", "1", "--mac", macOf(i)]);
        expect(r.stderr).toBe("");
        expect(r.exitCode).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out.server).toBe(ip);
        expect(out.offers).toHaveLength(1);
        const o = out.offers[0];
        expect(o.serverId).toBe(ip);
        expect(inPool(o.yiaddr, lab.servers[n])).toBe(true);
        expect(o.subnetMask).toBe("255.255.255.0");
        expect(o.leaseTime).toBe(LEASE);
        expect([o.renewalTime ?? null, o.rebindingTime ?? null]).toEqual(SENDS_TIMERS[kind] ? [LEASE / 2, (LEASE * 7) / 8] : [null, null]);
        expect(o.routers).toEqual([ip]);
        expect(o.dns).toEqual([ip]);
        expect(o.domain).toBe("lab.example");
        expect(o.search).toEqual(["lab.example", "example.org"]);
      },
      LAB_TEST_MS,
    );

    test(
      `${kind}: request --server ${ip} binds from it; the server's lease file holds the lease; --release gives it back`,
      async () => {
        const s = lab.servers[n];
        const r = await dhcptool(lab, ["request", "lab0", "--server", ip, "--json", "--mac", macOf(i)]);
        expect(r.stderr).toBe("");
        expect(r.exitCode).toBe(0);
        const { lease } = JSON.parse(r.stdout);
        expect(lease).toMatchObject({ serverId: ip, leaseTime: LEASE, routers: [ip], dns: [ip], domain: "lab.example" });
        expect(inPool(lease.address, s)).toBe(true);
        // udhcpd writes its lease file once a second
        const held = () => serverLeaseList(s).find((l) => l.address === lease.address && l.mac === macOf(i));
        expect(await eventually(() => held() !== undefined && Math.abs(held()!.expiresAt - (Date.now() / 1000 + LEASE)) < 3, 2500)).toBe(true);

        const again = await dhcptool(lab, ["request", "lab0", "--server", ip, "--release", "--json", "--mac", macOf(i)]);
        expect(again.stderr).toBe("");
        expect(again.exitCode).toBe(0);
        const out = JSON.parse(again.stdout);
        expect(out).toMatchObject({ outcome: "bound", released: true, server: ip });
        expect(out.lease).toMatchObject({ serverId: ip, address: lease.address });
        const gone = () => !serverLeaseList(s).some((l) => l.address === lease.address);
        expect(await eventually(gone, 2500)).toBe(true);
      },
      LAB_TEST_MS,
    );
  }

  test(
    "a broadcast discover sees all four, each offering from its own pool",
    async () => {
      const r = await dhcptool(lab, ["discover", "lab0", "--json", "--wait", "2", "--mac", "02:00:00:00:5e:10"]);
      expect(r.exitCode).toBe(0);
      const offers = JSON.parse(r.stdout).offers as { serverId: string; yiaddr: string; leaseTime: number }[];
      expect(offers.map((o) => o.serverId).sort()).toEqual(["198.18.0.1", "198.18.0.2", "198.18.0.3", "198.18.0.4"]);
      for (const o of offers) {
        const s = lab.servers.find((x) => x.ip === o.serverId)!;
        expect(inPool(o.yiaddr, s)).toBe(true);
        expect(o.leaseTime).toBe(LEASE);
      }
    },
    LAB_TEST_MS,
  );

  test(
    "ISC dhcpd is authoritative: an INIT-REBOOT REQUEST for an address another client holds is NAKed",
    async () => {
      const taken = await dhcptool(lab, ["request", "lab0", "--server", "198.18.0.3", "--json", "--mac", "02:00:00:00:5e:20"]);
      expect(taken.exitCode).toBe(0);
      const address = JSON.parse(taken.stdout).lease.address;
      const r = await dhcptool(lab, ["request", "lab0", "--server", "198.18.0.3", "--address", address, "--json", "--mac", "02:00:00:00:5e:21"]);
      expect(r.exitCode).toBe(4);
      const out = JSON.parse(r.stdout);
      expect(out.outcome).toBe("nak");
      expect(out.nak.server).toBe("198.18.0.3");
    },
    LAB_TEST_MS,
  );

  test(
    "ISC dhcpd and udhcpd stop by their PID and start again, answering as before",
    async () => {
      for (const i of [3, 4]) {
        const pid = lab.servers[i - 1].pid!;
        stopServer(lab, i);
        expect(lab.servers[i - 1].pid).toBeNull();
        expect(running(pid)).toBe(false);
        startServer(lab, i);
        expect(running(lab.servers[i - 1].pid!)).toBe(true);
        const r = await dhcptool(lab, ["discover", "lab0", "--json", "--server", `198.18.0.${i}`, "--wait", "1", "--mac", macOf(i)]);
        expect(JSON.parse(r.stdout).offers.map((o: { serverId: string }) => o.serverId)).toEqual([`198.18.0.${i}`]);
      }
    },
    LAB_TEST_MS,
  );
});

describe("dhcptool lab up --kind isc,udhcpd with timers in seconds", () => {
  const name = labName("cli");
  afterAll(() => {
    labDown(name);
  }, LAB_TEST_MS);

  test(
    "both offer the 10 s lease, T1 3 s and T2 7 s; status names the kinds; down stops them",
    async () => {
      const up = await dhcptool(null, [
        "lab",
        "up",
        "--name",
        name,
        "--servers",
        "2",
        "--kind",
        "isc,udhcpd",
        "--lease-time",
        "10",
        "--renew-time",
        "3",
        "--rebind-time",
        "7",
      ]);
      expect(up.exitCode).toBe(0);
      const status = (await dhcptool(null, ["lab", "status", "--name", name])).stdout;
      expect(status).toMatch(/server 1: .* isc 198\.18\.0\.1 pid \d+.*lease 10 s, T1 3 s, T2 7 s/);
      expect(status).toMatch(/server 2: .* udhcpd 198\.18\.0\.2 pid \d+.*lease 10 s, T1 3 s, T2 7 s/);
      const lab = readLab(name)!;
      const d = await dhcptool(lab, ["discover", "lab0", "--json", "--wait", "1.5"]);
      const offers = JSON.parse(d.stdout)
        .offers.map((o: { serverId: string; leaseTime: number; renewalTime: number; rebindingTime: number }) => [
          o.serverId,
          o.leaseTime,
          o.renewalTime,
          o.rebindingTime,
        ])
        .sort();
      expect(offers).toEqual([
        ["198.18.0.1", 10, 3, 7],
        ["198.18.0.2", 10, 3, 7],
      ]);

      const pids = lab.servers.map((s) => s.pid!);
      expect((await dhcptool(null, ["lab", "down", "--name", name])).exitCode).toBe(0);
      expect(readLab(name)).toBeNull();
      for (const pid of pids) expect(running(pid)).toBe(false);
    },
    LAB_TEST_MS,
  );
});
