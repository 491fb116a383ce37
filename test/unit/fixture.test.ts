// A real OFFER, captured from dnsmasq in the lab, decodes to the fields dnsmasq was given.

import { expect, test } from "bun:test";
import { fromHex, parseMac } from "../../core/bytes.ts";
import { OfferCollector } from "../../core/offers.ts";

const text = await Bun.file(`${import.meta.dir}/../fixtures/dnsmasq-offer.hex`).text();
const frame = fromHex(
  text
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join(" "),
)!;

test("the captured dnsmasq OFFER decodes to the expected fields", () => {
  expect(frame.length).toBe(375);
  const c = new OfferCollector({ xid: 0x9317bd65, mac: parseMac("02:00:00:00:00:01")!, startedAt: 0 });
  // Sent over veth, the UDP checksum was left to offload and never filled in: the kernel
  // marks such frames TP_STATUS_CSUMNOTREADY, which the shim reports as "partial".
  const offer = c.accept({ bytes: frame, csum: "partial" }, 4.25);
  expect(c.drops.toJSON()).toEqual({});
  expect(offer).not.toBeNull();
  expect(offer).toMatchObject({
    serverId: "198.18.0.1",
    sourceIp: "198.18.0.1",
    sourceMac: "e2:c5:d8:3e:d3:fb",
    yiaddr: "198.18.0.123",
    siaddr: "198.18.0.1",
    giaddr: "0.0.0.0",
    subnetMask: "255.255.255.0",
    routers: ["198.18.0.1"],
    dns: ["198.18.0.1"],
    domain: "lab.example",
    search: ["lab.example", "example.org"],
    leaseTime: 3600,
    renewalTime: 1800,
    rebindingTime: 3150,
    classlessRoutes: [],
    ipv6OnlyPreferred: null,
    latencyMs: 4.25,
  });
  expect(offer!.options.map((o) => o.code)).toEqual([53, 54, 51, 58, 59, 1, 28, 119, 15, 6, 3]);
  expect(offer!.options.find((o) => o.code === 28)?.value).toBe("198.18.0.255");
});

test("without the kernel's word, the unfilled UDP checksum does not verify (why PACKET_AUXDATA matters)", () => {
  const c = new OfferCollector({ xid: 0x9317bd65, mac: parseMac("02:00:00:00:00:01")!, startedAt: 0 });
  expect(c.accept({ bytes: frame, csum: "unknown" }, 1)).toBeNull();
  expect(c.drops.toJSON()).toEqual({ "udp-checksum": 1 });
});

test("the same frame for another xid or MAC is not ours", () => {
  const other = new OfferCollector({ xid: 1, mac: parseMac("02:00:00:00:00:01")!, startedAt: 0 });
  expect(other.accept({ bytes: frame, csum: "partial" }, 1)).toBeNull();
  expect(other.drops.toJSON()).toEqual({ "wrong-xid": 1 });
  const wrongMac = new OfferCollector({ xid: 0x9317bd65, mac: parseMac("02:00:00:00:00:02")!, startedAt: 0 });
  expect(wrongMac.accept({ bytes: frame, csum: "partial" }, 1)).toBeNull();
  expect(wrongMac.drops.toJSON()).toEqual({ "not-for-us": 1 });
});
