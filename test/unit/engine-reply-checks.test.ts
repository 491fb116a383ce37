// Issue 11 finding 12: who a reply says it comes from is checked (a server id or an Ethernet
// source that cannot be a server's is dropped), an ACK for another address while renewing is
// a new binding that is said out loud, and a lease whose T1 and T2 coincide (a 2 s lease) is
// renewed at a pace, not with 21 REQUESTs in 10 s.

import { describe, expect, test } from "bun:test";
import { badServerId, badSourceMac } from "../../core/reply-sanity.ts";
import { MIN_REQUEST_GAP_MS } from "../../core/engine.ts";
import { parseMac } from "../../core/bytes.ts";
import { ip4 } from "./helpers.ts";
import { CLIENT_MAC, SERVER_MAC } from "./helpers.ts";
import { ADDR, Harness, bound, config, recv, reply, withOptions } from "./engine-harness.ts";
import { World } from "./resident-world.ts";

const resident = () => config({ resident: true });

describe("the server id of a reply", () => {
  test.each([
    ["0.0.0.0", "0.0.0.0/8"],
    ["255.255.255.255", "broadcast"],
    ["224.0.0.1", "multicast"],
    ["127.0.0.1", "loopback"],
    ["240.0.0.1", "reserved (240/4)"],
    [ADDR, "our own address"],
  ])("%s is refused (%s)", (id, why) => {
    expect(badServerId(id, [ADDR])).toBe(why);
    const h = new Harness(resident());
    h.ev({ kind: "start" }, 0);
    expect(h.ev(recv(reply(2, { xid: h.state.xid, server: id })), 10)).toEqual([{ kind: "dropped", reason: "bad-server-id" }]);
    expect(h.phase).toBe("SELECTING");
  });

  test("no option 54 and a source address that cannot be a server's: refused too", () => {
    const h = new Harness(resident());
    h.ev({ kind: "start" }, 0);
    expect(h.ev(recv(reply(2, { xid: h.state.xid, server: null }), "0.0.0.0"), 10)).toEqual([{ kind: "dropped", reason: "bad-server-id" }]);
  });

  test("while RENEWING, an ACK whose server id is the leased address is dropped; the lease is kept", () => {
    const h = bound(resident());
    h.ev({ kind: "timer", timer: "renew" }, h.state.lease!.renewAt!);
    const ack = reply(5, { xid: h.state.xid, server: ADDR });
    expect(h.ev(recv(ack, ADDR), h.state.lease!.renewAt! + 5)).toEqual([{ kind: "dropped", reason: "bad-server-id" }]);
    expect(h.phase).toBe("RENEWING");
  });
});

describe("the Ethernet source of a reply", () => {
  test.each([
    ["00:00:00:00:00:00", "zero"],
    ["ff:ff:ff:ff:ff:ff", "broadcast"],
    ["01:00:5e:00:00:01", "multicast"],
    ["02:00:00:00:00:01", "our own"],
  ])("%s is refused (%s)", (mac, why) => {
    expect(badSourceMac(parseMac(mac)!, CLIENT_MAC)).toBe(why);
    const h = new Harness(resident());
    h.ev({ kind: "start" }, 0);
    expect(h.ev(recv(reply(2, { xid: h.state.xid }), undefined, parseMac(mac)!), 10)).toEqual([{ kind: "dropped", reason: "bad-source-mac" }]);
  });

  test("a server's ordinary MAC passes", () => {
    expect(badSourceMac(SERVER_MAC, CLIENT_MAC)).toBeNull();
  });
});

describe("an ACK for another address while renewing", () => {
  test("is a new binding, said out loud: the old address comes off, the new one goes on, RENEW with old_ip_address", () => {
    const w = new World();
    w.start();
    const from = w.events.length;
    w.server.ackAddress = "198.18.0.177";
    w.clock.advanceTo(w.armedAt("renew"));
    expect(w.phase).toBe("BOUND");
    expect(w.client.status().lease).toMatchObject({ address: "198.18.0.177" });
    expect(w.named("address-changed", from)[0]).toMatchObject({ level: "warn", from: ADDR, to: "198.18.0.177" });
    expect(w.applier.calls.at(-1)).toBe("apply 198.18.0.177");
    expect(w.hooks.at(-1)).toMatchObject({ reason: "RENEW", lease: { address: "198.18.0.177" }, oldLease: { address: ADDR } });
  });
});

describe("the renewal pace (a 2 s lease: T1 = T2 = 1 s)", () => {
  test(`no two REQUESTs closer than ${MIN_REQUEST_GAP_MS} ms, at most 6 in 10 s of a server that answers everything`, () => {
    const w = new World();
    w.server.times = { lease: 2, t1: 1, t2: 1 };
    w.start();
    const start = w.clock.now();
    w.clock.advanceTo(start + 10_000);
    const times = w.server.seen.filter((s) => s.type === 3).map((s) => s.at);
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect(times.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(MIN_REQUEST_GAP_MS);
  });

  test("the engine: RENEWING at T1 right after the REQUEST that won the lease waits for the gap; REBINDING at the same moment sends nothing more", () => {
    const h = bound(resident(), (xid) =>
      reply(5, {
        xid,
        options: withOptions(5, [
          { code: 51, data: new Uint8Array([0, 0, 0, 4]) },
          { code: 1, data: ip4("255.255.255.0") },
        ]),
      }),
    );
    const lease = h.state.lease!; // REQUEST at 10, lease 4 s: T1 2010, T2 3510
    h.ev({ kind: "timer", timer: "renew" }, 1010);
    expect(h.sends()).toHaveLength(0);
    expect(h.arm("retransmit")).toBe(10 + MIN_REQUEST_GAP_MS);
    h.ev({ kind: "timer", timer: "retransmit" }, 10 + MIN_REQUEST_GAP_MS);
    expect(h.sends()).toHaveLength(1);
    h.ev({ kind: "timer", timer: "rebind" }, 10 + MIN_REQUEST_GAP_MS + 100);
    expect(h.phase).toBe("REBINDING");
    expect(h.sends()).toHaveLength(0);
    expect(lease.expiresAt).toBe(4010);
  });

  test("the operator's renew is not held back", () => {
    const h = bound(resident());
    h.ev({ kind: "renew" }, 30);
    expect(h.sends()).toHaveLength(1);
  });
});
