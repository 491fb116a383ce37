// The resident client's whole life on a fake wire with a hand-turned clock (systemd's
// test-dhcp-client.c, lwIP's test_dhcp.c): DORA, the store, --apply, the hook, T1 renewal by
// unicast, T2 rebinding by broadcast, expiry, a link flap into REBOOTING and a NAK, a stored
// lease at start, release, and an engine that throws. Assertions are on the frames the
// server saw, on what the store, applier and hook were asked, and on what was NOT sent.

import { describe, expect, test } from "bun:test";
import { hookEnv } from "../../cli/daemon/hook.ts";
import { macToString } from "../../core/bytes.ts";
import { getIp } from "../../core/message.ts";
import { buildUdpFrame } from "../../core/frame.ts";
import { ADDR, SERVER, World, storedLease } from "./resident-world.ts";
import { CLIENT_MAC, SERVER_MAC } from "./helpers.ts";

const DISCOVER = 1,
  REQUEST = 3,
  RELEASE = 7;
const BROADCAST = "ff:ff:ff:ff:ff:ff";
const client = macToString(CLIENT_MAC);
const server = macToString(SERVER_MAC);

/** Started, DORA answered: BOUND. */
function bound(): World {
  const w = new World();
  w.start();
  expect(w.phase).toBe("BOUND");
  return w;
}

describe("the resident client's life", () => {
  test("DORA: broadcast DISCOVER and REQUEST; the lease stored, applied, BOUND hook with its variables; T1/T2/expiry armed", () => {
    const w = new World();
    w.start();
    const [d, r] = w.server.seen;
    expect(w.server.seen.map((s) => s.type)).toEqual([DISCOVER, REQUEST]);
    expect(d).toMatchObject({ dstMac: BROADCAST, srcMac: client, srcIp: "0.0.0.0", dstIp: "255.255.255.255", srcPort: 68, ciaddr: "0.0.0.0" });
    expect(r).toMatchObject({ dstMac: BROADCAST, srcIp: "0.0.0.0", dstIp: "255.255.255.255", requested: ADDR, serverId: SERVER, xid: d.xid });
    expect(w.phase).toBe("BOUND");

    const now = w.clock.now();
    expect(w.store.saves).toHaveLength(1);
    expect(w.store.stored).toMatchObject({
      version: 1,
      interface: "eth0",
      mac: client,
      savedAt: new Date(w.clock.wallNow()).toISOString(),
      lease: { address: ADDR, serverId: SERVER, serverMac: server, leaseTime: 3600, expiresAt: new Date(w.clock.wallNow() + 3600_000).toISOString() },
    });
    expect(w.applier.calls).toEqual([`apply ${ADDR}`]);
    expect(w.hookReasons()).toEqual(["BOUND"]);
    const env = hookEnv(w.hooks[0]);
    expect(env).toMatchObject({
      reason: "BOUND",
      interface: "eth0",
      new_ip_address: ADDR,
      new_dhcp_server_identifier: SERVER,
      new_dhcp_server_mac: server,
      new_lease_time: "3600",
    });
    expect(w.named("bound")[0]).toMatchObject({ level: "info", address: ADDR, lease: { address: ADDR, serverMac: server } });
    expect([w.armedAt("renew"), w.armedAt("rebind"), w.armedAt("expire")]).toEqual([now + 1800_000, now + 3150_000, now + 3600_000]);
  });

  test("bind → renew at T1 by unicast → T1 again, server silent → rebind at T2 by broadcast → expiry → link flap → REBOOTING → NAK → INIT → DISCOVER", () => {
    const w = bound();
    const acquired = w.clock.now();

    // T1: RENEWING, unicast to the server's MAC and address, from the leased address, ciaddr set, no 50/54.
    let from = w.server.seen.length;
    w.clock.advanceTo(w.armedAt("renew"));
    const [renew] = w.server.sent(REQUEST, from);
    expect(renew).toMatchObject({ dstMac: server, srcMac: client, srcIp: ADDR, dstIp: SERVER, ciaddr: ADDR, requested: null, serverId: null });
    expect(w.phase).toBe("BOUND"); // the ACK came back
    expect(w.hookReasons(1)).toEqual(["RENEW"]);
    expect(w.store.saves).toHaveLength(2);
    expect(w.applier.calls).toEqual([`apply ${ADDR}`, `apply ${ADDR}`]);
    const renewedAt = w.clock.now();
    expect(renewedAt).toBe(acquired + 1800_000);
    expect(w.armedAt("renew")).toBe(renewedAt + 1800_000);

    // T1 again with the server silent: only unicast REQUESTs, retransmitted, until T2.
    w.server.answer = "silent";
    from = w.server.seen.length;
    const t2 = w.armedAt("rebind");
    w.clock.advanceTo(t2 - 1);
    expect(w.phase).toBe("RENEWING");
    const renewing = w.server.sent(REQUEST, from);
    expect(renewing.length).toBeGreaterThan(1);
    for (const s of renewing) expect(s).toMatchObject({ dstMac: server, srcIp: ADDR, dstIp: SERVER, ciaddr: ADDR });
    expect(w.server.seen.slice(from).every((s) => s.type === REQUEST)).toBe(true);

    // T2: REBINDING, broadcast from the leased address (ciaddr), answered by an ACK.
    w.server.answer = "ack";
    from = w.server.seen.length;
    w.clock.advanceTo(t2);
    const [rebind] = w.server.sent(REQUEST, from);
    expect(rebind).toMatchObject({ dstMac: BROADCAST, srcIp: ADDR, dstIp: "255.255.255.255", ciaddr: ADDR, requested: null, serverId: null });
    expect(w.phase).toBe("BOUND");
    expect(w.hookReasons().at(-1)).toBe("REBIND");

    // Silence to the end of the lease: unbound (expired), address and stored lease removed, EXPIRE hook, then DISCOVER.
    w.server.answer = "silent";
    w.server.offers = false;
    const expiry = w.armedAt("expire");
    const hooksBefore = w.hooks.length;
    w.clock.advanceTo(expiry - 1);
    expect(w.phase).toBe("REBINDING");
    expect(w.store.removes).toBe(0);
    from = w.server.seen.length;
    w.clock.advanceTo(expiry);
    expect(w.named("unbound")).toEqual([expect.objectContaining({ why: "expired", address: ADDR, reason: "EXPIRE" })]);
    expect(w.applier.calls.at(-1)).toBe(`remove ${ADDR}`);
    expect(w.applier.applied).toBeNull();
    expect(w.store.stored).toBeNull();
    expect(w.hookReasons(hooksBefore)).toEqual(["EXPIRE"]);
    expect(hookEnv(w.hooks.at(-1)!)).toMatchObject({ reason: "EXPIRE", old_ip_address: ADDR });
    expect(hookEnv(w.hooks.at(-1)!).new_ip_address).toBeUndefined();
    expect(w.server.sent(DISCOVER, from)).toHaveLength(1);
    expect(w.server.sent(DISCOVER, from)[0]).toMatchObject({ dstMac: BROADCAST, srcIp: "0.0.0.0" });
    expect(w.phase).toBe("SELECTING");

    // Bound again, then the carrier goes: nothing is sent while it is away, the lease is kept.
    w.server.offers = true;
    w.server.answer = "ack";
    w.clock.fireNext(); // the DISCOVER's retransmission, answered this time
    expect(w.phase).toBe("BOUND");
    w.links.emit({ carrier: false });
    expect(w.phase).toBe("DOWN");
    expect(w.hookReasons().at(-1)).toBe("NOCARRIER");
    from = w.server.seen.length;
    w.clock.advance(600_000);
    expect(w.server.seen.length).toBe(from);
    expect(w.store.stored?.lease.address).toBe(ADDR);

    // Carrier back: REBOOTING, a broadcast REQUEST for the lease's address (50, no 54, ciaddr 0); a NAK → INIT → DISCOVER.
    w.server.answer = "nak";
    const hooksAtFlap = w.hooks.length;
    w.links.emit({ carrier: true });
    w.wire.flush();
    const [reboot] = w.server.sent(REQUEST, from);
    expect(reboot).toMatchObject({ dstMac: BROADCAST, srcIp: "0.0.0.0", dstIp: "255.255.255.255", ciaddr: "0.0.0.0", requested: ADDR, serverId: null });
    expect(w.hookReasons(hooksAtFlap)).toEqual(["CARRIER", "NAK"]);
    expect(w.named("nak")[0]).toMatchObject({ server: SERVER, text: "wrong network" });
    expect(w.store.stored).toBeNull();
    expect(w.applier.applied).toBeNull();
    w.server.offers = false;
    w.clock.advance(0); // the init timer, due now after a first NAK
    const after = w.server.seen.slice(from).map((s) => s.type);
    expect(after).toEqual([REQUEST, DISCOVER]);
    expect(w.phase).toBe("SELECTING");
    expect(w.exit).toBeNull();
  });

  test("an offer that is never ACKed is said at the default level (warn), naming the address and the server, and it starts over", () => {
    const w = new World();
    w.server.answer = "silent";
    w.start();
    for (let i = 0; i < 10 && !w.named("not-acked").length; i++) w.clock.advanceTo(w.clock.now() + 10_000);
    expect(w.named("not-acked")).toEqual([
      {
        level: "warn",
        event: "not-acked",
        interface: "eth0",
        server: SERVER,
        address: ADDR,
        requests: 4,
        message: `the offer of ${ADDR} from ${SERVER} got no ACK to 4 REQUEST(s): starting over with a DISCOVER`,
      },
    ]);
    w.clock.advanceTo(w.clock.now() + 60_000);
    expect(w.server.sent(DISCOVER).length).toBeGreaterThan(1); // back to INIT: a DISCOVER again
  });

  test("a stored lease at start: the applier adopts it, REBOOTING asks for its address, the ACK is a REBOOT", () => {
    const wall = Date.parse("2030-01-01T00:00:00.000Z");
    const w = new World({ stored: storedLease(wall, 1000) });
    w.applier.onInterface = [ADDR];
    w.start();
    expect(w.applier.calls[0]).toBe(`adopt ${ADDR}`);
    expect(w.server.seen.map((s) => s.type)).toEqual([REQUEST]);
    expect(w.server.seen[0]).toMatchObject({ dstMac: BROADCAST, requested: ADDR, serverId: null, ciaddr: "0.0.0.0" });
    expect(w.phase).toBe("BOUND");
    expect(w.hookReasons()).toEqual(["REBOOT"]);
    expect(w.named("start")[0].message).toContain(`rebooting into the stored lease of ${ADDR}`);
  });

  test("a stored lease of another MAC, or one that has expired, is not asked for: DISCOVER", () => {
    const wall = Date.parse("2030-01-01T00:00:00.000Z");
    for (const stored of [storedLease(wall, 1000, "02:00:00:00:00:99"), storedLease(wall, -10)]) {
      const w = new World({ stored });
      w.start();
      expect(w.server.seen.map((s) => s.type)).toEqual([DISCOVER, REQUEST]);
      expect(w.hookReasons()).toEqual(["BOUND"]);
    }
  });

  test("release: a RELEASE unicast to the server from the leased address, deconfigured, RELEASE hook, done with 0; then nothing more is sent", async () => {
    const w = bound();
    const from = w.server.seen.length;
    expect(w.client.release()).toBe(true);
    w.wire.flush();
    const [rel] = w.server.sent(RELEASE, from);
    expect(rel).toMatchObject({ dstMac: server, srcIp: ADDR, dstIp: SERVER, ciaddr: ADDR, serverId: SERVER });
    expect(w.store.stored).toBeNull();
    expect(w.applier.calls.at(-1)).toBe(`remove ${ADDR}`);
    expect(w.hookReasons()).toEqual(["BOUND", "RELEASE"]);
    expect(await w.client.done).toBe(0);
    expect([w.wire.closed, w.links.closed, w.applier.closed]).toEqual([true, true, true]);
    expect(w.clock.armedNames).toEqual([]);
    w.clock.advance(10 * 3600_000);
    expect(w.server.seen.length).toBe(from + 1);
  });

  test("stop (SIGTERM): STOP hook with the lease, the lease stays stored, the stop event carries the counters", () => {
    const w = bound();
    w.client.stop(false, "SIGTERM");
    expect(w.hookReasons()).toEqual(["BOUND", "STOP"]);
    expect(w.store.stored?.lease.address).toBe(ADDR);
    expect(w.named("stop")[0]).toMatchObject({ why: "SIGTERM", counters: { sent: { DISCOVER: 1, REQUEST: 1 }, received: 2 } });
    expect(w.clock.armedNames).toEqual([]);
  });

  test("an exception out of the engine is a bug: logged with its stack, everything closed, done with exit 1, nothing sent after", async () => {
    const w = bound();
    const from = w.server.seen.length;
    w.explode = true; // T1 starts a new exchange: a new xid from random()
    w.clock.advanceTo(w.armedAt("renew"));
    expect(await w.client.done).toBe(1);
    expect(w.named("bug")[0]).toMatchObject({ level: "error" });
    expect(String(w.named("bug")[0].message)).toContain("boom");
    expect(w.named("fatal")).toHaveLength(1);
    expect(w.named("stop")[0]).toMatchObject({ why: "engine failure" });
    expect([w.wire.closed, w.links.closed, w.applier.closed]).toEqual([true, true, true]);
    expect(w.clock.armedNames).toEqual([]);
    w.explode = false;
    w.clock.advance(10 * 3600_000);
    w.links.emit({ carrier: false });
    expect(w.server.seen.length).toBe(from);
  });

  test("bad network input is dropped and counted; the client goes on", () => {
    const w = bound();
    const frame = (payload: Uint8Array, dstMac = CLIENT_MAC) =>
      buildUdpFrame({ srcMac: SERVER_MAC, dstMac, srcIp: SERVER, dstIp: ADDR, srcPort: 67, dstPort: 68, payload });
    w.wire.toClient(new Uint8Array(10)); // shorter than Ethernet + IPv4
    w.wire.toClient(frame(new Uint8Array(20))); // shorter than BOOTP
    w.wire.toClient(frame(new Uint8Array(300))); // no magic cookie
    w.wire.toClient(frame(new Uint8Array(300), SERVER_MAC)); // for another host
    w.wire.flush();
    const counters = w.client.status().counters as { dropped: Record<string, number>; received: number };
    expect(counters.dropped).toMatchObject({ "frame-short": 1, "not-for-us": 1 });
    expect(
      Object.entries(counters.dropped)
        .filter(([k]) => k.startsWith("decode-"))
        .reduce((n, [, v]) => n + v, 0),
    ).toBe(2);
    expect(counters.received).toBe(2); // the OFFER and the ACK
    expect(w.phase).toBe("BOUND");
    expect(w.named("bug")).toEqual([]);
  });

  test("a new MAC on the interface starts over: the lease is given up (RESTART) and the DISCOVER carries the new chaddr", () => {
    const w = bound();
    const from = w.server.seen.length;
    w.links.emit({ mac: "02:00:00:00:00:42" });
    w.clock.advance(0); // INIT's timer, due at once
    expect(w.hookReasons()).toEqual(["BOUND", "RESTART", "BOUND"]);
    const [d] = w.server.sent(DISCOVER, from);
    expect(d).toMatchObject({ srcMac: "02:00:00:00:00:42" });
    expect(macToString(d.message.chaddr.subarray(0, 6))).toBe("02:00:00:00:00:42");
    expect(getIp(w.server.sent(REQUEST, from)[0].message, 50)).toBe(ADDR);
  });

  test("the carrier is down at start: nothing is sent until it comes back", () => {
    const w = new World({ linkUp: false });
    w.start();
    expect(w.phase).toBe("DOWN");
    w.clock.advance(60_000);
    expect(w.server.seen).toHaveLength(0);
    w.links.emit({ carrier: true });
    w.clock.advance(0); // INIT's timer, due at once
    expect(w.phase).toBe("BOUND");
    expect(w.server.seen.map((s) => s.type)).toEqual([DISCOVER, REQUEST]);
  });

  test("the interface removed: stopped, done with 0", async () => {
    const w = bound();
    w.links.emit({ kind: "del" });
    expect(await w.client.done).toBe(0);
    expect(w.named("stop")[0]).toMatchObject({ why: "interface removed" });
  });

  test("a store that cannot write is reported; the lease is still applied and used", () => {
    const w = new World();
    w.store.saveError = new Error("no space left on device (ENOSPC)");
    w.start();
    expect(w.phase).toBe("BOUND");
    expect(w.named("store")[0]).toMatchObject({ level: "error" });
    expect(w.applier.calls).toEqual([`apply ${ADDR}`]);
  });
});

describe("time", () => {
  test("a 30-day lease: T1 at 15 days, renewed then, nothing sent before", () => {
    const w = new World();
    const day = 86_400;
    w.server.times = { lease: 30 * day, t1: 15 * day, t2: 26 * day };
    w.start();
    const t0 = w.clock.now();
    expect([w.armedAt("renew"), w.armedAt("expire")]).toEqual([t0 + 15 * day * 1000, t0 + 30 * day * 1000]);
    const from = w.server.seen.length;
    w.clock.advanceTo(t0 + 15 * day * 1000 - 1);
    expect(w.server.seen.length).toBe(from);
    w.clock.advance(1);
    expect(w.server.sent(REQUEST, from)).toHaveLength(1);
    expect(w.hookReasons()).toEqual(["BOUND", "RENEW"]);
  });

  test("an infinite lease (0xffffffff) arms no timer and is never renewed", () => {
    const w = new World();
    w.server.times = { lease: 0xffffffff, t1: 0xffffffff, t2: 0xffffffff };
    w.start();
    expect(w.phase).toBe("BOUND");
    expect(w.clock.armedNames).toEqual([]);
    expect(w.store.stored?.lease).toMatchObject({ infinite: true, expiresAt: null, renewAt: null });
    const from = w.server.seen.length;
    w.clock.advance(400 * 86_400_000);
    expect(w.server.seen.length).toBe(from);
  });

  test("a restart after a wall-clock step keeps a lease still valid by its stored expiry (finding 13)", () => {
    const w = bound();
    w.clock.wallOffsetMs += 3600_000; // stepped an hour ahead while running
    w.clock.advanceTo(w.armedAt("renew")); // renewed: stored with times from the stepped clock
    const stored = w.store.stored!;
    // The next daemon starts on that (stepped) wall clock, 10 minutes after the renewal: 50 minutes left.
    const next = new World({ stored, wallAt: Date.parse(stored.savedAt) + 600_000 });
    next.start();
    expect(next.named("start")[0].message).toContain(`rebooting into the stored lease of ${stored.lease.address}`);
    expect(next.phase).toBe("BOUND");
    expect(next.hookReasons()).toEqual(["REBOOT"]);
    // And one whose wall clock is an hour behind it (stepped back): still valid, nothing lost.
    const behind = new World({ stored, wallAt: Date.parse(stored.savedAt) - 3600_000 });
    behind.start();
    expect(behind.named("unbound")).toEqual([]);
    expect(behind.phase).toBe("BOUND");
  });

  test("stored and reported times follow the wall clock when they are written, not as it was at start", () => {
    const w = bound();
    w.clock.wallOffsetMs += 3600_000; // the wall clock steps an hour ahead (NTP); the monotonic one does not
    w.clock.advanceTo(w.armedAt("renew"));
    const wall = w.clock.wallNow();
    expect(w.store.saves).toHaveLength(2);
    expect(w.store.stored).toMatchObject({
      savedAt: new Date(wall).toISOString(),
      lease: { acquiredAt: new Date(wall).toISOString(), expiresAt: new Date(wall + 3600_000).toISOString() },
    });
    expect(w.client.status()).toMatchObject({ since: new Date(wall).toISOString(), remaining: { expire: 3600 } });
  });
});
