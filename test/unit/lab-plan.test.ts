// The lab's plan for its pools (planLab, no IO): the default 40 addresses per server in one
// /24, fewer when asked, and a --pool too big for a /24 (a load run's) as one /16 segment with
// a block per server; each server kind's configuration says the same pool and mask.

import { describe, expect, test } from "bun:test";
import { serverKind } from "../../cli/lab/kinds.ts";
import { maskOf, maxPool, type ServerKindName } from "../../cli/lab/state.ts";
import { planLab, type Plan } from "../../cli/lab/topology.ts";
import { ipToU32 } from "../../core/bytes.ts";

const plan = (kinds: ServerKindName[], pool: number): Plan => ({
  name: "tplan",
  dir: "/nonexistent/tplan",
  topology: "flat",
  relay: "dhcrelay",
  links: 1,
  clientBridge: false,
  kinds,
  timers: { leaseTime: 3600, renewTime: null, rebindTime: null },
  serverArgs: [],
  ping: false,
  pool,
});

describe("lab pools", () => {
  test("default: 40 addresses each in 198.18.0.0/24, as before; --pool 10: the first 10 of them", () => {
    const s = planLab(plan(["dnsmasq", "kea"], 40));
    expect(s.links[0]).toMatchObject({ network: "198.18.0.0", prefixLen: 24 });
    expect(s.servers.map((x) => [x.ip, x.prefixLen, x.rangeStart, x.rangeEnd])).toEqual([
      ["198.18.0.1", 24, "198.18.0.100", "198.18.0.139"],
      ["198.18.0.2", 24, "198.18.0.150", "198.18.0.189"],
    ]);
    expect(planLab(plan(["kea"], 10)).servers[0]).toMatchObject({ rangeStart: "198.18.0.100", rangeEnd: "198.18.0.109" });
  });

  test("a pool beyond 40: the segment is a /16, each server's pool its own block, none overlapping", () => {
    const one = planLab(plan(["kea"], 50_000)).servers[0];
    expect(one).toMatchObject({ ip: "198.18.0.1", network: "198.18.0.0", prefixLen: 16, rangeStart: "198.18.16.1" });
    expect(ipToU32(one.rangeEnd) - ipToU32(one.rangeStart) + 1).toBe(50_000);
    const four = planLab(plan(["dnsmasq", "kea", "isc", "udhcpd"], maxPool(4))).servers;
    for (const [i, x] of four.entries()) {
      expect(ipToU32(x.rangeEnd) - ipToU32(x.rangeStart) + 1).toBe(maxPool(4));
      if (i) expect(ipToU32(x.rangeStart)).toBeGreaterThan(ipToU32(four[i - 1].rangeEnd));
    }
    expect(ipToU32(four[3].rangeEnd)).toBeLessThan(ipToU32("198.18.240.0"));
    expect(maxPool(1)).toBe(224 * 256 - 1);
  });

  test("every kind's configuration carries the pool and the mask", () => {
    const [dnsmasq, kea, isc, udhcpd] = planLab(plan(["dnsmasq", "kea", "isc", "udhcpd"], 5000)).servers;
    expect(serverKind("dnsmasq").config(dnsmasq)).toContain(`dhcp-range=${dnsmasq.rangeStart},${dnsmasq.rangeEnd},255.255.0.0,`);
    expect(JSON.parse(serverKind("kea").config(kea)).Dhcp4.subnet4[0]).toMatchObject({
      subnet: "198.18.0.0/16",
      pools: [{ pool: `${kea.rangeStart} - ${kea.rangeEnd}` }],
    });
    expect(serverKind("isc").config(isc)).toContain("subnet 198.18.0.0 netmask 255.255.0.0 {");
    const u = serverKind("udhcpd").config(udhcpd);
    expect(u).toContain("max_leases 5000\n");
    expect(u).toContain("opt subnet 255.255.0.0\n");
    expect([maskOf(24), maskOf(16), maskOf(0), maskOf(32)]).toEqual(["255.255.255.0", "255.255.0.0", "0.0.0.0", "255.255.255.255"]);
  });
});
