// Options inside an option: 82 relay agent information sub-options (RFC 3046, also the shape
// of 125's payloads) and 124/125 vendor-identifying blocks (RFC 3925).

import { fromHex, toHex } from "../bytes.ts";
import { bad, type Codec, ok, splitList, itemBytes, view, writeU32 } from "./codec.ts";

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
