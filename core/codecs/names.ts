// DNS names in wire format (RFC 1035 4.1.4) and the options made of them: 119 domain search
// (and 88, 137, 141), 81 client FQDN (RFC 4702), 120 SIP servers (names or addresses).

import { latin1 } from "../bytes.ts";
import { ipList } from "./addresses.ts";
import { bad, type Codec, codec, CodecError, fail, ok, splitList } from "./codec.ts";
import { text } from "./text.ts";

const MAX_NAME = 255;
const MAX_EXPANSION = 8192;

/**
 * One name's presentation form is written here byte by byte ("." between labels, "\\"
 * before a "." or "\\" inside one, so names round-trip) and made a string once: one native
 * Latin-1 call per name, not one per label plus the searches and joins.
 */
const NAME_TEXT = new Uint8Array(2 * MAX_NAME);
const DOT = 0x2e,
  BACKSLASH = 0x5c;

/**
 * Decodes a run of names in b[start, end) with compression: pointers are offsets from
 * `start` (RFC 3397: into the option's own data). Only backward pointers are followed, each
 * strictly before the last, so a loop cannot form; names are capped at 255 bytes and the
 * whole expansion at 8 KiB (HOSTILE 18). Error offsets are from `start`.
 */
function readNames(b: Uint8Array, start: number, end: number, single: boolean, partialOk = false): string[] | CodecError {
  const names: string[] = [];
  let pos = start;
  let expanded = 0;
  while (pos < end) {
    let p = pos;
    let t = 0; // presentation bytes of this name in NAME_TEXT
    let nameLen = 1;
    let jumped = false;
    let lowest = pos;
    for (;;) {
      // RFC 4702 2.3.1: a partial name (no root label) ends exactly at the end of the data
      if (p >= end) {
        if (partialOk && !jumped && p === end && t > 0) {
          pos = p;
          break;
        }
        return fail("name runs past the end", p - start);
      }
      const len = b[p];
      if (len === 0) {
        if (!jumped) pos = p + 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (p + 1 >= end) return fail("truncated compression pointer", p - start);
        const target = start + (((len & 0x3f) << 8) | b[p + 1]);
        if (target >= lowest) return fail("compression pointer does not point backward", p - start);
        if (!jumped) pos = p + 2;
        jumped = true;
        lowest = target;
        p = target;
        expanded += 2; // a chain of bare pointers costs work too
        if (expanded > MAX_EXPANSION) return fail("names expand beyond 8 KiB", p - start);
        continue;
      }
      if (len > 63) return fail(`label length ${len} over 63`, p - start);
      if (p + 1 + len > end) return fail("label runs past the end", p - start);
      nameLen += len + 1;
      expanded += len + 1;
      if (nameLen > MAX_NAME) return fail("name longer than 255 bytes", p - start);
      if (expanded > MAX_EXPANSION) return fail("names expand beyond 8 KiB", p - start);
      if (t > 0) NAME_TEXT[t++] = DOT;
      for (let i = p + 1; i <= p + len; i++) {
        const ch = b[i];
        if (ch === DOT || ch === BACKSLASH) NAME_TEXT[t++] = BACKSLASH;
        NAME_TEXT[t++] = ch;
      }
      p += 1 + len;
    }
    names.push(t === 0 ? "" : latin1(NAME_TEXT, 0, t));
    if (single) break;
  }
  if (single && pos !== end) return fail("bytes after the name", pos - start);
  return names;
}

/** Labels of a name in presentation form ("\\." is a dot inside a label). */
function labelsOf(name: string): string[] {
  const labels: string[] = [];
  let cur = "";
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === "\\" && i + 1 < name.length) cur += name[++i];
    else if (ch === ".") {
      if (cur) labels.push(cur);
      cur = "";
    } else cur += ch;
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
export const domainList: Codec<string[]> = codec({
  read: (b, off, len) => (len === 0 ? fail("empty") : readNames(b, off, off + len, false)),
  encodingLength: (v) => v.reduce((n, name) => n + nameLength(name), 0),
  encode(v, buf, off) {
    let p = off;
    for (const n of v) p += writeName(n, buf, p);
    return p - off;
  },
  parse(t) {
    const names = splitList(t);
    if (!names.length) return bad("needs at least one name");
    for (const n of names) {
      const e = checkName(n);
      if (e) return bad(e);
    }
    return ok(names.map((n) => n.replace(/\.$/, "")));
  },
});

/** 81 client FQDN (RFC 4702): flags, two obsolete rcodes, and a name (wire format when E is set). */
export interface ClientFqdn {
  flags: number;
  rcode1: number;
  rcode2: number;
  name: string;
}

export const clientFqdn: Codec<ClientFqdn> = codec({
  read(b, off, len) {
    if (len < 3) return fail(`length ${len}, needs at least 3`);
    const flags = b[off];
    if (flags & 0xf0) return fail(`flags 0x${flags.toString(16)} has reserved bits set`);
    let name = "";
    if (flags & 0x04) {
      // E: canonical wire format
      if (len > 3) {
        const r = readNames(b, off + 3, off + len, true, true);
        if (r instanceof CodecError) return fail(r.reason, r.offset + 3);
        name = r[0];
      }
    } else name = latin1(b, off + 3, off + len);
    return { flags, rcode1: b[off + 1], rcode2: b[off + 2], name };
  },
  encodingLength: (v) => 3 + (v.name === "" ? 0 : v.flags & 0x04 ? nameLength(v.name) : v.name.length),
  encode(v, buf, off) {
    buf[off] = v.flags;
    buf[off + 1] = v.rcode1;
    buf[off + 2] = v.rcode2;
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
    if (name) {
      const e = checkName(name);
      if (e) return bad(e);
    }
    return ok({ flags, rcode1: 0, rcode2: 0, name });
  },
});

/** 120 SIP servers (RFC 3361): encoding byte 0 = domain names, 1 = addresses. */
export type SipServers = { names: string[] } | { addresses: string[] };

const sipAddresses = ipList();

export const sipServers: Codec<SipServers> = codec({
  read(b, off, len): SipServers | CodecError {
    if (len < 2) return fail("too short");
    if (b[off] === 0) {
      const r = domainList.read(b, off + 1, len - 1);
      return r instanceof CodecError ? fail(r.reason, r.offset + 1) : { names: r };
    }
    if (b[off] === 1) {
      const r = sipAddresses.read(b, off + 1, len - 1);
      return r instanceof CodecError ? fail(r.reason, r.offset + 1) : { addresses: r };
    }
    return fail(`unknown encoding ${b[off]}`);
  },
  encodingLength: (v) => 1 + ("names" in v ? domainList.encodingLength(v.names) : v.addresses.length * 4),
  encode(v, buf, off) {
    buf[off] = "names" in v ? 0 : 1;
    return 1 + ("names" in v ? domainList.encode(v.names, buf, off + 1) : sipAddresses.encode(v.addresses, buf, off + 1));
  },
  parse(t) {
    const a = sipAddresses.parse(t);
    if (a.ok) return ok({ addresses: a.value });
    const n = domainList.parse(t);
    return n.ok ? ok({ names: n.value }) : bad(`"${t}": give addresses or domain names`);
  },
});
