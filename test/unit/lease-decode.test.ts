// `dhcptool lease decode`: the three input forms, JSON and human output, bad input, and
// hostile strings that must reach the terminal escaped. No privileges needed.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePcap } from "../../core/pcap.ts";
import { toHex } from "../../core/bytes.ts";
import { offerFrame, offerPayload, OFFER_OPTIONS } from "./helpers.ts";

const MAIN = `${import.meta.dir}/../../cli/main.ts`;
const dir = mkdtempSync(join(tmpdir(), "dhcptool-decode-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function decode(args: string[], stdin?: Uint8Array | string) {
  const p = Bun.spawn([process.execPath, MAIN, "lease", "decode", ...args], {
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, exitCode };
}

describe("lease decode", () => {
  test("hex text with comments (the captured dnsmasq OFFER) → human output", async () => {
    const r = await decode([`${import.meta.dir}/../fixtures/dnsmasq-offer.hex`]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("DHCPOFFER  xid 0x9317bd65");
    expect(r.stdout).toContain("yiaddr 198.18.0.123");
    expect(r.stdout).toMatch(/51 lease-time\s+3600 s \(1h\)\n/);
    expect(r.stdout).toMatch(/59 rebinding-time\s+3150 s \(52m30s\)\n/);
    expect(r.stdout).toMatch(/119 domain-search\s+lab\.example, example\.org/);
  });

  test("a pcap file → every packet, JSON with options decoded and raw", async () => {
    const file = join(dir, "three.pcap");
    const frames = [offerFrame(), offerFrame(offerPayload({ xid: 7 })), offerFrame(offerPayload({ xid: 8 }))];
    writeFileSync(file, encodePcap(frames.map((data, i) => ({ data, timestampUs: 1_700_000_000_000_000 + i }))));
    const r = await decode([file, "--json"]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.kind).toBe("pcap");
    expect(out.packets.map((p: { message: { xid: string } }) => p.message.xid)).toEqual(["0x12345678", "0x00000007", "0x00000008"]);
    const opts = out.packets[0].message.options;
    expect(opts.map((o: { code: number }) => o.code)).toEqual(OFFER_OPTIONS.map((o) => o.code));
    expect(opts.find((o: { code: number }) => o.code === 6)).toEqual({
      code: 6,
      name: "dns-servers",
      value: ["198.18.0.1", "198.18.0.2"],
      hex: "c6120001c6120002",
    });
    expect(out.packets[0].frame.udpChecksum).toBe("ok");
  });

  test("raw bytes on stdin: a bare DHCP message", async () => {
    const r = await decode(["-", "--json"], offerPayload());
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.kind).toBe("message");
    expect(out.packets[0].message.messageType).toBe("OFFER");
  });

  test("raw bytes: an Ethernet frame; and a tshark -x style dump of it", async () => {
    const frame = offerFrame();
    const raw = await decode(["-", "--json", "--format", "raw"], frame);
    expect(JSON.parse(raw.stdout).kind).toBe("frame");
    const hex = toHex(frame);
    let dump = "";
    for (let off = 0; off < frame.length; off += 16) {
      const bytes = hex
        .slice(off * 2, off * 2 + 32)
        .match(/../g)!
        .join(" ");
      dump += `${off.toString(16).padStart(4, "0")}  ${bytes.padEnd(48)}  ................\n`;
    }
    const r = await decode(["-", "--json"], dump);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).packets[0].message.yiaddr).toBe("198.18.0.100");
  });

  test("text that is not hex, an empty input, a missing file: exit 1 with a reason", async () => {
    const a = await decode(["-"], "hello, world\n");
    expect(a.exitCode).toBe(1);
    expect(a.stderr).toContain("not hex");
    expect((await decode(["-"], "")).exitCode).toBe(1);
    const c = await decode([join(dir, "nope.pcap")]);
    expect(c.exitCode).toBe(1);
    expect(c.stderr).toContain("no such file");
  });

  test("a message that does not decode is reported, exit 1", async () => {
    const r = await decode(["-"], offerPayload().slice(0, 100));
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/at least 240/);
  });

  test("hostile strings are escaped in the terminal output and in JSON", async () => {
    const evil = "\x1b]0;pwned\x07\x1b[2J$(touch /tmp/pwned)`id`;\n\x9b31m";
    const payload = offerPayload({
      options: [
        { code: 53, data: Uint8Array.of(2) },
        { code: 12, data: Uint8Array.from(evil, (ch) => ch.charCodeAt(0)) },
      ],
    });
    const human = await decode(["-"], payload);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/); // no control bytes but \t \n
    expect(human.stdout).toContain("\\x1b]0;pwned\\x07\\x1b[2J$(touch /tmp/pwned)`id`;\\x0a\\x9b31m");
    const json = await decode(["-", "--json"], payload);
    expect(json.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    const hostname = JSON.parse(json.stdout).packets[0].message.options[1].value;
    expect(hostname).toBe(evil); // JSON carries the value verbatim, safely encoded
  });

  test("--help documents the input forms", async () => {
    const p = Bun.spawnSync([process.execPath, MAIN, "lease", "decode", "--help"]);
    expect(p.exitCode).toBe(0);
    expect(p.stdout.toString()).toContain("Usage: dhcptool lease decode [FILE|-]");
    expect(p.stdout.toString()).toContain("tshark -x");
  });
});
