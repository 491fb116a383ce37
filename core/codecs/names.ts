// DNS names in wire format (RFC 1035 4.1.4) and the options made of them: 119 domain search
// (and 88, 137, 141), 81 client FQDN (RFC 4702), 120 SIP servers (names or addresses).

import { latin1 } from "../bytes.ts";
import { ipList } from "./addresses.ts";
import { bad, type Codec, type Decoded, ok, splitList } from "./codec.ts";
import { text } from "./text.ts";

const MAX_NAME = 255;
const MAX_EXPANSION = 8192;

/** Presentation form of one label: "." and "\\" inside a label are escaped, so names round-trip. */
function labelText(b: Uint8Array, start: number, end: number): string {
  const s = latin1(b, start, end);
  return s.includes(".") || s.includes("\\") ? s.replace(/[\\.]/g, (ch) => "\\" + ch) : s;
}

/**
 * Decodes a run of names with compression: pointers are offsets into the same data
 * (RFC 3397). Only backward pointers are followed, each strictly before the last, so a loop
 * cannot form; names are capped at 255 bytes and the whole expansion at 8 KiB (HOSTILE 18).
 */
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
