// The option table against the plainest model of RFC 3396: a Map from code to the
// concatenation of its instances, in first-seen order: few codes or every code, repeats
// anywhere, and lookups of things that are not codes.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { toHex } from "../../core/bytes.ts";
import { OptionTable } from "../../core/option-table.ts";

/** Instances laid out as code, length, value in one buffer (after a few unrelated bytes). */
function table(instances: [number, Uint8Array][]): { t: OptionTable; model: Map<number, string> } {
  const size = instances.reduce((n, [, v]) => n + 2 + v.length, 3);
  const buf = new Uint8Array(size).fill(0xee);
  const t = new OptionTable(buf);
  const model = new Map<number, string>();
  let p = 3;
  for (const [code, v] of instances) {
    buf[p] = code;
    buf[p + 1] = v.length;
    buf.set(v, p + 2);
    expect(t.add(code, p + 2, v.length)).toBe((model.get(code) ?? "").length / 2 + v.length);
    model.set(code, (model.get(code) ?? "") + toHex(v));
    p += 2 + v.length;
  }
  return { t, model };
}

function expectSame(t: OptionTable, model: Map<number, string>): void {
  expect(t.size).toBe(model.size);
  expect([...t.keys()]).toEqual([...model.keys()]);
  [...model.keys()].forEach((code, slot) => {
    expect(t.slotOf(code)).toBe(slot);
    expect(t.codeAt(slot)).toBe(code);
    expect(toHex(t.get(code)!)).toBe(model.get(code)!);
    expect(t.hexAt(slot)).toBe(model.get(code)!);
    expect(t.lengthOf(code)).toBe(model.get(code)!.length / 2);
    const start = t.startAt(slot);
    expect(toHex(t.bytesAt(slot).subarray(start, start + t.lengthAt(slot)))).toBe(model.get(code)!);
  });
  for (let code = 0; code < 256; code++) expect(t.has(code)).toBe(model.has(code));
  for (const notCode of [-1, 256, 1.5, Number.NaN]) {
    expect(t.has(notCode)).toBe(false);
    expect(t.get(notCode)).toBeUndefined();
    expect(t.slotOf(notCode)).toBe(-1);
    expect(t.lengthOf(notCode)).toBe(0);
  }
}

describe("OptionTable", () => {
  test("random instances, few or many codes, repeats anywhere: reads as the model", () => {
    const instance = fc.tuple(fc.integer({ min: 1, max: 254 }), fc.uint8Array({ maxLength: 6 }));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(instance, { maxLength: 12 }),
          fc.array(instance, { minLength: 14, maxLength: 80 }),
          // a small alphabet: many repeats, before and after the index is built
          fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.uint8Array({ maxLength: 3 })), { minLength: 10, maxLength: 120 }),
        ),
        (instances) => {
          const { t, model } = table(instances);
          expectSame(t, model);
        },
      ),
      { numRuns: 600 },
    );
  });

  test("every code 1-254 once, then each again: 254 slots, each joined from two parts", () => {
    const once: [number, Uint8Array][] = Array.from({ length: 254 }, (_, i) => [i + 1, Uint8Array.of(i)]);
    const again: [number, Uint8Array][] = once.map(([c]) => [c, Uint8Array.of(0xff - c)]);
    const { t, model } = table([...once, ...again]);
    expectSame(t, model);
    expect(t.get(7)).toEqual(Uint8Array.of(6, 0xf8));
  });

  test("add refuses, and keeps nothing, when a code's total would pass the cap", () => {
    const buf = new Uint8Array(600);
    const t = new OptionTable(buf);
    expect(t.add(43, 0, 255, 300)).toBe(255);
    expect(t.add(43, 255, 255, 300)).toBe(-1);
    expect(t.lengthOf(43)).toBe(255);
    expect(t.add(44, 0, 255, 200)).toBe(-1);
    expect(t.has(44)).toBe(false);
  });
});
