// Text and raw bytes: NVT ASCII text (12, 15, 56, …), opaque bytes shown as hex (43 and every
// unknown option), and length-prefixed items (77 user class).

import { fromHex, hexRange, latin1, toHex } from "../bytes.ts";
import { bad, type Codec, codec, fail, itemBytes, ok, splitList } from "./codec.ts";

/**
 * NVT ASCII text (12 host name, 15 domain, 56 message, …). Kept byte for byte as Latin-1
 * (NUL, control characters and escapes included: HOSTILE 22); escaping is the printer's job.
 * Servers often add a trailing NUL; it is kept, not trimmed, so nothing is hidden.
 */
export const text: Codec<string> = codec({
  read: (b, off, len) => (len === 0 ? fail("empty text") : latin1(b, off, off + len)),
  encodingLength: (v) => v.length,
  encode(v, buf, off) {
    for (let i = 0; i < v.length; i++) buf[off + i] = v.charCodeAt(i) & 255;
    return v.length;
  },
  parse(t) {
    if (t.length === 0) return bad("empty text");
    if (/[^\x00-\xff]/.test(t)) return bad("only 8-bit characters; use hex:… for other bytes");
    return ok(t);
  },
});

/** Opaque bytes, shown and typed as hex (43 vendor specific, unknown options). */
export const hex: Codec<string> = codec({
  read: (b, off, len) => hexRange(b, off, off + len),
  encodingLength: (v) => v.length / 2,
  encode(v, buf, off) {
    const b = fromHex(v)!;
    buf.set(b, off);
    return b.length;
  },
  parse(t) {
    const b = fromHex(t.replace(/^hex:/i, ""));
    return b ? ok(toHex(b)) : bad(`"${t}" is not hex bytes (e.g. 01aaff or 01:aa:ff)`);
  },
});

/** Length-prefixed items (77 user class, RFC 3004), each shown as text when printable, else hex:… */
export const lengthPrefixedList: Codec<string[]> = codec({
  read(b, off, len) {
    if (len === 0) return fail("empty");
    const out: string[] = [];
    const end = off + len;
    let p = off;
    while (p < end) {
      const n = b[p];
      if (n === 0) return fail("zero-length item", p - off);
      if (p + 1 + n > end) return fail("item runs past the end", p - off);
      let printable = true;
      for (let i = p + 1; i <= p + n; i++)
        if (b[i] < 0x20 || b[i] >= 0x7f) {
          printable = false;
          break;
        }
      const item = printable ? latin1(b, p + 1, p + 1 + n) : "";
      out.push(printable && !item.startsWith("hex:") ? item : "hex:" + hexRange(b, p + 1, p + 1 + n));
      p += 1 + n;
    }
    return out;
  },
  encodingLength: (v) => v.reduce((n, s) => n + 1 + itemBytes(s).length, 0),
  encode(v, buf, off) {
    let p = off;
    for (const s of v) {
      const b = itemBytes(s);
      buf[p] = b.length;
      buf.set(b, p + 1);
      p += 1 + b.length;
    }
    return p - off;
  },
  parse(t) {
    const items = splitList(t);
    if (!items.length) return bad("needs at least one item");
    for (const s of items) {
      const b = itemBytes(s);
      if (b.length === 0 || b.length > 255) return bad(`item "${s}" must be 1-255 bytes`);
    }
    return ok(items);
  },
});
