// The capture behind test/fixtures/watch/: packets as varied as watch meets, so that its JSON
// and text lines can be compared byte for byte with what an earlier build printed (the files
// there were made by the build before watch's packet path was specialised for speed). Built
// from a fixed seed by our own code: every option code with lengths 0, 1, 4 and 255 of
// arbitrary bytes, strings with quotes, backslashes, controls, DEL, C1 and UTF-8 line
// separators, vendor, relay, routes and search lists, whole exchanges (answered, NAKed,
// declined, released, two servers racing), BOOTP, non-Ethernet chaddr, frames broken at every
// layer, and seeded mutations of whole messages.
// `bun test/unit/watch-golden-capture.ts` writes test/fixtures/watch/varied.pcap;
// `bun test/unit/watch-golden-capture.ts --expected PATH/cli/main.ts` writes what that build
// prints for each run below (test/fixtures/watch/*.out.gz), which test/unit/watch-golden.test.ts
// compares with what this build prints.

import { buildUdpFrame, BROADCAST_MAC, type UdpFrameSpec } from "../../core/frame.ts";
import { encodePcap } from "../../core/pcap.ts";
import { ethernet } from "./capture-fixtures.ts";
import { concat } from "./pcap-fixtures.ts";

const T0 = 1_700_000_000_000_000; // µs: 2023-11-14T22:13:20Z
const SERVER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 0xfe);
const OTHER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 0xef);
const mac = (i: number) => Uint8Array.of(2, 0, 0, 0, i >> 8, i & 255);
const ip = (s: string) => Uint8Array.from(s.split(".").map(Number));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 255);
const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);

/** A small seeded generator (mulberry32): the same bytes on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Header {
  op?: number;
  htype?: number;
  hlen?: number;
  hops?: number;
  xid?: number;
  secs?: number;
  flags?: number;
  ciaddr?: string;
  yiaddr?: string;
  siaddr?: string;
  giaddr?: string;
  chaddr?: Uint8Array;
  sname?: Uint8Array;
  file?: Uint8Array;
  /** Without the magic cookie: BOOTP. */
  bootp?: boolean;
}

/** A DHCP payload with the options as raw bytes (code, length, data as given: any of them may lie). */
function message(h: Header, options: Uint8Array): Uint8Array {
  const m = new Uint8Array(236);
  const dv = new DataView(m.buffer);
  m[0] = h.op ?? 1;
  m[1] = h.htype ?? 1;
  m[2] = h.hlen ?? 6;
  m[3] = h.hops ?? 0;
  dv.setUint32(4, h.xid ?? 0x60a1d000);
  dv.setUint16(8, h.secs ?? 0);
  dv.setUint16(10, h.flags ?? 0);
  m.set(ip(h.ciaddr ?? "0.0.0.0"), 12);
  m.set(ip(h.yiaddr ?? "0.0.0.0"), 16);
  m.set(ip(h.siaddr ?? "0.0.0.0"), 20);
  m.set(ip(h.giaddr ?? "0.0.0.0"), 24);
  m.set((h.chaddr ?? mac(1)).subarray(0, 16), 28);
  if (h.sname) m.set(h.sname.subarray(0, 64), 44);
  if (h.file) m.set(h.file.subarray(0, 128), 108);
  return h.bootp ? concat(m, options) : concat(m, Uint8Array.of(99, 130, 83, 99), options);
}

const opt = (code: number, data: Uint8Array) => concat(Uint8Array.of(code, data.length), data);
const end = Uint8Array.of(255);

const UP = { srcIp: "0.0.0.0", dstIp: "255.255.255.255", srcPort: 68, dstPort: 67, srcMac: mac(1), dstMac: BROADCAST_MAC };
const DOWN = { srcIp: "198.18.0.1", dstIp: "198.18.0.100", srcPort: 67, dstPort: 68, srcMac: SERVER_MAC, dstMac: mac(1) };

function frame(payload: Uint8Array, link: Omit<UdpFrameSpec, "payload"> = UP): Uint8Array {
  return buildUdpFrame({ ...link, payload });
}

const NASTY = concat(
  ascii('q"uo\\te\t\r\n'),
  Uint8Array.of(0, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x7f, 0x80, 0x9b, 0x9f, 0xa0, 0xe2, 0x80, 0xa8, 0xe2, 0x80, 0xa9, 0xff),
);

/** Whole exchanges, the way real links show them. */
function exchanges(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const server = (type: number, more: Uint8Array[] = [], sid = "198.18.0.1") =>
    concat(opt(53, Uint8Array.of(type)), opt(54, ip(sid)), opt(51, u32(3600)), opt(1, ip("255.255.255.0")), opt(3, ip("198.18.0.1")), ...more, end);
  for (let c = 1; c <= 3; c++) {
    const xid = 0x5eed0000 + c;
    const ch = { xid, chaddr: mac(c), flags: c === 2 ? 0x8000 : 0 };
    const up = { ...UP, srcMac: mac(c) };
    const down = { ...DOWN, dstMac: mac(c), dstIp: `198.18.0.${100 + c}` };
    out.push(frame(message(ch, concat(opt(53, Uint8Array.of(1)), opt(12, ascii(`host-${c}`)), opt(55, Uint8Array.of(1, 3, 6, 15, 119, 121)), end)), up));
    out.push(
      frame(
        message({ ...ch, op: 2, yiaddr: `198.18.0.${100 + c}`, siaddr: "198.18.0.1" }, server(2, [opt(6, concat(ip("198.18.0.1"), ip("198.18.0.2")))])),
        down,
      ),
    );
    if (c === 3) {
      // a second server answers too: a rogue outside --allow-server 198.18.0.1
      const rogue = { ...down, srcIp: "198.18.0.2", srcMac: OTHER_MAC };
      out.push(frame(message({ ...ch, op: 2, yiaddr: "198.18.0.203", siaddr: "198.18.0.2" }, server(2, [], "198.18.0.2")), rogue));
    }
    out.push(frame(message(ch, concat(opt(53, Uint8Array.of(3)), opt(50, ip(`198.18.0.${100 + c}`)), opt(54, ip("198.18.0.1")), end)), up));
    if (c === 2) out.push(frame(message({ ...ch, op: 2 }, concat(opt(53, Uint8Array.of(6)), opt(54, ip("198.18.0.1")), opt(56, NASTY), end)), down));
    else out.push(frame(message({ ...ch, op: 2, yiaddr: `198.18.0.${100 + c}` }, server(5, [opt(58, u32(1800)), opt(59, u32(3150))])), down));
  }
  // decline, release, inform, a relayed discover with option 82, an unanswered discover
  out.push(frame(message({ xid: 0x5eed0001, chaddr: mac(1) }, concat(opt(53, Uint8Array.of(4)), opt(50, ip("198.18.0.101")), opt(54, ip("198.18.0.1")), end))));
  out.push(frame(message({ xid: 0x5eed0009, chaddr: mac(2), ciaddr: "198.18.0.102" }, concat(opt(53, Uint8Array.of(7)), opt(54, ip("198.18.0.1")), end))));
  out.push(frame(message({ xid: 0x5eed000a, chaddr: mac(4), ciaddr: "198.18.0.104" }, concat(opt(53, Uint8Array.of(8)), opt(60, ascii("MSFT 5.0")), end))));
  const relay = concat(opt(1, ascii("eth0/1/2")), opt(2, Uint8Array.of(0, 6, 2, 0, 0, 0, 0, 9)), opt(5, ip("198.18.1.0")), opt(151, ascii("vpn")));
  out.push(
    frame(message({ xid: 0x5eed000b, chaddr: mac(5), giaddr: "198.18.1.1", hops: 1 }, concat(opt(53, Uint8Array.of(1)), opt(82, relay), end)), {
      ...UP,
      srcIp: "198.18.1.1",
      dstIp: "198.18.0.1",
      srcPort: 67,
    }),
  );
  out.push(frame(message({ xid: 0x5eed000c, chaddr: mac(6) }, concat(opt(53, Uint8Array.of(1)), end))));
  return out;
}

/** Options whose codecs do most: vendor sub-options, routes, search lists, FQDN, client ids, strings full of controls. */
function richOptions(): Uint8Array[] {
  const pxeVendor = concat(opt(6, Uint8Array.of(8)), opt(9, concat(Uint8Array.of(0, 0, 1), ascii("x"))), opt(71, Uint8Array.of(0, 0, 0, 0)), end);
  const vivso = concat(u32(4491), Uint8Array.of(12), opt(2, ascii("cm")), opt(5, Uint8Array.of(1, 2, 3, 4)));
  const search = concat(Uint8Array.of(7), ascii("example"), Uint8Array.of(3), ascii("com"), Uint8Array.of(0, 3), ascii("lab"), Uint8Array.of(0xc0, 0));
  const loop = Uint8Array.of(3, 0x61, 0x62, 0x63, 0xc0, 0);
  const routes = Uint8Array.of(24, 198, 18, 5, 198, 18, 0, 1, 0, 198, 18, 0, 1, 32, 198, 18, 9, 9, 198, 18, 0, 2);
  const sets: Uint8Array[][] = [
    [
      opt(60, ascii("PXEClient:Arch:00007:UNDI:003016")),
      opt(43, pxeVendor),
      opt(93, Uint8Array.of(0, 7)),
      opt(97, concat(Uint8Array.of(0), new Uint8Array(16).fill(0x11))),
    ],
    [opt(125, vivso), opt(124, concat(u32(3561), Uint8Array.of(4), ascii("abcd"))), opt(119, search), opt(121, routes)],
    [opt(119, loop), opt(81, concat(Uint8Array.of(5, 0, 0), ascii("host.example."))), opt(61, concat(Uint8Array.of(255), u32(1), ascii("duid")))],
    [opt(12, NASTY), opt(15, NASTY), opt(56, NASTY), opt(60, NASTY), opt(77, concat(Uint8Array.of(4), ascii("iPXE"))), opt(66, NASTY), opt(67, NASTY)],
    [opt(43, NASTY), opt(60, ascii("docsis3.0")), opt(82, NASTY), opt(121, Uint8Array.of(33, 1, 2, 3, 4, 5)), opt(33, Uint8Array.of(1, 2, 3))],
    [
      opt(50, Uint8Array.of(1, 2)),
      opt(51, Uint8Array.of(0xff, 0xff, 0xff, 0xff)),
      opt(57, Uint8Array.of(0, 100)),
      opt(55, new Uint8Array(0)),
      opt(150, ip("198.18.0.9")),
    ],
  ];
  return sets.map((s, i) => frame(message({ xid: 0x7ee00000 + i, chaddr: mac(20 + i) }, concat(opt(53, Uint8Array.of(3)), ...s, end))));
}

/** Every option code 1-254 with lengths 0, 1, 4 and 255 of seeded bytes, eight codes a message. */
function everyCode(): Uint8Array[] {
  const next = rng(0x0c0de);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
  const out: Uint8Array[] = [];
  for (const len of [0, 1, 4, 255]) {
    for (let first = 1; first < 255; first += 8) {
      const opts: Uint8Array[] = [];
      for (let c = first; c < Math.min(first + 8, 255); c++) if (c !== 53) opts.push(opt(c, bytes(len)));
      const op = (first >> 3) % 2 === 0 ? 1 : 2;
      out.push(
        frame(message({ op, xid: 0x0c0d0000 + first * 4 + len, chaddr: mac(100 + first) }, concat(opt(53, Uint8Array.of(op === 1 ? 3 : 5)), ...opts, end))),
      );
    }
  }
  return out;
}

/** Headers as no well-behaved client sends them. */
function oddHeaders(): Uint8Array[] {
  const long = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
  const opts = concat(opt(53, Uint8Array.of(1)), end);
  return [
    frame(message({ htype: 6, hlen: 16, chaddr: long }, opts)),
    frame(message({ htype: 1, hlen: 20, chaddr: long }, opts)),
    frame(message({ sname: new Uint8Array(64).fill(0x9b), file: concat(NASTY, new Uint8Array(110).fill(0x41)) }, opts)),
    frame(message({ sname: concat(ascii("boot"), new Uint8Array(60)), file: concat(ascii("/pxe\x1b"), new Uint8Array(123)) }, opts)),
    frame(message({ op: 2, bootp: true, yiaddr: "198.18.0.77", sname: ascii("bootserver\0") }, new Uint8Array(64)), DOWN),
    frame(message({ op: 7, flags: 0x7fff, secs: 65535, hops: 255 }, opts)),
    frame(message({}, concat(opt(52, Uint8Array.of(3)), opt(53, Uint8Array.of(1)), end))), // overload: options in sname and file too
    frame(
      message(
        { sname: concat(opt(12, ascii("in-sname")), end), file: concat(opt(15, ascii("in.file")), end) },
        concat(opt(52, Uint8Array.of(3)), opt(53, Uint8Array.of(1)), end),
      ),
    ),
    frame(message({}, concat(opt(53, Uint8Array.of(1)), Uint8Array.of(12, 40, 0x61)))), // an option running past the end
    frame(message({}, concat(opt(53, Uint8Array.of(99)), end))),
    frame(message({}, concat(opt(53, Uint8Array.of(1, 2)), end))),
    frame(message({}, concat(Uint8Array.of(0, 0, 0), opt(53, Uint8Array.of(1)), opt(12, ascii("a")), opt(12, ascii("b")), end, ascii("trailing")))),
  ];
}

const be16 = (f: Uint8Array, off: number, v: number) => {
  f[off] = v >> 8;
  f[off + 1] = v & 255;
  return f;
};

/** The frame with one byte changed. */
const poke = (f: Uint8Array, off: number, to: (b: number) => number) => {
  f[off] = to(f[off]);
  return f;
};

/** Frames broken at each layer below DHCP, and frames that are fine but odd. */
function brokenFrames(): Uint8Array[] {
  const good = () => frame(message({ xid: 0xbad00000 }, concat(opt(53, Uint8Array.of(1)), end)));
  const ipPart = (f: Uint8Array) => f.slice(14);
  const out = [
    new Uint8Array(0),
    good().slice(0, 13),
    good().slice(0, 40),
    good().slice(0, 14 + 28 + 100),
    be16(good(), 12, 0x86dd),
    poke(good(), 14, () => 0x65),
    poke(good(), 14, () => 0x44),
    poke(good(), 23, () => 6),
    be16(good(), 20, 0x2000),
    be16(good(), 16, 4000),
    be16(good(), 38, 4),
    poke(good(), 24, (b) => b ^ 0xff),
    poke(good(), 40, (b) => b ^ 0x55), // UDP checksum bad
    be16(good(), 40, 0), // no UDP checksum
    be16(good(), 24, 0), // IPv4 checksum 0 (offload)
    frame(message({ xid: 0xbad00001 }, concat(opt(53, Uint8Array.of(1)), end)), { ...UP, srcPort: 1067, dstPort: 1068 }),
    frame(message({ xid: 0xbad00002 }, concat(opt(53, Uint8Array.of(1)), end)), { ...UP, srcPort: 5000 }),
    frame(ascii("not dhcp at all, but on port 67")),
    frame(message({ xid: 0xbad00003 }, new Uint8Array(0)).slice(0, 200)),
    poke(good(), 14 + 28 + 236, () => 0x64),
    ethernet(ipPart(good()), [[0x8100, 10]]),
    ethernet(ipPart(good()), [
      [0x88a8, 100],
      [0x8100, 20],
    ]),
  ];
  return out;
}

/** Seeded byte flips and cuts of whole messages, UDP checksums made right again (so they reach the decoder). */
function mutations(bases: Uint8Array[]): Uint8Array[] {
  const next = rng(0x5eed);
  const out: Uint8Array[] = [];
  for (let k = 0; k < 240; k++) {
    const f = bases[k % bases.length];
    const payload = f.slice(42);
    const flips = 1 + Math.floor(next() * 4);
    for (let j = 0; j < flips; j++) {
      const at = next() < 0.7 ? 240 + Math.floor(next() * Math.max(1, payload.length - 240)) : Math.floor(next() * payload.length);
      payload[Math.min(at, payload.length - 1)] = Math.floor(next() * 256);
    }
    const cut = next() < 0.2 ? payload.subarray(0, 200 + Math.floor(next() * (payload.length - 200))) : payload;
    out.push(frame(cut, k % 2 ? DOWN : UP));
  }
  return out;
}

export function buildWatchGolden(): Uint8Array {
  const rich = richOptions();
  const ex = exchanges();
  const frames = [...ex, ...rich, ...everyCode(), ...oddHeaders(), ...brokenFrames(), ...mutations([...rich, ...ex.slice(0, 6)])];
  // 137 µs apart, so some packets share a millisecond; one step back in time (a merged capture)
  let t = T0;
  const packets = frames.map((data, i) => {
    t += i === 40 ? -5_000 : 137;
    return { data, timestampUs: t };
  });
  return encodePcap(packets);
}

export const GOLDEN_DIR = `${import.meta.dir}/../fixtures/watch`;
const CAPTURES = `${import.meta.dir}/../fixtures/captures`;
const VARIED = `${GOLDEN_DIR}/varied.pcap`;
const EVERY_LINK = [
  "ethernet.pcap",
  "two-links.pcapng",
  "sll.pcap",
  "sll2.pcap",
  "raw-12.pcap",
  "radiotap.pcap",
  "qinq.pcap",
  "ip-checksum-zero.pcap",
  "bootp.pcap",
  "sname-no-nul.pcap",
];

/** Each run: a name (its expected output is NAME.out.gz), the captures read one after the other, the flags. */
export const GOLDEN_RUNS: { name: string; files: string[]; flags: string[] }[] = [
  { name: "varied-json", files: [VARIED], flags: ["--json"] },
  { name: "varied-text", files: [VARIED], flags: [] },
  { name: "varied-verbose-json", files: [VARIED], flags: ["--json", "--verbose"] },
  { name: "varied-verbose-text", files: [VARIED], flags: ["--verbose"] },
  { name: "varied-allow-json", files: [VARIED], flags: ["--json", "--allow-server", "198.18.0.1"] },
  { name: "varied-allow-text", files: [VARIED], flags: ["--allow-server", "198.18.0.1", "--wide"] },
  { name: "links-json", files: EVERY_LINK.map((f) => `${CAPTURES}/${f}`), flags: ["--json"] },
  { name: "links-text", files: EVERY_LINK.map((f) => `${CAPTURES}/${f}`), flags: [] },
];

/**
 * What `watch --read FILE FLAGS` prints, for each file: stdout whole, then the warnings and the
 * per-packet notes of stderr (not the privilege line: it names the account running the test).
 * The summary's "time" is when the run ended: masked.
 */
export async function goldenOutput(main: string, run: (typeof GOLDEN_RUNS)[number]): Promise<string> {
  let text = "";
  for (const file of run.files) {
    const p = Bun.spawn([process.execPath, main, "watch", "--read", file, ...run.flags], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, TZ: "UTC", NO_COLOR: "1", COLUMNS: "120" },
    });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    const notes = err.split("\n").filter((l) => /^(warning|packet \d+:)/.test(l));
    text += `== ${file.replace(/.*\/fixtures\//, "")} ${run.flags.join(" ")}: exit ${code}\n`;
    text += out.replace(/^(\{"event":"summary","time":)"[^"]*"/m, '$1"(masked)"') + notes.map((l) => `stderr: ${l}\n`).join("");
  }
  return text;
}

if (import.meta.main) {
  const at = process.argv.indexOf("--expected");
  if (at < 0) {
    await Bun.write(VARIED, buildWatchGolden());
    console.error(`wrote ${VARIED}`);
  } else {
    const main = process.argv[at + 1];
    for (const run of GOLDEN_RUNS) {
      const out = await goldenOutput(main, run);
      await Bun.write(`${GOLDEN_DIR}/${run.name}.out.gz`, Bun.gzipSync(Buffer.from(out), { level: 9 }));
      console.error(`wrote ${run.name}.out.gz (${out.length} characters)`);
    }
  }
}
