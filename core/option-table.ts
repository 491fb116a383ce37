// Where a decoded message keeps its options: not a Map of copied views but, in one Int32Array,
// an index by code and three numbers per option (code, offset and length in the message), so
// decoding a message allocates one small array and a value is read in place (optionAt) or
// becomes a Uint8Array view only when someone asks for one. (Three growing JS arrays and a
// separate index cost 1.2 x more decodeMessage time; scanning the codes instead of an index
// costs more than the index.) Repeated codes (RFC 3396) keep their parts and are joined once,
// on first read (so a flood of repeats costs linear time, not quadratic).
// It reads like a ReadonlyMap<number, Uint8Array>: get, has, size, keys, entries, iteration.

import { hexRange } from "./bytes.ts";

/** The index by code: a byte per code (slot + 1, 0 absent), four to an int: 64 ints. */
const INDEX_INTS = 64;
/** Slots a table starts with room for (a reply has 8-15 options); it grows past them. */
const FIRST_ROOM = 24;

export class OptionTable implements ReadonlyMap<number, Uint8Array> {
  /**
   * One allocation for the whole table: the index by code, then per slot (first-seen order)
   * its code, start offset in `buf` and (total) length.
   */
  private t = new Int32Array(INDEX_INTS + 3 * FIRST_ROOM);
  private count = 0;
  /** Repeated codes: every part as start, length pairs; and the joined copy once made. */
  private parts: (number[] | undefined)[] | undefined;
  private joined: (Uint8Array | undefined)[] | undefined;

  constructor(private readonly buf: Uint8Array) {}

  /**
   * Adds an option's value (buf[start, start+len)); a repeat is appended to the first. Returns
   * the code's total length, or -1 (and adds nothing) when that would pass maxTotal.
   */
  add(code: number, start: number, len: number, maxTotal = Infinity): number {
    const i = this.slotOf(code);
    let t = this.t;
    if (i >= 0) {
      const total = t[INDEX_INTS + 3 * i + 2] + len;
      if (total > maxTotal) return -1;
      const parts = ((this.parts ??= [])[i] ??= [t[INDEX_INTS + 3 * i + 1], t[INDEX_INTS + 3 * i + 2]]);
      parts.push(start, len);
      if (this.joined) this.joined[i] = undefined;
      return (t[INDEX_INTS + 3 * i + 2] = total);
    }
    if (len > maxTotal) return -1;
    const n = this.count;
    if (INDEX_INTS + 3 * n + 3 > t.length) {
      const grown = new Int32Array(INDEX_INTS + 6 * n);
      grown.set(t);
      this.t = t = grown;
    }
    t[INDEX_INTS + 3 * n] = code;
    t[INDEX_INTS + 3 * n + 1] = start;
    t[INDEX_INTS + 3 * n + 2] = len;
    t[code >> 2] |= (n + 1) << ((code & 3) << 3);
    this.count = n + 1;
    return len;
  }

  private join(i: number): Uint8Array {
    const cached = this.joined?.[i];
    if (cached) return cached;
    const parts = this.parts![i]!;
    const out = new Uint8Array(this.lengthAt(i));
    for (let k = 0, o = 0; k < parts.length; k += 2) {
      out.set(this.buf.subarray(parts[k], parts[k] + parts[k + 1]), o);
      o += parts[k + 1];
    }
    (this.joined ??= [])[i] = out;
    return out;
  }

  /** The slot (first-seen order) of a code, or -1. */
  slotOf(code: number): number {
    if (code !== (code & 255)) return -1; // not a code (-1, 256, 1.5, NaN): absent
    return ((this.t[code >> 2] >>> ((code & 3) << 3)) & 255) - 1;
  }

  codeAt(slot: number): number {
    return this.t[INDEX_INTS + 3 * slot];
  }

  /**
   * Where a slot's value lies, to be read in place (bytesAt(slot)[startAt(slot) …] for
   * lengthAt(slot) bytes): the message itself, or for a repeated code its joined copy.
   */
  bytesAt(slot: number): Uint8Array {
    return this.parts?.[slot] ? this.join(slot) : this.buf;
  }

  startAt(slot: number): number {
    return this.parts?.[slot] ? 0 : this.t[INDEX_INTS + 3 * slot + 1];
  }

  lengthAt(slot: number): number {
    return this.t[INDEX_INTS + 3 * slot + 2];
  }

  /** A slot's value as hex, for showing it beside its typed value. */
  hexAt(slot: number): string {
    const start = this.startAt(slot);
    return hexRange(this.bytesAt(slot), start, start + this.lengthAt(slot));
  }

  /** Length of a code's value without making a view (0 when absent). */
  lengthOf(code: number): number {
    const i = this.slotOf(code);
    return i < 0 ? 0 : this.lengthAt(i);
  }

  /** First byte of a code's value, or -1. */
  byteOf(code: number): number {
    const i = this.slotOf(code);
    return i < 0 || this.lengthAt(i) === 0 ? -1 : this.bytesAt(i)[this.startAt(i)];
  }

  get(code: number): Uint8Array | undefined {
    const i = this.slotOf(code);
    if (i < 0) return undefined;
    if (this.parts?.[i]) return this.join(i);
    const s = this.startAt(i);
    return this.buf.subarray(s, s + this.lengthAt(i));
  }

  has(code: number): boolean {
    return this.slotOf(code) >= 0;
  }

  get size(): number {
    return this.count;
  }

  private codes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.codeAt(i));
    return out;
  }

  // Arrays, not generators: a generator costs ~100 ns a step in JSC, more than the views.
  entries(): MapIterator<[number, Uint8Array]> {
    return this.codes()
      .map((code) => [code, this.get(code)!] as [number, Uint8Array])
      [Symbol.iterator]();
  }

  keys(): MapIterator<number> {
    return this.codes()[Symbol.iterator]();
  }

  values(): MapIterator<Uint8Array> {
    return this.codes()
      .map((code) => this.get(code)!)
      [Symbol.iterator]();
  }

  [Symbol.iterator](): MapIterator<[number, Uint8Array]> {
    return this.entries();
  }

  forEach(fn: (value: Uint8Array, key: number, map: ReadonlyMap<number, Uint8Array>) => void): void {
    for (const code of this.codes()) fn(this.get(code)!, code, this);
  }
}
