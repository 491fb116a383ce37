// LruMap (core/lru.ts): the order of use, which the exchange tracker evicts by.

import { describe, expect, test } from "bun:test";
import { LruMap } from "../../core/lru.ts";

describe("LruMap", () => {
  test("use() answers like get() and makes the entry the newest; a missing key changes nothing", () => {
    const m = new LruMap<string, number>();
    m.set("a", 1);
    m.set("b", 2);
    m.set("c", 3);
    expect(m.use("a")).toBe(1);
    expect([...m.values()]).toEqual([2, 3, 1]);
    expect(m.oldest()).toEqual(["b", 2]);
    expect(m.use("x")).toBeUndefined();
    expect([...m.values()]).toEqual([2, 3, 1]);
    expect(m.use("a")).toBe(1); // already the newest
    expect([...m.values()]).toEqual([2, 3, 1]);
  });

  test("touch, set over an entry and delete keep the order whole", () => {
    const m = new LruMap<string, number>();
    for (const [k, v] of [
      ["a", 1],
      ["b", 2],
      ["c", 3],
    ] as const)
      m.set(k, v);
    m.touch("b");
    m.set("a", 10);
    expect([...m.values()]).toEqual([3, 2, 10]);
    expect(m.delete("b")).toBe(true);
    expect(m.delete("b")).toBe(false);
    expect([...m.values()]).toEqual([3, 10]);
    expect(m.oldest()).toEqual(["c", 3]);
    expect(m.size).toBe(2);
  });
});
