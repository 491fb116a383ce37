// Small helpers for the wire formats: IPv4 addresses, MAC addresses, hex.
// Pure: no IO. Addresses travel through the codebase as dotted strings (what users
// type and read); the codec converts at the edge.

// The text of recently seen addresses, by a hash of the address: a server's replies carry
// the same server id, mask, routers, DNS and NTP servers in every packet, and 0.0.0.0 fills
// most ciaddr, siaddr and giaddr. A hit is a lookup instead of formatting four numbers, and
// the string it returns has been flattened already if it was printed before.
const SEEN_BITS = 10;
const seenAddress = new Int32Array(1 << SEEN_BITS); // the address, as a signed 32-bit value
const seenText: string[] = []; // its text (0 → 0.0.0.0)
// Plain loops for the module's tables: a builtin's first call (Array.from, fill) costs a
// one-shot ~0.1-0.2 ms of compiling it (the compiled binary starts in the interpreter).
for (let i = 0; i < 1 << SEEN_BITS; i++) seenText.push("0.0.0.0");

/** The dotted text of the address v (a 32-bit value, signed or not). */
function addressText(v: number): string {
  const key = v | 0;
  const i = (key ^ (key >>> 8) ^ (key >>> 16) ^ (key >>> 24)) & ((1 << SEEN_BITS) - 1);
  if (seenAddress[i] === key) return seenText[i];
  const text = `${(key >>> 24) & 255}.${(key >>> 16) & 255}.${(key >>> 8) & 255}.${key & 255}`;
  seenAddress[i] = key;
  seenText[i] = text;
  return text;
}

// And the xid's text: the packets of one exchange share it.
const seenXid = new Int32Array(1 << SEEN_BITS).fill(-1);
const seenXidText: string[] = new Array<string>(1 << SEEN_BITS).fill("0xffffffff");

/** "0x" and the xid in 8 hex digits, as watch and lease decode show it. */
export function xidText(xid: number): string {
  const key = xid | 0;
  const i = (key ^ (key >>> 8) ^ (key >>> 16) ^ (key >>> 24)) & ((1 << SEEN_BITS) - 1);
  if (seenXid[i] === key) return seenXidText[i];
  const text = "0x" + (xid >>> 0).toString(16).padStart(8, "0");
  seenXid[i] = key;
  seenXidText[i] = text;
  return text;
}

export function ipFromBytes(b: Uint8Array, off: number): string {
  return addressText((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]);
}

/**
 * Parses a dotted quad; returns null for anything that is not exactly one (four parts of 1-3
 * digits, each at most 255). A loop over the characters, not split and a regex: every message
 * built and every frame framed converts a handful of addresses, thousands a second under load.
 */
export function parseIp(text: string): number | null {
  let v = 0,
    part = 0,
    digits = 0,
    dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return null;
      part = part * 10 + (c - 48);
    } else if (c === 46 && digits > 0 && dots < 3) {
      if (part > 255) return null;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0 || part > 255) return null;
  return (v * 256 + part) >>> 0;
}

export function ipToU32(text: string): number {
  const v = parseIp(text);
  if (v === null) throw new RangeError(`not an IPv4 address: ${text}`);
  return v;
}

export function u32ToIp(v: number): string {
  return addressText(v);
}

export function writeIp(b: Uint8Array, off: number, ip: string): void {
  const v = ipToU32(ip);
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 255;
  b[off + 2] = (v >>> 8) & 255;
  b[off + 3] = v & 255;
}

const HEX_PAIRS: string[] = [];
for (let i = 0; i < 256; i++) HEX_PAIRS.push((i < 16 ? "0" : "") + i.toString(16));

// The same for MAC addresses: a link's packets name the same few hundred stations (and the
// broadcast address) over and over; each packet shows two or three. A hit also hands the JSON
// writer and the exchange tracker's map a string that is flat and hashed already.
const MAC_BITS = 10;
const seenMacHi = new Int32Array(1 << MAC_BITS).fill(-1); // the first two bytes (never -1)
const seenMacLo = new Int32Array(1 << MAC_BITS); // the last four
const seenMacText: string[] = new Array<string>(1 << MAC_BITS).fill("");

export function macToString(b: Uint8Array, off = 0): string {
  const hi = (b[off] << 8) | b[off + 1];
  const lo = (b[off + 2] << 24) | (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5];
  const i = (lo ^ (lo >>> 10) ^ (lo >>> 20) ^ hi) & ((1 << MAC_BITS) - 1);
  if (seenMacLo[i] === lo && seenMacHi[i] === hi) return seenMacText[i];
  const text = `${HEX_PAIRS[b[off]]}:${HEX_PAIRS[b[off + 1]]}:${HEX_PAIRS[b[off + 2]]}:${HEX_PAIRS[b[off + 3]]}:${HEX_PAIRS[b[off + 4]]}:${HEX_PAIRS[b[off + 5]]}`;
  seenMacHi[i] = hi;
  seenMacLo[i] = lo;
  seenMacText[i] = text;
  return text;
}

/** Accepts aa:bb:cc:dd:ee:ff, aa-bb-…, or aabbccddeeff. */
export function parseMac(text: string): Uint8Array | null {
  const hex = text.replace(/[:\-.]/g, "");
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(b: Uint8Array, sep = ""): string {
  if (sep === "") return hexRange(b, 0, b.length);
  let s = "";
  for (let i = 0; i < b.length; i++) s += (i ? sep : "") + HEX_PAIRS[b[i]];
  return s;
}

/** Hex of b[start, end), without making a view of it. */
export function hexRange(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += HEX_PAIRS[b[i]];
  return s;
}

export function fromHex(text: string): Uint8Array | null {
  const clean = text.replace(/[\s:]/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return null;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Node's Buffer (a global in Bun too, no IO) has a native ISO-8859-1 decoder that works on
// any Uint8Array. TextDecoder("latin1") is not one: by WHATWG it is windows-1252, which
// would turn 0x80-0x9f into other characters and hide C1 controls from the escaper.
const nativeLatin1 = (globalThis as { Buffer?: { prototype: { latin1Slice?: (s: number, e: number) => string } } }).Buffer?.prototype.latin1Slice;

/** Latin-1 decode of b[start, end): one char per byte, so nothing is lost and escaping sees every byte. */
export function latin1(b: Uint8Array, start = 0, end = b.length): string {
  if (nativeLatin1) return nativeLatin1.call(b, start, end);
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

export function isBroadcastMac(b: Uint8Array, off = 0): boolean {
  for (let i = 0; i < 6; i++) if (b[off + i] !== 0xff) return false;
  return true;
}
