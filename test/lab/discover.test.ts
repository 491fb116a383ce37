// discover against real dnsmasq servers in network namespaces.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { labDown, serverMac, type LabState } from "../../cli/lab/index.ts";
import { dhcptool, inNs, MAIN, startLab } from "./helpers.ts";

function inPool(ip: string, start: string, end: string): boolean {
  const last = (x: string) => Number(x.split(".")[3]);
  return ip.startsWith("198.18.0.") && last(ip) >= last(start) && last(ip) <= last(end);
}

describe("one dnsmasq server", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("one", { servers: 1 });
  });
  afterAll(() => {
    if (lab) labDown(lab.name);
  });

  test("discover --json lists the offer with the right fields", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--json", "--wait", "1.5"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.interface).toBe("lab0");
    expect(out.offers).toHaveLength(1);
    const o = out.offers[0];
    const s = lab.servers[0];
    expect(o.serverId).toBe("198.18.0.1");
    expect(o.sourceIp).toBe("198.18.0.1");
    expect(o.sourceMac).toBe(serverMac(lab, 1));
    expect(inPool(o.yiaddr, s.rangeStart, s.rangeEnd)).toBe(true);
    expect(o.subnetMask).toBe("255.255.255.0");
    expect(o.routers).toEqual(["198.18.0.1"]);
    expect(o.dns).toEqual(["198.18.0.1"]);
    expect(o.domain).toBe("lab.example");
    expect(o.search).toEqual(["lab.example", "example.org"]);
    expect(o.leaseTime).toBe(3600);
    expect(o.renewalTime).toBe(1800);
    expect(o.latencyMs).toBeGreaterThan(0);
    expect(o.latencyMs).toBeLessThan(1500);
    expect(o.rogue).toBe(false);
    expect(o.options.find((x: { code: number }) => x.code === 53).value).toBe(2);
    expect(out.rogueServers).toEqual([]);
    // the window was honoured: a DISCOVER at 0 s, and a retransmission at 2 s would be outside 1.5 s
    expect(out.discoversSent).toBe(1);
    expect(out.elapsedMs).toBeGreaterThanOrEqual(1400);
  });

  test("the human table has one row with server, address, mask, router, DNS, lease and latency", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--wait", "1"]);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^SERVER\s+MAC\s+OFFERED\s+MASK\s+ROUTER\s+DNS\s+LEASE\s+MS/);
    expect(lines[1]).toMatch(/^198\.18\.0\.1\s+[0-9a-f:]{17}\s+198\.18\.0\.1\d\d\s+255\.255\.255\.0\s+198\.18\.0\.1\s+198\.18\.0\.1\s+3600 s \(1h\)\s+\d+\.\d/);
  });

  test("--first returns at the first offer, well inside the window", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--first", "--wait", "10", "--json"]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).offers).toHaveLength(1);
    expect(r.ms).toBeLessThan(3000);
  });

  test("--allow-server naming the only server: exit 0, nothing rogue", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--wait", "1", "--json", "--allow-server", "198.18.0.1"]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).rogueServers).toEqual([]);
  });

  test("--mac sends that MAC as chaddr and client id; the server's lease file shows it", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--first", "--json", "--mac", "02:11:22:33:44:55"]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).mac).toBe("02:11:22:33:44:55");
    const log = await Bun.file(`${lab.servers[0].dir}/log`).text();
    expect(log).toMatch(/DHCPOFFER\(srv0\) 198\.18\.0\.\d+ 02:11:22:33:44:55/);
  });

  test("--option puts typed options on the wire; the server's log shows them", async () => {
    const r = await dhcptool(lab, [
      "discover",
      "lab0",
      "--first",
      "--mac",
      "02:00:00:00:0a:01",
      "--option",
      "vendor-class-id=lab-vendor",
      "--option",
      "77=hex:0469707865",
    ]);
    expect(r.exitCode).toBe(0);
    const log = await Bun.file(`${lab.servers[0].dir}/log`).text();
    expect(log).toContain("vendor class: lab-vendor");
    expect(log).toContain("user class: ipxe");
  });

  test("--option with a bad value is a usage error that says why", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--option", "121=10.0.0.0/33,1.2.3.4"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("option 121 (classless-routes)");
  });

  test("Ctrl-C ends the window early and still reports what was collected", async () => {
    // --verbose says each offer as it is collected: Ctrl-C comes once something was.
    const p = Bun.spawn(["ip", "netns", "exec", lab.clientNs, process.execPath, MAIN, "discover", "lab0", "--wait", "30", "--json", "-v"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const t0 = performance.now();
    let said = "";
    const reader = p.stderr.getReader();
    while (!said.includes("offer of ")) {
      const { value, done } = await reader.read();
      if (done) break;
      said += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    expect(said).toContain("offer of ");
    p.kill("SIGINT");
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    expect(JSON.parse(out).offers).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(10000);
  });

  test("an interface that is down: exit 1 with advice", async () => {
    inNs(lab.clientNs, ["ip", "link", "add", "dummy0", "type", "veth", "peer", "name", "dummy1"]); // created down
    const r = await dhcptool(lab, ["discover", "dummy0"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("dummy0");
    expect(r.stderr).toContain("down");
    expect(r.stderr).not.toContain("    at "); // no stack trace
  });
});

describe("two dnsmasq servers on one segment", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("two", { servers: 2 });
  });
  afterAll(() => {
    if (lab) labDown(lab.name);
  });

  test("two rows, two server ids", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--json", "--wait", "1.5"]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    const ids = out.offers.map((o: { serverId: string }) => o.serverId).sort();
    expect(ids).toEqual(["198.18.0.1", "198.18.0.2"]);
    for (const o of out.offers) {
      const s = lab.servers.find((x) => x.ip === o.serverId)!;
      expect(inPool(o.yiaddr, s.rangeStart, s.rangeEnd)).toBe(true);
    }
    const table = await dhcptool(lab, ["discover", "lab0", "--wait", "1"]);
    expect(
      table.stdout
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => l.split(/\s+/)[0])
        .sort(),
    ).toEqual(["198.18.0.1", "198.18.0.2"]);
  });

  test("--allow-server naming one: the other is rogue, exit 5", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--json", "--wait", "1.5", "--allow-server", "198.18.0.1"]);
    expect(r.exitCode).toBe(5);
    const out = JSON.parse(r.stdout);
    expect(out.rogueServers).toEqual(["198.18.0.2"]);
    expect(r.stderr).toContain("rogue DHCP server: 198.18.0.2");
  });

  test("--allow-server by MAC works too", async () => {
    const mac1 = serverMac(lab, 1),
      mac2 = serverMac(lab, 2);
    const r = await dhcptool(lab, ["discover", "lab0", "--json", "--wait", "1.5", "--allow-server", `${mac1},${mac2}`]);
    expect(r.exitCode).toBe(0);
  });
});

describe("no server", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("none", { servers: 0 });
  });
  afterAll(() => {
    if (lab) labDown(lab.name);
  });

  test("exit 3 after the window, having retransmitted", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--json", "--wait", "1.2", "--timeout", "0.5", "--tries", "5"]);
    expect(r.exitCode).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out.offers).toEqual([]);
    expect(out.discoversSent).toBe(3); // at 0, 0.5, 1.0 s
    expect(r.ms).toBeGreaterThanOrEqual(1200);
  });

  test("human mode says so on stderr and prints nothing on stdout", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--wait", "0.5"]);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("no DHCP offer on lab0");
  });
});

describe("errors without a lab", () => {
  test("a missing interface: exit 1, a clear message, no stack", async () => {
    const r = await dhcptool(null, ["discover", "nosuchif0"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('interface "nosuchif0" does not exist');
    expect(r.stderr).not.toContain("    at ");
  });

  test("usage errors exit 2", async () => {
    expect((await dhcptool(null, ["discover"])).exitCode).toBe(2);
    expect((await dhcptool(null, ["discover", "lo", "--wait", "soon"])).exitCode).toBe(2);
    expect((await dhcptool(null, ["discover", "lo", "--bogus"])).exitCode).toBe(2);
    expect((await dhcptool(null, ["discover", "lo", "--mac", "zz"])).exitCode).toBe(2);
    expect((await dhcptool(null, ["discover", "lo", "--allow-server", "not-an-ip"])).exitCode).toBe(2);
    expect((await dhcptool(null, ["frobnicate"])).exitCode).toBe(2);
  });
});
