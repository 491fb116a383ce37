// Link layers of captures, down to IPv4 (core/link.ts): what each header must hold, and every
// way a hostile or unusual frame is refused, with its reason.

import { describe, expect, test } from "bun:test";
import { unwrapLink, MAX_VLAN_TAGS } from "../../core/link.ts";
import { viewCaptured } from "../../core/inspect.ts";
import { AP_MAC, doraMessages, dot11, ethernet, ipPacket, radiotap, sll, sll2 } from "./capture-fixtures.ts";
import { concat } from "./pcap-fixtures.ts";
import { CLIENT_MAC } from "./helpers.ts";

const ip = ipPacket(doraMessages()[0]);
const reason = (linktype: number, b: Uint8Array) => {
  const r = unwrapLink(linktype, b);
  return r.ok ? `ip at ${r.link.ip}` : r.reason;
};

describe("each link type finds the IPv4 header", () => {
  test("where each header ends", () => {
    expect(reason(1, ethernet(ip))).toBe("ip at 14");
    expect(
      reason(
        1,
        ethernet(ip, [
          [0x8100, 1],
          [0x8100, 2],
        ]),
      ),
    ).toBe("ip at 22");
    expect(reason(113, sll(ip, 0, CLIENT_MAC))).toBe("ip at 16");
    expect(reason(276, sll2(ip, 0, CLIENT_MAC))).toBe("ip at 20");
    for (const lt of [12, 14, 101, 228]) expect(reason(lt, ip)).toBe("ip at 0");
    expect(reason(105, dot11(ip, { toDs: true, addr: [AP_MAC, CLIENT_MAC, AP_MAC] }))).toBe("ip at 32");
    expect(reason(105, dot11(ip, { toDs: true, fromDs: true, qos: true, order: true, addr: [AP_MAC, AP_MAC, AP_MAC, CLIENT_MAC] }))).toBe("ip at 44");
    expect(reason(127, radiotap(dot11(ip, { addr: [AP_MAC, CLIENT_MAC, AP_MAC] })))).toBe("ip at 42");
  });

  test("bare 802.11 (105) decodes the DHCP inside, like radiotap's", () => {
    const v = viewCaptured(105, dot11(ip, { toDs: true, addr: [AP_MAC, CLIENT_MAC, AP_MAC] }), 1);
    expect(v.message?.messageType).toBe("DISCOVER");
    expect([v.frame?.srcMac, v.frame?.dstMac]).toEqual(["02:00:00:00:00:01", "02:00:00:00:00:a9"]);
  });

  test("SLL with a VLAN tag put back by libpcap (protocol 0x8100, then the TCI)", () => {
    const tagged = concat(sll(new Uint8Array(0), 0, CLIENT_MAC).subarray(0, 14), Uint8Array.of(0x81, 0x00, 0x00, 0x2a, 0x08, 0x00), ip);
    const r = unwrapLink(113, tagged);
    expect(r.ok && [r.link.ip, r.link.vlan]).toEqual([20, [42]]);
  });

  test("SLL of a link that is not Ethernet: no MAC", () => {
    const b = sll(ip, 0, CLIENT_MAC);
    b[3] = 0x30; // ARPHRD 0x30 (not 1)
    const r = unwrapLink(113, b);
    expect(r.ok && r.link.srcMac).toBeNull();
  });
});

describe("what is refused, and why", () => {
  test("every header cut short", () => {
    expect(reason(1, ethernet(ip).subarray(0, 13))).toBe("link-short");
    expect(reason(1, ethernet(ip, [[0x8100, 1]]).subarray(0, 17))).toBe("link-short");
    expect(reason(113, sll(ip, 0, CLIENT_MAC).subarray(0, 15))).toBe("link-short");
    expect(reason(276, sll2(ip, 0, CLIENT_MAC).subarray(0, 19))).toBe("link-short");
    expect(reason(101, new Uint8Array(0))).toBe("link-short");
    expect(reason(105, dot11(ip, { addr: [AP_MAC, CLIENT_MAC, AP_MAC] }).subarray(0, 23))).toBe("link-short");
    expect(reason(105, dot11(ip, { addr: [AP_MAC, CLIENT_MAC, AP_MAC] }).subarray(0, 30))).toBe("link-short");
  });

  test("other protocols: ARP, IPv6 (also as raw IP)", () => {
    const arp = ethernet(ip);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(reason(1, arp)).toBe("not-ipv4");
    const v6 = ip.slice();
    v6[0] = 0x60;
    expect(reason(101, v6)).toBe("not-ipv4");
  });

  test(`more than ${MAX_VLAN_TAGS} stacked tags`, () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i): [number, number] => [0x8100, i]);
    expect(reason(1, ethernet(ip, tags(MAX_VLAN_TAGS)))).toBe(`ip at ${14 + 4 * MAX_VLAN_TAGS}`);
    expect(reason(1, ethernet(ip, tags(MAX_VLAN_TAGS + 1)))).toBe("vlan-too-deep");
  });

  test("radiotap: another version, a length under 8 or past the frame", () => {
    const good = radiotap(dot11(ip, { addr: [AP_MAC, CLIENT_MAC, AP_MAC] }));
    const bad = (at: number, v: number) => {
      const b = good.slice();
      b[at] = v;
      return b;
    };
    expect(reason(127, bad(0, 1))).toBe("radiotap-bad");
    expect(reason(127, bad(2, 4))).toBe("radiotap-bad");
    expect(reason(127, bad(3, 0xff))).toBe("radiotap-bad");
    expect(reason(127, good.subarray(0, 7))).toBe("radiotap-bad");
  });

  test("802.11: management, no data, protected, an A-MSDU, no SNAP header, another protocol version", () => {
    const f = (more: object) => dot11(ip, { addr: [AP_MAC, CLIENT_MAC, AP_MAC], ...more });
    expect(reason(105, f({ fc: 0x80 }))).toBe("80211-not-data");
    expect(reason(105, f({ fc: 0x48 }))).toBe("80211-no-data");
    expect(reason(105, f({ protected: true }))).toBe("80211-protected");
    const amsdu = f({ qos: true });
    amsdu[24] = 0x80; // QoS control: A-MSDU present
    expect(reason(105, amsdu)).toBe("80211-amsdu");
    const llc = f({});
    llc[24] = 0x42; // LLC with another SAP, not SNAP
    expect(reason(105, llc)).toBe("llc-not-snap");
    expect(reason(105, f({ fc: 0x09 }))).toBe("80211-not-data");
  });

  test("a link type we do not read", () => {
    expect(reason(9, ip)).toBe("link-unsupported");
    expect(viewCaptured(9, ip, 1)).toMatchObject({
      dropReason: "link-unsupported",
      error: "link type 9 (PPP) is not one dhcptool reads: its packets are skipped",
    });
  });
});
