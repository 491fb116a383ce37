// RFC 3442 classless static routes (121, and Microsoft's 249): a prefix length, the
// destination's significant bytes, and the router.

import { ipFromBytes, parseIp, u32ToIp } from "../bytes.ts";
import { ip } from "./addresses.ts";
import { bad, type Codec, codec, fail, ipU32, ok, splitList, writeU32 } from "./codec.ts";

export interface ClasslessRoute {
  destination: string;
  prefix: number;
  router: string;
}

export const classlessRoutes: Codec<ClasslessRoute[]> = codec({
  read(b, off, len) {
    if (len === 0) return fail("empty");
    const routes: ClasslessRoute[] = [];
    const end = off + len;
    let p = off;
    while (p < end) {
      const prefix = b[p];
      if (prefix > 32) return fail(`prefix length ${prefix} over 32`, p - off);
      const significant = (prefix + 7) >> 3;
      if (p + 1 + significant + 4 > end) return fail("route runs past the end", p - off);
      let dest = 0;
      for (let i = 0; i < 4; i++) dest = dest * 256 + (i < significant ? b[p + 1 + i] : 0);
      const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      if ((dest & ~m) >>> 0 !== 0) return fail("destination has bits set beyond the prefix", p - off);
      routes.push({ destination: u32ToIp(dest), prefix, router: ipFromBytes(b, p + 1 + significant) });
      p += 1 + significant + 4;
    }
    return routes;
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
});
