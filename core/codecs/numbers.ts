// Numbers: u8/u16/u32, seconds (lease, T1, T2), signed 32-bit, booleans and flags, lists of
// 8- or 16-bit numbers (55, 93), and the two enumerations a DHCP message carries (53 message
// type, 52 overload).

import { bad, type Codec, codec, CodecError, type Decoded, fail, ok, readU32, splitList, writeU32 } from "./codec.ts";

function uint(size: 1 | 2 | 4, name: string): Codec<number> {
  const max = size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
  return codec({
    read(b, off, len) {
      if (len !== size) return fail(`length ${len}, ${name} needs ${size}`);
      return size === 1 ? b[off] : size === 2 ? (b[off] << 8) | b[off + 1] : readU32(b, off);
    },
    encodingLength: () => size,
    encode(v, buf, off) {
      if (size === 1) buf[off] = v;
      else if (size === 2) {
        buf[off] = v >>> 8;
        buf[off + 1] = v & 255;
      } else writeU32(buf, off, v >>> 0);
      return size;
    },
    parse(text) {
      const t = text.trim();
      const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
      if (!Number.isInteger(n) || n < 0 || n > max) return bad(`"${text}" is not a whole number from 0 to ${max}`);
      return ok(n);
    },
  });
}

export const u8 = uint(1, "u8");
export const u16 = uint(2, "u16");
export const u32 = uint(4, "u32");

/** Seconds (lease, T1, T2, 108): a u32 where 0xffffffff means infinite; "infinite" parses. */
export const seconds: Codec<number> = codec({
  ...u32,
  parse(text) {
    if (/^(infinite|infinity|forever)$/i.test(text.trim())) return ok(0xffffffff);
    const m = text.trim().match(/^(\d+)\s*([smhdw]?)$/i);
    if (!m) return bad(`"${text}" is not a duration (e.g. 3600, 90m, 12h, 7d, infinite)`);
    const mult = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2].toLowerCase()]!;
    const n = Number(m[1]) * mult;
    if (n > 0xffffffff) return bad(`"${text}" is beyond 2^32 - 1 seconds`);
    return ok(n);
  },
});

/** Signed 32-bit (option 2, time offset from UTC). */
export const i32: Codec<number> = codec({
  read(b, off, len) {
    if (len !== 4) return fail(`length ${len}, a signed 32-bit value needs 4`);
    return readU32(b, off) | 0;
  },
  encodingLength: () => 4,
  encode(v, buf, off) {
    writeU32(buf, off, v | 0);
    return 4;
  },
  parse(text) {
    const n = /^[-+]?\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) return bad(`"${text}" is not a signed 32-bit number`);
    return ok(n);
  },
});

/** One byte, 0 or 1 (RFC 2132 "flag" options such as 19, IP forwarding). */
export const bool: Codec<boolean> = codec({
  read(b, off, len) {
    if (len !== 1) return fail(`length ${len}, a boolean needs 1`);
    if (b[off] > 1) return fail(`value ${b[off]} is neither 0 nor 1`);
    return b[off] === 1;
  },
  encodingLength: () => 1,
  encode(v, buf, off) {
    buf[off] = v ? 1 : 0;
    return 1;
  },
  parse(text) {
    const t = text.trim().toLowerCase();
    if (["1", "true", "on", "yes"].includes(t)) return ok(true);
    if (["0", "false", "off", "no"].includes(t)) return ok(false);
    return bad(`"${text}" is not true/false`);
  },
});

/** Zero-length presence flag (80 rapid commit, 116 with length 0 is not this). */
export const flag: Codec<true> = codec({
  read: (_b, _off, len) => (len === 0 ? (true as const) : fail(`length ${len}, a flag carries no data`)),
  encodingLength: () => 0,
  encode: () => 0,
  parse: (text) => (text.trim() === "" || /^(true|1|yes|on)$/i.test(text.trim()) ? ok(true as const) : bad(`"${text}": a flag takes no value`)),
});

/** A list of 8- or 16-bit numbers (55 parameter request list, 25 MTU plateaus, 93, 117). */
export function uintList(size: 1 | 2, opts: { min?: number } = {}): Codec<number[]> {
  const one = uint(size, size === 1 ? "u8" : "u16");
  return codec({
    read(b, off, len) {
      if (len % size !== 0) return fail(`length ${len} is not a multiple of ${size}`);
      if (len < (opts.min ?? 0) * size) return fail(`needs at least ${opts.min} value(s)`);
      const out: number[] = [];
      for (let i = off; i < off + len; i += size) out.push(size === 1 ? b[i] : (b[i] << 8) | b[i + 1]);
      return out;
    },
    encodingLength: (v) => v.length * size,
    encode(v, buf, off) {
      v.forEach((n, i) => {
        one.encode(n, buf, off + i * size);
      });
      return v.length * size;
    },
    parse(text) {
      const out: number[] = [];
      for (const p of splitList(text)) {
        const r = one.parse(p);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return out.length >= (opts.min ?? 0) ? ok(out) : bad(`needs at least ${opts.min} value(s)`);
    },
  });
}

/** 53 message type, by name or number. */
export const MESSAGE_TYPE_NAMES = [
  "",
  "DISCOVER",
  "OFFER",
  "REQUEST",
  "DECLINE",
  "ACK",
  "NAK",
  "RELEASE",
  "INFORM",
  "FORCERENEW",
  "LEASEQUERY",
  "LEASEUNASSIGNED",
  "LEASEUNKNOWN",
  "LEASEACTIVE",
  "BULKLEASEQUERY",
  "LEASEQUERYDONE",
  "ACTIVELEASEQUERY",
  "LEASEQUERYSTATUS",
  "TLS",
] as const;

export const messageType: Codec<number> = codec({
  read(b, off, len) {
    if (len !== 1) return fail(`length ${len}, message type needs 1`);
    if (b[off] === 0 || b[off] >= MESSAGE_TYPE_NAMES.length) return fail(`unknown message type ${b[off]}`);
    return b[off];
  },
  encodingLength: () => 1,
  encode(v, buf, off) {
    buf[off] = v;
    return 1;
  },
  parse(t) {
    const s = t.trim().toUpperCase().replace(/^DHCP/, "");
    const i = MESSAGE_TYPE_NAMES.indexOf(s as (typeof MESSAGE_TYPE_NAMES)[number]);
    if (i > 0) return ok(i);
    const n = Number(s);
    if (Number.isInteger(n) && n > 0 && n < MESSAGE_TYPE_NAMES.length) return ok(n);
    return bad(`"${t}" is not a message type (DISCOVER, OFFER, REQUEST, …)`);
  },
});

/** 52 overload: 1 file, 2 sname, 3 both. */
const overloadWrong = (v: number) => `overload value ${v} is not 1, 2 or 3 (file, sname, both)`;

export const overload: Codec<number> = codec({
  ...u8,
  read(b, off, len) {
    const v = u8.read(b, off, len);
    return v instanceof CodecError || (v >= 1 && v <= 3) ? v : fail(overloadWrong(v));
  },
  parse(t) {
    const r: Decoded<number> = u8.parse(t);
    return r.ok && (r.value < 1 || r.value > 3) ? bad(overloadWrong(r.value)) : r;
  },
});
