// The shape every option codec has (the dns-packet shape): read(buffer, offset, length) →
// value, encodingLength(value), encode(value, buf, off), and parse(text) for values a user types
// (`--option 121=192.0.2.0/24,10.0.0.1`). decode(bytes) is read over a whole Uint8Array with
// the result wrapped, for callers that hold a value's own bytes. Reading and parsing never
// throw: a bad value is a CodecError with an offset and a reason. Values are plain JSON
// (strings, numbers, arrays, small objects), so decode(encode(v)) equals v and a decoded
// option prints as JSON unchanged. Also the few helpers the codec families share.

import { fromHex, parseIp } from "../bytes.ts";

/**
 * Why a value does not decode; offset is from the start of the option's data. A class, so
 * read() can return it in place of a value and the caller tells them apart with instanceof:
 * a value read costs no wrapper object (a message has a dozen options, each read per packet).
 */
export class CodecError {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: CodecError };

export interface Codec<T> {
  /**
   * The value in buf[off, off + len), read in place: no view, no copy. Reads nothing outside
   * that range, so the message buffer a value sits in can be handed over as it is.
   */
  read(buf: Uint8Array, off: number, len: number): T | CodecError;
  decode(b: Uint8Array): Decoded<T>;
  encodingLength(v: T): number;
  /** Writes v at buf[off…]; returns the bytes written (= encodingLength(v)). */
  encode(v: T, buf: Uint8Array, off: number): number;
  parse(text: string): Decoded<T>;
}

/** A codec from its read, encode and parse: decode is read over the whole array, wrapped. */
export function codec<T>(c: Omit<Codec<T>, "decode"> & { decode?: unknown }): Codec<T> {
  const read = c.read;
  return { ...c, decode: (b) => wrap(read(b, 0, b.length)) };
}

export function wrap<T>(v: T | CodecError): Decoded<T> {
  return v instanceof CodecError ? { ok: false, error: v } : { ok: true, value: v };
}

export const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const bad = <T>(reason: string, offset = 0): Decoded<T> => ({ ok: false, error: new CodecError(offset, reason) });
export const fail = (reason: string, offset = 0) => new CodecError(offset, reason);

export function readU32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 255;
  buf[off + 2] = (v >>> 8) & 255;
  buf[off + 3] = v & 255;
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
