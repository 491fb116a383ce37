// Each lab server kind reads its own lease file format (from real files the lab's servers
// wrote: a client that holds a lease, host1..host4, and one that released its lease, "vm").
// Pure parsing, so no root and no server here; the lab tests read the same files live.

import { describe, expect, test } from "bun:test";
import { serverKind } from "../../cli/lab/kinds.ts";

const text = (s: string) => new TextEncoder().encode(s);

describe("lab lease files", () => {
  test("dnsmasq: one line per lease (a released one is gone from the file)", () => {
    const file = text("1796443979 02:00:00:00:aa:01 198.18.0.113 host1 01:02:00:00:00:aa:01\n");
    expect(serverKind("dnsmasq").leases(file)).toEqual([{ address: "198.18.0.113", mac: "02:00:00:00:aa:01", expiresAt: 1796443979, hostname: "host1" }]);
    expect(serverKind("dnsmasq").leases(text("1796443979 02:00:00:00:aa:01 198.18.0.113 * *\n"))[0].hostname).toBeNull();
  });

  test("Kea: a CSV row per change, the last per address wins; valid_lifetime 0 is released", () => {
    const file = text(
      [
        "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context",
        "198.18.0.150,02:00:00:00:aa:02,01:02:00:00:00:aa:02,600,1796443979,1,0,0,host2,0,",
        "198.18.0.150,02:00:00:00:aa:02,01:02:00:00:00:aa:02,600,1796443979,1,0,0,host2,0,",
        "198.18.0.151,02:00:00:00:bb:02,01:02:00:00:00:bb:02,600,1796443979,1,0,0,vm,0,",
        "198.18.0.151,02:00:00:00:bb:02,01:02:00:00:00:bb:02,0,1796443379,1,0,0,vm,0,",
      ].join("\n") + "\n",
    );
    expect(serverKind("kea").leases(file)).toEqual([{ address: "198.18.0.150", mac: "02:00:00:00:aa:02", expiresAt: 1796443979, hostname: "host2" }]);
  });

  test("ISC dhcpd: a block per change, the last per address wins; only 'binding state active' holds", () => {
    const block = (address: string, mac: string, state: string, ends: string, host: string | null) =>
      [
        `lease ${address} {`,
        "  starts 6 2026/12/05 04:02:59;",
        `  ends ${ends};`,
        `  binding state ${state};`,
        `  hardware ethernet ${mac};`,
        ...(host ? [`  client-hostname "${host}";`] : []),
        "}",
      ].join("\n");
    const file = text(
      [
        "# This lease file was written by isc-dhcp-4.4.3-P1",
        "authoring-byte-order little-endian;",
        block("198.18.0.204", "02:00:00:00:aa:03", "active", "6 2026/12/05 04:12:59", "host3"),
        block("198.18.0.205", "02:00:00:00:bb:03", "active", "6 2026/12/05 04:12:59", "vm"),
        block("198.18.0.205", "02:00:00:00:bb:03", "free", "6 2026/12/05 04:02:59", null),
      ].join("\n") + "\n",
    );
    expect(serverKind("isc").leases(file)).toEqual([
      { address: "198.18.0.204", mac: "02:00:00:00:aa:03", expiresAt: Date.UTC(2026, 11, 5, 4, 12, 59) / 1000, hostname: "host3" },
    ]);
  });

  test("udhcpd: binary records, seconds left at the time written; one with none left is released", () => {
    const writtenAt = Math.floor(Date.now() / 1000);
    const file = new Uint8Array(8 + 2 * 36);
    const view = new DataView(file.buffer);
    view.setBigUint64(0, BigInt(writtenAt));
    const record = (at: number, left: number, ip: number[], mac: number[], host: string) => {
      view.setUint32(at, left);
      file.set(ip, at + 4);
      file.set(mac, at + 8);
      file.set(text(host), at + 14);
    };
    record(8, 0, [198, 18, 0, 253], [2, 0, 0, 0, 0xbb, 4], "vm");
    record(44, 599, [198, 18, 0, 252], [2, 0, 0, 0, 0xaa, 4], "host4");
    expect(serverKind("udhcpd").leases(file)).toEqual([{ address: "198.18.0.252", mac: "02:00:00:00:aa:04", expiresAt: writtenAt + 599, hostname: "host4" }]);
    expect(serverKind("udhcpd").leases(file.subarray(0, 7))).toEqual([]);
  });

  test("no file yet: no leases, for every kind", () => {
    for (const kind of ["dnsmasq", "kea", "isc", "udhcpd"] as const) expect(serverKind(kind).leases(new Uint8Array())).toEqual([]);
  });
});
