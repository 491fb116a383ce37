// HOSTILE.md items 1–11: each bad frame is dropped (or its field ignored), counted under a
// named reason, and nothing throws out of the receive path.

import { describe, expect, test } from "bun:test";
import { MAX_OFFERS, OfferCollector } from "../../core/offers.ts";
import { ipv4HeaderChecksum, udpChecksum } from "../../core/checksum.ts";
import type { ChecksumStatus } from "../../core/frame.ts";
import { CLIENT_MAC, offerFrame, offerPayload, XID } from "./helpers.ts";

const IP = 14;
const UDP = 34;

function collector() {
  return new OfferCollector({ xid: XID, mac: CLIENT_MAC, startedAt: 0 });
}

function fixIp(f: Uint8Array): Uint8Array {
  const dv = new DataView(f.buffer, f.byteOffset);
  dv.setUint16(IP + 10, 0);
  dv.setUint16(IP + 10, ipv4HeaderChecksum(f, IP, (f[IP] & 15) * 4));
  return f;
}

function fixUdp(f: Uint8Array): Uint8Array {
  const dv = new DataView(f.buffer, f.byteOffset);
  dv.setUint16(UDP + 6, 0);
  dv.setUint16(UDP + 6, udpChecksum(f, IP, UDP, dv.getUint16(UDP + 4)));
  return f;
}

function set16(f: Uint8Array, off: number, v: number): Uint8Array {
  new DataView(f.buffer, f.byteOffset).setUint16(off, v);
  return f;
}

/** Feeds one frame; asserts it was dropped for `reason` and produced no offer. */
function expectDropped(frame: Uint8Array, reason: string, csum: ChecksumStatus = "unknown") {
  const c = collector();
  expect(() => c.accept({ bytes: frame, csum }, 1)).not.toThrow();
  expect(c.offers).toHaveLength(0);
  expect(c.drops.toJSON()).toEqual({ [reason]: 1 });
}

function expectAccepted(frame: Uint8Array, csum: ChecksumStatus = "unknown") {
  const c = collector();
  expect(c.accept({ bytes: frame, csum }, 1)).not.toBeNull();
  expect(c.drops.total).toBe(0);
  return c;
}

describe("HOSTILE 1: short frames and bad IHL", () => {
  test("a valid OFFER is accepted (control)", () => {
    expectAccepted(offerFrame());
  });
  test("frame shorter than 14 bytes", () => expectDropped(offerFrame().slice(0, 13), "frame-short"));
  test("frame shorter than Ethernet + 20", () => expectDropped(offerFrame().slice(0, 14 + 19), "frame-short"));
  test("empty frame", () => expectDropped(new Uint8Array(0), "frame-short"));
  test("ihl < 5", () => {
    const f = offerFrame();
    f[IP] = 0x44;
    expectDropped(fixIp(f), "ip-header-bad");
  });
  test("ihl beyond the frame", () => {
    const f = offerFrame().slice(0, 14 + 24);
    f[IP] = 0x4f;
    expectDropped(f, "ip-header-bad");
  });
});

describe("HOSTILE 2: version, protocol, fragments", () => {
  test("IP version 6 in an IPv4 ethertype", () => {
    const f = offerFrame();
    f[IP] = 0x65;
    expectDropped(fixIp(f), "ip-version");
  });
  test("ethertype not IPv4", () => {
    const f = offerFrame();
    f[12] = 0x86;
    f[13] = 0xdd;
    expectDropped(f, "not-ipv4");
  });
  test("protocol TCP", () => {
    const f = offerFrame();
    f[IP + 9] = 6;
    expectDropped(fixIp(f), "not-udp");
  });
  test("fragment offset set", () => expectDropped(fixIp(set16(offerFrame(), IP + 6, 0x0010)), "ip-fragment"));
  test("more-fragments set", () => expectDropped(fixIp(set16(offerFrame(), IP + 6, 0x2000)), "ip-fragment"));
  test("don't-fragment alone is fine", () => {
    expectAccepted(fixIp(set16(offerFrame(), IP + 6, 0x4000)));
  });
});

describe("HOSTILE 3: IP total length", () => {
  test("larger than the frame", () => {
    const f = offerFrame();
    expectDropped(fixIp(set16(f, IP + 2, f.length)), "ip-length");
  });
  test("smaller than header + 8", () => expectDropped(fixIp(set16(offerFrame(), IP + 2, 27)), "ip-length"));
});

describe("HOSTILE 4: IPv4 header checksum", () => {
  test("bad checksum is dropped", () => {
    const f = offerFrame();
    f[IP + 10] ^= 0xff;
    expectDropped(f, "ip-checksum");
  });
  test("bad checksum is dropped even when the kernel vouched for L4", () => {
    const f = offerFrame();
    f[IP + 10] ^= 0xff;
    expectDropped(f, "ip-checksum", "valid");
  });
});

describe("HOSTILE 5: UDP length", () => {
  test("UDP length < 8", () => expectDropped(set16(offerFrame(), UDP + 4, 7), "udp-length"));
  test("UDP length beyond the IP payload", () => {
    const f = offerFrame();
    expectDropped(set16(f, UDP + 4, f.length), "udp-length");
  });
  test("trailing bytes beyond the UDP length are trimmed and the offer stands", () => {
    const f = offerFrame();
    const longer = new Uint8Array(f.length + 64).fill(0x55);
    longer.set(f);
    set16(longer, IP + 2, f.length - 14 + 64); // IP says the junk is inside the packet, UDP does not
    expectAccepted(fixIp(longer));
  });
});

describe("HOSTILE 6: UDP checksum and port", () => {
  test("bad UDP checksum is dropped when the kernel did not verify it", () => {
    const f = offerFrame();
    f[UDP + 6] ^= 0x55;
    expectDropped(f, "udp-checksum");
  });
  test("bad UDP checksum with TP_STATUS_CSUMNOTREADY (offload, not filled in) is accepted", () => {
    const f = offerFrame();
    f[UDP + 6] ^= 0x55;
    expectAccepted(f, "partial");
  });
  test("checksum 0 means none was sent", () => {
    expectAccepted(set16(offerFrame(), UDP + 6, 0));
  });
  test("a corrupted payload fails the checksum", () => {
    const f = offerFrame();
    f[UDP + 8 + 20] ^= 1;
    expectDropped(f, "udp-checksum");
  });
  test("destination port 67 in client mode", () => expectDropped(fixUdp(set16(offerFrame(), UDP + 2, 67)), "wrong-port"));
});

describe("HOSTILE 7: Ethernet destination", () => {
  test("unicast to another MAC", () => {
    expectDropped(offerFrame(offerPayload(), Uint8Array.of(2, 0, 0, 0, 0, 0x99)), "not-for-us");
  });
  test("broadcast is accepted", () => {
    expectAccepted(offerFrame(offerPayload(), new Uint8Array(6).fill(0xff)));
  });
});

describe("HOSTILE 8: BOOTP header", () => {
  test("BOOTP shorter than 236 bytes", () => expectDropped(offerFrame(offerPayload().slice(0, 200)), "decode-short"));
  test("op 1 (a request) in client mode", () => expectDropped(offerFrame(offerPayload({ op: 1 })), "not-reply"));
  test("htype not Ethernet", () => {
    const p = offerPayload();
    p[1] = 6;
    expectDropped(offerFrame(p), "not-ethernet");
  });
  test("hlen not 6", () => {
    const p = offerPayload();
    p[2] = 16;
    expectDropped(offerFrame(p), "not-ethernet");
  });
});

describe("HOSTILE 9: not our exchange", () => {
  test("xid not ours", () => expectDropped(offerFrame(offerPayload({ xid: XID + 1 })), "wrong-xid"));
  test("chaddr not our MAC", () => expectDropped(offerFrame(offerPayload({ chaddr: Uint8Array.of(2, 0, 0, 0, 0, 2) })), "wrong-chaddr"));
});

describe("HOSTILE 10: magic cookie", () => {
  test("wrong cookie", () => {
    const p = offerPayload();
    p[236] = 0x64;
    expectDropped(offerFrame(p), "decode-cookie");
  });
  test("no cookie (message ends at 236)", () => expectDropped(offerFrame(offerPayload().slice(0, 236)), "decode-short"));
});

describe("HOSTILE 11: sname/file without NUL", () => {
  test("sname without a terminating NUL is ignored and counted; the offer stands", () => {
    const p = offerPayload();
    p.fill(0x41, 44, 108);
    const c = expectAccepted(offerFrame(p));
    expect(c.warnings.toJSON()).toEqual({ "sname-unterminated": 1 });
  });
  test("file without a terminating NUL is ignored and counted; the offer stands", () => {
    const p = offerPayload();
    p.fill(0x1b, 108, 236); // ESC all the way
    const c = expectAccepted(offerFrame(p));
    expect(c.warnings.toJSON()).toEqual({ "file-unterminated": 1 });
  });
});

describe("random garbage never throws", () => {
  test("10,000 random and truncated frames", () => {
    const c = collector();
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const base = offerFrame();
    for (let i = 0; i < 10000; i++) {
      const f = base.slice(0, rnd() * 2 + (i % 3) * 200);
      for (let k = 0; k < 6; k++) if (f.length) f[(rnd() * 3) % f.length] = rnd();
      expect(() => c.accept({ bytes: f, csum: i % 2 ? "partial" : "unknown" }, i)).not.toThrow();
    }
    // every frame is accounted for: dropped under a reason, or an offer (or a copy of one)
    const accepted = c.offers.reduce((n, o) => n + o.copies, 0);
    expect(c.drops.total + accepted).toBe(10000);
    expect(c.drops.total).toBeGreaterThan(8000);
    expect(c.drops.toJSON()["internal-error"]).toBeUndefined();
  });
});

describe("one server, several OFFERs (HOSTILE 28, 29)", () => {
  const offered = (yiaddr: string) => offerFrame(offerPayload({ yiaddr }));

  test("the same offer again is a copy; another address from the same server is another offer", () => {
    const c = collector();
    expect(c.accept({ bytes: offered("198.18.0.103"), csum: "unknown" }, 1)).not.toBeNull();
    expect(c.accept({ bytes: offered("198.18.0.103"), csum: "unknown" }, 2)).toBeNull();
    // Kea answers each DISCOVER it hears with a new address: three offers, not one with "3 copies"
    expect(c.accept({ bytes: offered("198.18.0.104"), csum: "unknown" }, 2003)).not.toBeNull();
    expect(c.accept({ bytes: offered("198.18.0.105"), csum: "unknown" }, 4003)).not.toBeNull();
    expect(c.offers.map((o) => [o.serverId, o.yiaddr, o.copies, o.latencyMs])).toEqual([
      ["198.18.0.1", "198.18.0.103", 2, 1],
      ["198.18.0.1", "198.18.0.104", 1, 2003],
      ["198.18.0.1", "198.18.0.105", 1, 4003],
    ]);
  });

  test("a server offering address after address stays bounded: the rest are counted, not kept", () => {
    const c = collector();
    for (let i = 0; i < 1000; i++) c.accept({ bytes: offered(`198.18.${(i >> 8) + 1}.${i & 255 || 1}`), csum: "unknown" }, i);
    expect(c.offers).toHaveLength(MAX_OFFERS);
    expect(c.drops.toJSON()["too-many-offers"]).toBeGreaterThan(0);
  });
});

describe("the VLAN an OFFER came on", () => {
  const onVlan = (vlan: number | null, id: number | null) => {
    const c = new OfferCollector({ xid: XID, mac: CLIENT_MAC, startedAt: 0, vlan });
    const offer = c.accept({ bytes: offerFrame(), csum: "unknown", vlan: id === null ? null : { id } }, 1);
    return { offer, drops: c.drops.toJSON(), otherVlans: [...c.otherVlans] };
  };

  test("an untagged probe takes untagged and priority-tagged (VID 0) offers, and drops a VLAN 10 one as other-vlan", () => {
    expect(onVlan(null, null).offer).not.toBeNull();
    expect(onVlan(null, 0).offer).not.toBeNull();
    expect(onVlan(null, 10)).toEqual({ offer: null, drops: { "other-vlan": 1 }, otherVlans: [10] });
  });

  test("a probe of VLAN 10 takes VLAN 10's offers only", () => {
    expect(onVlan(10, 10).offer).not.toBeNull();
    expect(onVlan(10, null)).toEqual({ offer: null, drops: { "other-vlan": 1 }, otherVlans: [] });
    expect(onVlan(10, 20)).toEqual({ offer: null, drops: { "other-vlan": 1 }, otherVlans: [20] });
  });

  test("an offer for another xid on another VLAN is not ours either way: counted as the xid, not as a VLAN", () => {
    const c = new OfferCollector({ xid: XID + 1, mac: CLIENT_MAC, startedAt: 0, vlan: null });
    c.accept({ bytes: offerFrame(), csum: "unknown", vlan: { id: 10 } }, 1);
    expect(c.drops.toJSON()).toEqual({ "wrong-xid": 1 });
    expect([...c.otherVlans]).toEqual([]);
  });
});
