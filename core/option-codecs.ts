// One small codec per kind of option value, each with the same four functions (the
// dns-packet shape): decode(bytes) → value, encodingLength(value), encode(value, buf, off),
// and parse(text) for values a user types (`--option 121=192.0.2.0/24,10.0.0.1`).
// Decoding and parsing never throw: a bad value is a CodecError with an offset and a reason.
// Values are plain JSON (strings, numbers, arrays, small objects), so decode(encode(v))
// equals v and a decoded option prints as JSON unchanged.

import { fromHex, ipFromBytes, latin1, macToString, parseIp, parseMac, toHex, u32ToIp } from "./bytes.ts";

export interface CodecError { offset: number; reason: string }
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: CodecError };

export interface Codec<T> {
  decode(b: Uint8Array): Decoded<T>;
  encodingLength(v: T): number;
  /** Writes v at buf[off…]; returns the bytes written (= encodingLength(v)). */
  encode(v: T, buf: Uint8Array, off: number): number;
  parse(text: string): Decoded<T>;
}

const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
const bad = <T>(reason: string, offset = 0): Decoded<T> => ({ ok: false, error: { offset, reason } });

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24; buf[off + 1] = (v >>> 16) & 255; buf[off + 2] = (v >>> 8) & 255; buf[off + 3] = v & 255;
}

function ipU32(ip: string): number {
  return parseIp(ip) ?? 0;
}

function splitList(text: string): string[] {
  return text.split(/[,\s]+/).filter(Boolean);
}

// ---- fixed-size numbers and addresses ----

function uint(size: 1 | 2 | 4, name: string): Codec<number> {
  const max = size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
  return {
    decode(b) {
      if (b.length !== size) return bad(`length ${b.length}, ${name} needs ${size}`);
      return ok(size === 1 ? b[0] : size === 2 ? (b[0] << 8) | b[1] : ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0);
    },
    encodingLength: () => size,
    encode(v, buf, off) {
      if (size === 1) buf[off] = v;
      else if (size === 2) { buf[off] = v >>> 8; buf[off + 1] = v & 255; }
      else writeU32(buf, off, v >>> 0);
      return size;
    },
    parse(text) {
      const t = text.trim();
      const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
      if (!Number.isInteger(n) || n < 0 || n > max) return bad(`"${text}" is not a whole number from 0 to ${max}`);
      return ok(n);
    },
  };
}

export const u8 = uint(1, "u8");
export const u16 = uint(2, "u16");
export const u32 = uint(4, "u32");

/** Seconds (lease, T1, T2, 108): a u32 where 0xffffffff means infinite; "infinite" parses. */
export const seconds: Codec<number> = {
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
};

/** Signed 32-bit (option 2, time offset from UTC). */
export const i32: Codec<number> = {
  decode(b) {
    if (b.length !== 4) return bad(`length ${b.length}, a signed 32-bit value needs 4`);
    return ok(view(b).getInt32(0));
  },
  encodingLength: () => 4,
  encode(v, buf, off) { writeU32(buf, off, v | 0); return 4; },
  parse(text) {
    const n = /^[-+]?\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) return bad(`"${text}" is not a signed 32-bit number`);
    return ok(n);
  },
};

/** One byte, 0 or 1 (RFC 2132 "flag" options such as 19, IP forwarding). */
export const bool: Codec<boolean> = {
  decode(b) {
    if (b.length !== 1) return bad(`length ${b.length}, a boolean needs 1`);
    if (b[0] > 1) return bad(`value ${b[0]} is neither 0 nor 1`);
    return ok(b[0] === 1);
  },
  encodingLength: () => 1,
  encode(v, buf, off) { buf[off] = v ? 1 : 0; return 1; },
  parse(text) {
    const t = text.trim().toLowerCase();
    if (["1", "true", "on", "yes"].includes(t)) return ok(true);
    if (["0", "false", "off", "no"].includes(t)) return ok(false);
    return bad(`"${text}" is not true/false`);
  },
};

/** Zero-length presence flag (80 rapid commit, 116 with length 0 is not this). */
export const flag: Codec<true> = {
  decode: (b) => (b.length === 0 ? ok(true as const) : bad(`length ${b.length}, a flag carries no data`)),
  encodingLength: () => 0,
  encode: () => 0,
  parse: (text) => (text.trim() === "" || /^(true|1|yes|on)$/i.test(text.trim()) ? ok(true as const) : bad(`"${text}": a flag takes no value`)),
};

export const ip: Codec<string> = {
  decode: (b) => (b.length === 4 ? ok(ipFromBytes(b, 0)) : bad(`length ${b.length}, an IPv4 address needs 4`)),
  encodingLength: () => 4,
  encode(v, buf, off) { writeU32(buf, off, ipU32(v)); return 4; },
  parse: (text) => (parseIp(text.trim()) === null ? bad(`"${text}" is not an IPv4 address`) : ok(u32ToIp(parseIp(text.trim())!))),
};

/** A subnet mask: an address whose ones are contiguous (HOSTILE 24). */
export const mask: Codec<string> = {
  ...ip,
  decode(b) {
    const r = ip.decode(b);
    if (!r.ok) return r;
    const inv = ~((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    if ((inv & (inv + 1)) !== 0) return bad(`${r.value} is not a contiguous mask`);
    return r;
  },
  parse(text) {
    const t = text.trim();
    if (/^\/?\d{1,2}$/.test(t)) {
      const p = Number(t.replace("/", ""));
      if (p > 32) return bad(`prefix /${p} is over 32`);
      return ok(u32ToIp(p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0));
    }
    const r = ip.parse(t);
    if (!r.ok) return r;
    const enc = new Uint8Array(4);
    ip.encode(r.value, enc, 0);
    return mask.decode(enc);
  },
};

/** A list of IPv4 addresses (3, 6, 42, …): at least one, no 0.0.0.0, at most 63 (HOSTILE 16). */
export function ipList(opts: { allowEmpty?: boolean } = {}): Codec<string[]> {
  return {
    decode(b) {
      if (b.length === 0 && opts.allowEmpty) return ok([]);
      if (b.length === 0 || b.length % 4 !== 0) return bad(`length ${b.length} is not a positive multiple of 4`);
      if (b.length > 252) return bad(`${b.length / 4} addresses, more than 63`);
      const out: string[] = [];
      for (let i = 0; i < b.length; i += 4) {
        const a = ipFromBytes(b, i);
        if (a === "0.0.0.0") return bad("0.0.0.0 in an address list", i);
        out.push(a);
      }
      return ok(out);
    },
    encodingLength: (v) => v.length * 4,
    encode(v, buf, off) { v.forEach((a, i) => { writeU32(buf, off + i * 4, ipU32(a)); }); return v.length * 4; },
    parse(text) {
      const parts = splitList(text);
      if (!parts.length && !opts.allowEmpty) return bad("an address list needs at least one address");
      if (parts.length > 63) return bad(`${parts.length} addresses, more than 63`);
      const out: string[] = [];
      for (const p of parts) {
        const r = ip.parse(p);
        if (!r.ok) return r;
        if (r.value === "0.0.0.0") return bad("0.0.0.0 has no place in an address list");
        out.push(r.value);
      }
      return ok(out);
    },
  };
}

/** Pairs of addresses (21 policy filter: address/mask; 33 static routes: destination/router). */
export const ipPairs: Codec<[string, string][]> = {
  decode(b) {
    if (b.length === 0 || b.length % 8 !== 0) return bad(`length ${b.length} is not a positive multiple of 8`);
    const out: [string, string][] = [];
    for (let i = 0; i < b.length; i += 8) out.push([ipFromBytes(b, i), ipFromBytes(b, i + 4)]);
    return ok(out);
  },
  encodingLength: (v) => v.length * 8,
  encode(v, buf, off) {
    v.forEach(([a, c], i) => { writeU32(buf, off + i * 8, ipU32(a)); writeU32(buf, off + i * 8 + 4, ipU32(c)); });
    return v.length * 8;
  },
  parse(text) {
    const out: [string, string][] = [];
    for (const pair of splitList(text)) {
      const [a, c, extra] = pair.split(/[:/]/);
      const pa = ip.parse(a ?? ""), pc = ip.parse(c ?? "");
      if (extra !== undefined || !pa.ok || !pc.ok) return bad(`"${pair}" is not ADDRESS:ADDRESS`);
      out.push([pa.value, pc.value]);
    }
    return out.length ? ok(out) : bad("needs at least one ADDRESS:ADDRESS pair");
  },
};

/** A list of 8- or 16-bit numbers (55 parameter request list, 25 MTU plateaus, 93, 117). */
export function uintList(size: 1 | 2, opts: { min?: number } = {}): Codec<number[]> {
  const one = uint(size, size === 1 ? "u8" : "u16");
  return {
    decode(b) {
      if (b.length % size !== 0) return bad(`length ${b.length} is not a multiple of ${size}`);
      if (b.length < (opts.min ?? 0) * size) return bad(`needs at least ${opts.min} value(s)`);
      const out: number[] = [];
      const dv = view(b);
      for (let i = 0; i < b.length; i += size) out.push(size === 1 ? b[i] : dv.getUint16(i));
      return ok(out);
    },
    encodingLength: (v) => v.length * size,
    encode(v, buf, off) { v.forEach((n, i) => { one.encode(n, buf, off + i * size); }); return v.length * size; },
    parse(text) {
      const out: number[] = [];
      for (const p of splitList(text)) {
        const r = one.parse(p);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return out.length >= (opts.min ?? 0) ? ok(out) : bad(`needs at least ${opts.min} value(s)`);
    },
  };
}

// ---- text and bytes ----

/**
 * NVT ASCII text (12 host name, 15 domain, 56 message, …). Kept byte for byte as Latin-1
 * (NUL, control characters and escapes included: HOSTILE 22); escaping is the printer's job.
 * Servers often add a trailing NUL; it is kept, not trimmed, so nothing is hidden.
 */
export const text: Codec<string> = {
  decode: (b) => (b.length === 0 ? bad("empty text") : ok(latin1(b))),
  encodingLength: (v) => v.length,
  encode(v, buf, off) { for (let i = 0; i < v.length; i++) buf[off + i] = v.charCodeAt(i) & 255; return v.length; },
  parse(t) {
    if (t.length === 0) return bad("empty text");
    if (/[^\x00-\xff]/.test(t)) return bad("only 8-bit characters; use hex:… for other bytes");
    return ok(t);
  },
};

/** Opaque bytes, shown and typed as hex (43 vendor specific, unknown options). */
export const hex: Codec<string> = {
  decode: (b) => ok(toHex(b)),
  encodingLength: (v) => v.length / 2,
  encode(v, buf, off) { const b = fromHex(v)!; buf.set(b, off); return b.length; },
  parse(t) {
    const b = fromHex(t.replace(/^hex:/i, ""));
    return b ? ok(toHex(b)) : bad(`"${t}" is not hex bytes (e.g. 01aaff or 01:aa:ff)`);
  },
};

// ---- DNS names (RFC 1035 4.1.4, as 119 and 81 use them) ----

const MAX_NAME = 255;
const MAX_EXPANSION = 8192;

/**
 * Decodes a run of names with compression: pointers are offsets into the same data
 * (RFC 3397). Only backward pointers are followed, each strictly before the last, so a loop
 * cannot form; names are capped at 255 bytes and the whole expansion at 8 KiB (HOSTILE 18).
 */
/** Presentation form of one label: "." and "\\" inside a label are escaped, so names round-trip. */
function labelText(b: Uint8Array, start: number, end: number): string {
  const s = latin1(b, start, end);
  return s.includes(".") || s.includes("\\") ? s.replace(/[\\.]/g, (ch) => "\\" + ch) : s;
}

function decodeNames(b: Uint8Array, single: boolean, partialOk = false): Decoded<string[]> {
  const names: string[] = [];
  let pos = 0;
  let expanded = 0;
  while (pos < b.length) {
    let p = pos;
    let name = "";
    let nameLen = 1;
    let jumped = false;
    let lowest = pos;
    for (;;) {
      // RFC 4702 2.3.1: a partial name (no root label) ends exactly at the end of the data
      if (p >= b.length) {
        if (partialOk && !jumped && p === b.length && name !== "") { pos = p; break; }
        return bad("name runs past the end", p);
      }
      const len = b[p];
      if (len === 0) { if (!jumped) pos = p + 1; break; }
      if ((len & 0xc0) === 0xc0) {
        if (p + 1 >= b.length) return bad("truncated compression pointer", p);
        const target = ((len & 0x3f) << 8) | b[p + 1];
        if (target >= lowest) return bad("compression pointer does not point backward", p);
        if (!jumped) pos = p + 2;
        jumped = true;
        lowest = target;
        p = target;
        expanded += 2; // a chain of bare pointers costs work too
        if (expanded > MAX_EXPANSION) return bad("names expand beyond 8 KiB", p);
        continue;
      }
      if (len > 63) return bad(`label length ${len} over 63`, p);
      if (p + 1 + len > b.length) return bad("label runs past the end", p);
      nameLen += len + 1;
      expanded += len + 1;
      if (nameLen > MAX_NAME) return bad("name longer than 255 bytes", p);
      if (expanded > MAX_EXPANSION) return bad("names expand beyond 8 KiB", p);
      const label = labelText(b, p + 1, p + 1 + len);
      name += (name ? "." : "") + label;
      p += 1 + len;
    }
    names.push(name);
    if (single) break;
  }
  if (single && pos !== b.length) return bad("bytes after the name", pos);
  return ok(names);
}

/** Labels of a name in presentation form ("\\." is a dot inside a label). */
function labelsOf(name: string): string[] {
  const labels: string[] = [];
  let cur = "";
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === "\\" && i + 1 < name.length) cur += name[++i];
    else if (ch === ".") { if (cur) labels.push(cur); cur = ""; }
    else cur += ch;
  }
  if (cur) labels.push(cur);
  return labels;
}

function nameLength(name: string): number {
  return labelsOf(name).reduce((n, l) => n + 1 + l.length, 1);
}

function writeName(name: string, buf: Uint8Array, off: number): number {
  let p = off;
  for (const l of labelsOf(name)) {
    buf[p++] = l.length;
    for (let i = 0; i < l.length; i++) buf[p++] = l.charCodeAt(i) & 255;
  }
  buf[p++] = 0;
  return p - off;
}

function checkName(name: string): string | null {
  const labels = labelsOf(name);
  if (!labels.length) return `"${name}" is not a domain name`;
  for (const l of labels) {
    if (l.length > 63) return `label "${l.slice(0, 20)}…" is longer than 63 bytes`;
    if (/[^\x21-\x7e]/.test(l)) return `"${name}" has spaces or non-ASCII characters`;
  }
  if (nameLength(name) > MAX_NAME) return `"${name.slice(0, 20)}…" is longer than 255 bytes`;
  return null;
}

/** 119 domain search, 88, 137, 141: names in wire format, written uncompressed. */
export const domainList: Codec<string[]> = {
  decode: (b) => (b.length === 0 ? bad("empty") : decodeNames(b, false)),
  encodingLength: (v) => v.reduce((n, name) => n + nameLength(name), 0),
  encode(v, buf, off) { let p = off; for (const n of v) p += writeName(n, buf, p); return p - off; },
  parse(t) {
    const names = splitList(t);
    if (!names.length) return bad("needs at least one name");
    for (const n of names) { const e = checkName(n); if (e) return bad(e); }
    return ok(names.map((n) => n.replace(/\.$/, "")));
  },
};

// ---- RFC 3442 classless static routes (121, and Microsoft's 249) ----

export interface ClasslessRoute { destination: string; prefix: number; router: string }

export const classlessRoutes: Codec<ClasslessRoute[]> = {
  decode(b) {
    if (b.length === 0) return bad("empty");
    const routes: ClasslessRoute[] = [];
    let p = 0;
    while (p < b.length) {
      const prefix = b[p];
      if (prefix > 32) return bad(`prefix length ${prefix} over 32`, p);
      const significant = Math.ceil(prefix / 8);
      if (p + 1 + significant + 4 > b.length) return bad("route runs past the end", p);
      let dest = 0;
      for (let i = 0; i < 4; i++) dest = dest * 256 + (i < significant ? b[p + 1 + i] : 0);
      const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      if ((dest & ~m) >>> 0 !== 0) return bad("destination has bits set beyond the prefix", p);
      routes.push({ destination: u32ToIp(dest), prefix, router: ipFromBytes(b, p + 1 + significant) });
      p += 1 + significant + 4;
    }
    return ok(routes);
  },
  encodingLength: (v) => v.reduce((n, r) => n + 1 + Math.ceil(r.prefix / 8) + 4, 0),
  encode(v, buf, off) {
    let p = off;
    for (const r of v) {
      const significant = Math.ceil(r.prefix / 8);
      const d = ipU32(r.destination);
      buf[p++] = r.prefix;
      for (let i = 0; i < significant; i++) buf[p++] = (d >>> (24 - 8 * i)) & 255;
      writeU32(buf, p, ipU32(r.router));
      p += 4;
    }
    return p - off;
  },
  /** "192.0.2.0/24,10.0.0.1 0.0.0.0/0,10.0.0.1": destination/prefix,router per route. */
  parse(t) {
    const parts = splitList(t);
    if (!parts.length || parts.length % 2 !== 0) return bad("routes are DEST/PREFIX,ROUTER pairs (e.g. 192.0.2.0/24,10.0.0.1)");
    const out: ClasslessRoute[] = [];
    for (let i = 0; i < parts.length; i += 2) {
      const [d, pfx] = parts[i].split("/");
      const dest = parseIp(d ?? "");
      const prefix = Number(pfx);
      const router = ip.parse(parts[i + 1]);
      if (dest === null || !/^\d{1,2}$/.test(pfx ?? "") || prefix > 32 || !router.ok) {
        return bad(`"${parts[i]},${parts[i + 1]}" is not DEST/PREFIX,ROUTER`);
      }
      const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      if ((dest & ~m) >>> 0 !== 0) return bad(`${parts[i]} has host bits set beyond /${prefix}`);
      out.push({ destination: u32ToIp(dest), prefix, router: router.value });
    }
    return ok(out);
  },
};

// ---- structured options ----

/** 61 client identifier: a type byte, then the id; type 1 (Ethernet) carries a MAC. */
export interface ClientId { type: number; id: string }

export const clientId: Codec<ClientId> = {
  decode(b) {
    if (b.length < 2) return bad(`length ${b.length}: needs a type and at least one byte`);
    if (b[0] === 1 && b.length !== 7) return bad(`type 1 (Ethernet) needs 6 bytes of MAC, has ${b.length - 1}`);
    return ok({ type: b[0], id: b[0] === 1 ? macToString(b, 1) : toHex(b.subarray(1)) });
  },
  encodingLength: (v) => 1 + (v.type === 1 ? 6 : v.id.length / 2),
  encode(v, buf, off) {
    buf[off] = v.type;
    const id = v.type === 1 ? parseMac(v.id)! : fromHex(v.id)!;
    buf.set(id, off + 1);
    return 1 + id.length;
  },
  /** "aa:bb:cc:dd:ee:ff" (type 1), "TYPE:HEX" (e.g. 255:0001abcd), or "hex:01aabb…" whole. */
  parse(t) {
    const s = t.trim();
    const mac = parseMac(s);
    if (mac) return ok({ type: 1, id: macToString(mac) });
    const whole = s.match(/^hex:([0-9a-f:]+)$/i);
    const typed = s.match(/^(\d{1,3}):([0-9a-f:]+)$/i);
    const bytes = whole ? fromHex(whole[1]) : typed ? Uint8Array.of(Number(typed[1]), ...(fromHex(typed[2]) ?? [])) : null;
    if (!bytes || (typed && (Number(typed[1]) > 255 || !fromHex(typed[2])))) {
      return bad(`"${t}" is not a client id (a MAC, TYPE:HEX, or hex:BYTES)`);
    }
    return clientId.decode(bytes);
  },
};

/** 53 message type, by name or number. */
export const MESSAGE_TYPE_NAMES = [
  "", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
  "FORCERENEW", "LEASEQUERY", "LEASEUNASSIGNED", "LEASEUNKNOWN", "LEASEACTIVE",
  "BULKLEASEQUERY", "LEASEQUERYDONE", "ACTIVELEASEQUERY", "LEASEQUERYSTATUS", "TLS",
] as const;

export const messageType: Codec<number> = {
  decode(b) {
    if (b.length !== 1) return bad(`length ${b.length}, message type needs 1`);
    if (b[0] === 0 || b[0] >= MESSAGE_TYPE_NAMES.length) return bad(`unknown message type ${b[0]}`);
    return ok(b[0]);
  },
  encodingLength: () => 1,
  encode(v, buf, off) { buf[off] = v; return 1; },
  parse(t) {
    const s = t.trim().toUpperCase().replace(/^DHCP/, "");
    const i = MESSAGE_TYPE_NAMES.indexOf(s as (typeof MESSAGE_TYPE_NAMES)[number]);
    if (i > 0) return ok(i);
    const n = Number(s);
    if (Number.isInteger(n) && n > 0 && n < MESSAGE_TYPE_NAMES.length) return ok(n);
    return bad(`"${t}" is not a message type (DISCOVER, OFFER, REQUEST, …)`);
  },
};

/** 52 overload: 1 file, 2 sname, 3 both. */
function overloadCheck(r: Decoded<number>): Decoded<number> {
  return r.ok && (r.value < 1 || r.value > 3) ? bad(`overload value ${r.value} is not 1, 2 or 3 (file, sname, both)`) : r;
}

export const overload: Codec<number> = {
  ...u8,
  decode: (b) => overloadCheck(u8.decode(b)),
  parse: (t) => overloadCheck(u8.parse(t)),
};

/** Length-prefixed items (77 user class, RFC 3004), each shown as text when printable, else hex:… */
export const lengthPrefixedList: Codec<string[]> = {
  decode(b) {
    if (b.length === 0) return bad("empty");
    const out: string[] = [];
    let p = 0;
    while (p < b.length) {
      const len = b[p];
      if (len === 0) return bad("zero-length item", p);
      if (p + 1 + len > b.length) return bad("item runs past the end", p);
      const item = b.subarray(p + 1, p + 1 + len);
      out.push(item.every((c) => c >= 0x20 && c < 0x7f) && !latin1(item).startsWith("hex:") ? latin1(item) : "hex:" + toHex(item));
      p += 1 + len;
    }
    return ok(out);
  },
  encodingLength: (v) => v.reduce((n, s) => n + 1 + itemBytes(s).length, 0),
  encode(v, buf, off) {
    let p = off;
    for (const s of v) { const b = itemBytes(s); buf[p] = b.length; buf.set(b, p + 1); p += 1 + b.length; }
    return p - off;
  },
  parse(t) {
    const items = splitList(t);
    if (!items.length) return bad("needs at least one item");
    for (const s of items) { const b = itemBytes(s); if (b.length === 0 || b.length > 255) return bad(`item "${s}" must be 1-255 bytes`); }
    return ok(items);
  },
};

function itemBytes(s: string): Uint8Array {
  if (s.startsWith("hex:")) return fromHex(s.slice(4)) ?? new Uint8Array(0);
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 255);
}

/** Sub-options (82 relay agent information, RFC 3046; 125 payloads): code, length, value. */
export interface SubOption { code: number; hex: string }

export const subOptions: Codec<SubOption[]> = {
  decode(b) {
    const subs: SubOption[] = [];
    let p = 0;
    while (p < b.length) {
      if (p + 2 > b.length) return bad("sub-option header runs past the end", p);
      const len = b[p + 1];
      if (p + 2 + len > b.length) return bad(`sub-option ${b[p]} runs past the end`, p);
      subs.push({ code: b[p], hex: toHex(b.subarray(p + 2, p + 2 + len)) });
      p += 2 + len;
    }
    return ok(subs);
  },
  encodingLength: (v) => v.reduce((n, s) => n + 2 + s.hex.length / 2, 0),
  encode(v, buf, off) {
    let p = off;
    for (const s of v) { const b = fromHex(s.hex)!; buf[p] = s.code; buf[p + 1] = b.length; buf.set(b, p + 2); p += 2 + b.length; }
    return p - off;
  },
  /** "1=hex:0a0b,2=text" — sub-option code = value (hex: prefix for bytes). */
  parse(t) {
    const out: SubOption[] = [];
    for (const part of splitList(t)) {
      const m = part.match(/^(\d{1,3})=(.*)$/);
      if (!m || Number(m[1]) > 255) return bad(`"${part}" is not CODE=VALUE`);
      const bytes = itemBytes(m[2]);
      if (bytes.length > 255 || (m[2].startsWith("hex:") && !fromHex(m[2].slice(4)))) return bad(`sub-option ${m[1]}: bad value`);
      out.push({ code: Number(m[1]), hex: toHex(bytes) });
    }
    return out.length ? ok(out) : bad("needs at least one CODE=VALUE");
  },
};

/** 81 client FQDN (RFC 4702): flags, two obsolete rcodes, and a name (wire format when E is set). */
export interface ClientFqdn { flags: number; rcode1: number; rcode2: number; name: string }

export const clientFqdn: Codec<ClientFqdn> = {
  decode(b) {
    if (b.length < 3) return bad(`length ${b.length}, needs at least 3`);
    const flags = b[0];
    if (flags & 0xf0) return bad(`flags 0x${flags.toString(16)} has reserved bits set`);
    const rest = b.subarray(3);
    let name = "";
    if (flags & 0x04) { // E: canonical wire format
      if (rest.length) {
        const r = decodeNames(rest, true, true);
        if (!r.ok) return { ok: false, error: { offset: r.error.offset + 3, reason: r.error.reason } };
        name = r.value[0];
      }
    } else name = latin1(rest);
    return ok({ flags, rcode1: b[1], rcode2: b[2], name });
  },
  encodingLength: (v) => 3 + (v.name === "" ? 0 : v.flags & 0x04 ? nameLength(v.name) : v.name.length),
  encode(v, buf, off) {
    buf[off] = v.flags; buf[off + 1] = v.rcode1; buf[off + 2] = v.rcode2;
    if (v.name === "") return 3;
    if (v.flags & 0x04) return 3 + writeName(v.name, buf, off + 3);
    return 3 + text.encode(v.name, buf, off + 3);
  },
  /** "host.example" (flags S+E: the server updates A and PTR), or "FLAGS:NAME" with FLAGS as a number. */
  parse(t) {
    const m = t.trim().match(/^(?:(\d{1,2}):)?(.*)$/)!;
    const flags = m[1] === undefined ? 0x05 : Number(m[1]);
    if (flags > 15) return bad("FQDN flags are 0-15 (S=1, O=2, E=4, N=8)");
    const name = m[2].replace(/\.$/, "");
    if (name) { const e = checkName(name); if (e) return bad(e); }
    return ok({ flags, rcode1: 0, rcode2: 0, name });
  },
};

/** 124/125 vendor-identifying (RFC 3925): enterprise number, then a length-prefixed blob. */
export interface VendorBlock { enterprise: number; hex: string }

export const vendorBlocks: Codec<VendorBlock[]> = {
  decode(b) {
    if (b.length === 0) return bad("empty");
    const out: VendorBlock[] = [];
    let p = 0;
    while (p < b.length) {
      if (p + 5 > b.length) return bad("enterprise block header runs past the end", p);
      const len = b[p + 4];
      if (p + 5 + len > b.length) return bad("enterprise data runs past the end", p);
      out.push({ enterprise: view(b).getUint32(p), hex: toHex(b.subarray(p + 5, p + 5 + len)) });
      p += 5 + len;
    }
    return ok(out);
  },
  encodingLength: (v) => v.reduce((n, x) => n + 5 + x.hex.length / 2, 0),
  encode(v, buf, off) {
    let p = off;
    for (const x of v) { const d = fromHex(x.hex)!; writeU32(buf, p, x.enterprise); buf[p + 4] = d.length; buf.set(d, p + 5); p += 5 + d.length; }
    return p - off;
  },
  /** "ENTERPRISE:HEX[,…]", e.g. 3561:0a0b0c */
  parse(t) {
    const out: VendorBlock[] = [];
    for (const part of splitList(t)) {
      const m = part.match(/^(\d+):(?:hex:)?([0-9a-f]*)$/i);
      const d = m ? fromHex(m[2]) : null;
      if (!m || !d || Number(m[1]) > 0xffffffff || d.length > 255) return bad(`"${part}" is not ENTERPRISE:HEX`);
      out.push({ enterprise: Number(m[1]), hex: toHex(d) });
    }
    return out.length ? ok(out) : bad("needs at least one ENTERPRISE:HEX");
  },
};

/** 120 SIP servers (RFC 3361): encoding byte 0 = domain names, 1 = addresses. */
export type SipServers = { names: string[] } | { addresses: string[] };

export const sipServers: Codec<SipServers> = {
  decode(b) {
    if (b.length < 2) return bad("too short");
    const rest = b.subarray(1);
    const shift = <T>(r: Decoded<T>): Decoded<T> => (r.ok ? r : bad(r.error.reason, r.error.offset + 1));
    if (b[0] === 0) { const r = shift(domainList.decode(rest)); return r.ok ? ok({ names: r.value }) : r; }
    if (b[0] === 1) { const r = shift(ipList().decode(rest)); return r.ok ? ok({ addresses: r.value }) : r; }
    return bad(`unknown encoding ${b[0]}`);
  },
  encodingLength: (v) => 1 + ("names" in v ? domainList.encodingLength(v.names) : v.addresses.length * 4),
  encode(v, buf, off) {
    buf[off] = "names" in v ? 0 : 1;
    return 1 + ("names" in v ? domainList.encode(v.names, buf, off + 1) : ipList().encode(v.addresses, buf, off + 1));
  },
  parse(t) {
    const a = ipList().parse(t);
    if (a.ok) return ok({ addresses: a.value });
    const n = domainList.parse(t);
    return n.ok ? ok({ names: n.value }) : bad(`"${t}": give addresses or domain names`);
  },
};

/** 97 client machine identifier (RFC 4578): type 0 and a 16-byte UUID/GUID. */
export const uuid: Codec<string> = {
  decode(b) {
    if (b.length !== 17 || b[0] !== 0) return bad(`expected type 0 and 16 bytes, got length ${b.length}`);
    const h = toHex(b.subarray(1));
    return ok(`${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`);
  },
  encodingLength: () => 17,
  encode(v, buf, off) { buf[off] = 0; buf.set(fromHex(v.replace(/-/g, ""))!, off + 1); return 17; },
  parse(t) {
    const h = t.trim().replace(/-/g, "");
    if (!/^[0-9a-f]{32}$/i.test(h)) return bad(`"${t}" is not a UUID`);
    return uuid.decode(Uint8Array.of(0, ...fromHex(h)!));
  },
};

/** 94 client network interface identifier (RFC 4578): type, major, minor. */
export interface Ndi { type: number; major: number; minor: number }

export const ndi: Codec<Ndi> = {
  decode: (b) => (b.length === 3 ? ok({ type: b[0], major: b[1], minor: b[2] }) : bad(`length ${b.length}, needs 3`)),
  encodingLength: () => 3,
  encode(v, buf, off) { buf[off] = v.type; buf[off + 1] = v.major; buf[off + 2] = v.minor; return 3; },
  parse(t) {
    const m = t.trim().match(/^(\d{1,3})[.:,](\d{1,3})[.:,](\d{1,3})$/);
    if (!m || [m[1], m[2], m[3]].some((x) => Number(x) > 255)) return bad(`"${t}" is not TYPE.MAJOR.MINOR`);
    return ok({ type: Number(m[1]), major: Number(m[2]), minor: Number(m[3]) });
  },
};
