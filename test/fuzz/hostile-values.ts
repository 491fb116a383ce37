// Option values a hostile or broken server might send (HOSTILE.md 12–24), built from a Rng:
// mostly well-formed enough to reach deep into a codec, then wrong in one place. Shared by
// the frame target (raw option soup) and the engine target (replies).

import { OPTIONS } from "../../core/options.ts";
import { HOSTILE_TEXTS } from "./corpus.ts";
import type { Rng } from "./rng.ts";

export interface RawOption {
  code: number;
  data: Uint8Array;
}

const REGISTERED = [...OPTIONS.keys()];
/** Codes the client acts on or the printers treat specially, asked for more often. */
const HOT_CODES = [1, 3, 6, 12, 15, 28, 51, 52, 53, 54, 55, 56, 58, 59, 61, 77, 81, 82, 108, 119, 120, 121, 124, 125, 249];
const U32_EDGES = [0, 1, 2, 59, 60, 299, 300, 3600, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const INTERESTING_BYTES = [0, 1, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0x9b, 0xbf, 0xc0, 0xff, 52, 53, 255];

function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 255;
  return b;
}
const HOSTILE_BYTES = HOSTILE_TEXTS.map(latin1Bytes);
const LETTERS = latin1Bytes("abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz0123");

export function u32Bytes(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function interestingByte(rng: Rng): number {
  return rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
}

export function optionCode(rng: Rng): number {
  return rng.weighted([
    [5, () => rng.pick(HOT_CODES)],
    [3, () => rng.pick(REGISTERED)],
    [2, () => rng.range(1, 254)],
    [0.3, () => rng.pick([0, 255])],
  ])();
}

/** Text a printer must escape: control bytes, ANSI sequences, shell syntax, C1, Latin-1. */
export function hostileText(rng: Rng, max = 255): Uint8Array {
  const out = new Uint8Array(rng.range(1, max));
  for (let n = 0; n < out.length; ) {
    const kind = rng.int(9);
    if (kind < 3) {
      // a known nasty one
      const t = rng.pick(HOSTILE_BYTES);
      out.set(t.subarray(0, out.length - n), n);
      n += t.length;
    } else if (kind < 6) {
      // ordinary letters
      const len = Math.min(rng.range(1, 12), out.length - n);
      out.set(LETTERS.subarray(0, len), n);
      n += len;
    } else if (kind < 8) {
      // any bytes
      for (let k = rng.range(1, 8); k > 0 && n < out.length; k--) out[n++] = rng.int(256);
    } else out[n++] = rng.range(0x80, 0x9f); // C1: 0x9b alone is a CSI
  }
  return out;
}

function label(rng: Rng): Uint8Array {
  const len = rng.weighted([
    [8, () => rng.range(1, 12)],
    [2, () => 63],
    [1, () => rng.range(64, 0xbf)],
  ])();
  const b = new Uint8Array(1 + Math.min(len, 63));
  b[0] = len;
  b.set(rng.chance(0.3) ? hostileText(rng, b.length - 1).subarray(0, b.length - 1) : LETTERS.subarray(0, b.length - 1), 1);
  return b;
}

/** RFC 1035 names with compression: valid, or with loops, forward pointers, long labels. */
export function domainNames(rng: Rng): Uint8Array {
  const out: number[] = [];
  const starts: number[] = [];
  const names = rng.range(1, 6);
  for (let n = 0; n < names; n++) {
    starts.push(out.length);
    const labels = rng.weighted([
      [6, () => rng.range(1, 4)],
      [1, () => rng.range(5, 12)],
    ])();
    for (let l = 0; l < labels; l++) out.push(...label(rng));
    const end = rng.weighted([
      [6, () => [0]],
      [3, () => (starts.length > 1 ? [0xc0 | (starts[0] >> 8), starts[0] & 255] : [0])], // backward: valid
      [
        1,
        () => {
          const t = out.length + rng.range(0, 8);
          return [0xc0 | ((t >> 8) & 0x3f), t & 255];
        },
      ], // self/forward
      [
        1,
        () => {
          const t = rng.int(0x4000);
          return [0xc0 | (t >> 8), t & 255];
        },
      ], // anywhere
      [0.5, () => [0xc0]], // truncated pointer
      [0.5, () => []], // no root label
    ])();
    out.push(...end);
  }
  return Uint8Array.from(out);
}

/** One long name, then many pointers to it: an expansion bomb without the 8 KiB cap. */
export function nameBomb(rng: Rng): Uint8Array {
  const name = [63, 63, 63, 61].flatMap((n) => [n, ...new Array(n).fill(0x61)]);
  const pointers = rng.range(1, 500);
  const out = new Uint8Array(name.length + 1 + 2 * pointers);
  out.set(name, 0);
  for (let i = 0; i < pointers; i++) {
    out[name.length + 1 + 2 * i] = 0xc0;
    out[name.length + 2 + 2 * i] = 0;
  }
  return out;
}

/** RFC 3442 routes: prefix, significant destination octets, router; some of it wrong. */
export function classlessRoutes(rng: Rng): Uint8Array {
  const out: number[] = [];
  const n = rng.range(1, rng.chance(0.1) ? 60 : 6);
  for (let i = 0; i < n; i++) {
    const prefix = rng.weighted([
      [8, () => rng.range(0, 32)],
      [1, () => rng.range(33, 255)],
    ])();
    const sig = Math.min(4, Math.ceil(Math.min(prefix, 32) / 8));
    out.push(prefix, ...rng.bytes(sig), ...rng.bytes(4));
  }
  if (rng.chance(0.2)) out.length = rng.int(out.length + 1);
  return Uint8Array.from(out);
}

export function clientFqdn(rng: Rng): Uint8Array {
  const flags = rng.chance(0.85) ? rng.int(16) : rng.int(256);
  const name = flags & 4 && rng.chance(0.7) ? domainNames(rng) : hostileText(rng, 120);
  return concat(Uint8Array.of(flags, rng.pick([0, 255, rng.int(256)]), rng.int(256)), rng.chance(0.1) ? new Uint8Array(0) : name);
}

/** Code/length/value runs (82 sub-options, 125 payloads), sometimes overrunning. */
export function subOptions(rng: Rng): Uint8Array {
  const out: number[] = [];
  for (let i = rng.range(0, 6); i > 0; i--) {
    const len = rng.length(40);
    out.push(rng.int(256), rng.chance(0.15) ? len + rng.range(1, 10) : len, ...rng.bytes(len));
  }
  if (rng.chance(0.2)) out.push(rng.int(256));
  return Uint8Array.from(out);
}

export function vendorBlocks(rng: Rng): Uint8Array {
  const out: number[] = [];
  for (let i = rng.range(1, 4); i > 0; i--) {
    const len = rng.length(40);
    out.push(...u32Bytes(rng.u32()), rng.chance(0.15) ? len + 1 : len, ...rng.bytes(len));
  }
  return Uint8Array.from(out);
}

export function lengthPrefixed(rng: Rng): Uint8Array {
  const out: number[] = [];
  for (let i = rng.range(1, 5); i > 0; i--) {
    const item = rng.chance(0.5) ? hostileText(rng, 30) : rng.bytes(rng.range(0, 20));
    out.push(rng.chance(0.1) ? item.length + 3 : item.length, ...item);
  }
  return Uint8Array.from(out);
}

export function ipList(
  rng: Rng,
  count = rng.weighted([
    [6, () => rng.range(1, 4)],
    [1, () => rng.range(60, 70)],
    [1, () => 0],
  ])(),
): Uint8Array {
  const out = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) {
    out.set(
      rng.weighted([
        [6, () => Uint8Array.of(198, 18, 0, rng.range(1, 254))],
        [1, () => new Uint8Array(4)],
        [1, () => rng.bytes(4)],
      ])(),
      i * 4,
    );
  }
  return rng.chance(0.1) ? out.subarray(0, rng.int(out.length + 1)) : out;
}

export function maskBytes(rng: Rng): Uint8Array {
  const prefix = rng.range(0, 32);
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return rng.chance(0.8) ? u32Bytes(m) : rng.bytes(rng.pick([4, 4, 3, 5]));
}

export function secondsBytes(rng: Rng): Uint8Array {
  const v = rng.chance(0.6) ? rng.pick(U32_EDGES) : rng.u32();
  return rng.chance(0.9) ? u32Bytes(v) : rng.bytes(rng.pick([0, 1, 2, 3, 5, 8]));
}

/** A value for `code`: shaped for it (valid, or wrong in one place), or any bytes. */
export function optionValue(rng: Rng, code: number): Uint8Array {
  if (rng.chance(0.25)) return rng.bytes(rng.length(255)); // any bytes at all
  switch (code) {
    case 1:
      return maskBytes(rng);
    case 3:
    case 4:
    case 5:
    case 6:
    case 42:
    case 44:
    case 28:
    case 54:
    case 50:
    case 118:
      return code === 54 || code === 50 || code === 28 || code === 118 ? ipList(rng, 1) : ipList(rng);
    case 12:
    case 14:
    case 15:
    case 17:
    case 40:
    case 56:
    case 60:
    case 66:
    case 67:
    case 114:
    case 252:
      return hostileText(rng);
    case 51:
    case 58:
    case 59:
    case 108:
    case 24:
    case 35:
    case 38:
    case 91:
    case 211:
      return secondsBytes(rng);
    case 52:
      return rng.chance(0.8)
        ? Uint8Array.of(
            rng.weighted([
              [6, () => rng.range(1, 3)],
              [1, () => rng.int(256)],
            ])(),
          )
        : rng.bytes(rng.pick([0, 2]));
    case 53:
      return rng.chance(0.85)
        ? Uint8Array.of(
            rng.weighted([
              [6, () => rng.range(1, 8)],
              [1, () => rng.int(256)],
            ])(),
          )
        : rng.bytes(rng.pick([0, 2]));
    case 55:
      return rng.bytes(rng.range(0, 40));
    case 61:
      return rng.chance(0.5)
        ? concat(Uint8Array.of(1), rng.bytes(rng.pick([6, 6, 5, 7, 0])))
        : concat(Uint8Array.of(rng.int(256)), rng.bytes(rng.range(0, 20)));
    case 77:
      return lengthPrefixed(rng);
    case 81:
      return clientFqdn(rng);
    case 82:
    case 43:
      return subOptions(rng);
    case 88:
    case 119:
    case 137:
    case 141:
      return rng.chance(0.05) ? nameBomb(rng) : domainNames(rng);
    case 120:
      return concat(
        Uint8Array.of(
          rng.weighted([
            [4, () => rng.int(2)],
            [1, () => rng.int(256)],
          ])(),
        ),
        rng.chance(0.5) ? domainNames(rng) : ipList(rng),
      );
    case 121:
    case 249:
      return classlessRoutes(rng);
    case 124:
    case 125:
      return vendorBlocks(rng);
    case 97:
      return concat(Uint8Array.of(rng.pick([0, 0, 1])), rng.bytes(rng.pick([16, 16, 15, 17])));
    default:
      return rng.bytes(rng.pick([0, 1, 2, 3, 4, 5, 8, 16, rng.length(255)]));
  }
}

/** Wire instances of one option: split at 255 (RFC 3396), or at random points. */
export function instances(rng: Rng, code: number, data: Uint8Array): Uint8Array {
  if (code === 0 || code === 255) return Uint8Array.of(code);
  const parts: Uint8Array[] = [];
  let rest = data;
  do {
    const n = Math.min(rest.length, rng.chance(0.8) ? 255 : rng.range(1, 255));
    parts.push(Uint8Array.of(code, n), rest.subarray(0, n));
    rest = rest.subarray(n);
  } while (rest.length > 0);
  return concat(...parts);
}

/** A random hostile option, as instances ready to splice into an options area. */
export function hostileOption(rng: Rng): RawOption {
  const code = optionCode(rng);
  return { code, data: optionValue(rng, code) };
}
