// The engine with --server (unicast to one server) and --giaddr (speaking as a relay agent,
// RFC 1542 4.1.1 / RFC 2131 4.1): which messages go where, from which address and port, with
// which giaddr and hops; which replies still count.

import { describe, expect, test } from "bun:test";
import { macToString, parseMac } from "../../core/bytes.ts";
import type { Action } from "../../core/engine.ts";
import { getIp, messageType } from "../../core/message.ts";
import { SERVER_MAC } from "./helpers.ts";
import { ADDR, Harness, OTHER, OTHER_MAC, SERVER, bound, config, recv, reply, sent } from "./engine-harness.ts";

type Send = Extract<Action, { kind: "send" }>;
const GIADDR = "198.18.0.5";
const OWN = "198.18.0.6";
const BROADCAST = "ff:ff:ff:ff:ff:ff";
const KNOWN_MAC = parseMac("02:00:00:00:00:5e")!;

const relayed = (over = {}) => config({ server: { ip: SERVER }, relay: { giaddr: GIADDR }, ...over });
const unicast = (over = {}) => config({ server: { ip: SERVER, srcIp: OWN }, ...over });

/** Where a send goes, as plain values. */
function route(a: Send) {
  return {
    to: a.to === "broadcast" ? "broadcast" : { ip: a.to.ip, mac: macToString(a.to.mac) },
    srcIp: a.srcIp,
    srcPort: a.srcPort ?? 68,
  };
}

function relayFields(a: Send) {
  const m = sent(a);
  return { giaddr: m.giaddr, hops: m.hops, ciaddr: m.ciaddr };
}

describe("--giaddr: the client's broadcasts go as a relay agent forwards them", () => {
  test("DISCOVER: giaddr, hops 1, from giaddr:67 to the server (Ethernet broadcast: its MAC is not known)", () => {
    const h = new Harness(relayed());
    const [d] = h.sends(h.ev({ kind: "start" }, 0));
    expect(messageType(sent(d))).toBe(1);
    expect(route(d)).toEqual({ to: { ip: SERVER, mac: BROADCAST }, srcIp: GIADDR, srcPort: 67 });
    expect(relayFields(d)).toEqual({ giaddr: GIADDR, hops: 1, ciaddr: "0.0.0.0" });
  });

  test("retransmitted DISCOVERs keep giaddr and hops", () => {
    const h = new Harness(relayed());
    h.ev({ kind: "start" }, 0);
    const [again] = h.sends(h.ev({ kind: "timer", timer: "retransmit" }, 2000));
    expect(relayFields(again)).toEqual({ giaddr: GIADDR, hops: 1, ciaddr: "0.0.0.0" });
    expect(sent(again).secs).toBe(2);
    expect(route(again).srcPort).toBe(67);
  });

  test("the server's MAC, when given, is the Ethernet destination", () => {
    const h = new Harness(relayed({ server: { ip: SERVER, mac: KNOWN_MAC } }));
    const [d] = h.sends(h.ev({ kind: "start" }, 0));
    expect(route(d).to).toEqual({ ip: SERVER, mac: "02:00:00:00:00:5e" });
  });

  test("REQUEST (REQUESTING) the same way, with 50 and 54; the ACK (sent to giaddr) binds", () => {
    const h = new Harness(relayed());
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    const [r] = h.sends(h.ev(recv(reply(2, { xid })), 10));
    expect(h.phase).toBe("REQUESTING");
    const m = sent(r);
    expect(messageType(m)).toBe(3);
    expect(getIp(m, 50)).toBe(ADDR);
    expect(getIp(m, 54)).toBe(SERVER);
    expect(route(r)).toEqual({ to: { ip: SERVER, mac: BROADCAST }, srcIp: GIADDR, srcPort: 67 });
    expect(relayFields(r)).toEqual({ giaddr: GIADDR, hops: 1, ciaddr: "0.0.0.0" });
    h.ev(recv(reply(5, { xid })), 20);
    expect(h.phase).toBe("BOUND");
    expect(h.state.lease!.serverMac).toEqual(SERVER_MAC);
  });

  test("REBOOTING (--address) the same way, with 50 only", () => {
    const h = new Harness(relayed({ requestedAddress: ADDR }));
    const [r] = h.sends(h.ev({ kind: "start" }, 0));
    expect(h.phase).toBe("REBOOTING");
    expect(getIp(sent(r), 50)).toBe(ADDR);
    expect(getIp(sent(r), 54)).toBeNull();
    expect(route(r)).toEqual({ to: { ip: SERVER, mac: BROADCAST }, srcIp: GIADDR, srcPort: 67 });
    expect(relayFields(r).hops).toBe(1);
  });

  test("RENEWING stays the client's own unicast: no giaddr, hops 0, from the lease to the server's MAC, port 68", () => {
    const h = bound(relayed());
    const [r] = h.sends(h.ev({ kind: "timer", timer: "renew" }, 1_800_010));
    expect(h.phase).toBe("RENEWING");
    expect(route(r)).toEqual({ to: { ip: SERVER, mac: macToString(SERVER_MAC) }, srcIp: ADDR, srcPort: 68 });
    expect(relayFields(r)).toEqual({ giaddr: "0.0.0.0", hops: 0, ciaddr: ADDR });
  });

  test("REBINDING (a broadcast) is relayed: giaddr, hops 1, ciaddr kept, from giaddr:67", () => {
    const h = bound(relayed());
    const [r] = h.sends(h.ev({ kind: "timer", timer: "rebind" }, 3_150_010));
    expect(h.phase).toBe("REBINDING");
    expect(route(r)).toEqual({ to: { ip: SERVER, mac: BROADCAST }, srcIp: GIADDR, srcPort: 67 });
    expect(relayFields(r)).toEqual({ giaddr: GIADDR, hops: 1, ciaddr: ADDR });
  });

  test("RELEASE is the client's own: unicast from the lease, no giaddr, port 68", () => {
    const h = bound(relayed());
    const [r] = h.sends(h.ev({ kind: "release" }, 100));
    expect(messageType(sent(r))).toBe(7);
    expect(route(r)).toEqual({ to: { ip: SERVER, mac: macToString(SERVER_MAC) }, srcIp: ADDR, srcPort: 68 });
    expect(relayFields(r)).toEqual({ giaddr: "0.0.0.0", hops: 0, ciaddr: ADDR });
  });

  test("a relay with no server broadcasts from giaddr:67", () => {
    const h = new Harness(config({ relay: { giaddr: GIADDR } }));
    const [d] = h.sends(h.ev({ kind: "start" }, 0));
    expect(route(d)).toEqual({ to: "broadcast", srcIp: GIADDR, srcPort: 67 });
    expect(relayFields(d).giaddr).toBe(GIADDR);
  });
});

describe("--server: unicast to one server", () => {
  test("DISCOVER to the server, Ethernet broadcast, from the interface's address, port 68; no giaddr, hops 0", () => {
    const h = new Harness(unicast());
    const [d] = h.sends(h.ev({ kind: "start" }, 0));
    expect(route(d)).toEqual({ to: { ip: SERVER, mac: BROADCAST }, srcIp: OWN, srcPort: 68 });
    expect(d.srcPort).toBeUndefined();
    expect(relayFields(d)).toEqual({ giaddr: "0.0.0.0", hops: 0, ciaddr: "0.0.0.0" });
  });

  test("no address on the interface: from 0.0.0.0", () => {
    const h = new Harness(config({ server: { ip: SERVER } }));
    const [d] = h.sends(h.ev({ kind: "start" }, 0));
    expect(route(d)).toEqual({ to: { ip: SERVER, mac: BROADCAST }, srcIp: "0.0.0.0", srcPort: 68 });
  });

  test("REQUESTING and REBOOTING unicast the same way; REBINDING from the lease's address", () => {
    const h = new Harness(unicast({ server: { ip: SERVER, srcIp: OWN, mac: KNOWN_MAC } }));
    h.ev({ kind: "start" }, 0);
    const [r] = h.sends(h.ev(recv(reply(2, { xid: h.state.xid })), 10));
    expect(route(r)).toEqual({ to: { ip: SERVER, mac: "02:00:00:00:00:5e" }, srcIp: OWN, srcPort: 68 });
    const b = bound(unicast());
    const [rb] = b.sends(b.ev({ kind: "timer", timer: "rebind" }, 3_150_010));
    expect(route(rb)).toEqual({ to: { ip: SERVER, mac: BROADCAST }, srcIp: ADDR, srcPort: 68 });
    const reboot = new Harness(unicast({ requestedAddress: ADDR }));
    const [rr] = reboot.sends(reboot.ev({ kind: "start" }, 0));
    expect(route(rr)).toEqual({ to: { ip: SERVER, mac: BROADCAST }, srcIp: OWN, srcPort: 68 });
  });

  test("without --server and --giaddr nothing changes: broadcast from 0.0.0.0:68, giaddr 0, hops 0", () => {
    const h = new Harness(config());
    const [d] = h.sends(h.ev({ kind: "start" }, 0));
    expect(d.to).toBe("broadcast");
    expect(d.srcIp).toBe("0.0.0.0");
    expect("srcPort" in d).toBe(false);
    expect(relayFields(d)).toEqual({ giaddr: "0.0.0.0", hops: 0, ciaddr: "0.0.0.0" });
  });
});

describe("--server: only that server's replies count", () => {
  for (const [name, cfg] of [
    ["unicast", unicast],
    ["relay", relayed],
  ] as const) {
    test(`${name}: an OFFER from another server is dropped (other-server); the server's own is taken`, () => {
      const h = new Harness(cfg());
      h.ev({ kind: "start" }, 0);
      const xid = h.state.xid;
      h.ev(recv(reply(2, { xid, server: OTHER }), OTHER, OTHER_MAC), 5);
      expect(h.last).toEqual([{ kind: "dropped", reason: "other-server" }]);
      expect(h.phase).toBe("SELECTING");
      h.ev(recv(reply(2, { xid })), 10);
      expect(h.phase).toBe("REQUESTING");
    });
  }

  test("a server id other than the address we sent to counts when the reply comes from that address", () => {
    const h = new Harness(unicast());
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(2, { xid: h.state.xid, server: "198.18.0.77" }), SERVER), 10);
    expect(h.phase).toBe("REQUESTING");
    expect(h.state.chosen!.serverId).toBe("198.18.0.77");
  });

  test("another server's id from another address is dropped, even with the right xid and chaddr", () => {
    const h = new Harness(unicast());
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(2, { xid: h.state.xid, server: OTHER }), "198.18.0.9", OTHER_MAC), 10);
    expect(h.last).toEqual([{ kind: "dropped", reason: "other-server" }]);
  });

  test("a NAK or ACK from another server while REQUESTING is dropped", () => {
    const h = new Harness(relayed());
    h.ev({ kind: "start" }, 0);
    const xid = h.state.xid;
    h.ev(recv(reply(2, { xid })), 10);
    h.ev(recv(reply(6, { xid, server: OTHER }), OTHER, OTHER_MAC), 15);
    expect(h.last).toEqual([{ kind: "dropped", reason: "other-server" }]);
    h.ev(recv(reply(5, { xid, server: OTHER }), OTHER, OTHER_MAC), 16);
    expect(h.last).toEqual([{ kind: "dropped", reason: "other-server" }]);
    expect(h.phase).toBe("REQUESTING");
    h.ev(recv(reply(6, { xid })), 20);
    expect(h.kinds()).toContain("nak");
  });

  test("REBOOTING (any server may answer without --server) takes only that server's NAK", () => {
    const h = new Harness(unicast({ requestedAddress: ADDR }));
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(6, { xid: h.state.xid, server: OTHER }), OTHER, OTHER_MAC), 5);
    expect(h.last).toEqual([{ kind: "dropped", reason: "other-server" }]);
    expect(h.phase).toBe("REBOOTING");
  });
});
