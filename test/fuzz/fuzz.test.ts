// The fuzz targets (targets.ts) for a short run, its own step of the test run: 20 000 frame
// inputs and 2 000 engine sequences, in workers with the hang watchdog, must give 0
// exceptions, 0 broken invariants and 0 hangs. `bun run fuzz` runs 10^6 of each.
// As in properties.test.ts, FUZZ_RUNS=<n> sets the frame cases (engine: n/10) and
// FUZZ_SEED=<n> the seed. A failure names the case; `bun run fuzz --target T --seed S
// --case I` replays it alone with its input and stack.

import { describe, expect, test } from "bun:test";
import { runTarget, type FailureReport, type RunResult } from "./runner.ts";
import { caseRng } from "./rng.ts";
import { selftestTarget, type TargetName } from "./targets.ts";

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS) || 0;
const SEED = Number(process.env.FUZZ_SEED) || 0x0dc9;
const JOBS = Math.max(1, Math.min(2, navigator.hardwareConcurrency || 1));
const TIMEOUT = FUZZ_RUNS ? 3_600_000 : 60_000;

/** The failures, one line each (distinct messages first), for the assertion to show. */
function described(fs: FailureReport[]): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const f of [...fs].sort((a, b) => a.index - b.index)) {
    const msg = (f.error?.message ?? "").split("\n")[0].slice(0, 300);
    const key = f.outcome + msg.replace(/0x[0-9a-f]+|\d+(\.\d+)?/gi, "N");
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(`${f.outcome} in case ${f.index}: ${msg}  (replay: bun run fuzz --target ${f.target} --seed ${f.seed} --case ${f.index})`);
  }
  return lines.slice(0, 8);
}

async function run(target: TargetName, cases: number): Promise<RunResult> {
  return runTarget({ target, seed: SEED, cases, jobs: JOBS, budgetMs: 50, killMs: 10_000, maxReported: 5 });
}

describe("fuzz targets, short run", () => {
  test(
    "frame: random and mutated frames, messages, captures and hex through parse, decode, render",
    async () => {
      const cases = FUZZ_RUNS || 20_000;
      const r = await run("frame", cases);
      expect(described(r.failures)).toEqual([]);
      expect(r.counts).toMatchObject({ cases, exceptions: 0, violations: 0, hangs: 0 });
    },
    TIMEOUT,
  );

  test(
    "engine: event sequences through step() against a fake clock and server",
    async () => {
      const cases = FUZZ_RUNS ? Math.ceil(FUZZ_RUNS / 10) : 2_000;
      const r = await run("engine", cases);
      expect(described(r.failures)).toEqual([]);
      expect(r.counts).toMatchObject({ cases, exceptions: 0, violations: 0, hangs: 0 });
    },
    TIMEOUT,
  );
});

describe("the runner counts what it should", () => {
  test("exceptions, violations, over-budget cases and cases that never return are each counted, and the run goes on", async () => {
    // 120 cases of the selftest target hold a few of each kind (see selftestKind); the
    // expected counts come from generating the same inputs here.
    const cases = 120,
      seed = 3;
    const kinds = Array.from({ length: cases }, (_, i) => selftestTarget.generate(caseRng(seed, "selftest", i)).kind);
    const count = (k: string) => kinds.filter((x) => x === k).length;
    expect(count("spin")).toBeGreaterThan(0);
    expect(count("slow")).toBeGreaterThan(0);
    const r = await runTarget({ target: "selftest", seed, cases, jobs: 2, budgetMs: 50, killMs: 1500, maxReported: 100 });
    expect(r.counts).toMatchObject({
      cases,
      exceptions: count("throw"),
      violations: count("violation"),
      hangs: count("spin") + count("slow"),
    });
    const hangs = r.failures
      .filter((f) => f.outcome === "hang")
      .map((f) => f.index)
      .sort((a, b) => a - b);
    expect(hangs).toEqual(kinds.flatMap((k, i) => (k === "spin" || k === "slow" ? [i] : [])));
    expect(r.failures.every((f) => f.input !== undefined)).toBe(true);
  }, 30_000);
});
