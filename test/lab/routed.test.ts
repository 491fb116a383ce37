// Behind a real router (lab up --topology routed: the client on 198.18.1.0/24, Kea with a 12 s
// lease beyond a router that forwards and relays, through dhcrelay and through dnsmasq): the
// resident client without --apply renews by unicast cycle after cycle (it answers the router's
// ARP for the leased address); the one-shots that unicast to a server beyond the router
// (release, inform) send their frame to the router's MAC, which the kernel's route and
// neighbour tables give; decline stays a broadcast, which the relay forwards; and the router
// box itself relays (discover out of its server side with its client-side address as giaddr).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labDown, serverLeaseList, type LabState } from "../../cli/lab/index.ts";
import { daemonDirs, Daemon, removeDirs } from "./daemon-helpers.ts";
import { captureOn, dhcptool, eventually, inNs, MAIN, startLab } from "./helpers.ts";

const LAB_MS = 30_000;
/** Kea's lease: T1 6 s, T2 10.5 s (Kea's lease/2 and 7/8). */
const LEASE_S = 12;
const KEA = "198.18.0.1";
/** The client's own address on its link, and the way to the servers' segment through the router. */
const HOST = "198.18.1.60";

/** The MAC of an interface in a namespace. */
const macOf = (ns: string, iface: string) => /link\/ether (\S+)/.exec(inNs(ns, ["ip", "-o", "link", "show", iface]))![1]!;

for (const relay of ["dhcrelay", "dnsmasq"] as const)
  describe(`routed, Kea beyond ${relay}`, () => {
    let lab: LabState;
    let stateDir: string;
    let routerMac: string;
    beforeAll(() => {
      lab = startLab(`n${relay.slice(0, 2)}`, { topology: "routed", relay, servers: 1, kinds: ["kea"], leaseTime: LEASE_S });
      stateDir = mkdtempSync(join(tmpdir(), "dt-routed-"));
      routerMac = macOf(lab.router!.ns, lab.router!.down.iface);
    }, LAB_MS);
    afterAll(() => {
      if (lab) labDown(lab.name);
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    }, LAB_MS);

    /** A lease from Kea through the relay, as request takes it. */
    async function lease(mac: string): Promise<string> {
      const r = await dhcptool(lab, ["request", "lab0", "--json", "--mac", mac]);
      expect(r.exitCode).toBe(0);
      const address = JSON.parse(r.stdout).lease.address as string;
      expect(serverLeaseList(lab.servers[0]!).some((l) => l.address === address && l.mac === mac)).toBe(true);
      return address;
    }

    /** lab0 gets an address on its link and a route to the servers' segment through the router. */
    function configureClient(): void {
      inNs(lab.clientNs, ["ip", "addr", "replace", `${HOST}/24`, "dev", "lab0"]);
      inNs(lab.clientNs, ["ip", "route", "replace", "198.18.0.0/24", "via", lab.router!.down.ip]);
      inNs(lab.clientNs, ["ip", "neigh", "flush", "dev", "lab0"]); // nothing known: the lookup must resolve it
    }

    test("the resident client without --apply renews by unicast, not rebinds, cycle after cycle: it answers the router's ARP", async () => {
      const dirs = daemonDirs();
      const d = new Daemon(lab, dirs);
      try {
        const bound = await d.leased(10_000);
        const address = (bound.lease as { address: string }).address;
        // three T1s (6 s apart): each renewal's ACK, unicast to the leased address, reaches us
        for (let n = 1; n <= 3; n++) await d.waitFor(() => d.events.filter((e) => e.event === "renew").length >= n, 12_000, 0, `renewal ${n}`);
        expect(d.events.filter((e) => e.event === "rebind" || e.event === "unbound").map((e) => e.message)).toEqual([]);
        expect(d.events.some((e) => e.event === "arp" && e.address === address && e.asker === lab.router!.down.ip)).toBe(true);
        // the router learnt the leased address at our MAC
        const mac = d.events.find((e) => e.event === "start")!.mac as string;
        expect(inNs(lab.router!.ns, ["ip", "neigh", "show", address])).toContain(`lladdr ${mac}`);
      } finally {
        await d.stop();
        removeDirs(dirs);
      }
    }, 45_000);

    test(
      "release --server beyond the router: the frame goes to the router's MAC, and Kea lets the lease go",
      async () => {
        const mac = "02:00:00:00:5a:01";
        const address = await lease(mac);
        configureClient();
        const cap = await captureOn(lab.clientNs, "lab0", "udp dst port 67", { linkHeaders: true, direction: "out" });
        const r = await dhcptool(lab, ["lease", "release", "lab0", "--address", address, "--server", KEA, "--mac", mac, "--state-dir", stateDir, "-v"]);
        const lines = await cap.stop();
        expect(r.exitCode).toBe(0);
        expect(r.stderr).toContain(`${KEA} is routed through ${lab.router!.down.ip} (${routerMac})`);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(`> ${routerMac}, ethertype IPv4`); // was ff:ff:ff:ff:ff:ff, which the router drops
        expect(await eventually(() => !serverLeaseList(lab.servers[0]!).some((l) => l.address === address), 3000)).toBe(true);
      },
      LAB_MS,
    );

    test(
      "inform --server beyond the router is answered; --server-mac names the destination outright",
      async () => {
        configureClient();
        const cap = await captureOn(lab.clientNs, "lab0", "udp dst port 67", { linkHeaders: true, direction: "out" });
        const r = await dhcptool(lab, ["lease", "inform", "lab0", "--server", KEA, "--address", HOST, "--json"]);
        expect(r.exitCode).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, from: KEA, message: { messageType: "ACK", ciaddr: HOST } });
        const given = "02:00:00:00:5a:99";
        await dhcptool(lab, ["lease", "inform", "lab0", "--server", KEA, "--address", HOST, "--server-mac", given, "--tries", "1", "--timeout", "0.3"]);
        const lines = await cap.stop();
        expect(lines.map((l) => /> ([0-9a-f:]{17}), ethertype/.exec(l)?.[1])).toEqual([routerMac, given]);
        expect((await dhcptool(lab, ["lease", "inform", "lab0", "--server-mac", routerMac])).exitCode).toBe(2);
      },
      LAB_MS,
    );

    test(
      "decline stays a broadcast (RFC 2131 4.4.4): the relay forwards it and Kea sets the address aside",
      async () => {
        const mac = "02:00:00:00:5a:02";
        const address = await lease(mac);
        const r = await dhcptool(lab, ["lease", "decline", "lab0", "--address", address, "--server", KEA, "--mac", mac]);
        expect(r.exitCode).toBe(0);
        expect(await eventually(() => !serverLeaseList(lab.servers[0]!).some((l) => l.address === address), 3000)).toBe(true);
      },
      LAB_MS,
    );

    test(
      "--giaddr from the router box: its client-side address, sent out of its server side, as dhcrelay does",
      async () => {
        const r = lab.router!;
        const p = Bun.spawn(
          [
            "ip",
            "netns",
            "exec",
            r.ns,
            process.execPath,
            MAIN,
            "discover",
            r.up.iface,
            "--giaddr",
            r.down.ip,
            "--server",
            KEA,
            "--json",
            "--wait",
            "2",
            "--mac",
            "02:00:00:00:5a:03",
          ],
          { stdout: "pipe", stderr: "pipe" },
        );
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        expect(err).toBe("");
        expect(code).toBe(0); // was exit 2: "not an address of up0"
        const doc = JSON.parse(out) as { giaddr: string; offers: { serverId: string; yiaddr: string; giaddr: string }[] };
        expect(doc.giaddr).toBe(r.down.ip);
        expect(doc.offers).toHaveLength(1);
        // Kea picked the pool of giaddr's subnet: the client side's
        expect(doc.offers[0]).toMatchObject({ serverId: KEA, giaddr: r.down.ip });
        expect(doc.offers[0]!.yiaddr).toStartWith("198.18.1.");
        const none = await dhcptool(lab, ["discover", "lab0", "--giaddr", "198.18.7.7", "--server", KEA]);
        expect(none.exitCode).toBe(2);
        expect(none.stderr).toContain("--giaddr 198.18.7.7 is not an address of this host");
      },
      LAB_MS,
    );
  });
