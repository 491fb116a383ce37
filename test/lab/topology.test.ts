// The lab's topologies, each brought up and used by a plain dhcptool discover and request from
// the client namespace: servers behind a router that relays (dhcrelay and dnsmasq
// --dhcp-relay, to dnsmasq, Kea and ISC dhcpd), two client links with a server each, a client
// interface that is a bridge port; and raw frames (802.1Q-tagged too) injected from the server
// side onto a link.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { buildUdpFrame } from "../../core/frame.ts";
import { parseMac } from "../../core/bytes.ts";
import { labDown, readLab, serverLeaseList, startServer, stopServer, type LabState, type RelayKindName, type ServerKindName } from "../../cli/lab/index.ts";
import { captureOn, dhcptool, eventually, inNs, inPool, startLab } from "./helpers.ts";
import { injectFromServer, vlanTagged } from "./inject.ts";

const LAB_MS = 30_000;
const ROUTED_KINDS: ServerKindName[] = ["dnsmasq", "kea", "isc"];

interface Offer {
  serverId: string;
  sourceIp: string;
  giaddr: string;
  yiaddr: string;
  routers: string[];
}

/** mac null: the interface's own (a bridge takes in only frames to its own MAC, or broadcast). */
async function discover(lab: LabState, iface: string, mac: string | null, wait = "2"): Promise<Offer[]> {
  const r = await dhcptool(lab, ["discover", iface, "--json", "--wait", wait, ...(mac ? ["--mac", mac] : [])]);
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout).offers as Offer[];
}

async function request(lab: LabState, iface: string, mac: string | null) {
  const r = await dhcptool(lab, ["request", iface, "--json", ...(mac ? ["--mac", mac] : [])]);
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.outcome).toBe("bound");
  return out.lease as { address: string; serverId: string; routers: string[] };
}

/** The process runs under comm, in namespace ns (the lab's own check before it signals a PID). */
function runsIn(pid: number, comm: string, ns: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === comm && statSync(`/proc/${pid}/ns/net`).ino === statSync(`/run/netns/${ns}`).ino;
  } catch {
    return false;
  }
}

for (const relay of ["dhcrelay", "dnsmasq"] as RelayKindName[]) {
  describe(`routed, relay ${relay}: dnsmasq, Kea and ISC dhcpd behind a router`, () => {
    let lab: LabState;
    beforeAll(() => {
      lab = startLab(`r${relay.slice(0, 2)}`, { topology: "routed", relay, servers: 3, kinds: ROUTED_KINDS });
    }, LAB_MS);
    afterAll(() => {
      if (lab) labDown(lab.name);
    }, LAB_MS);

    test("the router forwards between 198.18.1.0/24 and 198.18.0.0/24; the relay runs there by its recorded PID", () => {
      const r = readLab(lab.name)!.router!;
      expect(r).toMatchObject({ relay, down: { ip: "198.18.1.1" }, up: { ip: "198.18.0.254" }, servers: ["198.18.0.1", "198.18.0.2", "198.18.0.3"] });
      expect(runsIn(r.pid!, relay, r.ns)).toBe(true);
      expect(inNs(r.ns, ["sysctl", "-n", "net.ipv4.ip_forward"]).trim()).toBe("1");
      expect(inNs(r.ns, ["ip", "-br", "-4", "addr", "show", r.down.iface])).toContain("198.18.1.1/24");
      expect(lab.servers.map((s) => [s.ip, s.network])).toEqual([1, 2, 3].map((i) => [`198.18.0.${i}`, "198.18.1.0"]));
    });

    test(
      "a discover from the client gets each server's offer through the relay, from the relayed pool",
      async () => {
        const offers = await discover(lab, "lab0", "02:00:00:00:7a:01");
        expect(offers.map((o) => o.serverId).sort()).toEqual(["198.18.0.1", "198.18.0.2", "198.18.0.3"]);
        for (const o of offers) {
          // the relay hands the reply on from its own address on the client's link
          expect(o).toMatchObject({ sourceIp: "198.18.1.1", giaddr: "198.18.1.1", routers: ["198.18.1.1"] });
          expect(inPool(o.yiaddr, lab.servers.find((s) => s.ip === o.serverId)!)).toBe(true);
        }
      },
      LAB_MS,
    );

    for (const [n, kind] of ROUTED_KINDS.entries()) {
      test(
        `${kind} alone behind the relay: a request is ACKed and the server holds the lease`,
        async () => {
          const others = lab.servers.filter((s) => s.index !== n + 1);
          for (const s of others) stopServer(lab, s.index);
          try {
            const mac = `02:00:00:00:7a:1${n}`;
            const lease = await request(lab, "lab0", mac);
            const s = lab.servers[n];
            expect(lease.serverId).toBe(s.ip);
            expect(lease.routers).toEqual(["198.18.1.1"]);
            expect(inPool(lease.address, s)).toBe(true);
            expect(await eventually(() => serverLeaseList(s).some((l) => l.address === lease.address && l.mac === mac), 2500)).toBe(true);
          } finally {
            for (const s of others) startServer(lab, s.index);
          }
        },
        LAB_MS,
      );
    }
  });
}

describe("--links 2: lab0 and lab1 on two segments, a server on each", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("lk", { links: 2 });
  }, LAB_MS);
  afterAll(() => {
    if (lab) labDown(lab.name);
  }, LAB_MS);

  test("one server per link by default: 198.18.0.1 on lab0's segment, 198.18.1.2 on lab1's", () => {
    expect(lab.links.map((l) => [l.iface, l.network])).toEqual([
      ["lab0", "198.18.0.0"],
      ["lab1", "198.18.1.0"],
    ]);
    expect(lab.servers.map((s) => [s.ip, s.network])).toEqual([
      ["198.18.0.1", "198.18.0.0"],
      ["198.18.1.2", "198.18.1.0"],
    ]);
    expect(inNs(lab.clientNs, ["ip", "-br", "link"])).toMatch(/^lab1@\S+ +UP /m);
  });

  test(
    "each link hears only its own server",
    async () => {
      for (const [k, s] of lab.servers.entries()) {
        const offers = await discover(lab, `lab${k}`, "02:00:00:00:7b:01", "1");
        expect(offers.map((o) => o.serverId)).toEqual([s.ip]);
        expect(inPool(offers[0].yiaddr, s)).toBe(true);
      }
    },
    LAB_MS,
  );

  test(
    "a request on lab1 binds from lab1's server",
    async () => {
      const lease = await request(lab, "lab1", "02:00:00:00:7b:02");
      expect(lease).toMatchObject({ serverId: "198.18.1.2", routers: ["198.18.1.2"] });
      expect(inPool(lease.address, lab.servers[1])).toBe(true);
    },
    LAB_MS,
  );
});

describe("--client-bridge: lab0 is a port of bridge br0 in the client namespace", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("cb", { clientBridge: true });
  }, LAB_MS);
  afterAll(() => {
    if (lab) labDown(lab.name);
  }, LAB_MS);

  test("lab0's master is br0, which is up", () => {
    expect(lab.clientBridge).toBe("br0");
    expect(inNs(lab.clientNs, ["ip", "-o", "link", "show", "lab0"])).toContain(" master br0 ");
    expect(inNs(lab.clientNs, ["ip", "-o", "link", "show", "br0"])).toContain(" state UP ");
  });

  test(
    "discover and request on the bridge get the server's offer and ACK",
    async () => {
      const offers = await discover(lab, "br0", null, "1");
      expect(offers.map((o) => o.serverId)).toEqual(["198.18.0.1"]);
      const lease = await request(lab, "br0", null);
      expect(lease.serverId).toBe("198.18.0.1");
      expect(inPool(lease.address, lab.servers[0])).toBe(true);
    },
    LAB_MS,
  );
});

describe("injectFromServer: frames built by the test onto a lab link", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("inj", { servers: 1 });
  }, LAB_MS);
  afterAll(() => {
    if (lab) labDown(lab.name);
  }, LAB_MS);

  test(
    "an untagged and an 802.1Q-tagged (VLAN 10, priority 5) datagram reach lab0 as sent",
    async () => {
      const frame = buildUdpFrame({
        srcMac: parseMac("02:00:00:00:7d:01")!,
        dstMac: parseMac("ff:ff:ff:ff:ff:ff")!,
        srcIp: "198.18.0.9",
        dstIp: "255.255.255.255",
        srcPort: 67,
        dstPort: 68,
        payload: new Uint8Array(300),
      });
      const cap = await captureOn(lab.clientNs, "lab0", "ether src 02:00:00:00:7d:01", { linkHeaders: true });
      await injectFromServer(lab, 1, [frame, vlanTagged(frame, 10, { pcp: 5 })]);
      const lines = await cap.stop();
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/ethertype IPv4 .* 198\.18\.0\.9\.67 > 255\.255\.255\.255\.68: /);
      expect(lines[1]).toMatch(/ethertype 802\.1Q .*vlan 10, p 5, ethertype IPv4 .* 198\.18\.0\.9\.67 > 255\.255\.255\.255\.68: /);
    },
    LAB_MS,
  );
});
