// The captures in test/fixtures/captures/ through `lease decode` and `watch --read`: every
// link type we read, VLAN tags, IPv4 checksum 0, BOOTP, sname/file without NUL, link types we
// do not read, and input that is no capture. No privileges, no tools: the files are ours
// (scripts/make-captures.ts); test/lab/captures.test.ts has tshark read the same files.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseUdpFrame } from "../../core/frame.ts";
import { decodeMessage } from "../../core/message.ts";
import { decodePcap, encodePcap } from "../../core/pcap.ts";
import { buildCaptures, UNTERMINATED_SNAME } from "./capture-fixtures.ts";

const MAIN = `${import.meta.dir}/../../cli/main.ts`;
const DIR = `${import.meta.dir}/../fixtures/captures`;
const tmp = mkdtempSync(join(tmpdir(), "dhcptool-captures-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[], stdin?: Uint8Array) {
  const p = Bun.spawn([process.execPath, MAIN, ...args], {
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, exitCode };
}

const decodeJson = async (file: string) => {
  const r = await cli(["lease", "decode", `${DIR}/${file}`, "--json"]);
  return { ...r, out: JSON.parse(r.stdout) };
};

/** watch --read --json: its packet events and its summary. */
async function watchRead(file: string, more: string[] = []) {
  const r = await cli(["watch", "--read", file.startsWith("/") ? file : `${DIR}/${file}`, "--json", ...more]);
  const events = r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return { ...r, packets: events.filter((e) => e.event === "packet"), summary: events.find((e) => e.event === "summary") };
}

const DORA = ["DISCOVER", "OFFER", "REQUEST", "ACK"];
const CLIENT = "02:00:00:00:00:01",
  SERVER = "02:00:00:00:00:fe";
type Packet = { index: number; timestampUs: number; frame?: Record<string, unknown>; message?: Record<string, unknown>; error?: string; dropReason?: string };

test("the committed captures are exactly what scripts/make-captures.ts builds", () => {
  for (const [name, bytes] of Object.entries(buildCaptures())) {
    expect({ name, same: Buffer.from(readFileSync(`${DIR}/${name}`)).equals(bytes) }).toEqual({ name, same: true });
  }
});

describe("every link type we read: the same DORA, the same fields", () => {
  const cases: [string, { srcMac: (string | null)[]; dstMac: (string | null)[] }][] = [
    ["ethernet.pcap", { srcMac: [CLIENT, SERVER, CLIENT, SERVER], dstMac: ["ff:ff:ff:ff:ff:ff", CLIENT, "ff:ff:ff:ff:ff:ff", CLIENT] }],
    ["ethernet-be-ns.pcap", { srcMac: [CLIENT, SERVER, CLIENT, SERVER], dstMac: ["ff:ff:ff:ff:ff:ff", CLIENT, "ff:ff:ff:ff:ff:ff", CLIENT] }],
    // SLL/SLL2 carry the sender's address only
    ["sll.pcap", { srcMac: [CLIENT, SERVER, CLIENT, SERVER], dstMac: [null, null, null, null] }],
    ["sll2.pcap", { srcMac: [CLIENT, SERVER, CLIENT, SERVER], dstMac: [null, null, null, null] }],
    ["two-links.pcapng", { srcMac: [CLIENT, SERVER, CLIENT, SERVER], dstMac: ["ff:ff:ff:ff:ff:ff", null, "ff:ff:ff:ff:ff:ff", null] }],
    ["two-links-be.pcapng", { srcMac: [CLIENT, SERVER, CLIENT, SERVER], dstMac: ["ff:ff:ff:ff:ff:ff", null, "ff:ff:ff:ff:ff:ff", null] }],
    ...[12, 14, 101, 228].map((lt): [string, { srcMac: null[]; dstMac: null[] }] => [
      `raw-${lt}.pcap`,
      { srcMac: [null, null, null, null], dstMac: [null, null, null, null] },
    ]),
  ];
  for (const [file, want] of cases) {
    test(file, async () => {
      const r = await decodeJson(file);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toBe("");
      const packets: Packet[] = r.out.packets;
      expect(packets.map((p) => p.message?.messageType)).toEqual(DORA);
      expect(packets.map((p) => p.message?.xid)).toEqual(Array(4).fill("0x5eed0001"));
      expect(packets.map((p) => p.message?.yiaddr)).toEqual(["0.0.0.0", "198.18.0.100", "0.0.0.0", "198.18.0.100"]);
      expect(packets.map((p) => [p.frame?.srcIp, p.frame?.dstIp, p.frame?.udpChecksum, p.frame?.ipChecksum])).toEqual([
        ["0.0.0.0", "255.255.255.255", "ok", "ok"],
        ["198.18.0.1", "198.18.0.100", "ok", "ok"],
        ["0.0.0.0", "255.255.255.255", "ok", "ok"],
        ["198.18.0.1", "198.18.0.100", "ok", "ok"],
      ]);
      expect(packets.map((p) => p.frame?.srcMac)).toEqual(want.srcMac);
      expect(packets.map((p) => p.frame?.dstMac)).toEqual(want.dstMac);
      expect(packets.map((p) => p.frame?.vlan)).toEqual([undefined, undefined, undefined, undefined]);
      expect(packets.map((p) => p.timestampUs - packets[0].timestampUs)).toEqual([0, 1500, 3000, 4500]);
    });
  }

  test("watch --read of an SLL2 capture: one exchange, acked, with the server's latencies", async () => {
    const w = await watchRead("sll2.pcap");
    expect(w.exitCode).toBe(0);
    expect(w.packets.map((p) => p.latencyMs)).toEqual([null, 1.5, null, 1.5]);
    expect(w.summary.conversations).toMatchObject({ total: 1, acked: 1, unanswered: 0 });
    expect(w.summary.servers).toMatchObject([{ server: "198.18.0.1", mac: SERVER, offers: 1, acks: 1 }]);
  });

  test("raw IP has no link addresses: the server's MAC is null, and the text shows none", async () => {
    const w = await watchRead("raw-101.pcap");
    expect(w.summary.servers).toMatchObject([{ server: "198.18.0.1", mac: null, acks: 1 }]);
    const text = await cli(["watch", "--read", `${DIR}/raw-101.pcap`]);
    expect(text.stdout).toMatch(/198\.18\.0\.1\s+-\s+1\s+1/);
  });
});

describe("802.11 with radiotap", () => {
  test("data frames (to/from DS, QoS, HT control, 4 addresses) decode; the rest are skipped with a reason", async () => {
    const r = await decodeJson("radiotap.pcap");
    expect(r.exitCode).toBe(1); // some packets are not DHCP
    const packets: Packet[] = r.out.packets;
    expect(packets.map((p) => p.message?.messageType ?? p.dropReason)).toEqual([
      "DISCOVER",
      "80211-not-data",
      "OFFER",
      "80211-protected",
      "REQUEST",
      "80211-no-data",
      "ACK",
    ]);
    // source and destination by the DS bits, not by address position
    expect(packets.filter((p) => p.frame).map((p) => [p.frame!.srcMac, p.frame!.dstMac])).toEqual([
      [CLIENT, "ff:ff:ff:ff:ff:ff"],
      [SERVER, CLIENT],
      [CLIENT, "ff:ff:ff:ff:ff:ff"],
      [SERVER, CLIENT],
    ]);
  });

  test("watch counts the skipped frames by reason", async () => {
    const w = await watchRead("radiotap.pcap");
    expect(w.exitCode).toBe(0);
    expect(w.packets.length).toBe(4);
    expect(w.summary.decodeErrors).toBe(3);
    expect(w.summary.notDecoded).toEqual({ "80211-not-data": 1, "80211-protected": 1, "80211-no-data": 1 });
    expect(w.summary.conversations).toMatchObject({ acked: 1, unanswered: 0 });
    const text = await cli(["watch", "--read", `${DIR}/radiotap.pcap`]);
    expect(text.stdout).toContain("3 packet(s) not decodable (");
    expect(text.stdout).toContain("80211-protected 1");
  });
});

describe("VLAN tags: 802.1Q and QinQ decode, their ids shown outer to inner", () => {
  test("802.1Q (0x8100), VLAN 10", async () => {
    const r = await decodeJson("vlan.pcap");
    expect(r.exitCode).toBe(0);
    expect(r.out.packets.map((p: Packet) => p.frame?.vlan)).toEqual([[10], [10], [10], [10]]);
    expect(r.out.packets.map((p: Packet) => p.message?.messageType)).toEqual(DORA);
  });

  test("QinQ: 0x88a8 + 0x8100, 0x9100 + 0x8100, and three tags", async () => {
    const r = await decodeJson("qinq.pcap");
    expect(r.exitCode).toBe(0);
    expect(r.out.packets.map((p: Packet) => p.frame?.vlan)).toEqual([
      [100, 10],
      [100, 10],
      [200, 20],
      [300, 30, 3],
    ]);
    const text = await cli(["lease", "decode", `${DIR}/qinq.pcap`]);
    expect(text.stdout).toContain("vlan 100/10");
    expect(text.stdout).toContain("vlan 300/30/3");
  });

  test("watch: the ids in the JSON and as a vlan= column", async () => {
    const w = await watchRead("qinq.pcap");
    expect(w.packets.map((p) => p.frame.vlan)).toEqual([
      [100, 10],
      [100, 10],
      [200, 20],
      [300, 30, 3],
    ]);
    const text = await cli(["watch", "--read", `${DIR}/vlan.pcap`]);
    expect(
      text.stdout
        .split("\n")
        .filter((l) => l.includes("0x5eed0001"))
        .every((l) => l.includes("vlan=10")),
    ).toBe(true);
  });
});

describe("IPv4 header checksum 0 (offload): decoded with a note in captures, still dropped live", () => {
  test("lease decode: every packet decodes; the replies carry ipChecksum zero and the note", async () => {
    const r = await decodeJson("ip-checksum-zero.pcap");
    expect(r.exitCode).toBe(0);
    expect(r.out.packets.map((p: Packet) => [p.message?.messageType, p.frame?.ipChecksum])).toEqual([
      ["DISCOVER", "ok"],
      ["OFFER", "zero"],
      ["REQUEST", "ok"],
      ["ACK", "zero"],
    ]);
    const text = await cli(["lease", "decode", `${DIR}/ip-checksum-zero.pcap`]);
    expect(text.stdout.match(/IPv4 header checksum 0/g)?.length).toBe(2);
  });

  test("watch --read: the exchange is acked, not unanswered", async () => {
    const w = await watchRead("ip-checksum-zero.pcap");
    expect(w.packets.map((p) => p.message.messageType)).toEqual(DORA);
    expect(w.summary.conversations).toMatchObject({ total: 1, acked: 1, unanswered: 0 });
    expect(w.summary.decodeErrors).toBe(0);
  });

  test("the live receive path keeps the strict check", () => {
    const cap = decodePcap(readFileSync(`${DIR}/ip-checksum-zero.pcap`));
    if (!cap.ok) throw new Error(cap.error.reason);
    const offer = cap.packets[1].data;
    expect(parseUdpFrame(offer, { csum: "unknown", dstPort: 68 })).toEqual({ ok: false, reason: "ip-checksum" });
    expect(parseUdpFrame(offer, { csum: "partial", dstPort: null })).toEqual({ ok: false, reason: "ip-checksum" });
  });
});

describe("BOOTP (RFC 951, no magic cookie)", () => {
  test("lease decode shows the header fields with a note, exit 0", async () => {
    const r = await decodeJson("bootp.pcap");
    expect(r.exitCode).toBe(0);
    const [req, rep] = r.out.packets.map((p: Packet) => p.message);
    expect(req).toMatchObject({ op: 1, bootp: true, messageType: null, xid: "0xb007b007", chaddr: CLIENT, options: [] });
    expect(rep).toMatchObject({ op: 2, bootp: true, yiaddr: "198.18.0.77", siaddr: "198.18.0.1", sname: "bootserver", file: "/tftpboot/kernel" });
    expect(rep.vend).toBe("00".repeat(64));
    const text = await cli(["lease", "decode", `${DIR}/bootp.pcap`]);
    expect(text.stdout).toContain("BOOTREPLY  xid 0xb007b007");
    expect(text.stdout).toContain("(BOOTP, RFC 951: no DHCP magic cookie");
    expect(text.stdout).toContain('file "/tftpboot/kernel"');
  });

  test("watch shows them, marked BOOTP; a client still refuses them", async () => {
    const w = await watchRead("bootp.pcap");
    expect(w.packets.map((p) => [p.message.op, p.message.bootp])).toEqual([
      [1, true],
      [2, true],
    ]);
    const text = await cli(["watch", "--read", `${DIR}/bootp.pcap`]);
    expect(text.stdout).toMatch(/BOOTREPLY .*BOOTP.*yiaddr=198\.18\.0\.77/);
    // the reply assigns an address as an ACK does: the exchange is answered
    expect(w.summary.conversations).toMatchObject({ total: 1, acked: 1, unanswered: 0 });
    expect(w.summary.servers).toMatchObject([{ server: "198.18.0.1", acks: 1 }]);
    const cap = decodePcap(readFileSync(`${DIR}/bootp.pcap`));
    if (!cap.ok) throw new Error(cap.error.reason);
    const f = parseUdpFrame(cap.packets[1].data, { csum: "unknown", dstPort: 68 });
    expect(f.ok && decodeMessage(f.frame.payload)).toMatchObject({ ok: false, error: { kind: "cookie" } });
  });
});

test("sname and file without a NUL: the bytes are shown (escaped on a terminal) with the warning", async () => {
  const r = await decodeJson("sname-no-nul.pcap");
  expect(r.exitCode).toBe(0);
  const offer = r.out.packets[1].message;
  expect(offer.sname).toBe(String.fromCharCode(...UNTERMINATED_SNAME));
  expect(offer.file).toHaveLength(128);
  expect(offer.warnings).toEqual([
    { kind: "sname-unterminated", offset: 44 },
    { kind: "file-unterminated", offset: 108 },
  ]);
  const text = await cli(["lease", "decode", `${DIR}/sname-no-nul.pcap`]);
  expect(text.stdout).toContain('sname "abcde\\x1bghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"');
  expect(text.stdout).toContain("(warning: sname-unterminated at byte 44)");
  expect(text.stdout).not.toContain("\x1b");
});

describe("link types we do not read", () => {
  const ppp = join(tmp, "ppp.pcap");
  writeFileSync(
    ppp,
    encodePcap(
      [
        { data: new Uint8Array(40), timestampUs: 0 },
        { data: new Uint8Array(40), timestampUs: 1 },
      ],
      { linktype: 9 },
    ),
  );

  test("lease decode: a warning naming it, once; exit 1", async () => {
    const r = await cli(["lease", "decode", ppp]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.match(/link type 9 \(PPP\) is not one dhcptool reads/g)?.length).toBe(1);
  });

  test("watch --read: the same warning, and the packets counted as skipped (not a silent 0)", async () => {
    const w = await watchRead(ppp);
    expect(w.exitCode).toBe(0);
    expect(w.stderr).toContain("link type 9 (PPP) is not one dhcptool reads: its packets are skipped");
    expect(w.summary.notDecoded).toEqual({ "link-unsupported": 2 });
  });
});

describe("input that is no capture ends at once, saying what it starts with", () => {
  const zeros = join(tmp, "zeros");
  writeFileSync(zeros, new Uint8Array(8 << 20));

  test("watch --read of zeros", async () => {
    const r = await cli(["watch", "--read", zeros]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("not a capture file: it starts 00 00 00 00 00 00 00 00");
  });

  test("lease decode of zeros, from a file and from stdin", async () => {
    for (const r of [await cli(["lease", "decode", zeros]), await cli(["lease", "decode", "-"], new Uint8Array(8 << 20))]) {
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/is not a capture file \(it starts 00 00 00 00 00 00 00 00 …\) and is over 4 MiB/);
    }
    const forced = await cli(["lease", "decode", zeros, "--format", "pcap"]);
    expect(forced.stderr).toContain("not a capture file: it starts 00 00");
  });
});

describe("watch --write keeps the capture's link type", () => {
  test("from an SLL capture: a pcap of link type 113 with every packet", async () => {
    const out = join(tmp, "copy.pcap");
    const r = await cli(["watch", "--read", `${DIR}/sll.pcap`, "--write", out]);
    expect(r.exitCode).toBe(0);
    const back = decodePcap(readFileSync(out));
    const orig = decodePcap(readFileSync(`${DIR}/sll.pcap`));
    if (!back.ok || !orig.ok) throw new Error("unreadable");
    expect(back.linktype).toBe(113);
    expect(back.packets.map((p) => Buffer.from(p.data).toString("hex"))).toEqual(orig.packets.map((p) => Buffer.from(p.data).toString("hex")));
  });

  test("from two link types: the first one's packets, the others counted and said", async () => {
    const out = join(tmp, "mixed.pcap");
    const r = await cli(["watch", "--read", `${DIR}/two-links.pcapng`, "--write", out]);
    expect(r.stderr).toContain("2 packet(s) not written to");
    const back = decodePcap(readFileSync(out));
    expect(back.ok && [back.linktype, back.packets.length]).toEqual([1, 2]);
  });
});
