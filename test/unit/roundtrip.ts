// One round-trip check for every codec, the dns-packet way: whatever a codec is, the same
// four promises hold for each value it can carry. Used by the table, registry and property
// tests alike, so a codec cannot pass one suite on a promise another suite never checks.

import { expect } from "bun:test";
import { toHex } from "../../core/bytes.ts";
import type { Codec } from "../../core/option-codecs.ts";

const BEFORE = 0xa5,
  AFTER = 0x5a,
  GAP = 7;

/**
 * Checks, for one value:
 * 1. encodingLength(v) is what encode returns and the bytes it actually writes;
 * 2. encode at offset 0 of an exact buffer and at an offset inside a larger buffer give the
 *    same bytes, and the sentinel bytes around the second are untouched;
 * 3. decode(encode(v)) deep-equals v;
 * 4. decoding from a subarray with a non-zero byteOffset (sentinels on both sides) equals
 *    decoding a fresh copy (STYLE.md convention 4).
 * Returns the encoded bytes.
 */
export function roundTrip<T>(codec: Codec<T>, value: T): Uint8Array {
  const len = codec.encodingLength(value);
  expect(Number.isInteger(len) && len >= 0).toBe(true);

  // Two different fills: a byte encode skipped would show up as a mismatch between them.
  const exact = new Uint8Array(len).fill(0x00);
  expect(codec.encode(value, exact, 0)).toBe(len);

  const big = new Uint8Array(GAP + len + GAP);
  big.fill(BEFORE, 0, GAP);
  big.fill(0xff, GAP, GAP + len);
  big.fill(AFTER, GAP + len);
  expect(codec.encode(value, big, GAP)).toBe(len);
  expect(toHex(big.subarray(0, GAP))).toBe(toHex(new Uint8Array(GAP).fill(BEFORE)));
  expect(toHex(big.subarray(GAP + len))).toBe(toHex(new Uint8Array(GAP).fill(AFTER)));
  expect(toHex(big.subarray(GAP, GAP + len))).toBe(toHex(exact));

  expect(codec.decode(exact)).toEqual({ ok: true, value });

  const sliced = big.subarray(GAP, GAP + len);
  expect(sliced.byteOffset).toBe(GAP);
  expect(codec.decode(sliced)).toEqual(codec.decode(exact.slice()));
  return exact;
}
