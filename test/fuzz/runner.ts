// Running a target over many cases: in workers, with a watchdog. Each worker runs a range of
// case indices (runRange) and writes the index it is on into shared memory before each case;
// the main thread watches it. A case that never returns (an infinite loop cannot be caught
// from inside its own thread) is a hang: the worker is terminated, the case is reported with
// its input, and a new worker goes on from the next index. Cases slower than the budget but
// finished are hangs too (runCase). Counts are exact: a worker reports after every failure.

import { caseRng } from "./rng.ts";
import { runCase, TARGETS, type CaseResult, type Outcome, type TargetName } from "./targets.ts";

export interface Counts {
  cases: number;
  exceptions: number;
  violations: number;
  hangs: number;
  /** Cases over budget on the first attempt but not on a retry (GC, JIT): not failures. */
  retried: number;
  /** The slowest case that ran to the end (ok or hang), as the fastest of its attempts. */
  slowestMs: number;
  slowestIndex: number;
}

export interface FailureReport {
  target: TargetName;
  seed: number;
  index: number;
  outcome: Exclude<Outcome, "ok">;
  ms: number;
  attempts: number;
  error?: CaseResult["error"];
  /** The serialized input; left out past the first `maxReported` failures of a worker. */
  input?: unknown;
}

export interface RangeJob {
  target: TargetName;
  seed: number;
  from: number;
  to: number;
  budgetMs: number;
  maxReported: number;
}

export type WorkerMessage =
  | { type: "progress"; counts: Counts }
  | { type: "failure"; counts: Counts; failure: FailureReport }
  | { type: "done"; counts: Counts };

export const zeroCounts = (): Counts => ({ cases: 0, exceptions: 0, violations: 0, hangs: 0, retried: 0, slowestMs: 0, slowestIndex: -1 });

export function addCounts(a: Counts, b: Counts): Counts {
  const slow = b.slowestMs > a.slowestMs ? b : a;
  return {
    cases: a.cases + b.cases,
    exceptions: a.exceptions + b.exceptions,
    violations: a.violations + b.violations,
    hangs: a.hangs + b.hangs,
    retried: a.retried + b.retried,
    slowestMs: slow.slowestMs,
    slowestIndex: slow.slowestIndex,
  };
}

export const failures = (c: Counts) => c.exceptions + c.violations + c.hangs;

/** A failure's kind without its numbers: the same bug found a thousand times is one line. */
export function signature(outcome: Outcome, error?: CaseResult["error"]): string {
  const first = (error?.message ?? "")
    .split("\n")[0]
    .replace(/0x[0-9a-f]+/gi, "X")
    .replace(/\d+(\.\d+)?/g, "N")
    .slice(0, 140);
  const frames = error?.stack?.split("\n").filter((l) => /^\s+at /.test(l)) ?? [];
  // where in the code under test: the first frame in core/ or cli/
  const at = (frames.find((l) => /\/(core|cli)\//.test(l)) ?? frames.find((l) => !/\/test\/fuzz\//.test(l)))?.trim() ?? "";
  return `${outcome}: ${first}${at ? `  [${at.replace(/\(.*\/([\w.-]+\.ts:\d+):\d+\)/, "($1)")}]` : ""}`;
}

/** The in-thread loop over [from, to) (a worker runs this); `current` gets each index - from. */
export function runRange(job: RangeJob, post: (m: WorkerMessage) => void, current?: Int32Array): Counts {
  const target = TARGETS[job.target];
  const counts = zeroCounts();
  let reported = 0;
  const signatures = new Set<string>(); // the first of each kind of failure is always reported in full
  let lastPost = performance.now();
  for (let i = job.from; i < job.to; i++) {
    if (current) Atomics.store(current, 0, i - job.from);
    const r = runCase(target, job.seed, i, job.budgetMs);
    counts.cases++;
    // a failing case stops at its first attempt, whose time may be a GC pause: only timed cases count
    if ((r.outcome === "ok" || r.outcome === "hang") && r.ms > counts.slowestMs) {
      counts.slowestMs = r.ms;
      counts.slowestIndex = i;
    }
    if (r.outcome === "ok") {
      if (r.attempts > 1) counts.retried++;
    } else {
      if (r.outcome === "exception") counts.exceptions++;
      else if (r.outcome === "violation") counts.violations++;
      else counts.hangs++;
      const failure: FailureReport = { target: job.target, seed: job.seed, index: i, outcome: r.outcome, ms: r.ms, attempts: r.attempts, error: r.error };
      const sig = signature(r.outcome, r.error);
      if (reported++ < job.maxReported || !signatures.has(sig)) {
        signatures.add(sig);
        try {
          failure.input = r.input === null ? null : target.serialize(r.input);
        } catch (e) {
          failure.input = `not serializable: ${String(e)}`;
        }
      }
      post({ type: "failure", counts: { ...counts }, failure });
      lastPost = performance.now();
    }
    if ((i & 63) === 0 && performance.now() - lastPost > 250) {
      post({ type: "progress", counts: { ...counts } });
      lastPost = performance.now();
    }
  }
  post({ type: "done", counts: { ...counts } });
  return counts;
}

export interface RunOptions {
  target: TargetName;
  seed: number;
  cases: number;
  /** Workers running parts of the range at once. */
  jobs: number;
  /** A case slower than this (on every attempt) is a hang. */
  budgetMs: number;
  /** A case that has not returned after this long is killed and counted as a hang. */
  killMs: number;
  /** Failures per worker whose input is serialized and reported. */
  maxReported?: number;
  onProgress?: (counts: Counts) => void;
  onFailure?: (f: FailureReport) => void;
}

/** `failures`: those with an input, and the first MAX_KEPT others (the counts are exact). */
export interface RunResult {
  counts: Counts;
  elapsedMs: number;
  failures: FailureReport[];
}

const MAX_KEPT = 1000;

const WORKER_URL = new URL("./worker.ts", import.meta.url).href;

/** Runs cases [0, cases) of a target across `jobs` workers. */
export async function runTarget(o: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const reports: FailureReport[] = [];
  const live: Counts[] = [];
  let kept = 0;
  const onFailure = (f: FailureReport) => {
    if (f.input !== undefined || kept++ < MAX_KEPT) reports.push(f);
    o.onFailure?.(f);
  };
  const progress = () => o.onProgress?.(live.reduce(addCounts, zeroCounts()));
  const jobs = Math.max(1, Math.min(o.jobs, o.cases));
  const per = Math.ceil(o.cases / jobs);
  const chunks = Array.from({ length: jobs }, (_, k) => [k * per, Math.min(o.cases, (k + 1) * per)] as const).filter(([a, b]) => a < b);
  const results = await Promise.all(
    chunks.map(([from, to], k) => {
      live[k] = zeroCounts();
      return runChunk(o, from, to, onFailure, (c) => {
        live[k] = c;
        progress();
      });
    }),
  );
  return { counts: results.reduce(addCounts, zeroCounts()), elapsedMs: performance.now() - t0, failures: reports };
}

function runChunk(o: RunOptions, from: number, to: number, onFailure: (f: FailureReport) => void, onCounts: (c: Counts) => void): Promise<Counts> {
  return new Promise((resolve, reject) => {
    let done = zeroCounts(); // sub-ranges finished before a hung worker was killed
    const start = (first: number) => {
      const current = new Int32Array(new SharedArrayBuffer(4));
      current[0] = -1;
      const worker = new Worker(WORKER_URL);
      let latest = zeroCounts();
      let seen = -1,
        since = performance.now();
      const finish = (c: Counts) => {
        clearInterval(watchdog);
        worker.terminate();
        resolve(addCounts(done, c));
      };
      const watchdog = setInterval(() => {
        const i = Atomics.load(current, 0);
        if (i !== seen) {
          seen = i;
          since = performance.now();
          return;
        }
        if (i < 0 || performance.now() - since < o.killMs) return;
        clearInterval(watchdog);
        worker.terminate();
        const index = first + i;
        const target = TARGETS[o.target];
        let input: unknown;
        try {
          input = target.serialize(target.generate(caseRng(o.seed, o.target, index)));
        } catch {
          input = null;
        }
        // the cases before `index` all returned (and every failure among them was reported)
        done = addCounts(done, { ...latest, cases: i + 1, hangs: latest.hangs + 1 });
        onCounts(done);
        onFailure({
          target: o.target,
          seed: o.seed,
          index,
          outcome: "hang",
          ms: o.killMs,
          attempts: 1,
          error: { name: "Hang", message: `did not return within ${o.killMs} ms: the worker was terminated` },
          input,
        });
        if (index + 1 < to) start(index + 1);
        else resolve(done);
      }, 50);
      worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
        const m = e.data;
        latest = m.counts;
        onCounts(addCounts(done, m.counts));
        if (m.type === "failure") onFailure(m.failure);
        if (m.type === "done") finish(m.counts);
      };
      worker.onerror = (e) => {
        clearInterval(watchdog);
        worker.terminate();
        reject(new Error(`fuzz worker failed: ${e.message}`));
      };
      const job: RangeJob = { target: o.target, seed: o.seed, from: first, to, budgetMs: o.budgetMs, maxReported: o.maxReported ?? 20 };
      worker.postMessage({ job, shared: current.buffer });
    };
    start(from);
  });
}
