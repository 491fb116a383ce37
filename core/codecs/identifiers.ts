// Identifiers a client sends about itself: 61 client identifier (RFC 2132 9.14), 97 client
// machine identifier and 94 network interface identifier (RFC 4578).

import { fromHex, hexRange, macToString, parseMac } from "../bytes.ts";
import { bad, type Codec, codec, fail, ok } from "./codec.ts";

/** 61 client identifier: a type byte, then the id; type 1 (Ethernet) carries a MAC. */
export interface ClientId {
  type: number;
  id: string;
}

export const clientId: Codec<ClientId> = codec({
  read(b, off, len) {
    if (len < 2) return fail(`length ${len}: needs a type and at least one byte`);
    if (b[off] === 1 && len !== 7) return fail(`type 1 (Ethernet) needs 6 bytes of MAC, has ${len - 1}`);
    return { type: b[off], id: b[off] === 1 ? macToString(b, off + 1) : hexRange(b, off + 1, off + len) };
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
});

/** 97 client machine identifier (RFC 4578): type 0 and a 16-byte UUID/GUID. */
export const uuid: Codec<string> = codec({
  read(b, off, len) {
    if (len !== 17 || b[off] !== 0) return fail(`expected type 0 and 16 bytes, got length ${len}`);
    const h = (i: number, j: number) => hexRange(b, off + 1 + i, off + 1 + j);
    return `${h(0, 4)}-${h(4, 6)}-${h(6, 8)}-${h(8, 10)}-${h(10, 16)}`;
  },
  encodingLength: () => 17,
  encode(v, buf, off) {
    buf[off] = 0;
    buf.set(fromHex(v.replace(/-/g, ""))!, off + 1);
    return 17;
  },
  parse(t) {
    const h = t.trim().replace(/-/g, "");
    if (!/^[0-9a-f]{32}$/i.test(h)) return bad(`"${t}" is not a UUID`);
    return uuid.decode(Uint8Array.of(0, ...fromHex(h)!));
  },
});

/** 94 client network interface identifier (RFC 4578): type, major, minor. */
export interface Ndi {
  type: number;
  major: number;
  minor: number;
}

export const ndi: Codec<Ndi> = codec({
  read: (b, off, len) => (len === 3 ? { type: b[off], major: b[off + 1], minor: b[off + 2] } : fail(`length ${len}, needs 3`)),
  encodingLength: () => 3,
  encode(v, buf, off) {
    buf[off] = v.type;
    buf[off + 1] = v.major;
    buf[off + 2] = v.minor;
    return 3;
  },
  parse(t) {
    const m = t.trim().match(/^(\d{1,3})[.:,](\d{1,3})[.:,](\d{1,3})$/);
    if (!m || [m[1], m[2], m[3]].some((x) => Number(x) > 255)) return bad(`"${t}" is not TYPE.MAJOR.MINOR`);
    return ok({ type: Number(m[1]), major: Number(m[2]), minor: Number(m[3]) });
  },
});
