// Options inside an option: 82 relay agent information sub-options (RFC 3046, also the shape
// of 125's payloads), 43 vendor-specific information when it is sub-options (RFC 2132 8.4),
// and 124/125 vendor-identifying blocks (RFC 3925).

import { fromHex, hexRange, toHex } from "../bytes.ts";
import { bad, type Codec, codec, fail, itemBytes, ok, readU32, splitList, writeU32 } from "./codec.ts";

/** Sub-options (82 relay agent information, RFC 3046; 125 payloads): code, length, value. */
export interface SubOption {
  code: number;
  hex: string;
}

export const subOptions: Codec<SubOption[]> = codec({
  read(b, off, len) {
    const subs: SubOption[] = [];
    const end = off + len;
    let p = off;
    while (p < end) {
      if (p + 2 > end) return fail("sub-option header runs past the end", p - off);
      const n = b[p + 1];
      if (p + 2 + n > end) return fail(`sub-option ${b[p]} runs past the end`, p - off);
      subs.push({ code: b[p], hex: hexRange(b, p + 2, p + 2 + n) });
      p += 2 + n;
    }
    return subs;
  },
  encodingLength: (v) => v.reduce((n, s) => n + 2 + s.hex.length / 2, 0),
  encode(v, buf, off) {
    let p = off;
    for (const s of v) {
      const b = fromHex(s.hex)!;
      buf[p] = s.code;
      buf[p + 1] = b.length;
      buf.set(b, p + 2);
      p += 2 + b.length;
    }
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
});

/** 124/125 vendor-identifying (RFC 3925): enterprise number, then a length-prefixed blob. */
export interface VendorBlock {
  enterprise: number;
  hex: string;
}

export const vendorBlocks: Codec<VendorBlock[]> = codec({
  read(b, off, len) {
    if (len === 0) return fail("empty");
    const out: VendorBlock[] = [];
    const end = off + len;
    let p = off;
    while (p < end) {
      if (p + 5 > end) return fail("enterprise block header runs past the end", p - off);
      const n = b[p + 4];
      if (p + 5 + n > end) return fail("enterprise data runs past the end", p - off);
      out.push({ enterprise: readU32(b, p), hex: hexRange(b, p + 5, p + 5 + n) });
      p += 5 + n;
    }
    return out;
  },
  encodingLength: (v) => v.reduce((n, x) => n + 5 + x.hex.length / 2, 0),
  encode(v, buf, off) {
    let p = off;
    for (const x of v) {
      const d = fromHex(x.hex)!;
      writeU32(buf, p, x.enterprise);
      buf[p + 4] = d.length;
      buf.set(d, p + 5);
      p += 5 + d.length;
    }
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
});

/**
 * 43 vendor-specific information (RFC 2132 8.4): opaque to DHCP, but "SHOULD be encoded in
 * the same format as DHCP options", and PXE (vendor class PXEClient) does so. Decoded as
 * sub-options when the bytes are that (PAD skipped, END ends them); any other bytes stay one
 * hex string, as before: an opaque blob is not an error. A list is written back with its END.
 */
export const vendorSpecific: Codec<SubOption[] | string> = codec({
  read(b, off, len) {
    const end = off + len;
    const opaque = () => hexRange(b, off, end);
    const subs: SubOption[] = [];
    let p = off;
    while (p < end) {
      const code = b[p];
      if (code === 0) {
        p++;
        continue;
      }
      if (code === 255) {
        for (let q = p + 1; q < end; q++) if (b[q] !== 0) return opaque();
        break;
      }
      if (p + 2 > end || p + 2 + b[p + 1] > end) return opaque();
      subs.push({ code, hex: hexRange(b, p + 2, p + 2 + b[p + 1]) });
      p += 2 + b[p + 1];
    }
    return subs.length ? subs : opaque();
  },
  encodingLength: (v) => (typeof v === "string" ? v.length / 2 : subOptions.encodingLength(v) + 1),
  encode(v, buf, off) {
    if (typeof v === "string") {
      const b = fromHex(v)!;
      buf.set(b, off);
      return b.length;
    }
    const n = subOptions.encode(v, buf, off);
    buf[off + n] = 255;
    return n + 1;
  },
  /** "1=text,6=hex:08" as sub-options (END added), or the bytes as hex (hex:0102ff, 01:02:ff). */
  parse(t) {
    if (/^\s*\d{1,3}=/.test(t)) return subOptions.parse(t);
    const b = fromHex(t.replace(/^hex:/i, ""));
    return b ? ok(toHex(b)) : bad(`"${t}" is neither CODE=VALUE sub-options nor hex bytes (e.g. 1=text,6=hex:08 or 01aaff)`);
  },
});
