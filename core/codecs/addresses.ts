// IPv4 addresses: one (54, 50, 28), a subnet mask (1), lists of them (3, 6, 42, …) and pairs
// (21, 33).

import { ipFromBytes, parseIp, u32ToIp } from "../bytes.ts";
import { bad, type Codec, codec, CodecError, fail, ipU32, ok, readU32, splitList, writeU32 } from "./codec.ts";

export const ip: Codec<string> = codec({
  read: (b, off, len) => (len === 4 ? ipFromBytes(b, off) : fail(`length ${len}, an IPv4 address needs 4`)),
  encodingLength: () => 4,
  encode(v, buf, off) {
    writeU32(buf, off, ipU32(v));
    return 4;
  },
  parse: (text) => (parseIp(text.trim()) === null ? bad(`"${text}" is not an IPv4 address`) : ok(u32ToIp(parseIp(text.trim())!))),
});

/** A subnet mask: an address whose ones are contiguous (HOSTILE 24). */
export const mask: Codec<string> = codec({
  ...ip,
  read(b, off, len) {
    const v = ip.read(b, off, len);
    if (v instanceof CodecError) return v;
    const inv = ~readU32(b, off) >>> 0;
    return (inv & (inv + 1)) !== 0 ? fail(`${v} is not a contiguous mask`) : v;
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
});

/** A list of IPv4 addresses (3, 6, 42, …): at least one, no 0.0.0.0, at most 63 (HOSTILE 16). */
export function ipList(opts: { allowEmpty?: boolean } = {}): Codec<string[]> {
  return codec({
    read(b, off, len) {
      if (len === 0 && opts.allowEmpty) return [];
      if (len === 0 || len % 4 !== 0) return fail(`length ${len} is not a positive multiple of 4`);
      if (len > 252) return fail(`${len / 4} addresses, more than 63`);
      const out: string[] = [];
      for (let i = off; i < off + len; i += 4) {
        if ((b[i] | b[i + 1] | b[i + 2] | b[i + 3]) === 0) return fail("0.0.0.0 in an address list", i - off);
        out.push(ipFromBytes(b, i));
      }
      return out;
    },
    encodingLength: (v) => v.length * 4,
    encode(v, buf, off) {
      v.forEach((a, i) => {
        writeU32(buf, off + i * 4, ipU32(a));
      });
      return v.length * 4;
    },
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
  });
}

/** Pairs of addresses (21 policy filter: address/mask; 33 static routes: destination/router). */
export const ipPairs: Codec<[string, string][]> = codec({
  read(b, off, len) {
    if (len === 0 || len % 8 !== 0) return fail(`length ${len} is not a positive multiple of 8`);
    const out: [string, string][] = [];
    for (let i = off; i < off + len; i += 8) out.push([ipFromBytes(b, i), ipFromBytes(b, i + 4)]);
    return out;
  },
  encodingLength: (v) => v.length * 8,
  encode(v, buf, off) {
    v.forEach(([a, c], i) => {
      writeU32(buf, off + i * 8, ipU32(a));
      writeU32(buf, off + i * 8 + 4, ipU32(c));
    });
    return v.length * 8;
  },
  parse(text) {
    const out: [string, string][] = [];
    for (const pair of splitList(text)) {
      const [a, c, extra] = pair.split(/[:/]/);
      const pa = ip.parse(a ?? ""),
        pc = ip.parse(c ?? "");
      if (extra !== undefined || !pa.ok || !pc.ok) return bad(`"${pair}" is not ADDRESS:ADDRESS`);
      out.push([pa.value, pc.value]);
    }
    return out.length ? ok(out) : bad("needs at least one ADDRESS:ADDRESS pair");
  },
});
