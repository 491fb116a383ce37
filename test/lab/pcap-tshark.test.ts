// Interop: tshark and editcap (Debian package tshark) read what core/pcap.ts writes, and it
// reads what they write. A missing tool fails the test, it does not skip it.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../../core/bytes.ts";
import { decodePcap, encodePcap } from "../../core/pcap.ts";
import { offerFrame } from "../unit/helpers.ts";
import { dhcpPackets, expectSamePackets, handPcap, handPcapng, ok } from "../unit/pcap-fixtures.ts";
import { epochUs, run, tool, tsharkRead } from "./tshark.ts";

describe("interop with tshark and editcap", () => {
  const withTempDir = (fn: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), "dhcptool-pcap-"));
    try {
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test("tshark reads our pcap: 3 packets, DHCP decoded, no complaints", () => {
    withTempDir((dir) => {
      const file = join(dir, "dhcp.pcap");
      const pk = dhcpPackets();
      writeFileSync(file, encodePcap(pk));
      const rows = tsharkRead(file, ["frame.number", "dhcp.option.dhcp", "frame.time_epoch", "frame.cap_len", "frame.len", "_ws.expert"]);
      expect(rows.map((r) => r.slice(0, 2))).toEqual([
        ["1", "1"],
        ["2", "2"],
        ["3", "3"],
      ]);
      expect(rows.map((r) => epochUs(r[2]))).toEqual(pk.map((p) => Number(p.timestampUs)));
      expect(rows.map((r) => [Number(r[3]), Number(r[4])])).toEqual(pk.map((p) => [p.data.length, p.originalLength ?? p.data.length]));
      for (const r of rows) expect(r[5] ?? "").not.toMatch(/malformed/i);
    });
  });

  test("tshark agrees with our reading of the hand-built files (so the fixtures mean what we say)", () => {
    withTempDir((dir) => {
      const ns = handPcap(false, 0xa1b23c4d, [{ data: offerFrame(), sec: 1_700_000_000, frac: 123_456_789 }]);
      const files = { "be-ns.pcap": ns, "le.pcapng": handPcapng(true).file, "be.pcapng": handPcapng(false).file };
      for (const [name, bytes] of Object.entries(files)) {
        writeFileSync(join(dir, name), bytes);
        const rows = tsharkRead(join(dir, name), ["frame.time_epoch", "frame.cap_len", "frame.len"]);
        const ours = ok(decodePcap(bytes)).packets;
        expect(rows.map((r) => [epochUs(r[0]), Number(r[1]), Number(r[2])])).toEqual(ours.map((p) => [p.timestampUs, p.data.length, p.originalLength]));
      }
    });
  });

  test("editcap turns our pcap into pcapng; we read it back byte for byte", () => {
    tool("tshark");
    withTempDir((dir) => {
      const pcap = join(dir, "in.pcap"),
        pcapng = join(dir, "out.pcapng");
      const pk = dhcpPackets();
      writeFileSync(pcap, encodePcap(pk));
      const e = run([tool("editcap"), "-F", "pcapng", pcap, pcapng]);
      expect(e.stderr).toBe("");
      expect(e.exitCode).toBe(0);
      const bytes = new Uint8Array(readFileSync(pcapng));
      expect(toHex(bytes.subarray(0, 4))).toBe("0a0d0d0a");
      const r = ok(decodePcap(bytes));
      expect(r.format).toBe("pcapng");
      expect(r.linktype).toBe(1);
      expect(r.warnings).toEqual([]);
      expectSamePackets(r.packets, pk);
      expect(r.packets.map((p) => p.interfaceId)).toEqual([0, 0, 0]);
    });
  });
});
