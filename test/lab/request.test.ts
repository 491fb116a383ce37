// request (the client engine over a raw socket) against a real dnsmasq in network namespaces.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labDown, serverMac, type LabState } from "../../cli/lab/index.ts";
import { shellQuote } from "../../cli/render-lease.ts";
import { escapeText } from "../../core/escape.ts";
import { dhcptool, startLab } from "./helpers.ts";

function inPool(ip: string, start: string, end: string): boolean {
  const last = (x: string) => Number(x.split(".")[3]);
  return ip.startsWith("198.18.0.") && last(ip) >= last(start) && last(ip) <= last(end);
}

const tmp = mkdtempSync(join(tmpdir(), "dhcptool-request-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sourceAndEcho(file: string, variable: string): string {
  const p = Bun.spawnSync(["bash", "-c", `source "$1"; printf %s "$${variable}"`, "bash", file], { stdout: "pipe", stderr: "pipe" });
  expect(p.stderr.toString()).toBe("");
  expect(p.exitCode).toBe(0);
  return p.stdout.toString();
}

describe("shellQuote: --format env values cannot execute", () => {
  const marker = join(tmp, "pwned");
  test.each([
    ["command substitution", `$(touch ${marker})`],
    ["backticks", `\`touch ${marker}\``],
    ["single quote breaking out", `x'; touch ${marker}; echo '`],
    ["newline and a command", `a\ntouch ${marker}`],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text a shell would expand, on purpose
    ["variable expansion", "${HOME}$PATH"],
    ["ANSI escape", "\x1b[31mred"],
  ])("%s", (_name, value) => {
    const file = join(tmp, "env");
    writeFileSync(file, `v=${shellQuote(value)}\n`);
    expect(sourceAndEcho(file, "v")).toBe(escapeText(value));
    expect(existsSync(marker)).toBe(false);
    expect(shellQuote(value)).not.toContain("\n");
  });
});

describe("request against one dnsmasq (authoritative)", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("req", { servers: 1, serverArgs: [["--dhcp-authoritative"]] });
  });
  afterAll(() => {
    if (lab) labDown(lab.name);
  });

  test("DORA: exit 0, an address from the pool, in dnsmasq's lease file with our MAC; the lease fields and step latencies", async () => {
    const mac = "02:00:00:00:0b:01";
    const r = await dhcptool(lab, ["request", "lab0", "--json", "--mac", mac]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    const s = lab.servers[0];
    expect(out.outcome).toBe("bound");
    expect(out.mac).toBe(mac);
    const l = out.lease;
    expect(inPool(l.address, s.rangeStart, s.rangeEnd)).toBe(true);
    expect(l.serverId).toBe("198.18.0.1");
    expect(l.serverMac).toBe(serverMac(lab, 1));
    expect(l.subnetMask).toBe("255.255.255.0");
    expect(l.routers).toEqual(["198.18.0.1"]);
    expect(l.dns).toEqual(["198.18.0.1"]);
    expect(l.domain).toBe("lab.example");
    expect(l.leaseTime).toBe(3600);
    expect(l.t1).toBe(1800);
    expect(l.t2).toBe(3150);
    const acquired = Date.parse(l.acquiredAt);
    expect(Math.abs(acquired - Date.now())).toBeLessThan(10_000);
    expect(Date.parse(l.expiresAt) - acquired).toBe(3600_000);
    expect(Date.parse(l.renewAt) - acquired).toBe(1800_000);
    expect(out.timing.discoverToOfferMs).toBeGreaterThan(0);
    expect(out.timing.requestToAckMs).toBeGreaterThan(0);
    expect(out.discoversSent).toBe(1);
    expect(out.requestsSent).toBe(1);
    const leases = await Bun.file(`${s.dir}/leases`).text();
    expect(leases).toContain(`${mac} ${l.address}`);
  });

  test("the text output names the address and both step times", async () => {
    const r = await dhcptool(lab, ["request", "lab0", "--mac", "02:00:00:00:0b:02"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^bound 198\.18\.0\.\d+ from 198\.18\.0\.1 /);
    expect(r.stdout).toMatch(/discover→offer \d+\.\d ms, request→ack \d+\.\d ms/);
  });

  test("--format env sources in bash and gives the address", async () => {
    const r = await dhcptool(lab, ["request", "lab0", "--format", "env", "--mac", "02:00:00:00:0b:03"]);
    expect(r.exitCode).toBe(0);
    const file = join(tmp, "lease.env");
    writeFileSync(file, r.stdout);
    expect(sourceAndEcho(file, "new_ip_address")).toMatch(/^198\.18\.0\.\d+$/);
    expect(sourceAndEcho(file, "new_lease_time")).toBe("3600");
    expect(sourceAndEcho(file, "new_dhcp_server_identifier")).toBe("198.18.0.1");
    expect(sourceAndEcho(file, "new_domain_name_servers")).toBe("198.18.0.1");
  });

  test("--address outside the pool: INIT-REBOOT, dnsmasq NAKs, exit 4", async () => {
    const r = await dhcptool(lab, ["request", "lab0", "--address", "198.18.0.250", "--mac", "02:00:00:00:0b:04", "--json"]);
    expect(r.exitCode).toBe(4);
    const out = JSON.parse(r.stdout);
    expect(out.outcome).toBe("nak");
    expect(out.nak.server).toBe("198.18.0.1");
    expect(out.discoversSent).toBe(0);
    expect(r.stderr).toContain("NAK from 198.18.0.1");
  });

  test("--release: dnsmasq logs DHCPRELEASE and the lease file no longer holds the address", async () => {
    const mac = "02:00:00:00:0b:05";
    const r = await dhcptool(lab, ["request", "lab0", "--release", "--json", "--mac", mac]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.released).toBe(true);
    const addr = out.lease.address;
    const s = lab.servers[0];
    let log = "",
      leases = "";
    for (let i = 0; i < 20; i++) {
      // dnsmasq writes both a moment after the packet
      log = await Bun.file(`${s.dir}/log`).text();
      leases = await Bun.file(`${s.dir}/leases`).text();
      if (log.includes(`DHCPRELEASE(srv0) ${addr} ${mac}`) && !leases.includes(`${mac} ${addr}`)) break;
      await Bun.sleep(50);
    }
    expect(log).toContain(`DHCPRELEASE(srv0) ${addr} ${mac}`);
    expect(leases).not.toContain(`${mac} ${addr}`);
  });
});

describe("request with no server", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("reqn", { servers: 0 });
  });
  afterAll(() => {
    if (lab) labDown(lab.name);
  });

  test("no answer: exit 3 after --tries DISCOVERs, within the timeout", async () => {
    const r = await dhcptool(lab, ["request", "lab0", "--timeout", "0.3", "--tries", "2", "--json"]);
    expect(r.exitCode).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out.outcome).toBe("no-offer");
    expect(out.discoversSent).toBe(2);
    expect(out.timing.totalMs).toBeGreaterThanOrEqual(550);
    expect(out.timing.totalMs).toBeLessThan(1500);
    expect(r.stderr).toContain("no DHCP offer on lab0");
  });
});
