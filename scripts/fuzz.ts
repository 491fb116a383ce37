// bun run fuzz [--cases N] [--seed S|random] [--target frame|engine|all] [--jobs J]
//              [--budget MS] [--kill MS] [--case I]
//
// Runs the fuzz targets of test/fuzz/targets.ts: 10^6 cases per target by default, spread
// over J workers (default: one per CPU), with a watchdog that turns a case that never returns
// into a reported hang. Prints progress on stderr and, per target, one summary line on
// stdout: cases, exceptions, violations, hangs, the slowest case, the seed. Every failing
// input goes to test/fuzz/crashes/ (gitignored); the exit status is 1 when anything failed.
// A case is a function of (seed, target, index): `--case I` runs that one alone, in this
// process, and prints its input and stack.

import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadTable } from "../cli/render-table.ts";
import { fromHex } from "../core/bytes.ts";
import { failures, runTarget, signature, type Counts, type FailureReport } from "../test/fuzz/runner.ts";
import { caseRng } from "../test/fuzz/rng.ts";
import { runCase, TARGET_NAMES, TARGETS, type TargetName } from "../test/fuzz/targets.ts";

const CRASH_DIR = `${import.meta.dir}/../test/fuzz/crashes`;
const SAVED_PER_TARGET = 50;

function usage(msg?: string): never {
  if (msg) console.error(`fuzz: ${msg}`);
  console.error("usage: bun run fuzz [--cases N] [--seed S|random] [--target frame|engine|all] [--jobs J] [--budget MS] [--kill MS] [--case I]");
  process.exit(2);
}

function parseArgs(argv: string[]) {
  const o = {
    cases: 1_000_000,
    seed: Number(process.env.FUZZ_SEED) || 0x0dc9,
    targets: TARGET_NAMES,
    jobs: navigator.hardwareConcurrency || 1,
    budgetMs: 50,
    killMs: 10_000,
    only: null as number | null,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v;
    };
    const int = (min: number) => {
      const v = value();
      const n = Number(v.replace(/_/g, ""));
      if (!Number.isInteger(n) || n < min) usage(`${flag} ${v}: a whole number >= ${min}`);
      return n;
    };
    switch (flag) {
      case "--cases":
        o.cases = int(1);
        break;
      case "--seed": {
        const v = value();
        o.seed = v === "random" ? Math.floor(Math.random() * 0x100000000) : Number(v);
        if (!Number.isInteger(o.seed)) usage(`--seed ${v}`);
        break;
      }
      case "--target": {
        const v = value();
        if (v !== "all" && !(v in TARGETS)) usage(`--target ${v}`);
        o.targets = v === "all" ? TARGET_NAMES : [v as TargetName];
        break;
      }
      case "--jobs":
        o.jobs = int(1);
        break;
      case "--budget":
        o.budgetMs = int(1);
        break;
      case "--kill":
        o.killMs = int(100);
        break;
      case "--case":
        o.only = int(0);
        break;
      case "-h":
      case "--help":
        return usage();
      default:
        usage(`unknown argument ${flag}`);
    }
  }
  return o;
}

function save(f: FailureReport): string {
  mkdirSync(CRASH_DIR, { recursive: true });
  const base = `${CRASH_DIR}/${f.target}-seed${f.seed}-case${f.index}-${f.outcome}`;
  const replay = `bun run fuzz --target ${f.target} --seed ${f.seed} --case ${f.index}`;
  writeFileSync(`${base}.json`, JSON.stringify({ replay, ...f }, null, 2) + "\n");
  const hex = (f.input as { hex?: unknown } | undefined)?.hex;
  if (typeof hex === "string") writeFileSync(`${base}.bin`, fromHex(hex) ?? new Uint8Array(0)); // for `dhcptool lease decode`
  return base;
}

/** Files of an earlier run with the same target and seed would be found again (or are fixed): remove them. */
function clearSaved(t: TargetName, seed: number): void {
  let names: string[] = [];
  try {
    names = readdirSync(CRASH_DIR);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(`${t}-seed${seed}-`)) rmSync(`${CRASH_DIR}/${n}`, { force: true });
}

const fmt = (n: number) => n.toLocaleString("en-US");

function summaryLine(t: TargetName, c: Counts, seed: number, ms: number): string {
  return (
    `${t.padEnd(6)}  cases ${fmt(c.cases)}  exceptions ${c.exceptions}  violations ${c.violations}  hangs ${c.hangs}` +
    `  slowest ${c.slowestMs.toFixed(1)} ms (case ${c.slowestIndex})  retried ${c.retried}  seed ${seed}` +
    `  ${(ms / 1000).toFixed(1)} s  ${fmt(Math.round(c.cases / (ms / 1000)))} cases/s`
  );
}

function runOne(t: TargetName, seed: number, index: number, budgetMs: number): boolean {
  const target = TARGETS[t];
  const r = runCase(target, seed, index, budgetMs);
  console.log(`${t} seed ${seed} case ${index}: ${r.outcome} in ${r.ms.toFixed(2)} ms (${r.attempts} attempt(s))`);
  const input = r.input ?? target.generate(caseRng(seed, t, index));
  console.log(JSON.stringify(target.serialize(input), null, 2));
  if (r.error) console.log(r.error.stack ?? `${r.error.name}: ${r.error.message}`);
  return r.outcome === "ok";
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.only !== null) await loadTable(); // a replay runs the frame target here, not in a worker
  if (o.only !== null) process.exit(o.targets.map((t) => runOne(t, o.seed, o.only!, o.budgetMs)).every(Boolean) ? 0 : 1);

  const tty = process.stderr.isTTY;
  let failed = false;
  const lines: string[] = [];
  for (const t of o.targets) {
    console.error(`fuzz ${t}: ${fmt(o.cases)} cases, seed ${o.seed}, ${o.jobs} worker(s), budget ${o.budgetMs} ms a case`);
    const t0 = performance.now();
    let lastPrint = 0;
    const groups = new Map<string, { count: number; first: FailureReport; file?: string }>();
    let saved = 0;
    clearSaved(t, o.seed);
    const r = await runTarget({
      target: t,
      seed: o.seed,
      cases: o.cases,
      jobs: o.jobs,
      budgetMs: o.budgetMs,
      killMs: o.killMs,
      onProgress(c) {
        const now = performance.now();
        if (now - lastPrint < (tty ? 1000 : 10_000)) return;
        lastPrint = now;
        const s = (now - t0) / 1000;
        const line =
          `  ${t} ${((100 * c.cases) / o.cases).toFixed(1)}%  ${fmt(c.cases)}/${fmt(o.cases)}  ${fmt(Math.round(c.cases / s))} cases/s` +
          `  exceptions ${c.exceptions}  violations ${c.violations}  hangs ${c.hangs}  slowest ${c.slowestMs.toFixed(1)} ms`;
        process.stderr.write(tty ? `\r${line}\x1b[K` : line + "\n");
      },
      onFailure(f) {
        const key = signature(f.outcome, f.error);
        let g = groups.get(key);
        if (g) {
          g.count++;
          if (f.index < g.first.index) g.first = f;
        } else groups.set(key, (g = { count: 1, first: f }));
        // the first input of each kind of failure, and a few more
        if (f.input !== undefined && (!g.file || saved < SAVED_PER_TARGET)) {
          const file = save(f);
          saved++;
          g.file ??= file;
        }
      },
    });
    if (tty) process.stderr.write("\r\x1b[K");
    const line = summaryLine(t, r.counts, o.seed, r.elapsedMs);
    lines.push(line);
    console.log(line);
    for (const [key, g] of [...groups].sort((a, b) => b[1].count - a[1].count)) {
      console.log(`  ${String(g.count).padStart(7)} × ${key}`);
      console.log(`            lowest case ${g.first.index}${g.file ? `; saved: ${g.file.replace(/^.*\/test\//, "test/")}.json` : ""}`);
    }
    if (failures(r.counts)) failed = true;
  }
  if (o.targets.length > 1) {
    console.log("summary:");
    for (const l of lines) console.log("  " + l);
  }
  if (failed) console.log(`failing inputs: ${CRASH_DIR.replace(/^.*\/test\//, "test/")}/ (replay one: bun run fuzz --target T --seed S --case I)`);
  process.exit(failed ? 1 : 0);
}

await main();
