// The client state machine with a fake clock (plain numbers) and a fake random(): every
// transition, the exact timers, what is sent (decoded back) and what is ignored.

import { describe, expect, test } from "bun:test";
import { backoffMs, type Lease } from "../../core/engine.ts";
import { getIp, messageType, BOOTREQUEST, type OptionBytes } from "../../core/message.ts";
import { SERVER_MAC, ip4, u32 } from "./helpers.ts";
import { ADDR, Harness, OTHER, OTHER_MAC, SERVER, bound, config, fakeRandom, recv, reply, sent, withOptions } from "./engine-harness.ts";

describe("DORA", () => {
  test("start sends a broadcast DISCOVER and arms the retransmission", () => {
    const h = new Harness(config());
    const acts = h.ev({ kind: "start" }, 1000);
    expect(h.phase).toBe("SELECTING");
    const [d] = h.sends(acts);
    expect(d.to).toBe("broadcast");
    expect(d.srcIp).toBe("0.0.0.0");
    const m = sent(d);
    expect(messageType(m)).toBe(1);
    expect(m.xid).toBe(0x80000000); // random() 0.5
    expect(h.arm("retransmit")).toBe(3000);
  });

  test("OFFER → REQUESTING with the same xid; ACK → BOUND with the lease", () => {
    const h = new Harness(config());
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    h.ev(recv(reply(2, { xid })), 10);
    expect(h.phase).toBe("REQUESTING");
    expect(h.kinds()).toContain("offer");
    const req = sent(h.sends()[0]);
    expect(req.xid).toBe(xid);
    expect(h.arm("retransmit")).toBe(2010);
    h.ev(recv(reply(5, { xid })), 25);
    expect(h.phase).toBe("BOUND");
    const b = h.last.find((a) => a.kind === "bound") as { lease: Lease };
    expect(b.lease).toMatchObject({
      address: ADDR,
      serverId: SERVER,
      serverMac: SERVER_MAC,
      subnetMask: "255.255.255.0",
      routers: [SERVER],
      dns: [SERVER],
      domain: "lab.example",
      leaseTime: 3600,
      t1: 1800,
      t2: 3150,
      infinite: false,
      acquiredAt: 10,
      renewAt: 10 + 1800_000,
      rebindAt: 10 + 3150_000,
      expiresAt: 10 + 3600_000,
    });
    expect(b.lease.routes).toEqual([{ destination: "0.0.0.0", prefix: 0, router: SERVER }]);
    expect(b.lease.options.find((o) => o.code === 51)!.hex).toBe("00000e10");
    expect(h.arm("renew")).toBe(10 + 1800_000);
    expect(h.arm("rebind")).toBe(10 + 3150_000);
    expect(h.arm("expire")).toBe(10 + 3600_000);
    expect(h.last).toContainEqual({ kind: "disarm", timer: "retransmit" });
  });

  test("one-shot: DISCOVER sent --tries times every retryMs, then failed no-offer", () => {
    const h = new Harness(config({ tries: 3, retryMs: 2000 }));
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    expect(h.ev({ kind: "timer", timer: "retransmit" }, 2000).length).toBeGreaterThan(0);
    expect(h.arm("retransmit")).toBe(4000);
    h.ev({ kind: "timer", timer: "retransmit" }, 4000);
    expect(h.arm("retransmit")).toBe(6000);
    const all = h.sends(h.log).map(sent);
    expect(all).toHaveLength(3);
    expect(all.every((m) => m.xid === xid)).toBe(true);
    expect(all.map((m) => m.secs)).toEqual([0, 2, 4]);
    h.ev({ kind: "timer", timer: "retransmit" }, 6000);
    expect(h.sends()).toHaveLength(0);
    expect(h.last).toContainEqual({ kind: "failed", reason: "no-offer" });
    expect(h.phase).toBe("INIT");
  });

  test("one-shot: REQUEST retransmitted --tries times, then failed no-ack", () => {
    const h = new Harness(config({ tries: 2 }));
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(2, { xid: h.state.xid })), 100);
    h.ev({ kind: "timer", timer: "retransmit" }, 2100);
    expect(sent(h.sends()[0]).options.get(54)).toEqual(ip4(SERVER));
    h.ev({ kind: "timer", timer: "retransmit" }, 4100);
    expect(h.last).toContainEqual({ kind: "failed", reason: "no-ack" });
    expect(h.phase).toBe("INIT");
  });

  test("resident: RFC 2131 4.1 backoff 4, 8, 16, 32, 64, 64 s (jitter 0 at random 0.5)", () => {
    const h = new Harness(config({ resident: true }));
    h.ev({ kind: "start" }, 0);
    const gaps: number[] = [];
    let t = 0;
    for (let i = 0; i < 6; i++) {
      const at = h.arm("retransmit")!;
      gaps.push((at - t) / 1000);
      t = at;
      h.ev({ kind: "timer", timer: "retransmit" }, t);
    }
    expect(gaps).toEqual([4, 8, 16, 32, 64, 64]);
    expect(h.sends(h.log)).toHaveLength(7); // never gives up
  });

  test("backoff jitter is ±1 s from random()", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, () => 0))).toEqual([3000, 7000, 15000, 31000, 63000, 63000]);
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, () => 0.9999999))).toEqual([5000, 9000, 17000, 33000, 65000]);
  });

  test("resident: REQUESTING gives up to INIT after 4 REQUESTs; INIT's timer restarts DISCOVER with a new xid", () => {
    const h = new Harness(config({ resident: true, random: fakeRandom(0.1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.7) }));
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    h.ev(recv(reply(2, { xid })), 10);
    for (let i = 0; i < 3; i++) h.ev({ kind: "timer", timer: "retransmit" }, h.arm("retransmit")!);
    expect(h.sends(h.log)).toHaveLength(5);
    h.ev({ kind: "timer", timer: "retransmit" }, h.arm("retransmit")!);
    expect(h.phase).toBe("INIT");
    expect(h.arm("init")).toBeDefined();
    h.ev({ kind: "timer", timer: "init" }, 100_000);
    expect(h.phase).toBe("SELECTING");
    expect(h.state.xid).not.toBe(xid);
  });
});

describe("REQUEST fields per state (RFC 2131 table 4)", () => {
  test("REQUESTING: broadcast, ciaddr 0, 50 and 54", () => {
    const h = new Harness(config());
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(2, { xid: h.state.xid })), 10);
    const a = h.sends()[0];
    const m = sent(a);
    expect(messageType(m)).toBe(3);
    expect(a.to).toBe("broadcast");
    expect(a.srcIp).toBe("0.0.0.0");
    expect(m.ciaddr).toBe("0.0.0.0");
    expect(getIp(m, 50)).toBe(ADDR);
    expect(getIp(m, 54)).toBe(SERVER);
  });

  test("REBOOTING: broadcast, ciaddr 0, 50 only; new xid", () => {
    const h = new Harness(config({ requestedAddress: "198.18.0.150" }));
    h.ev({ kind: "start" }, 0);
    expect(h.phase).toBe("REBOOTING");
    const a = h.sends()[0];
    const m = sent(a);
    expect(messageType(m)).toBe(3);
    expect(a.to).toBe("broadcast");
    expect(m.ciaddr).toBe("0.0.0.0");
    expect(getIp(m, 50)).toBe("198.18.0.150");
    expect(m.options.has(54)).toBe(false);
  });

  test("RENEWING at T1: unicast to the server's IP and MAC from our address, ciaddr set, no 50/54, new xid", () => {
    const h = bound(config({ random: fakeRandom(0.25, 0.75) }));
    const xid = h.state.xid;
    h.ev({ kind: "timer", timer: "renew" }, 1_800_010);
    expect(h.phase).toBe("RENEWING");
    const a = h.sends()[0];
    const m = sent(a);
    expect(a.to).toEqual({ ip: SERVER, mac: SERVER_MAC });
    expect(a.srcIp).toBe(ADDR);
    expect(m.ciaddr).toBe(ADDR);
    expect(m.flags).toBe(0);
    expect(m.options.has(50) || m.options.has(54)).toBe(false);
    expect(m.xid).not.toBe(xid);
    expect(m.xid).toBe(0xc0000000);
  });

  test("REBINDING at T2: broadcast, ciaddr set, no 50/54, new xid", () => {
    const h = bound(config({ random: fakeRandom(0.25, 0.75, 0.125) }));
    h.ev({ kind: "timer", timer: "renew" }, 1_800_010);
    const renewXid = h.state.xid;
    h.ev({ kind: "timer", timer: "rebind" }, 3_150_010);
    expect(h.phase).toBe("REBINDING");
    const a = h.sends()[0];
    const m = sent(a);
    expect(a.to).toBe("broadcast");
    expect(a.srcIp).toBe(ADDR);
    expect(m.ciaddr).toBe(ADDR);
    expect(m.options.has(50) || m.options.has(54)).toBe(false);
    expect(m.xid).not.toBe(renewXid);
  });
});

describe("lease times (RFC 2131 4.4.5)", () => {
  const ackWith = (opts: OptionBytes[]) => (xid: number) => reply(5, { xid, options: withOptions(5, opts) });

  test("T1/T2 default to lease/2 and lease·7/8", () => {
    const h = bound(config(), ackWith([{ code: 51, data: u32(1000) }]));
    expect(h.state.lease).toMatchObject({ t1: 500, t2: 875, renewAt: 10 + 500_000, rebindAt: 10 + 875_000 });
  });

  test("T1 >= T2 resets both to the defaults", () => {
    const h = bound(
      config(),
      ackWith([
        { code: 51, data: u32(1000) },
        { code: 58, data: u32(900) },
        { code: 59, data: u32(800) },
      ]),
    );
    expect(h.state.lease).toMatchObject({ t1: 500, t2: 875 });
    expect(h.state.lease!.adjusted.length).toBe(1);
  });

  test("given T1/T2 that fit are kept", () => {
    const h = bound(
      config(),
      ackWith([
        { code: 51, data: u32(1000) },
        { code: 58, data: u32(300) },
        { code: 59, data: u32(600) },
      ]),
    );
    expect(h.arm("renew")).toBe(10 + 300_000);
    expect(h.arm("rebind")).toBe(10 + 600_000);
  });

  test("infinite lease: BOUND with no renew, rebind or expire timers", () => {
    const h = bound(config(), ackWith([{ code: 51, data: u32(0xffffffff) }]));
    expect(h.phase).toBe("BOUND");
    expect(h.state.lease).toMatchObject({ infinite: true, renewAt: null, rebindAt: null, expiresAt: null });
    expect(h.arm("renew")).toBeUndefined();
    expect(h.arm("expire")).toBeUndefined();
  });

  test.each([
    ["lease 0", [{ code: 51, data: u32(0) }]],
    ["no lease option", []],
  ])("ACK with %s is refused: still REQUESTING, a REQUEST retransmission still counts", (_name, opts) => {
    const h = new Harness(config());
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    h.ev(recv(reply(2, { xid })), 10);
    h.ev(recv(reply(5, { xid, options: withOptions(5, opts as OptionBytes[]) })), 20);
    expect(h.phase).toBe("REQUESTING");
    expect(h.last).toEqual([{ kind: "dropped", reason: "ack-no-lease" }]);
    h.ev(recv(reply(5, { xid })), 30);
    expect(h.phase).toBe("BOUND");
  });

  test("renew retransmits at max(half the time to T2, 60 s); ACK while RENEWING → BOUND with new times", () => {
    const h = bound();
    const t1 = 10 + 1800_000;
    h.ev({ kind: "timer", timer: "renew" }, t1);
    expect(h.arm("retransmit")).toBe(t1 + (3150_000 - 1800_000) / 2);
    // close to T2 the floor of 60 s holds
    h.ev({ kind: "timer", timer: "retransmit" }, 3_100_000);
    expect(h.arm("retransmit")).toBe(3_160_000);
    const xid = h.state.xid;
    h.ev(recv(reply(5, { xid })), 3_100_050);
    expect(h.phase).toBe("BOUND");
    expect(h.state.lease!.acquiredAt).toBe(t1);
    expect(h.arm("renew")).toBe(t1 + 1800_000);
  });

  test("rebind retransmits at max(half the time to expiry, 60 s); expiry → INIT with expired", () => {
    const h = bound(config({ resident: true }));
    h.ev({ kind: "timer", timer: "renew" }, 1_800_010);
    h.ev({ kind: "timer", timer: "rebind" }, 3_150_010);
    expect(h.arm("retransmit")).toBe(3_150_010 + 225_000);
    h.ev({ kind: "timer", timer: "retransmit" }, 3_580_000);
    expect(h.arm("retransmit")).toBe(3_640_000);
    const lease = h.state.lease;
    h.ev({ kind: "timer", timer: "expire" }, 3_600_010);
    expect(h.phase).toBe("INIT");
    expect(h.last).toContainEqual({ kind: "unbound", lease: lease!, why: "expired" });
    expect(h.last).toContainEqual({ kind: "disarm", timer: "retransmit" });
    expect(h.state.lease).toBeNull();
  });
});

describe("what is ignored", () => {
  function requesting(): Harness {
    const h = new Harness(config());
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(2, { xid: h.state.xid })), 10);
    return h;
  }

  test.each([
    ["wrong xid", (xid: number) => reply(5, { xid: xid ^ 1 }), "wrong-xid"],
    ["wrong chaddr", (xid: number) => reply(5, { xid, chaddr: OTHER_MAC }), "wrong-chaddr"],
    ["op BOOTREQUEST", (xid: number) => reply(5, { xid, op: BOOTREQUEST }), "not-reply"],
    ["ACK from another server", (xid: number) => reply(5, { xid, server: OTHER }), "ack-other-server"],
    ["ACK for another address", (xid: number) => reply(5, { xid, yiaddr: "198.18.0.101" }), "ack-wrong-address"],
    ["NAK from another server", (xid: number) => reply(6, { xid, server: OTHER }), "nak-other-server"],
    ["a new OFFER (HOSTILE 29)", (xid: number) => reply(2, { xid }), "offer-not-selecting"],
    ["no message type", (xid: number) => reply(5, { xid, options: [{ code: 54, data: ip4(SERVER) }] }), "no-message-type"],
  ])("in REQUESTING: %s is dropped, nothing sent, state unchanged", (_name, make, reason) => {
    const h = requesting();
    const before = h.state;
    h.ev(recv(make(h.state.xid), OTHER, OTHER_MAC), 20);
    expect(h.last).toEqual([{ kind: "dropped", reason }]);
    expect(h.state).toBe(before);
  });

  test("a stream of OFFERs in REQUESTING never restarts the exchange; the retransmission schedule holds", () => {
    const h = requesting();
    const at = h.arm("retransmit");
    for (let t = 20; t < 1000; t += 10) h.ev(recv(reply(2, { xid: h.state.xid })), t);
    expect(h.sends(h.log)).toHaveLength(2); // DISCOVER + REQUEST
    expect(h.phase).toBe("REQUESTING");
    expect(h.arm("retransmit", h.log)).toBe(at);
  });

  test.each([
    ["yiaddr and server id zero (HOSTILE 25)", { yiaddr: "0.0.0.0", server: null }, "offer-no-address"],
    ["loopback yiaddr", { yiaddr: "127.0.0.5" }, "offer-bad-address"],
    ["the subnet's broadcast address as yiaddr", { yiaddr: "198.18.0.255" }, "offer-bad-address"],
    ["the subnet's network address as yiaddr", { yiaddr: "198.18.0.0" }, "offer-bad-address"],
    ["no server id", { server: null }, "offer-no-server-id"],
  ])("OFFER with %s is dropped in SELECTING", (_n, over, reason) => {
    const h = new Harness(config());
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(2, { xid: h.state.xid, ...over })), 10);
    expect(h.phase).toBe("SELECTING");
    expect(h.last).toEqual([{ kind: "dropped", reason }]);
  });

  test("ACK or NAK in SELECTING is not an answer to anything", () => {
    const h = new Harness(config());
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(5, { xid: h.state.xid })), 10);
    h.ev(recv(reply(6, { xid: h.state.xid })), 11);
    expect(h.phase).toBe("SELECTING");
    expect(h.kinds(h.log).filter((k) => k === "dropped")).toHaveLength(2);
  });

  test("late replies after stop are ignored; stop disarms every timer", () => {
    const h = requesting();
    const xid = h.state.xid;
    h.ev({ kind: "stop" }, 30);
    expect(h.phase).toBe("STOPPED");
    expect(h.last.filter((a) => a.kind === "disarm")).toHaveLength(5);
    h.ev(recv(reply(5, { xid })), 40);
    expect(h.last).toEqual([{ kind: "dropped", reason: "stopped" }]);
    expect(h.ev({ kind: "timer", timer: "retransmit" }, 2010)).toEqual([]);
    expect(h.phase).toBe("STOPPED");
  });

  test("stale timers are ignored (renew while SELECTING, expire in REQUESTING)", () => {
    const h = requesting();
    expect(h.ev({ kind: "timer", timer: "renew" }, 50)).toEqual([]);
    expect(h.ev({ kind: "timer", timer: "expire" }, 60)).toEqual([]);
    expect(h.phase).toBe("REQUESTING");
  });
});

describe("NAK", () => {
  test("NAK from the chosen server with our xid → INIT with a nak action (message from option 56)", () => {
    const h = new Harness(config());
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    h.ev(recv(reply(2, { xid })), 10);
    h.ev(recv(reply(6, { xid, options: withOptions(6, [{ code: 56, data: new TextEncoder().encode("wrong network") }]) })), 20);
    expect(h.phase).toBe("INIT");
    expect(h.last).toContainEqual({ kind: "nak", server: SERVER, message: "wrong network" });
    expect(h.arm("init")).toBeUndefined(); // one-shot: the shell exits
  });

  test("NAK in REBOOTING (no server chosen) is taken from any server; resident restarts", () => {
    const h = new Harness(config({ resident: true, requestedAddress: "198.18.0.250" }));
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(6, { xid: h.state.xid, server: OTHER }), OTHER), 10);
    expect(h.phase).toBe("INIT");
    expect(h.kinds()).toContain("nak");
    expect(h.arm("init")).toBe(10);
  });

  test("NAK while RENEWING from another server is ignored; from ours → INIT", () => {
    const h = bound();
    h.ev({ kind: "timer", timer: "renew" }, 1_800_010);
    const xid = h.state.xid;
    h.ev(recv(reply(6, { xid, server: OTHER })), 1_800_020);
    expect(h.phase).toBe("RENEWING");
    h.ev(recv(reply(6, { xid })), 1_800_030);
    expect(h.phase).toBe("INIT");
  });

  test("NAK with a wrong xid is ignored", () => {
    const h = new Harness(config());
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    h.ev(recv(reply(2, { xid })), 10);
    h.ev(recv(reply(6, { xid: xid + 1 })), 20);
    expect(h.phase).toBe("REQUESTING");
  });
});

describe("INIT-REBOOT", () => {
  test("ACK for the requested address → BOUND; for another address → refused", () => {
    const h = new Harness(config({ requestedAddress: ADDR }));
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    h.ev(recv(reply(5, { xid, yiaddr: "198.18.0.101" })), 5);
    expect(h.last).toEqual([{ kind: "dropped", reason: "ack-wrong-address" }]);
    h.ev(recv(reply(5, { xid })), 10);
    expect(h.phase).toBe("BOUND");
    expect(h.state.lease!.acquiredAt).toBe(0);
  });

  test("resident: REBOOTING gives up to INIT after 6 s (retransmit at 4 s, then the deadline)", () => {
    const h = new Harness(config({ resident: true, requestedAddress: ADDR }));
    h.ev({ kind: "start" }, 0);
    expect(h.arm("retransmit")).toBe(4000);
    h.ev({ kind: "timer", timer: "retransmit" }, 4000);
    expect(h.sends()).toHaveLength(1);
    expect(h.arm("retransmit")).toBe(6000);
    h.ev({ kind: "timer", timer: "retransmit" }, 6000);
    expect(h.phase).toBe("INIT");
    expect(h.arm("init")).toBe(6000);
    h.ev({ kind: "timer", timer: "init" }, 6000);
    expect(messageType(sent(h.sends()[0]))).toBe(1);
  });

  test("one-shot: REBOOTING uses --tries, then failed no-ack", () => {
    const h = new Harness(config({ requestedAddress: ADDR, tries: 2, retryMs: 1000 }));
    h.ev({ kind: "start" }, 0);
    h.ev({ kind: "timer", timer: "retransmit" }, 1000);
    h.ev({ kind: "timer", timer: "retransmit" }, 2000);
    expect(h.sends(h.log)).toHaveLength(2);
    expect(h.last).toContainEqual({ kind: "failed", reason: "no-ack" });
  });
});

describe("release", () => {
  test("from BOUND: RELEASE unicast to the server with ciaddr and 54, then STOPPED", () => {
    const h = bound(config({ random: fakeRandom(0.5, 0.25) })); // one-shot draws no jitter
    h.ev({ kind: "release" }, 100);
    expect(h.phase).toBe("STOPPED");
    const a = h.sends()[0];
    const m = sent(a);
    expect(messageType(m)).toBe(7);
    expect(a.to).toEqual({ ip: SERVER, mac: SERVER_MAC });
    expect(a.srcIp).toBe(ADDR);
    expect(m.ciaddr).toBe(ADDR);
    expect(getIp(m, 54)).toBe(SERVER);
    expect(m.options.has(50)).toBe(false);
    expect(m.xid).toBe(0x40000000);
    expect(h.kinds()).toContain("released");
  });

  test("without a lease, release does nothing", () => {
    const h = new Harness(config());
    h.ev({ kind: "start" }, 0);
    expect(h.ev({ kind: "release" }, 10)).toEqual([]);
    expect(h.phase).toBe("SELECTING");
  });
});
