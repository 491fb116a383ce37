// The resident client's part of the state machine: a stored lease, the link going away and
// coming back, the operator's renew/rebind, new settings, ignored servers, IPv6-only (RFC
// 8925) and a server that NAKs everything. Same fake clock and random() as engine.test.ts.

import { describe, expect, test } from "bun:test";
import type { Action, Lease } from "../../core/engine.ts";
import { getIp, messageType } from "../../core/message.ts";
import { u32 } from "./helpers.ts";
import { ADDR, Harness, OTHER, SERVER, bound, config, recv, reply, sent, withOptions } from "./engine-harness.ts";

const resident = (over = {}) => config({ resident: true, ...over });

/** A lease as the store would give it back, on the harness clock. */
function storedLease(expiresAt: number | null): Lease {
  const h = bound(resident());
  const l = h.state.lease!;
  return { ...l, expiresAt, renewAt: expiresAt === null ? null : expiresAt - 2000, rebindAt: expiresAt === null ? null : expiresAt - 1000 };
}

const unbound = (actions: Action[]) => actions.filter((a) => a.kind === "unbound") as Extract<Action, { kind: "unbound" }>[];

describe("a stored lease", () => {
  test("start reboots into it: REQUEST with 50 = its address, no 54; its expiry stays armed", () => {
    const h = new Harness(resident({ storedLease: storedLease(50_000) }));
    h.ev({ kind: "start" }, 1000);
    expect(h.phase).toBe("REBOOTING");
    const m = sent(h.sends()[0]);
    expect(messageType(m)).toBe(3);
    expect(getIp(m, 50)).toBe(ADDR);
    expect(m.options.has(54)).toBe(false);
    expect(h.arm("expire")).toBe(50_000);
    h.ev(recv(reply(5, { xid: h.state.xid })), 1010);
    expect(h.phase).toBe("BOUND");
    expect(h.state.lease!.acquiredAt).toBe(1000);
  });

  test("an expired one is given up (unbound: expired) and the client DISCOVERs", () => {
    const h = new Harness(resident({ storedLease: storedLease(500) }));
    h.ev({ kind: "start" }, 1000);
    expect(unbound(h.last).map((a) => a.why)).toEqual(["expired"]);
    expect(h.phase).toBe("SELECTING");
    expect(messageType(sent(h.sends()[0]))).toBe(1);
  });

  test("no answer to the reboot: the lease is lost (reboot-failed) and INIT starts over", () => {
    const h = new Harness(resident({ storedLease: storedLease(500_000) }));
    h.ev({ kind: "start" }, 0);
    h.ev({ kind: "timer", timer: "retransmit" }, 4000);
    h.ev({ kind: "timer", timer: "retransmit" }, 6000);
    expect(h.phase).toBe("INIT");
    expect(unbound(h.last).map((a) => a.why)).toEqual(["reboot-failed"]);
    expect(h.arm("init")).toBe(6000);
  });

  test("a NAK to the reboot loses it (nak)", () => {
    const h = new Harness(resident({ storedLease: storedLease(500_000) }));
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(6, { xid: h.state.xid })), 10);
    expect(h.phase).toBe("INIT");
    expect(unbound(h.last).map((a) => a.why)).toEqual(["nak"]);
  });
});

describe("the link", () => {
  test("carrier lost while BOUND: quiet, lease kept, only expire armed; back → REBOOTING its address", () => {
    const h = bound(resident());
    const lease = h.state.lease!;
    h.ev({ kind: "link", up: false }, 100);
    expect(h.phase).toBe("DOWN");
    expect(h.sends()).toHaveLength(0);
    for (const t of ["retransmit", "init", "renew", "rebind"] as const) expect(h.last).toContainEqual({ kind: "disarm", timer: t });
    expect(h.last).not.toContainEqual({ kind: "disarm", timer: "expire" });
    expect(h.state.lease).toBe(lease);
    h.ev({ kind: "timer", timer: "renew" }, lease.renewAt!); // a stale timer does nothing
    expect(h.phase).toBe("DOWN");
    h.ev({ kind: "link", up: true }, 2000);
    expect(h.phase).toBe("REBOOTING");
    const m = sent(h.sends()[0]);
    expect(getIp(m, 50)).toBe(ADDR);
    expect(m.ciaddr).toBe("0.0.0.0");
    expect(h.arm("expire")).toBe(lease.expiresAt!);
  });

  test("the lease ends while down: unbound (expired), still DOWN; back → DISCOVER", () => {
    const h = bound(resident());
    h.ev({ kind: "link", up: false }, 100);
    h.ev({ kind: "timer", timer: "expire" }, h.state.lease!.expiresAt!);
    expect(unbound(h.last).map((a) => a.why)).toEqual(["expired"]);
    expect(h.phase).toBe("DOWN");
    h.ev({ kind: "link", up: true }, 4_000_000);
    expect(h.phase).toBe("INIT");
    expect(h.arm("init")).toBe(4_000_000);
  });

  test("down while SELECTING stops the DISCOVERs; a second down is nothing", () => {
    const h = new Harness(resident());
    h.ev({ kind: "start" }, 0);
    h.ev({ kind: "link", up: false }, 10);
    expect(h.last).toContainEqual({ kind: "disarm", timer: "retransmit" });
    expect(h.ev({ kind: "link", up: false }, 20)).toEqual([]);
    expect(h.ev({ kind: "link", up: true }, 30).some((a) => a.kind === "arm" && a.timer === "init")).toBe(true);
  });

  test("replies that arrive while DOWN are dropped", () => {
    const h = new Harness(resident());
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    h.ev({ kind: "link", up: false }, 10);
    expect(h.ev(recv(reply(2, { xid })), 20)).toEqual([{ kind: "dropped", reason: "not-expected" }]);
  });
});

describe("the operator", () => {
  test("renew while BOUND: a unicast REQUEST now; rebind: a broadcast one", () => {
    const h = bound(resident());
    h.ev({ kind: "renew" }, 100);
    expect(h.phase).toBe("RENEWING");
    expect(h.sends()[0].to).toEqual({ ip: SERVER, mac: expect.any(Uint8Array) });
    h.ev({ kind: "rebind" }, 200);
    expect(h.phase).toBe("REBINDING");
    expect(h.sends()[0].to).toBe("broadcast");
    expect(sent(h.sends()[0]).ciaddr).toBe(ADDR);
  });

  test("renew with no lease (INIT after a NAK) starts a DISCOVER now", () => {
    const h = new Harness(resident());
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(2, { xid: h.state.xid })), 10);
    h.ev(recv(reply(6, { xid: h.state.xid })), 20);
    expect(h.phase).toBe("INIT");
    h.ev({ kind: "renew" }, 30);
    expect(h.phase).toBe("SELECTING");
  });

  test("renew while an exchange runs does nothing", () => {
    const h = new Harness(resident());
    h.ev({ kind: "start" }, 0);
    expect(h.ev({ kind: "renew" }, 5)).toEqual([]);
  });
});

describe("new settings", () => {
  test("keepLease: REBOOTING into the lease's address with the new identity", () => {
    const h = bound(resident());
    h.ev({ kind: "reconfigure", config: resident({ identity: { ...h.state.config.identity, hostname: "renamed" } }), keepLease: true }, 100);
    expect(h.phase).toBe("REBOOTING");
    const m = sent(h.sends()[0]);
    expect(getIp(m, 50)).toBe(ADDR);
    expect(new TextDecoder().decode(m.options.get(12)!)).toBe("renamed");
  });

  test("without keepLease (a new MAC): the lease is given up (restart) and INIT starts at once", () => {
    const h = bound(resident());
    h.ev({ kind: "reconfigure", config: resident(), keepLease: false }, 100);
    expect(unbound(h.last).map((a) => a.why)).toEqual(["restart"]);
    expect(h.phase).toBe("INIT");
    expect(h.arm("init")).toBe(100);
  });
});

describe("ignored servers", () => {
  test("OFFER and ACK from an ignored server (by id or by source) are dropped", () => {
    const h = new Harness(resident({ ignoreServers: [OTHER] }));
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    expect(h.ev(recv(reply(2, { xid, server: OTHER }), OTHER), 5)).toEqual([{ kind: "dropped", reason: "ignored-server" }]);
    expect(h.ev(recv(reply(2, { xid }), OTHER), 6)).toEqual([{ kind: "dropped", reason: "ignored-server" }]);
    h.ev(recv(reply(2, { xid })), 10);
    expect(h.phase).toBe("REQUESTING");
  });
});

describe("IPv6-only (RFC 8925)", () => {
  const offer108 = (xid: number, wait: number) =>
    reply(2, {
      xid,
      options: withOptions(2, [
        { code: 108, data: u32(wait) },
        { code: 51, data: u32(3600) },
      ]),
    });

  test("asked for: an OFFER with 108 stops DHCPv4 for its time (floor 300 s), then DISCOVER again", () => {
    const h = new Harness(resident({ identity: { ...config().identity, preferIpv6: true } }));
    h.ev({ kind: "start" }, 0);
    h.ev(recv(offer108(h.state.xid, 60)), 10);
    expect(h.phase).toBe("IPV6_ONLY");
    expect(h.last).toContainEqual({ kind: "ipv6-only", server: SERVER, waitSec: 300 });
    expect(h.sends()).toHaveLength(0);
    expect(h.arm("init")).toBe(10 + 300_000);
    h.ev({ kind: "timer", timer: "init" }, 300_010);
    expect(h.phase).toBe("SELECTING");
  });

  test("not asked for: 108 is ignored and the OFFER is taken", () => {
    const h = new Harness(resident());
    h.ev({ kind: "start" }, 0);
    h.ev(recv(offer108(h.state.xid, 600)), 10);
    expect(h.phase).toBe("REQUESTING");
  });
});

describe("a server that NAKs everything", () => {
  test("INIT waits 0, 1, 2, 4 s … after successive NAKs; an ACK resets it", () => {
    const h = new Harness(resident());
    h.ev({ kind: "start" }, 0);
    const delays: number[] = [];
    let t = 0;
    for (let i = 0; i < 5; i++) {
      h.ev(recv(reply(2, { xid: h.state.xid })), t + 1);
      h.ev(recv(reply(6, { xid: h.state.xid })), t + 2);
      const at = h.arm("init")!;
      delays.push(at - (t + 2));
      t = at;
      h.ev({ kind: "timer", timer: "init" }, t);
    }
    expect(delays).toEqual([0, 1000, 2000, 4000, 8000]);
    h.ev(recv(reply(2, { xid: h.state.xid })), t + 1);
    h.ev(recv(reply(5, { xid: h.state.xid })), t + 2);
    expect(h.state.naks).toBe(0);
  });
});
