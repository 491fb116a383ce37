// The fuzzer's randomness: a small seeded PRNG (sfc32) and a per-case seed, so case N of a
// run is a pure function of (seed, target, N): any case can be generated again on its own
// (`bun run fuzz --target frame --seed S --case N`), in another worker, or after a crash.
//
// Why not fast-check here (it runs the property tests in test/unit/properties.test.ts)?
// Three reasons, all about the 10^6-case run: fc.assert/fc.check stop at the first failure
// and shrink, where a fuzz run must count every exception and hang and carry on; a case
// must be reproducible alone from its index (fast-check replays a run from its seed and a
// path, not one case out of a million in a fresh worker); and building inputs from shrinkable
// arbitraries costs several times what these generators cost, which at 10^6 cases is
// minutes. The generators take a Rng and use nothing else, so the inputs are the same on
// every machine and in every worker.

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128-bit state, 32-bit output. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 spreads one 32-bit seed over the state; 12 rounds mix it in.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 0x100000000;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** One of the choices, by weight: [[3, "a"], [1, "b"]] gives "a" three times as often. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let x = this.float() * total;
    for (const [w, v] of choices) if ((x -= w) < 0) return v;
    return choices[choices.length - 1][1];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      out[i] = v;
      if (i + 1 < n) out[i + 1] = v >>> 8;
      if (i + 2 < n) out[i + 2] = v >>> 16;
      if (i + 3 < n) out[i + 3] = v >>> 24;
    }
    return out;
  }

  /** A length skewed toward small values but reaching `max`: most inputs short, some long. */
  length(max: number): number {
    const r = this.float();
    return r < 0.5 ? this.int(Math.min(max, 16) + 1) : r < 0.85 ? this.int(Math.min(max, 64) + 1) : this.int(max + 1);
  }
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The seed of case `index` of `target` in a run seeded `seed`: independent of every other case. */
export function caseSeed(seed: number, target: string, index: number): number {
  let h = fmix32(seed >>> 0);
  for (let i = 0; i < target.length; i++) h = fmix32(h ^ target.charCodeAt(i));
  h = fmix32(h ^ (index >>> 0));
  return fmix32(h ^ Math.floor(index / 0x100000000));
}

export function caseRng(seed: number, target: string, index: number): Rng {
  return new Rng(caseSeed(seed, target, index));
}
