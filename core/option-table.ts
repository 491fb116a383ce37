// Where a decoded message keeps its options: not a Map of copied views but one packed
// number per option (its offset and length in the message) and an index by code, so
// decoding a message allocates almost nothing and a value becomes a Uint8Array view only
// when someone reads it. Repeated codes (RFC 3396) keep their parts and are joined once,
// on first read (so a flood of repeats costs linear time, not quadratic).
// It reads like a ReadonlyMap<number, Uint8Array>: get, has, size, keys, entries, iteration.

import { hexRange } from "./bytes.ts";

export class OptionTable implements ReadonlyMap<number, Uint8Array> {
  /** Codes in first-seen order. */
  private readonly codes: number[] = [];
  /** Per slot: start offset and (total) length in `buf`. */
  private readonly starts: number[] = [];
  private readonly lengths: number[] = [];
  /** Repeated codes: every part as start, length pairs; and the joined copy once made. */
  private parts: (number[] | undefined)[] | undefined;
  private joined: (Uint8Array | undefined)[] | undefined;
  /** code → slot + 1 (0: absent). */
  private readonly index = new Uint8Array(256);

  constructor(private readonly buf: Uint8Array) {}

  /**
   * Adds an option's value (buf[start, start+len)); a repeat is appended to the first. Returns
   * the code's total length, or -1 (and adds nothing) when that would pass maxTotal.
   */
  add(code: number, start: number, len: number, maxTotal = Infinity): number {
    const slot = this.index[code];
    if ((slot === 0 ? 0 : this.lengths[slot - 1]) + len > maxTotal) return -1;
    if (slot === 0) {
      this.codes.push(code);
      this.starts.push(start);
      this.lengths.push(len);
      this.index[code] = this.codes.length;
      return len;
    }
    const i = slot - 1;
    const parts = ((this.parts ??= [])[i] ??= [this.starts[i], this.lengths[i]]);
    parts.push(start, len);
    if (this.joined) this.joined[i] = undefined;
    this.lengths[i] += len;
    return this.lengths[i];
  }

  private join(i: number): Uint8Array {
    const cached = this.joined?.[i];
    if (cached) return cached;
    const parts = this.parts![i]!;
    const out = new Uint8Array(this.lengths[i]);
    for (let k = 0, o = 0; k < parts.length; k += 2) {
      out.set(this.buf.subarray(parts[k], parts[k] + parts[k + 1]), o);
      o += parts[k + 1];
    }
    (this.joined ??= [])[i] = out;
    return out;
  }

  /** The slot (first-seen order) of a code, or -1. */
  slotOf(code: number): number {
    return (this.index[code] ?? 0) - 1; // not a code (-1, 256, 1.5): absent
  }

  codeAt(slot: number): number {
    return this.codes[slot];
  }

  /**
   * Where a slot's value lies, to be read in place (bytesAt(slot)[startAt(slot) …] for
   * lengthAt(slot) bytes): the message itself, or for a repeated code its joined copy.
   */
  bytesAt(slot: number): Uint8Array {
    return this.parts?.[slot] ? this.join(slot) : this.buf;
  }

  startAt(slot: number): number {
    return this.parts?.[slot] ? 0 : this.starts[slot];
  }

  lengthAt(slot: number): number {
    return this.lengths[slot];
  }

  /** A slot's value as hex, for showing it beside its typed value. */
  hexAt(slot: number): string {
    const start = this.startAt(slot);
    return hexRange(this.bytesAt(slot), start, start + this.lengths[slot]);
  }

  /** Length of a code's value without making a view (0 when absent). */
  lengthOf(code: number): number {
    const i = this.slotOf(code);
    return i < 0 ? 0 : this.lengths[i];
  }

  /** First byte of a code's value, or -1. */
  byteOf(code: number): number {
    const i = this.slotOf(code);
    return i < 0 || this.lengths[i] === 0 ? -1 : this.bytesAt(i)[this.startAt(i)];
  }

  get(code: number): Uint8Array | undefined {
    const i = this.slotOf(code);
    if (i < 0) return undefined;
    if (this.parts?.[i]) return this.join(i);
    const s = this.starts[i];
    return this.buf.subarray(s, s + this.lengths[i]);
  }

  has(code: number): boolean {
    return this.slotOf(code) >= 0;
  }

  get size(): number {
    return this.codes.length;
  }

  // Arrays, not generators: a generator costs ~100 ns a step in JSC, more than the views.
  entries(): MapIterator<[number, Uint8Array]> {
    return this.codes.map((code) => [code, this.get(code)!] as [number, Uint8Array])[Symbol.iterator]();
  }

  keys(): MapIterator<number> {
    return this.codes.slice()[Symbol.iterator]();
  }

  values(): MapIterator<Uint8Array> {
    return this.codes.map((code) => this.get(code)!)[Symbol.iterator]();
  }

  [Symbol.iterator](): MapIterator<[number, Uint8Array]> {
    return this.entries();
  }

  forEach(fn: (value: Uint8Array, key: number, map: ReadonlyMap<number, Uint8Array>) => void): void {
    for (const code of this.codes) fn(this.get(code)!, code, this);
  }
}
