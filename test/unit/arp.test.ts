// ARP for a leased address the kernel does not hold: core/arp.ts reads a request (every
// field checked) and builds the reply byte for byte; cli/daemon/arp-responder.ts answers only
// for the lease it serves, never throws on what the wire sends, and the resident client
// serves its lease exactly while it holds one without --apply.

import { describe, expect, test } from "bun:test";
import { ArpResponder } from "../../cli/daemon/arp-responder.ts";
import type { Transport } from "../../cli/client/transport.ts";
import type { ReceivedFrameLike } from "../../core/reply.ts";
import { buildArpReply, parseArpRequest } from "../../core/arp.ts";
import { fromHex, toHex } from "../../core/bytes.ts";
import { ADDR, World } from "./resident-world.ts";
import { CLIENT_MAC } from "./helpers.ts";

/** Hex with spaces and // comments. */
const hex = (text: string) => fromHex(text.replace(/\/\/[^\n]*/g, "").replace(/\s+/g, ""))!;

// The router (02:00:00:00:00:01, 198.18.1.1) asks who has 198.18.1.100: what it sends to
// deliver a server's ACK to a client that renewed from 198.18.1.100.
const REQUEST = `
  ffffffffffff 020000000001 0806   // broadcast, from the router, ARP
  0001 0800 06 04 0001             // Ethernet, IPv4, hlen 6, plen 4, request
  020000000001 c6120101            // sender: the router's MAC and 198.18.1.1
  000000000000 c6120164            // target: unknown MAC, 198.18.1.100
`;
const OURS = Uint8Array.of(2, 0, 0, 0, 0, 0x64);

describe("parseArpRequest, buildArpReply", () => {
  test("a router's request, and the reply a host holding the address sends, byte for byte", () => {
    const r = parseArpRequest(hex(REQUEST));
    expect(r).toEqual({ ok: true, request: { senderMac: Uint8Array.of(2, 0, 0, 0, 0, 1), senderIp: "198.18.1.1", targetIp: "198.18.1.100" } });
    if (!r.ok) return;
    expect(toHex(buildArpReply(OURS, "198.18.1.100", r.request))).toBe(
      toHex(
        hex(`
      020000000001 020000000064 0806   // to the asker, from us, ARP
      0001 0800 06 04 0002             // Ethernet, IPv4, a reply
      020000000064 c6120164            // sender: our MAC, the leased address
      020000000001 c6120101            // target: the asker
    `),
      ),
    );
  });

  test.each([
    ["short", REQUEST.slice(0, 60), "arp-short"],
    ["not ARP", REQUEST.replace("0806", "0800"), "not-arp"],
    ["hardware type 6", REQUEST.replace("0001 0800 06 04", "0006 0800 06 04"), "arp-not-ipv4-ethernet"],
    ["protocol IPv6", REQUEST.replace("0001 0800 06 04", "0001 86dd 06 04"), "arp-not-ipv4-ethernet"],
    ["address lengths 6/16", REQUEST.replace("0001 0800 06 04", "0001 0800 06 10"), "arp-not-ipv4-ethernet"],
    ["a reply", REQUEST.replace("06 04 0001", "06 04 0002"), "arp-not-request"],
    ["a multicast sender", REQUEST.replace("020000000001 c6120101", "010000000001 c6120101"), "arp-bad-sender"],
    ["a sender not the frame's source", REQUEST.replace("020000000001 c6120101", "020000000009 c6120101"), "arp-bad-sender"],
  ])("refused: %s", (_, text, reason) => {
    expect(parseArpRequest(hex(text))).toEqual({ ok: false, reason });
  });
});

/** A Transport whose far end the test is: what was sent, and frames handed in. */
function fakeSocket() {
  const sent: Uint8Array[] = [];
  let rx: ((f: ReceivedFrameLike) => void) | null = null;
  let failing = false;
  const transport: Transport = {
    listen: (onFrame) => {
      rx = onFrame;
    },
    send: (f) => {
      if (failing) throw new Error("ENETDOWN");
      sent.push(f);
    },
    kernelDrops: () => 0,
    close: () => {},
  };
  return {
    transport,
    sent,
    hear: (b: Uint8Array) => rx?.({ bytes: b, csum: "unknown" }),
    fail: () => {
      failing = true;
    },
  };
}

describe("ArpResponder", () => {
  test("answers for the address it serves, and for nothing before or after", () => {
    const s = fakeSocket();
    const answered: string[] = [];
    const r = new ArpResponder(s.transport, { answered: (asker, address) => answered.push(`${asker} ${address}`) });
    s.hear(hex(REQUEST));
    expect(s.sent).toHaveLength(0); // nothing served yet
    r.serve("198.18.1.100", OURS);
    s.hear(hex(REQUEST));
    expect(s.sent.map((f) => toHex(f.subarray(0, 12)))).toEqual(["020000000001020000000064"]);
    s.hear(hex(REQUEST.replace("c6120164", "c6120165"))); // another address
    r.serve(null, OURS);
    s.hear(hex(REQUEST));
    expect(s.sent).toHaveLength(1);
    expect(r.answered).toBe(1);
    expect(answered).toEqual(["198.18.1.1 198.18.1.100"]);
  });

  test("not to its own request, not to a conflicting announcement; a failed send is counted; garbage never throws", () => {
    const s = fakeSocket();
    const reported: string[] = [];
    const r = new ArpResponder(s.transport, { dropped: (reason) => reported.push(reason) });
    r.serve("198.18.1.100", OURS);
    s.hear(hex(REQUEST.replaceAll("020000000001", "020000000064"))); // our own MAC asking
    s.hear(hex(REQUEST.replace("c6120101", "c6120164"))); // someone announcing 198.18.1.100 as theirs
    s.fail();
    s.hear(hex(REQUEST));
    expect(r.drops.toJSON()).toEqual({ "arp-not-answered": 2, "arp-send-failed": 1 });
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const f = hex(REQUEST).slice(0, 42 - (i % 50));
      for (let k = 0; k < 4 && f.length; k++) f[rnd() % f.length] = rnd();
      expect(() => s.hear(f)).not.toThrow();
    }
    expect(s.sent).toHaveLength(0);
    expect(r.drops.toJSON()["arp-short"]).toBeGreaterThan(1000);
    expect(reported).toHaveLength(r.drops.total); // each drop said (a debug event in the daemon)
  });
});

describe("the resident client without --apply", () => {
  test("serves its lease's address from the ACK on, with its MAC, and nothing once released", async () => {
    const served: (string | null)[] = [];
    const arp = {
      answered: 0,
      serve: (a: string | null, mac: Uint8Array) => {
        served.push(a && `${a} ${toHex(mac, ":")}`);
      },
      close: () => served.push("closed"),
    };
    const w = new World({ arp });
    w.start();
    expect(w.phase).toBe("BOUND");
    expect(served).toEqual([`${ADDR} ${toHex(CLIENT_MAC, ":")}`]);
    w.client.release();
    expect(served.slice(1)).toEqual([null, "closed"]);
  });
});
