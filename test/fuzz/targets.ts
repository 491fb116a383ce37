// The fuzz targets, as plain functions over a seed: generate(rng) makes one input, run(input)
// puts it through the code under test and throws on an uncaught exception (any Error) or a
// broken invariant (a Violation). Shared by scripts/fuzz.ts (10^6 cases a target) and
// test/fuzz/fuzz.test.ts (a short run in the suite).
//
//   frame   bytes as a receive path or `lease decode` gets them: see frame-target.ts
//   engine  a sequence of events through the client state machine: see engine-target.ts

import { toHex } from "../../core/bytes.ts";
import { runEngine, serializeEngine, type EngineInput } from "./engine-target.ts";
import { generateFrameInput, type FrameInput } from "./frame-input.ts";
import { runFrame } from "./frame-target.ts";
import { Violation } from "./invariants.ts";
import { caseRng, type Rng } from "./rng.ts";

export interface FuzzTarget<I> {
  name: TargetName;
  generate(rng: Rng): I;
  run(input: I): void;
  /** What goes into a crash file: enough to see the input and to replay it. */
  serialize(input: I): unknown;
}

export type TargetName = "frame" | "engine" | "selftest";

export const frameTarget: FuzzTarget<FrameInput> = {
  name: "frame",
  generate: generateFrameInput,
  run: runFrame,
  serialize: (i) => ({ shape: i.shape, csum: i.csum, withHex: i.withHex, recipe: i.recipe.join(" "), length: i.bytes.length, hex: toHex(i.bytes) }),
};

export const engineTarget: FuzzTarget<EngineInput> = {
  name: "engine",
  generate: (rng) => ({ seed: rng.u32() }),
  run: runEngine,
  serialize: serializeEngine,
};

/**
 * The runner's own check (test/fuzz/fuzz.test.ts): a target whose cases do, by the value
 * drawn, nothing, throw, break an invariant, run over the budget, or never return. Not in
 * TARGET_NAMES: `bun run fuzz` leaves it out unless asked for by name.
 */
export const selftestTarget: FuzzTarget<{ kind: SelftestKind }> = {
  name: "selftest",
  generate: (rng) => ({ kind: selftestKind(rng.u32()) }),
  run(input) {
    switch (input.kind) {
      case "throw":
        throw new TypeError("selftest: thrown");
      case "violation":
        throw new Violation("selftest: broken invariant");
      case "slow": {
        const end = performance.now() + 80;
        while (performance.now() < end);
        return;
      }
      case "spin":
        for (;;); // never returns: only the watchdog ends it
      case "ok":
        return;
    }
  },
  serialize: (i) => i,
};

export type SelftestKind = "ok" | "throw" | "violation" | "slow" | "spin";
export function selftestKind(v: number): SelftestKind {
  const x = v % 1000;
  return x < 3 ? "spin" : x < 8 ? "slow" : x < 40 ? "throw" : x < 80 ? "violation" : "ok";
}

export const TARGETS: Record<TargetName, FuzzTarget<any>> = { frame: frameTarget, engine: engineTarget, selftest: selftestTarget };
/** The targets `bun run fuzz` runs by default. */
export const TARGET_NAMES: TargetName[] = ["frame", "engine"];

export type Outcome = "ok" | "exception" | "violation" | "hang";

export interface CaseResult {
  outcome: Outcome;
  /** The run's time in ms: the fastest of the attempts when the first was over budget. */
  ms: number;
  /** Attempts made: more than 1 when the first was over the time budget. */
  attempts: number;
  error?: { name: string; message: string; stack?: string };
  input: unknown;
}

/** Attempts of a case over budget, in a row and then after a pause, before it is a hang. */
const ATTEMPTS_AT_ONCE = 3,
  ATTEMPTS_AFTER_PAUSE = 2,
  PAUSE_MS = 200;

/** Lets other processes run for a moment (a loaded machine makes any case slow). */
function pause(ms: number): void {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  } catch {
    /* not allowed here: go on */
  }
}

function errorInfo(e: unknown): CaseResult["error"] {
  return e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : { name: typeof e, message: String(e) };
}

/**
 * Case `index` of a run: generate its input from (seed, target, index), run it, time it.
 * A case over `budgetMs` is run again, at once and after a pause (a GC pause, the JIT's
 * first compile or a busy machine is not the input's fault); it is a hang only when every
 * attempt is over. Never throws.
 */
export function runCase(target: FuzzTarget<any>, seed: number, index: number, budgetMs: number): CaseResult {
  let input: unknown;
  try {
    input = target.generate(caseRng(seed, target.name, index));
  } catch (e) {
    // a bug in the generator, not in the code under test, but a failure all the same
    return { outcome: "exception", ms: 0, attempts: 1, error: { ...errorInfo(e)!, message: "generator: " + errorInfo(e)!.message }, input: null };
  }
  let best = Infinity,
    attempts = 0;
  for (;;) {
    attempts++;
    const t0 = performance.now();
    try {
      target.run(input);
    } catch (e) {
      const ms = performance.now() - t0;
      return { outcome: e instanceof Violation ? "violation" : "exception", ms, attempts, error: errorInfo(e), input };
    }
    best = Math.min(best, performance.now() - t0);
    if (best <= budgetMs) return { outcome: "ok", ms: best, attempts, input };
    if (attempts >= ATTEMPTS_AT_ONCE + ATTEMPTS_AFTER_PAUSE)
      return {
        outcome: "hang",
        ms: best,
        attempts,
        error: { name: "Hang", message: `${best.toFixed(1)} ms on each of ${attempts} attempts, budget ${budgetMs} ms` },
        input,
      };
    if (attempts === ATTEMPTS_AT_ONCE) pause(PAUSE_MS);
  }
}
