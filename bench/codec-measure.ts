// The timing loop of bench/codec.ts, kept apart so the bench reads as what it measures.
// The machine is shared (other processes come and go on its 2 cores), so a rate measured
// for one second and compared with another rate measured the next second compares two
// different machines. Instead every body runs in short slices taken in turn (ours, npm,
// ours, npm, …, in a shuffled order each cycle), so a change of load falls on all bodies
// alike, and the ratio of two bodies is taken within each round before the median.

/** A body runs the operation n times and returns something derived from every result. */
export type Body = (n: number) => number;

export interface MeasureOptions {
  /** Warm-up per body before any timing (the JIT's top tier needs ~10^5 calls). */
  warmupMs: number;
  rounds: number;
  /** Time each body gets per round, in slices of sliceMs. */
  roundMs: number;
  sliceMs: number;
}

export const DEFAULTS: MeasureOptions = { warmupMs: 600, rounds: 9, roundMs: 500, sliceMs: 5 };

let sink = 0;
/** Folds every body's results so the optimiser cannot drop the work. */
export const sunk = () => sink;

/** Iterations of `body` that take about `ms` (measured once, after warm-up). */
function calibrate(body: Body, ms: number): number {
  let n = 64;
  for (;;) {
    const t0 = Bun.nanoseconds();
    sink ^= body(n);
    const dt = Bun.nanoseconds() - t0;
    if (dt >= (ms * 1e6) / 4 || n > 1 << 26) return Math.max(1, Math.round((n * ms * 1e6) / Math.max(dt, 1)));
    n *= 4;
  }
}

/** Warms every body up in turns (shuffled), so none is compiled first and the others after. */
function warmAll(bodies: Body[], ms: number): void {
  const spent = bodies.map(() => 0);
  while (spent.some((t) => t < ms * 1e6)) {
    for (const k of shuffled(bodies.length)) {
      const t0 = Bun.nanoseconds();
      sink ^= bodies[k](200);
      spent[k] += Bun.nanoseconds() - t0;
    }
  }
}

// A fixed-seed generator: the order of bodies differs from cycle to cycle (no body always runs
// right after the same other one, whose garbage or cache footprint it would inherit) and the
// same from run to run.
let seed = 0x2545f491;
function shuffled(n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const j = (seed >>> 0) % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Per body, the operations per second in each round. */
export function measureInterleaved(bodies: Body[], o: MeasureOptions = DEFAULTS): number[][] {
  warmAll(bodies, o.warmupMs);
  const batch = bodies.map((b) => calibrate(b, o.sliceMs));
  const rates: number[][] = bodies.map(() => []);
  const slices = Math.max(1, Math.round(o.roundMs / o.sliceMs));
  for (let r = 0; r < o.rounds; r++) {
    const ns = bodies.map(() => 0),
      n = bodies.map(() => 0);
    for (let s = 0; s < slices; s++) {
      const order = shuffled(bodies.length);
      for (let j = 0; j < bodies.length; j++) {
        const k = order[j];
        const t0 = Bun.nanoseconds();
        sink ^= bodies[k](batch[k]);
        ns[k] += Bun.nanoseconds() - t0;
        n[k] += batch[k];
      }
    }
    for (let k = 0; k < bodies.length; k++) rates[k].push((n[k] * 1e9) / ns[k]);
  }
  return rates;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Round-by-round ratios a ÷ b: their median, lowest and highest. */
export function pairedRatio(a: number[], b: number[]): { median: number; low: number; high: number } {
  const r = a.map((x, i) => x / b[i]);
  return { median: median(r), low: Math.min(...r), high: Math.max(...r) };
}

/** Load average and how busy the CPUs were while the bench ran (from /proc). */
export async function cpuBusy(): Promise<() => Promise<string>> {
  const read = async () => {
    const line =
      (
        await Bun.file("/proc/stat")
          .text()
          .catch(() => "")
      ).split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    return { idle: (f[3] ?? 0) + (f[4] ?? 0), total: f.reduce((x, y) => x + y, 0) };
  };
  const before = await read();
  return async () => {
    const after = await read();
    const busy = 1 - (after.idle - before.idle) / Math.max(1, after.total - before.total);
    const load = (
      await Bun.file("/proc/loadavg")
        .text()
        .catch(() => "?")
    )
      .split(" ")
      .slice(0, 3)
      .join(" ");
    return `all CPUs ${(busy * 100).toFixed(0)} % busy during the run (this bench keeps one busy), load average ${load}`;
  };
}
