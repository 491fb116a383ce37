// The shape every option codec has (the dns-packet shape): decode(bytes) → value,
// encodingLength(value), encode(value, buf, off), and parse(text) for values a user types
// (`--option 121=192.0.2.0/24,10.0.0.1`). Decoding and parsing never throw: a bad value is a
// CodecError with an offset and a reason. Values are plain JSON (strings, numbers, arrays, small
// objects), so decode(encode(v)) equals v and a decoded option prints as JSON unchanged.
// Also the few helpers the codec families share.

import { fromHex, parseIp } from "../bytes.ts";

export interface CodecError { offset: number; reason: string }
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: CodecError };

export interface Codec<T> {
  decode(b: Uint8Array): Decoded<T>;
  encodingLength(v: T): number;
  /** Writes v at buf[off…]; returns the bytes written (= encodingLength(v)). */
  encode(v: T, buf: Uint8Array, off: number): number;
  parse(text: string): Decoded<T>;
}

export const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const bad = <T>(reason: string, offset = 0): Decoded<T> => ({ ok: false, error: { offset, reason } });

/** A DataView of exactly b's bytes (b may be a view into a larger buffer). */
export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24; buf[off + 1] = (v >>> 16) & 255; buf[off + 2] = (v >>> 8) & 255; buf[off + 3] = v & 255;
}

/** An address the codec's parse() has already checked, as a number. */
export function ipU32(ip: string): number {
  return parseIp(ip) ?? 0;
}

/** What a user types as a list: items separated by commas or spaces. */
export function splitList(text: string): string[] {
  return text.split(/[,\s]+/).filter(Boolean);
}

/** An item typed as text (one byte per character) or as `hex:…` bytes. */
export function itemBytes(s: string): Uint8Array {
  if (s.startsWith("hex:")) return fromHex(s.slice(4)) ?? new Uint8Array(0);
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 255);
}
