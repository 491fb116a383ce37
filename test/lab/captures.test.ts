// Captures seen by independent tools: tshark reads every file in test/fixtures/captures/ and
// must agree with `lease decode` field by field, and `tcpdump -i any` (SLL and SLL2) captured
// around a real DORA in the lab is read back by `watch --read`. (What tshark and editcap make
// of our pcap writer is in pcap-tshark.test.ts.)

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { labDown, type LabState } from "../../cli/lab/index.ts";
import { decodePcap } from "../../core/pcap.ts";
import { buildCaptures } from "../unit/capture-fixtures.ts";
import { captureOn, dhcptool, MAIN, startLab } from "./helpers.ts";
import { epochUs, tsharkRead } from "./tshark.ts";

const DIR = `${import.meta.dir}/../fixtures/captures`;

async function decodeJson(file: string) {
  const p = Bun.spawn([process.execPath, MAIN, "lease", "decode", file, "--json"], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return JSON.parse(out).packets as any[];
}

describe("tshark reads every fixture as we do", () => {
  const FIELDS = [
    "frame.time_epoch",
    "ip.src",
    "ip.dst",
    "dhcp.type",
    "dhcp.option.dhcp",
    "dhcp.id",
    "dhcp.ip.your",
    "ieee8021ad.id",
    "vlan.id",
    "ip.checksum",
    "dhcp.server",
    "dhcp.file",
  ];
  const files = readdirSync(DIR).filter((f) => /\.pcap(ng)?$/.test(f));

  test("the directory holds every case", () => {
    expect(files.sort()).toEqual(Object.keys(buildCaptures()).sort());
  });

  for (const file of files) {
    test(file, async () => {
      const rows = tsharkRead(`${DIR}/${file}`, FIELDS);
      const ours = await decodeJson(`${DIR}/${file}`);
      expect(ours.length).toBe(rows.length);
      rows.forEach((row, i) => {
        const [time, src, dst, op, type, xid, yiaddr, adId, vlanId, ipSum, sname, bootFile] = row;
        const p = ours[i];
        expect(p.timestampUs).toBe(epochUs(time));
        if (!op) {
          // not DHCP for tshark either (802.11 management, protected, null frames)
          expect(p.message).toBeUndefined();
          return;
        }
        const m = p.message;
        expect([p.frame.srcIp, p.frame.dstIp, String(m.op), xid, m.yiaddr]).toEqual([src, dst, op, m.xid, yiaddr]);
        expect(m.xid).toBe(xid);
        expect(type ? Number(type) : null).toBe(m.messageType === null ? null : ["", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK"].indexOf(m.messageType));
        const tags = [adId, vlanId].filter(Boolean).join(",");
        expect(p.frame.vlan?.join(",") ?? "").toBe(tags);
        expect(p.frame.ipChecksum === "zero").toBe(ipSum === "0x0000");
        // sname and file byte for byte, a field without a NUL included
        expect([m.sname, m.file]).toEqual([sname ?? "", bootFile ?? ""]);
      });
    });
  }
});

describe("tcpdump -i any around a real DORA", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("cany", { servers: 1 });
  });
  afterAll(() => {
    if (lab && !process.env.KEEP_LAB) labDown(lab.name);
  });

  test("SLL and SLL2 captures: watch --read finds the DISCOVER and the OFFER, addressed as on the wire", async () => {
    const files = { LINUX_SLL: `${lab.dir}/any-sll.pcap`, LINUX_SLL2: `${lab.dir}/any-sll2.pcap` };
    const caps = await Promise.all(
      Object.entries(files).map(([linktype, pcap]) => captureOn(lab.clientNs, "any", "udp port 67 or udp port 68", { pcap, linktype })),
    );
    const d = await dhcptool(lab, ["discover", "lab0", "--first", "--mac", "02:00:00:00:00:42"]);
    expect(d.exitCode).toBe(0);
    for (const c of caps) await c.stop();
    for (const [linktype, pcap] of Object.entries(files)) {
      const cap = decodePcap(readFileSync(pcap));
      if (!cap.ok) throw new Error(cap.error.reason);
      expect(cap.linktype).toBe(linktype === "LINUX_SLL" ? 113 : 276);
      const w = await dhcptool(null, ["watch", "--read", pcap, "--json"]);
      expect(w.exitCode).toBe(0);
      expect(w.stderr).toBe("");
      const seen = w.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((e) => e.event === "packet");
      const types = seen.map((e) => e.message.messageType);
      expect(types).toContain("DISCOVER");
      expect(types).toContain("OFFER");
      const discover = seen.find((e) => e.message.messageType === "DISCOVER");
      expect(discover.message.chaddr).toBe("02:00:00:00:00:42");
      expect(discover.frame).toMatchObject({ dstMac: null, srcIp: "0.0.0.0", dstIp: "255.255.255.255" });
      expect(discover.frame.srcMac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/); // SLL keeps the sender's address
      const offer = seen.find((e) => e.message.messageType === "OFFER");
      expect(offer.server).toBe("198.18.0.1");
      expect(offer.latencyMs).toBeGreaterThan(0);
    }
  });
});
