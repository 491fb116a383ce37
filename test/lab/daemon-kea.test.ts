// The resident client's lease life against Kea with timers in seconds (lease 8 s, T1 2 s,
// T2 5 s): renewals by unicast (captured on the server's side), a rebind by broadcast when
// the server stops hearing unicast, expiry when it vanishes (the address comes off the
// interface), and a new lease when it comes back.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { blockUnicast, labDown, SERVER_IFACE, startServer, stopServer, type LabState } from "../../cli/lab/index.ts";
import { Daemon, daemonDirs, dhcpRoutes, ipv4Addresses, removeDirs, type DaemonDirs } from "./daemon-helpers.ts";
import { captureOn, startLab } from "./helpers.ts";

let lab: LabState;
let d: DaemonDirs;
let daemon: Daemon | null = null;

beforeAll(() => {
  lab = startLab("dkea", { servers: 1, kinds: ["kea"], leaseTime: 8, renewTime: 2, rebindTime: 5 });
  d = daemonDirs();
});

afterAll(async () => {
  await daemon?.stop();
  labDown(lab.name);
  removeDirs(d);
});

describe("request --daemon against Kea with an 8 s lease", () => {
  test("renew by unicast, rebind by broadcast, expiry deconfigures, a new lease when the server returns", async () => {
    // tcpdump on the server's end: the DHCP packets that reach it, one line each. It is given
    // 100 ms, not the default 200, to settle when stopped: this test's timers run in seconds.
    const cap = await captureOn(lab.servers[0].ns, SERVER_IFACE, "udp and dst port 67", { settleMs: 100 });
    daemon = new Daemon(lab, d, ["--apply"]);
    const x = daemon;
    const b = await x.event("bound", 10_000);
    const address = b.address as string;
    expect(b.lease).toMatchObject({ leaseTime: 8, t1: 2, t2: 5 });

    // T1: a REQUEST unicast from the leased address to the server, answered.
    const renewed = await x.event("renew", 5000);
    expect(renewed.address).toBe(address);
    const seen = await cap.stop();
    expect(seen.some((l) => l.includes(`IP ${address}.68 > 198.18.0.1.67`))).toBe(true);

    // The server stops hearing unicast: the renewal at T1 goes unanswered, at T2 the
    // broadcast REBINDING REQUEST is answered.
    blockUnicast(lab, 1, true);
    let from = x.events.length;
    const rebound = await x.event("rebind", 9000, from);
    expect(rebound.address).toBe(address);
    const between = x.events.slice(from);
    expect(between.some((e) => e.event === "sent" && e.type === "REQUEST" && e.to === "198.18.0.1")).toBe(true);
    expect(between.some((e) => e.event === "sent" && e.type === "REQUEST" && e.to === "255.255.255.255")).toBe(true);
    blockUnicast(lab, 1, false);

    // The server goes away: renew and rebind fail, the lease expires, the address comes off.
    stopServer(lab, 1);
    from = x.events.length;
    const lost = await x.event("unbound", 12_000, from);
    expect(lost).toMatchObject({ why: "expired", address });
    expect(ipv4Addresses(lab)).toEqual([]);
    expect(dhcpRoutes(lab)).toEqual([]);

    // It comes back: the DISCOVERs (with backoff) get a new lease.
    startServer(lab, 1);
    const again = await x.event("bound", 15_000, from);
    expect(ipv4Addresses(lab).map((a) => a.local)).toEqual([again.address as string]);
    expect(await x.stop()).toBe(0);
  }, 60_000);
});
