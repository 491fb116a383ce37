// The resident client against dnsmasq: DORA with --apply (checked with `ip`), the stored
// lease, kill -9 and a reboot into the same address, the control socket (lease show, renew,
// release), the lock, hooks, a link flap, a new MAC, a config reload, and the interface
// going away. Timers here are dnsmasq's (2 min at least); test/lab/daemon-kea.test.ts has
// renew/rebind/expiry in seconds.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { labDown, serverLeaseList, type LabState } from "../../cli/lab/index.ts";
import { Daemon, daemonDirs, dhcpRoutes, ipv4Addresses, lease, privileges, removeDirs, type DaemonDirs } from "./daemon-helpers.ts";
import { dhcptool, eventually, inNs, RUNS_AS, startLab } from "./helpers.ts";

let lab: LabState;
let d: DaemonDirs;
const daemons: Daemon[] = [];

function start(extra: string[] = []): Daemon {
  const x = new Daemon(lab, d, extra);
  daemons.push(x);
  return x;
}

beforeAll(() => {
  // Option 121 (RFC 3442) beside the default router: --apply must install these, not option 3.
  lab = startLab("dmn", { servers: 1, serverArgs: [["--dhcp-option=121,198.18.1.0/24,198.18.0.1,0.0.0.0/0,198.18.0.1"]] });
  d = daemonDirs();
});

afterAll(() => {
  labDown(lab.name);
  removeDirs(d);
});

// One daemon's life, a test per step so that one failure does not hide the rest: each step
// starts from where the one before left the daemon (the order is the file's order).
describe("request --daemon --apply against dnsmasq: one daemon's life", () => {
  let x: Daemon;
  let y: Daemon;
  let address = "";
  beforeAll(async () => {
    x = start(["--apply"]);
    address = (await x.event("bound", 10_000)).address as string;
  }, 15_000);
  afterAll(async () => {
    for (const z of daemons.splice(0)) await z.stop();
  });

  test("DORA: bound to an address of the pool", () => {
    expect(address).toMatch(/^198\.18\.0\.1\d\d$/);
  });

  test("sockets open, the Bun process runs as --user (its own account) with no capability, no_new_privs and the seccomp filter in every thread; the helper is root with CAP_NET_ADMIN alone", () => {
    const p = privileges(x.proc.pid);
    const none = "0000000000000000";
    expect(p.threads.length).toBeGreaterThan(1);
    for (const t of [p, ...p.threads]) {
      expect(t).toMatchObject({
        uid: Array(4).fill(RUNS_AS.uid).join("\t"),
        gid: Array(4).fill(RUNS_AS.gid).join("\t"),
        capEff: none,
        capPrm: none,
        capBnd: none,
        noNewPrivs: "1",
        seccomp: "2",
      });
    }
    const pid = x.events.find((e) => e.event === "helper")!.pid as number;
    expect(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]).toBe(String(x.proc.pid)); // its parent is the daemon
    const h = privileges(pid);
    expect(h).toMatchObject({ uid: "0\t0\t0\t0", capEff: "0000000000001000", capPrm: "0000000000001000", capBnd: "0000000000001000", noNewPrivs: "1" });
    expect(h.threads).toHaveLength(1);
  });

  test("--apply: the address/24 with its broadcast and lifetime; option 121's routes, proto dhcp", () => {
    const addrs = ipv4Addresses(lab);
    expect(addrs).toHaveLength(1);
    expect(addrs[0]).toMatchObject({ local: address, prefixlen: 24, broadcast: "198.18.0.255" });
    expect(addrs[0].valid_life_time!).toBeGreaterThan(3000);
    expect(addrs[0].valid_life_time!).toBeLessThanOrEqual(3600);
    expect(
      dhcpRoutes(lab)
        .map((r) => `${r.dst} via ${r.gateway}`)
        .sort(),
    ).toEqual(["198.18.1.0/24 via 198.18.0.1", "default via 198.18.0.1"]);
  });

  test("the lease is stored (0600), the control socket is 0600, the server has the lease", () => {
    const stored = JSON.parse(readFileSync(join(d.state, "lab0.json"), "utf8"));
    expect(stored).toMatchObject({ version: 1, interface: "lab0", lease: { address, serverId: "198.18.0.1", leaseTime: 3600 } });
    expect(statSync(join(d.state, "lab0.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(d.run, "lab0.sock")).mode & 0o777).toBe(0o600);
    expect(serverLeaseList(lab.servers[0]).map((l) => l.address)).toContain(address);
  });

  test("lease show, as JSON and as text", async () => {
    const shown = await lease(lab, d, ["show", "lab0", "--json"]);
    expect(shown.exitCode).toBe(0);
    const s = JSON.parse(shown.stdout);
    expect(s).toMatchObject({ source: "daemon", phase: "BOUND", applied: true, lease: { address, dns: ["198.18.0.1"], domain: "lab.example" } });
    expect(s.remaining.expire).toBeGreaterThan(3500);
    const text = await lease(lab, d, ["show"]);
    expect(text.stdout).toContain(`lab0  BOUND since`);
    expect(text.stdout).toMatch(/expires\s+\S+ \(in 3[56]\d\d s \((59m\d+s|1h)\)\)/);
  });

  test("lease renew: a unicast REQUEST now, answered", async () => {
    const from = x.events.length;
    const r = await lease(lab, d, ["renew", "lab0"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("BOUND → RENEWING");
    const sent = await x.event("sent", 5000, from, (e) => e.type === "REQUEST");
    expect(sent.to).toBe("198.18.0.1");
    expect((await x.event("renew", 5000, from)).address).toBe(address);
  });

  test("a second daemon on the same interface refuses", async () => {
    const second = await dhcptool(lab, ["request", "lab0", "--daemon", "--state-dir", d.state, "--run-dir", d.run], 10_000);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain("another dhcptool daemon already runs on lab0");
  });

  test("kill -9: the address stays (with its lifetime); a new daemon reboots into it", async () => {
    x.kill("SIGKILL");
    await x.exited;
    expect(ipv4Addresses(lab).map((a) => a.local)).toEqual([address]);
    y = start(["--apply"]);
    const first = await y.event("sent", 5000);
    expect(first.type).toBe("REQUEST"); // INIT-REBOOT, no DISCOVER
    expect((await y.event("reboot", 10_000)).address).toBe(address);
    expect(y.events.some((e) => e.event === "sent" && e.type === "DISCOVER")).toBe(false);
    expect(ipv4Addresses(lab).map((a) => a.local)).toEqual([address]);
  }, 20_000);

  test("lease release: RELEASE to the server, address and routes off, file gone, daemon exits 0", async () => {
    const rel = await lease(lab, d, ["release", "lab0"]);
    expect(rel.exitCode).toBe(0);
    expect(await y.exited).toBe(0);
    expect(y.events.map((e) => e.event)).toContain("released");
    expect(ipv4Addresses(lab)).toEqual([]);
    expect(dhcpRoutes(lab)).toEqual([]);
    expect(existsSync(join(d.state, "lab0.json"))).toBe(false);
  });

  test("after the release: no daemon answers, the server has let the lease go, lease show has none", async () => {
    // The socket file may stay (the daemon ran as --user and cannot unlink in a root-owned
    // run dir); nobody answers on it, and the next daemon replaces it.
    const gone = await lease(lab, d, ["renew", "lab0"]);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toContain("no dhcptool daemon answers for lab0");
    const released = () =>
      !serverLeaseList(lab.servers[0])
        .map((l) => l.address)
        .includes(address);
    expect(await eventually(released, 3000)).toBe(true);
    const none = await lease(lab, d, ["show", "lab0"]);
    expect(none.exitCode).toBe(3);
  });
});

describe("request --daemon against dnsmasq", () => {
  // Each test ends its daemons, so a failure cannot leave the interface locked for the next.
  afterEach(async () => {
    for (const x of daemons.splice(0)) await x.stop();
  });

  test("hook: BOUND then STOP with new_* variables; a hostile-free env; --release-on-exit sends RELEASE and runs RELEASE", async () => {
    const out = join(d.root, "hook.log");
    const hook = join(d.root, "hook.sh");
    writeFileSync(out, "");
    chmodSync(out, 0o666); // the hook runs as the daemon's --user
    writeFileSync(
      hook,
      `#!/bin/sh\n{ echo "reason=$reason if=$interface ip=$new_ip_address mask=$new_subnet_mask routers=$new_routers dns=$new_domain_name_servers old=$old_ip_address"; cat; echo; } >> ${out}\n`,
    );
    chmodSync(hook, 0o755);
    const x = start(["--hook", hook, "--release-on-exit"]);
    const b = await x.event("bound", 10_000);
    x.kill("SIGTERM");
    expect(await x.exited).toBe(0);
    const log = readFileSync(out, "utf8");
    const lines = log.split("\n").filter((l) => l.startsWith("reason="));
    expect(lines[0]).toBe(`reason=BOUND if=lab0 ip=${b.address} mask=255.255.255.0 routers=198.18.0.1 dns=198.18.0.1 old=`);
    expect(lines[1]).toBe(`reason=RELEASE if=lab0 ip= mask= routers= dns= old=${b.address}`);
    const json = JSON.parse(log.split("\n")[1]);
    expect(json).toMatchObject({ reason: "BOUND", interface: "lab0", lease: { address: b.address } });
    expect(x.events.map((e) => e.event)).toContain("released");
    expect(existsSync(join(d.state, "lab0.json"))).toBe(false);
  }, 30_000);

  test("carrier lost keeps the lease and goes quiet; carrier back → REBOOTING the same address", async () => {
    const x = start([]);
    const b = await x.leased(10_000);
    const from = x.events.length;
    inNs(lab.hubNs, ["ip", "link", "set", "c0", "down"]);
    await x.event("link", 5000, from, (e) => e.up === false);
    const phase = JSON.parse((await lease(lab, d, ["show", "lab0", "--json"])).stdout);
    expect(phase).toMatchObject({ phase: "DOWN", link: { up: false }, lease: { address: b.address } });
    inNs(lab.hubNs, ["ip", "link", "set", "c0", "up"]);
    await x.event("link", 5000, from, (e) => e.up === true);
    const r = await x.event("reboot", 10_000, from);
    expect(r.address).toBe(b.address);
    expect(x.events.slice(from).some((e) => e.event === "sent" && e.type === "DISCOVER")).toBe(false);
    expect(await x.stop()).toBe(0);
  }, 30_000);

  test("SIGHUP with a changed --config reboots with the new settings; a broken file keeps the old ones", async () => {
    const conf = join(d.root, "dhcptool.toml");
    writeFileSync(conf, `[interface.lab0]\nhost-name = "first"\n`);
    const x = start(["--config", conf]);
    await x.leased(10_000);
    let from = x.events.length;
    writeFileSync(conf, `[interface.lab0]\nhost-name = "second"\nignore = ["dns"]\n`);
    x.kill("SIGHUP");
    await x.event("reconfigure", 5000, from);
    await x.event("reboot", 10_000, from);
    // dnsmasq writes its lease file a moment after it answers
    expect(await eventually(() => serverLeaseList(lab.servers[0]).some((l) => l.hostname === "second"), 3000)).toBe(true);
    from = x.events.length;
    writeFileSync(conf, `[interface.lab0]\nhost-name = 12\n`);
    x.kill("SIGHUP");
    const e = await x.event("reload", 5000, from);
    expect(e.level).toBe("error");
    expect(e.message).toContain("keeping the old settings");
    expect(await x.stop()).toBe(0);
  }, 30_000);

  test("a new MAC on the interface: the lease is given up and a new one taken for the new MAC", async () => {
    const x = start([]);
    const b = await x.leased(10_000);
    const from = x.events.length;
    inNs(lab.clientNs, ["ip", "link", "set", "dev", "lab0", "address", "02:00:00:00:99:01"]);
    await x.event("mac", 5000, from);
    expect((await x.event("unbound", 5000, from)).why).toBe("restart");
    const again = await x.event("bound", 10_000, from);
    expect(again.address).not.toBe(b.address);
    expect(serverLeaseList(lab.servers[0]).some((l) => l.mac === "02:00:00:00:99:01" && l.address === again.address)).toBe(true);
    expect(await x.stop()).toBe(0);
  }, 30_000);

  test("lease inform: the configuration for an address the host has; lease decline is seen by the server", async () => {
    inNs(lab.clientNs, ["ip", "-4", "addr", "flush", "dev", "lab0"]);
    inNs(lab.clientNs, ["ip", "addr", "add", "198.18.0.77/24", "dev", "lab0"]);
    try {
      const r = await dhcptool(lab, ["lease", "inform", "lab0", "--json"], 15_000);
      expect(r.exitCode).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j).toMatchObject({ ok: true, address: "198.18.0.77", from: "198.18.0.1" });
      expect(j.message.ciaddr).toBe("198.18.0.77");
      expect(j.message.options.find((o: { code: number }) => o.code === 51)).toBeUndefined();
      expect(j.message.options.find((o: { code: number }) => o.code === 6).value).toEqual(["198.18.0.1"]);
    } finally {
      inNs(lab.clientNs, ["ip", "addr", "del", "198.18.0.77/24", "dev", "lab0"]);
    }
    const dec = await dhcptool(lab, ["lease", "decline", "lab0", "--address", "198.18.0.130", "--server", "198.18.0.1", "--json"]);
    expect(dec.exitCode).toBe(0);
    expect(JSON.parse(dec.stdout)).toMatchObject({ ok: true, address: "198.18.0.130" });
  }, 30_000);

  test("the interface goes away: the daemon stops cleanly (exit 0)", async () => {
    const x = start([]);
    await x.leased(10_000);
    inNs(lab.clientNs, ["ip", "link", "del", "lab0"]);
    await x.waitFor((e) => e.event === "link" && e.removed === true, 5000);
    expect(await x.exited).toBe(0);
  }, 30_000);
});
