// Inputs for the frame target: bytes as `watch`, `discover` and `lease decode` receive them.
// Random bytes; option soup after a valid header; and structured mutations of valid frames
// and messages (corpus.ts): bits flipped, bytes spliced, cut, extended, options repeated,
// an overload (52) inserted, long 119/121/81/12 values inserted; then, often, the frame's
// lengths and checksums fixed up so the damage reaches the DHCP decoder instead of being
// stopped at the IP header. Some inputs go in a pcap/pcapng file or as hex text.

import { ipv4HeaderChecksum, udpChecksum } from "../../core/checksum.ts";
import { buildUdpFrame, type ChecksumStatus } from "../../core/frame.ts";
import { encodePcap } from "../../core/pcap.ts";
import { toHex } from "../../core/bytes.ts";
import { CLIENT_MAC, SERVER_MAC } from "../unit/helpers.ts";
import { getCorpus } from "./corpus.ts";
import {
  classlessRoutes,
  clientFqdn,
  concat,
  domainNames,
  hostileOption,
  hostileText,
  instances,
  interestingByte,
  nameBomb,
  optionValue,
} from "./hostile-values.ts";
import type { Rng } from "./rng.ts";

/** How the bytes are handed over: a frame (watch/discover), a bare message, a capture file, hex text (lease decode). */
export type Shape = "frame" | "message" | "pcap" | "hex";

export interface FrameInput {
  shape: Shape;
  bytes: Uint8Array;
  /** What the kernel says about the UDP checksum (discover's receive path). */
  csum: ChecksumStatus;
  /** Watch and lease decode show option hex only with --verbose. */
  withHex: boolean;
  /** The steps that made it, for the crash report. */
  recipe: string[];
}

const ETH = 14,
  IP_UDP = 28;
const OPTIONS_AT = 240;

// ---------------------------------------------------------------- DHCP message bytes

/** Offsets of the option instances in the main options area (up to END or damage). */
function optionOffsets(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = OPTIONS_AT; p < b.length; ) {
    if (b[p] === 0) {
      p++;
      continue;
    }
    if (b[p] === 255 || p + 1 >= b.length || p + 2 + b[p + 1] > b.length) break;
    out.push(p);
    p += 2 + b[p + 1];
  }
  return out;
}

function endOfOptions(b: Uint8Array): number {
  const offs = optionOffsets(b);
  return offs.length ? offs[offs.length - 1] + 2 + b[offs[offs.length - 1] + 1] : Math.min(OPTIONS_AT, b.length);
}

const splice = (b: Uint8Array, at: number, del: number, ins: Uint8Array = new Uint8Array(0)) =>
  concat(b.subarray(0, at), ins, b.subarray(Math.min(b.length, at + del)));

function longOption(rng: Rng): Uint8Array {
  const code = rng.pick([119, 121, 81, 12, 15, 56, 43, 82]);
  const data =
    code === 119
      ? rng.chance(0.3)
        ? nameBomb(rng)
        : concat(...Array.from({ length: rng.range(2, 40) }, () => domainNames(rng)))
      : code === 121
        ? concat(...Array.from({ length: rng.range(2, 30) }, () => classlessRoutes(rng)))
        : code === 81
          ? clientFqdn(rng)
          : code === 12 || code === 15 || code === 56
            ? concat(hostileText(rng), hostileText(rng), hostileText(rng))
            : rng.bytes(rng.range(200, 2000));
  return instances(rng, code, data);
}

/** One structured mutation of a DHCP message; `focus` is where most of them land. */
function mutateMessage(rng: Rng, b: Uint8Array, recipe: string[], focus = 236): Uint8Array {
  const at = (extra = 0) => (rng.chance(0.75) && b.length > focus ? focus + rng.int(b.length - focus + extra) : rng.int(b.length + extra));
  const op = rng.weighted<string>([
    [4, "flip"],
    [3, "set"],
    [2, "insert"],
    [2, "delete"],
    [1, "truncate"],
    [2, "extend"],
    [1, "duplicate"],
    [1, "splice-other"],
    [2, "repeat-option"],
    [1.5, "overload"],
    [1.5, "long-option"],
    [1, "header"],
    [1, "sname-file"],
  ]);
  recipe.push(op);
  switch (op) {
    case "flip": {
      if (!b.length) return b;
      const i = at();
      const c = b.slice();
      c[i] ^= 1 << rng.int(8);
      return c;
    }
    case "set": {
      if (!b.length) return b;
      const i = at();
      const c = b.slice();
      c[i] = interestingByte(rng);
      return c;
    }
    case "insert":
      return splice(b, at(1), 0, rng.bytes(rng.range(1, 16)));
    case "delete":
      return splice(b, at(), rng.range(1, 16));
    case "truncate":
      return b.subarray(0, at(1));
    case "extend":
      return concat(
        b,
        rng.weighted([
          [1, () => rng.bytes(rng.length(300))],
          [1, () => new Uint8Array(rng.length(300))],
          [2, () => instances(rng, hostileOption(rng).code, optionValue(rng, rng.pick([12, 119, 121, 52, 53])))],
        ])(),
      );
    case "duplicate": {
      // a chunk of the message copied over another place in it
      const from = rng.int(b.length + 1),
        len = rng.range(1, 64);
      return splice(b, at(1), rng.chance(0.5) ? len : 0, b.slice(from, from + len));
    }
    case "splice-other": {
      const other = rng.pick(getCorpus().messages);
      const cut = at(1),
        from = rng.int(other.length + 1);
      return concat(b.subarray(0, cut), other.subarray(from));
    }
    case "repeat-option": {
      // RFC 3396: the same code again, possibly many times (the 16 KiB cap)
      const offs = optionOffsets(b);
      if (!offs.length) return b;
      const p = rng.pick(offs),
        inst = b.slice(p, p + 2 + b[p + 1]);
      const times = rng.weighted([
        [5, () => rng.range(1, 4)],
        [1, () => rng.range(60, 80)],
      ])();
      return splice(b, rng.chance(0.5) ? p : endOfOptions(b), 0, concat(...new Array(times).fill(inst)));
    }
    case "overload": {
      // 52 right after the cookie (or at the end), and sometimes options in file/sname
      const v = rng.weighted([
        [6, () => rng.range(1, 3)],
        [1, () => rng.int(256)],
      ])();
      let c = splice(
        b,
        rng.chance(0.7) ? Math.min(OPTIONS_AT, b.length) : endOfOptions(b),
        0,
        rng.chance(0.9) ? Uint8Array.of(52, 1, v) : Uint8Array.of(52, 2, v, v),
      );
      if (c.length >= 236 && rng.chance(0.6)) {
        c = c.slice();
        const area = rng.chance(0.5) ? [108, 128] : [44, 64];
        const fill = concat(
          ...Array.from({ length: rng.range(1, 6) }, () => {
            const o = hostileOption(rng);
            return instances(rng, o.code, o.data.subarray(0, 40));
          }),
          rng.chance(0.7) ? Uint8Array.of(255) : new Uint8Array(0),
        );
        c.set(fill.subarray(0, area[1]), area[0]);
      }
      return c;
    }
    case "long-option":
      return splice(b, rng.chance(0.5) ? Math.min(OPTIONS_AT, b.length) : endOfOptions(b), 0, longOption(rng));
    case "header": {
      // op, htype, hlen, xid: what makes a reply "ours"
      if (b.length < 8) return b;
      const c = b.slice();
      const f = rng.int(4);
      if (f === 3) c.set(rng.bytes(4), 4);
      else c[f] = interestingByte(rng);
      return c;
    }
    case "sname-file": {
      // text without a NUL, or with hostile bytes
      if (b.length < 236) return b;
      const c = b.slice();
      const [start, len] = rng.chance(0.5) ? [44, 64] : [108, 128];
      const t = rng.chance(0.5) ? new Uint8Array(len).fill(rng.range(1, 255)) : hostileText(rng, len);
      c.set(t.subarray(0, len), start);
      return c;
    }
  }
  return b;
}

/** A header (from the corpus) and the cookie, then option soup: instances, END or not, then junk. */
function optionSoup(rng: Rng, recipe: string[]): Uint8Array {
  const base = rng.pick(getCorpus().messages);
  const head = base.slice(0, 240);
  if (rng.chance(0.05)) head.set(rng.bytes(4), 236); // wrong cookie
  const parts: Uint8Array[] = [head];
  if (rng.chance(0.3)) parts.push(Uint8Array.of(53, 1, rng.range(1, 8)));
  const n = rng.weighted([
    [5, () => rng.range(0, 12)],
    [1, () => rng.range(12, 60)],
  ])();
  for (let i = 0; i < n; i++) {
    const o = hostileOption(rng);
    const inst = instances(rng, o.code, o.data);
    parts.push(inst);
    if (rng.chance(0.05)) for (let k = rng.range(1, 70); k > 0; k--) parts.push(inst); // repeats
  }
  if (rng.chance(0.8)) parts.push(Uint8Array.of(255));
  if (rng.chance(0.2)) parts.push(rng.chance(0.5) ? new Uint8Array(rng.length(100)) : rng.bytes(rng.length(100)));
  recipe.push(`soup(${n})`);
  let m = concat(...parts);
  if (m.length < 300 && rng.chance(0.5)) m = concat(m, new Uint8Array(300 - m.length));
  return m;
}

export function messageBytes(rng: Rng, recipe: string[]): Uint8Array {
  const kind = rng.weighted<string>([
    [1, "random"],
    [1, "random-options"],
    [3, "soup"],
    [5, "mutated"],
  ]);
  if (kind === "random") {
    recipe.push("random");
    return rng.bytes(
      rng.weighted([
        [1, () => rng.int(240)],
        [3, () => rng.range(240, 1500)],
      ])(),
    );
  }
  if (kind === "random-options") {
    recipe.push("random-options");
    return concat(rng.pick(getCorpus().messages).subarray(0, 240), rng.bytes(rng.length(1200)));
  }
  let m = kind === "soup" ? optionSoup(rng, recipe) : rng.pick(getCorpus().messages);
  if (kind === "mutated") recipe.push("base");
  const count =
    kind === "soup"
      ? rng.pick([0, 0, 1, 3])
      : rng.weighted([
          [3, () => 1],
          [3, () => rng.range(2, 4)],
          [1, () => rng.range(5, 12)],
        ])();
  for (let i = 0; i < count; i++) m = mutateMessage(rng, m, recipe);
  return m;
}

/** A message as a lossy or hostile path delivers it: 1–3 structured mutations. */
export function messageBytesMutated(rng: Rng, m: Uint8Array): Uint8Array {
  const recipe: string[] = [];
  for (let i = rng.range(1, 3); i > 0; i--) m = mutateMessage(rng, m, recipe);
  return m;
}

// ---------------------------------------------------------------- frames

/** Lengths and checksums made right again, so the frame gets past the IP and UDP checks. */
function fixup(rng: Rng, f: Uint8Array): Uint8Array {
  if (f.length < ETH + 20 || f[ETH] >> 4 !== 4) return f;
  const ihl = (f[ETH] & 15) * 4;
  if (ihl < 20 || ETH + ihl + 8 > f.length || f.length - ETH > 0xffff) return f;
  const c = f.slice();
  const dv = new DataView(c.buffer);
  const total = c.length - ETH;
  dv.setUint16(ETH + 2, total);
  dv.setUint16(ETH + 6, 0);
  c[ETH + 9] = 17;
  dv.setUint16(ETH + ihl + 4, total - ihl);
  dv.setUint16(ETH + 10, 0);
  dv.setUint16(ETH + 10, ipv4HeaderChecksum(c, ETH, ihl));
  dv.setUint16(ETH + ihl + 6, 0);
  if (rng.chance(0.7)) dv.setUint16(ETH + ihl + 6, udpChecksum(c, ETH, ETH + ihl, total - ihl));
  return c;
}

/** Damage to the Ethernet/IP/UDP headers (HOSTILE 1–7). */
function mutateHeaders(rng: Rng, f: Uint8Array, recipe: string[]): Uint8Array {
  const op = rng.weighted<string>([
    [3, "byte"],
    [1, "ip-options"],
    [1, "truncate"],
    [1, "trailing"],
  ]);
  recipe.push("hdr-" + op);
  if (op === "truncate") return f.subarray(0, rng.int(Math.min(f.length, 80) + 1));
  if (op === "trailing") return concat(f, rng.bytes(rng.range(1, 64)));
  if (op === "ip-options") {
    // ihl > 5: bytes between the IP and UDP headers
    const n = rng.range(1, 10) * 4;
    const c = splice(f, ETH + 20, 0, rng.bytes(n));
    if (c.length > ETH) c[ETH] = 0x40 | Math.min(15, 5 + n / 4);
    return c;
  }
  const c = f.slice();
  const i = rng.int(Math.min(c.length, ETH + IP_UDP + 4));
  c[i] = rng.chance(0.5) ? interestingByte(rng) : c[i] ^ (1 << rng.int(8));
  return c;
}

function wrapInFrame(rng: Rng, payload: Uint8Array, recipe: string[]): Uint8Array {
  const mac = () =>
    rng.weighted([
      [4, CLIENT_MAC],
      [3, new Uint8Array(6).fill(255)],
      [1, SERVER_MAC],
      [1, rng.bytes(6)],
    ]);
  const ip = () =>
    rng.weighted([
      [3, "198.18.0.1"],
      [2, "198.18.0.100"],
      [1, "255.255.255.255"],
      [1, "0.0.0.0"],
      [1, [1, 2, 3, 4].map(() => rng.int(256)).join(".")],
    ]);
  const port = () =>
    rng.weighted([
      [5, 68],
      [4, 67],
      [1, rng.int(65536)],
    ]);
  recipe.push("frame");
  if (payload.length > 0xffff - IP_UDP) payload = payload.subarray(0, 0xffff - IP_UDP);
  return buildUdpFrame({
    srcMac: mac(),
    dstMac: mac(),
    srcIp: ip(),
    dstIp: ip(),
    srcPort: port(),
    dstPort: port(),
    payload,
    ttl: rng.int(256),
    ipId: rng.int(65536),
  });
}

function frameBytes(rng: Rng, recipe: string[]): Uint8Array {
  let f: Uint8Array;
  if (rng.chance(0.5)) {
    f = wrapInFrame(rng, messageBytes(rng, recipe), recipe);
  } else {
    // a captured or built frame, mutated where its DHCP part is
    f = rng.pick(getCorpus().frames);
    recipe.push("base-frame");
    for (let i = rng.range(1, 6); i > 0; i--) {
      const payload = mutateMessage(rng, f.subarray(ETH + IP_UDP), recipe, 236);
      f = concat(f.subarray(0, ETH + IP_UDP), payload);
    }
  }
  if (rng.chance(0.25)) f = mutateHeaders(rng, f, recipe);
  if (rng.chance(0.6)) {
    f = fixup(rng, f);
    recipe.push("fixup");
  }
  if (rng.chance(0.03)) {
    f = rng.bytes(rng.length(1600));
    recipe.push("random-frame");
  }
  return f;
}

// ---------------------------------------------------------------- capture files and hex text

/** A pcapng by hand: SHB, IDB (if_tsresol, if_tsoffset sometimes), EPBs with any 64-bit time. */
function pcapng(rng: Rng, frames: Uint8Array[]): Uint8Array {
  const le = (n: number, bytes: number) => {
    const b = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) b[i] = Math.floor(n / 2 ** (8 * i)) & 255;
    return b;
  };
  const block = (type: number, body: Uint8Array) => {
    const pad = new Uint8Array((4 - (body.length % 4)) % 4);
    const len = 12 + body.length + pad.length;
    return concat(le(type, 4), le(len, 4), body, pad, le(len, 4));
  };
  const shb = block(0x0a0d0d0a, concat(le(0x1a2b3c4d, 4), le(1, 2), le(0, 2), new Uint8Array(8).fill(255)));
  const opts: Uint8Array[] = [];
  if (rng.chance(0.6))
    opts.push(
      concat(
        le(9, 2),
        le(1, 2),
        Uint8Array.of(
          rng.weighted([
            [3, () => 6],
            [1, () => 9],
            [2, () => rng.int(256)],
          ])(),
        ),
        new Uint8Array(3),
      ),
    );
  if (rng.chance(0.4)) opts.push(concat(le(14, 2), le(8, 2), rng.bytes(8)));
  const idb = block(
    1,
    concat(le(rng.chance(0.9) ? 1 : rng.int(300), 2), le(0, 2), le(rng.chance(0.8) ? 262144 : rng.int(2000), 4), ...opts, new Uint8Array(4)),
  );
  const epbs = frames.map((f) =>
    block(6, concat(le(0, 4), rng.chance(0.5) ? rng.bytes(8) : concat(le(rng.int(0x60000), 4), le(rng.u32(), 4)), le(f.length, 4), le(f.length, 4), f)),
  );
  return concat(shb, idb, ...epbs);
}

function captureBytes(rng: Rng, recipe: string[]): Uint8Array {
  const frames = Array.from({ length: rng.range(1, 3) }, () => frameBytes(rng, recipe));
  let b: Uint8Array;
  if (rng.chance(0.5)) {
    recipe.push("pcap");
    b = encodePcap(frames.map((data) => ({ data, timestampUs: rng.chance(0.7) ? rng.int(2 ** 32) * 1_000_000 + rng.int(1_000_000) : 0 })));
  } else {
    recipe.push("pcapng");
    b = pcapng(rng, frames);
  }
  for (let i = rng.pick([0, 0, 0, 1, 3]); i > 0; i--) {
    const c = b.slice();
    c[rng.int(Math.min(c.length, 96))] = interestingByte(rng);
    b = c;
  }
  if (rng.chance(0.1)) b = b.subarray(0, rng.int(b.length + 1));
  return b;
}

/** Hex as people paste it: plain, spaced, colons, `#` comments, tshark -x / xxd dumps. */
function hexText(rng: Rng, bytes: Uint8Array, recipe: string[]): Uint8Array {
  const style = rng.pick(["plain", "spaced", "colons", "tshark", "xxd"]);
  recipe.push("hex-" + style);
  const lines: string[] = [];
  if (rng.chance(0.5)) lines.push("# " + String.fromCharCode(...hostileText(rng, 40)).replace(/[\r\n]/g, " "));
  for (let o = 0; o < bytes.length; o += 16) {
    const row = bytes.subarray(o, o + 16);
    const ascii = String.fromCharCode(...row.map((c) => (c >= 0x20 && c < 0x7f ? c : 0x2e)));
    if (style === "plain") lines.push(toHex(row));
    else if (style === "spaced") lines.push(toHex(row, " "));
    else if (style === "colons") lines.push(toHex(row, ":"));
    else if (style === "tshark") lines.push(`${o.toString(16).padStart(4, "0")}  ${toHex(row, " ")}   ${ascii}`);
    else lines.push(`${o.toString(16).padStart(8, "0")}: ${(toHex(row).match(/.{1,4}/g) ?? []).join(" ")}  ${ascii}`);
  }
  let t = lines.join(rng.chance(0.8) ? "\n" : "\r\n");
  if (rng.chance(0.1)) {
    const i = rng.int(t.length + 1);
    t = t.slice(0, i) + String.fromCharCode(rng.range(0x20, 0x7e)) + t.slice(i);
  }
  return Uint8Array.from(t, (c) => c.charCodeAt(0) & 255);
}

export function generateFrameInput(rng: Rng): FrameInput {
  const recipe: string[] = [];
  const shape = rng.weighted<Shape>([
    [14, "frame"],
    [4, "message"],
    [1, "pcap"],
    [1, "hex"],
  ]);
  const bytes =
    shape === "frame"
      ? frameBytes(rng, recipe)
      : shape === "message"
        ? messageBytes(rng, recipe)
        : shape === "pcap"
          ? captureBytes(rng, recipe)
          : hexText(rng, rng.chance(0.5) ? frameBytes(rng, recipe) : messageBytes(rng, recipe), recipe);
  return {
    shape,
    bytes,
    csum: rng.weighted<ChecksumStatus>([
      [2, "valid"],
      [1, "partial"],
      [2, "unknown"],
    ]),
    withHex: rng.chance(0.5),
    recipe,
  };
}
