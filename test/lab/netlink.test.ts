/**
 * native/netlink.ts against the real kernel, inside two network namespaces
 * this file makes (dtnl<random> and dtnl<random>p, joined by a veth pair)
 * and removes in afterAll whatever happened. The code under test runs in
 * children started with `ip netns exec`, as the daemon would run there; the
 * tests look at the result with `ip -j`. Addresses: 198.18.0.0/24 only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const tag = Math.floor(Math.random() * 0xffffff)
  .toString(16)
  .padStart(6, "0");
const NS = `dtnl${tag}`;
const PEER_NS = `dtnl${tag}p`;
const IF = `dtnl${tag}a`; // ours, in NS
const PEER = `dtnl${tag}b`; // the far end, in PEER_NS
const NETLINK_TS = join(import.meta.dir, "../../native/netlink.ts");
const SHIM_TS = join(import.meta.dir, "../../native/shim.ts");
const MSG_TS = join(import.meta.dir, "../../native/netlink-msg.ts");

function ip(...args: string[]): string {
  const p = Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${p.stderr.toString().trim()}`);
  return p.stdout.toString();
}
const ipJson = (...args: string[]) => JSON.parse(ip("-n", NS, "-j", ...args) || "[]");

// ---- children --------------------------------------------------------------------

/** apply: address + three routes, then the failures; remove: the same taken away, then the failures. */
const ROUTE_CHILD = `
import { NetlinkRoute } from ${JSON.stringify(NETLINK_TS)};
const [ifindex, mode] = [Number(process.argv[2]), process.argv[3]];
const failure = (fn) => { try { fn(); return null; } catch (e) { return { name: e.name, code: e.code, errno: e.errno, message: e.message }; } };
const address = { ifindex, address: '198.18.0.120', prefix: 24 };
const routes = [
  { ifindex, destination: '0.0.0.0', prefix: 0, gateway: '198.18.0.1', metric: 100 },
  { ifindex, destination: '198.18.0.192', prefix: 26, gateway: '198.18.0.1', metric: 100 },
  { ifindex, destination: '198.18.0.32', prefix: 27, gateway: '0.0.0.0' },
];
const nl = NetlinkRoute.open(); // one socket for everything below
const out = {};
if (mode === 'apply') {
  nl.addAddress({ ...address, broadcast: '198.18.0.255', validSec: 3600, preferredSec: 1800 });
  for (const r of routes) nl.addRoute(r);
  out.duplicateAddress = failure(() => nl.addAddress(address));
  out.duplicateRoute = failure(() => nl.addRoute(routes[0]));
  out.hostBits = failure(() => nl.addRoute({ ...routes[2], destination: '198.18.0.33' }));
  out.mine = nl.listAddresses(ifindex);
  out.all = nl.listAddresses().map((a) => a.address);
  out.none = nl.listAddresses(99999);
} else {
  for (const r of routes) nl.deleteRoute(r);
  nl.deleteAddress(address);
  out.missingRoute = failure(() => nl.deleteRoute(routes[1]));
  out.missingAddress = failure(() => nl.deleteAddress(address));
  out.left = nl.listAddresses(ifindex);
}
nl.close();
nl.close();
out.afterClose = failure(() => nl.listAddresses());
console.log(JSON.stringify(out));
`;

/** The shim's own checks, called directly: lengths, kinds of socket, stale handles. Prints the return codes. */
const BOUNDARY_CHILD = `
import { native } from ${JSON.stringify(SHIM_TS)};
import { buildGetAddressDump, buildGetLinkDump, buildNewAddress } from ${JSON.stringify(MSG_TS)};
const shim = native();
const dump = buildGetAddressDump();
const add = buildNewAddress({ ifindex: 1, address: '198.18.0.9', prefix: 32 }).bytes;
const newlink = dump.slice(); newlink[4] = 16; // RTM_NEWLINK: not a request the route socket carries
const big = new Uint8Array(64 * 1024);
const r = {};
const h = shim.dt_nl_route_open();
r.tooSmall = shim.dt_nl_transact(h, dump, dump.length, new Uint8Array(8), 8, null, 0);
r.nextInStep = shim.dt_nl_transact(h, dump, dump.length, big, big.length, null, 0);
r.shortLength = shim.dt_nl_transact(h, dump, dump.length - 4, big, big.length, null, 0);
r.tooLong = shim.dt_nl_transact(h, new Uint8Array(5000), 5000, big, big.length, null, 0);
r.refusedType = shim.dt_nl_transact(h, newlink, newlink.length, big, big.length, null, 0);
r.negativeRoom = shim.dt_nl_transact(h, dump, dump.length, big, -1, null, 0);
r.packetHandle = shim.dt_nl_transact(1, dump, dump.length, big, big.length, null, 0);
r.otherGeneration = shim.dt_nl_transact(h + 32, dump, dump.length, big, big.length, null, 0);
r.sendOnRoute = shim.dt_nl_send(h, dump, dump.length);
r.close = shim.dt_nl_close(h);
r.closeAgain = shim.dt_nl_close(h);
r.afterClose = shim.dt_nl_transact(h, dump, dump.length, big, big.length, null, 0);
r.noGroups = shim.dt_nl_monitor_open(0);
r.unknownGroup = shim.dt_nl_monitor_open(4);
const m = shim.dt_nl_monitor_open(1);
r.monitorSendsChange = shim.dt_nl_send(m, add, add.length);
r.monitorSendsDump = shim.dt_nl_send(m, buildGetLinkDump(), buildGetLinkDump().length);
r.monitorNoRoom = shim.dt_nl_recv(m, big, 0);
r.monitorTransact = shim.dt_nl_transact(m, dump, dump.length, big, big.length, null, 0);
r.monitorClose = shim.dt_nl_close(m);
console.log(JSON.stringify(r));
`;

/** Prints one JSON line per event; stdin "close" closes the monitor, the end of stdin ends the child. */
const MONITOR_CHILD = `
import { readdirSync, readFileSync } from 'node:fs';
import { LinkMonitor } from ${JSON.stringify(NETLINK_TS)};
const emit = (e) => process.stdout.write(JSON.stringify(e) + '\\n');
const threads = () => readdirSync('/proc/self/task').filter((t) => {
  try { return readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim() === 'dhcptool-nl'; } catch { return false; }
}).length;
const before = threads();
const monitor = LinkMonitor.open({
  onLink: (e) => emit({ event: 'link', ...e }),
  onAddress: (e) => emit({ event: 'address', ...e }),
  onError: (e) => emit({ event: 'error', message: String(e?.message ?? e) }),
});
monitor.resync();
const keepAlive = setInterval(() => {}, 1 << 30); // the monitor thread does not hold the event loop
emit({ event: 'ready', before, threads: threads() });
let buffered = '';
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  if (buffered.includes('close')) {
    buffered = '';
    monitor.close();
    monitor.close();
    clearInterval(keepAlive);
    emit({ event: 'closed', threads: threads() });
  }
});
process.stdin.on('end', () => emit({ event: 'end' }));
`;

let dir = "";
let ifindex = 0;
const children = new Set<{ kill(signal?: number | NodeJS.Signals): void }>();

async function runChild(script: string, ...args: string[]): Promise<Record<string, any>> {
  const p = Bun.spawn(["ip", "netns", "exec", NS, process.execPath, join(dir, script), ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  children.add(p);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  children.delete(p);
  if (code !== 0) throw new Error(`${script} ${args.join(" ")} exited ${code}: ${stderr}`);
  return JSON.parse(stdout);
}

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

describe("netlink in our own namespaces", () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "dhcptool-netlink-"));
    writeFileSync(join(dir, "route-child.ts"), ROUTE_CHILD);
    writeFileSync(join(dir, "monitor-child.ts"), MONITOR_CHILD);
    writeFileSync(join(dir, "boundary-child.ts"), BOUNDARY_CHILD);
    ip("netns", "add", NS);
    ip("netns", "add", PEER_NS);
    ip("-n", NS, "link", "add", IF, "type", "veth", "peer", "name", PEER, "netns", PEER_NS);
    ip("-n", NS, "link", "set", IF, "up");
    ip("-n", PEER_NS, "link", "set", PEER, "up");
    ifindex = ipJson("link", "show", IF)[0].ifindex;
  });

  afterAll(() => {
    for (const child of children) child.kill("SIGKILL");
    for (const ns of [NS, PEER_NS]) Bun.spawnSync(["ip", "netns", "del", ns], { stderr: "pipe" });
    if (dir) rmSync(dir, { recursive: true, force: true });
    const left = Bun.spawnSync(["ip", "netns", "list"]).stdout.toString();
    expect(left).not.toContain(`dtnl${tag}`);
  });

  const dhcpRoutes = () =>
    ipJson("route", "show", "proto", "dhcp").map((r: any) => ({ dst: r.dst, gateway: r.gateway ?? null, scope: r.scope ?? "global", metric: r.metric ?? 0 }));

  test("an address with prefix, broadcast and lifetimes, a default route and two classless routes go in", async () => {
    const out = await runChild("route-child.ts", String(ifindex), "apply");
    const addresses = ipJson("-4", "addr", "show", "dev", IF)[0].addr_info;
    expect(addresses).toHaveLength(1);
    expect(addresses[0]).toMatchObject({ local: "198.18.0.120", prefixlen: 24, broadcast: "198.18.0.255", dynamic: true });
    expect(addresses[0].valid_life_time).toBeGreaterThan(3500);
    expect(addresses[0].valid_life_time).toBeLessThanOrEqual(3600);
    expect(addresses[0].preferred_life_time).toBeLessThanOrEqual(1800);
    expect(dhcpRoutes()).toEqual([
      { dst: "default", gateway: "198.18.0.1", scope: "global", metric: 100 },
      { dst: "198.18.0.32/27", gateway: null, scope: "link", metric: 0 },
      { dst: "198.18.0.192/26", gateway: "198.18.0.1", scope: "global", metric: 100 },
    ]);

    expect(out.duplicateAddress).toMatchObject({ name: "NativeError", code: "EEXIST", errno: 17 });
    expect(out.duplicateAddress.message).toStartWith(`adding 198.18.0.120/24 to ${IF}: File exists`);
    expect(out.duplicateRoute).toMatchObject({ code: "EEXIST" });
    expect(out.duplicateRoute.message).toStartWith(`adding default route via 198.18.0.1 metric 100 on ${IF}: File exists`);
    expect(out.hostBits).toMatchObject({ code: "EINVAL" });
    expect(out.hostBits.message).toBe(`adding route 198.18.0.33/27 (on-link) on ${IF}: 198.18.0.33/27 has host bits set: not a network address`);
    expect(out.mine).toEqual([{ ifindex, address: "198.18.0.120", prefix: 24 }]);
    expect(out.all).toEqual(["198.18.0.120"]); // lo is down in a new namespace: no 127.0.0.1
    expect(out.none).toEqual([]);
    expect(out.afterClose).toMatchObject({ code: "EINVAL", message: "the rtnetlink socket is closed" });
  });

  test("the shim checks lengths, kinds of socket and handles, and stays in step after an answer that did not fit", async () => {
    const { nextInStep, ...codes } = await runChild("boundary-child.ts");
    expect(nextInStep).toBeGreaterThan(0); // the address added above: one RTM_NEWADDR, padded
    expect(nextInStep % 4).toBe(0);
    expect(codes).toEqual({
      tooSmall: -90, // EMSGSIZE, the dump read to its end and dropped
      shortLength: -22, // nlmsg_len says 24, reqlen 20
      tooLong: -22,
      refusedType: -95, // EOPNOTSUPP
      negativeRoom: -22,
      packetHandle: -9, // EBADF
      otherGeneration: -9,
      sendOnRoute: -9,
      close: 0,
      closeAgain: -9,
      afterClose: -9,
      noGroups: -22,
      unknownGroup: -22,
      monitorSendsChange: -95, // a monitor only asks for dumps
      monitorSendsDump: 0,
      monitorNoRoom: -22,
      monitorTransact: -9,
      monitorClose: 0,
    });
  });

  test("and come out again; what is not there is an error that says so", async () => {
    const out = await runChild("route-child.ts", String(ifindex), "remove");
    expect(ipJson("-4", "addr", "show", "dev", IF)[0]?.addr_info ?? []).toEqual([]); // ip prints [] then
    expect(dhcpRoutes()).toEqual([]);
    expect(out.left).toEqual([]);
    expect(out.missingRoute).toMatchObject({ code: "ESRCH", errno: 3 });
    expect(out.missingRoute.message).toStartWith(`removing route 198.18.0.192/26 via 198.18.0.1 metric 100 from ${IF}: No such process`);
    expect(out.missingAddress).toMatchObject({ code: "EADDRNOTAVAIL", errno: 99 });
    expect(out.missingAddress.message).toStartWith(`removing 198.18.0.120/24 from ${IF}: Cannot assign requested address`);
  });

  test("the link monitor reports carrier lost and back, a new MAC, an address, the interface deleted; idle, it sleeps", async () => {
    const p = Bun.spawn(["ip", "netns", "exec", NS, process.execPath, join(dir, "monitor-child.ts")], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    children.add(p);
    const events: Record<string, any>[] = [];
    const reading = (async () => {
      let rest = "";
      for await (const chunk of p.stdout) {
        rest += new TextDecoder().decode(chunk);
        const lines = rest.split("\n");
        rest = lines.pop()!;
        for (const line of lines) if (line) events.push(JSON.parse(line));
      }
    })();
    /** The first event from index `from` on that matches; its index. */
    async function waitFor(what: string, from: number, match: (e: Record<string, any>) => boolean): Promise<number> {
      const deadline = Date.now() + 5000;
      for (;;) {
        const i = events.findIndex((e, k) => k >= from && match(e));
        if (i >= 0) return i;
        if (Date.now() > deadline) throw new Error(`no ${what} event; got ${JSON.stringify(events)}`);
        await Bun.sleep(20);
      }
    }
    const ours = (e: Record<string, any>) => e.event === "link" && e.ifindex === ifindex;

    try {
      const ready = events[await waitFor("ready", 0, (e) => e.event === "ready")]!;
      expect(ready).toMatchObject({ before: 0, threads: 1 });
      // resync() at start: the state as it is now
      let at = await waitFor("initial", 0, (e) => ours(e) && e.kind === "new");
      expect(events[at]).toMatchObject({ name: IF, up: true, running: true, carrier: true, mtu: 1500, operstate: "up" });

      // Idle: compare with a bare Bun process holding the same kind of timer, over the same window.
      const bare = Bun.spawn([process.execPath, "-e", "setInterval(() => {}, 1 << 30)"]);
      children.add(bare);
      await Bun.sleep(300); // past start-up
      const [monitor0, bare0] = [cpuTicks(p.pid), cpuTicks(bare.pid)];
      await Bun.sleep(2000);
      const [monitorIdle, bareIdle] = [cpuTicks(p.pid) - monitor0, cpuTicks(bare.pid) - bare0];
      bare.kill();
      children.delete(bare);
      expect(monitorIdle).toBeLessThanOrEqual(bareIdle + 2); // ticks of 10 ms: at most 1 % over 2 s

      ip("-n", PEER_NS, "link", "set", PEER, "down");
      at = await waitFor("carrier lost", at + 1, (e) => ours(e) && e.kind === "new" && !e.carrier);
      expect(events[at]).toMatchObject({ up: true, running: false, carrier: false });

      ip("-n", PEER_NS, "link", "set", PEER, "up");
      at = await waitFor("carrier back", at + 1, (e) => ours(e) && e.carrier);
      expect(events[at]).toMatchObject({ kind: "new", up: true, running: true, carrier: true });

      ip("-n", NS, "link", "set", "dev", IF, "address", "02:00:00:00:4e:01");
      at = await waitFor("MAC change", at + 1, (e) => ours(e) && e.mac === "02:00:00:00:4e:01");
      expect(events[at]).toMatchObject({ kind: "new", name: IF, carrier: true });

      ip("-n", NS, "addr", "add", "198.18.0.77/24", "dev", IF);
      at = await waitFor("address", at + 1, (e) => e.event === "address" && e.ifindex === ifindex);
      expect(events[at]).toMatchObject({ kind: "new", address: "198.18.0.77", prefix: 24 });

      ip("-n", NS, "link", "del", IF);
      at = await waitFor("deletion", at + 1, (e) => ours(e) && e.kind === "del");
      expect(events[at]).toMatchObject({ name: IF, mac: "02:00:00:00:4e:01" });

      p.stdin.write("close\n");
      p.stdin.flush();
      const closed = await waitFor("closed", at + 1, (e) => e.event === "closed");
      expect(events[closed]).toMatchObject({ threads: 0 }); // the thread is joined, not left behind
      // Links come and go after close: nothing may reach the handlers.
      ip("-n", NS, "link", "add", `dtnl${tag}c`, "type", "veth", "peer", "name", `dtnl${tag}d`);
      ip("-n", NS, "link", "set", `dtnl${tag}c`, "up");
      await Bun.sleep(300);
      p.stdin.end();
      const exited = await Promise.race([p.exited, Bun.sleep(5000).then(() => "hung")]);
      expect(exited).toBe(0); // nothing left to hold the event loop: the child ends by itself
      await reading;
      expect(events.slice(closed + 1).map((e) => e.event)).toEqual(["end"]);
      expect(events.filter((e) => e.event === "error")).toEqual([]);
    } finally {
      p.kill("SIGKILL");
      children.delete(p);
    }
  });
});
