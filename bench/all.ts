// `bun run bench:all`: every benchmark in one run, each one's Markdown put in its place in
// docs/BENCHMARKS.md (between <!-- bench:NAME --> and <!-- /bench:NAME -->), headed by when,
// at which commit, on what machine and how loaded it was before and after. A figure in those
// places is therefore one the code gave in the run the header names; the prose around them
// says what they mean and is not rewritten. The file is written after each benchmark, so an
// interrupted run keeps what it finished. Needs root (labs, namespaces, raw sockets).
//
//   sudo bun run bench:all                      every benchmark (about 25 minutes)
//   sudo BENCHES="discover daemon" bun run bench:all

import { readFileSync, writeFileSync } from "node:fs";
import { benchHeader, loadAverage } from "./header.ts";

const root = `${import.meta.dir}/..`;
const DOC = `${root}/docs/BENCHMARKS.md`;

/** Each benchmark: the command that prints its Markdown, in the order they run. */
const BENCHES: Record<string, string[]> = {
  discover: ["bash", "bench/discover.sh"],
  ship: ["bash", "bench/ship.sh"],
  receive: ["bash", "bench/receive.sh"],
  codec: ["bun", "bench/codec.ts"],
  watch: ["bash", "bench/watch.sh"],
  daemon: ["bun", "bench/daemon.ts"],
  "daemon-floor": ["bun", "bench/daemon-floor.ts"],
  captures: ["bun", "bench/capture-memory.ts"],
  load: ["bun", "bench/load.ts"],
};

const chosen = (process.env.BENCHES ?? Object.keys(BENCHES).join(" ")).split(/\s+/).filter(Boolean);
for (const b of chosen) if (!Object.hasOwn(BENCHES, b)) throw new Error(`BENCHES: "${b}" is not one of ${Object.keys(BENCHES).join(", ")}`);
if (process.getuid?.() !== 0) {
  console.error("bench:all: needs root (labs, network namespaces, raw sockets)");
  process.exit(1);
}

/** The doc with `body` between the markers of `name`; an error when the doc has no place for it. */
function placeSection(doc: string, name: string, body: string): string {
  const open = `<!-- bench:${name} -->`,
    close = `<!-- /bench:${name} -->`;
  const from = doc.indexOf(open),
    to = doc.indexOf(close);
  if (from < 0 || to < from) throw new Error(`docs/BENCHMARKS.md has no ${open} … ${close} for this benchmark`);
  return `${doc.slice(0, from + open.length)}\n${body.trim()}\n${doc.slice(to)}`;
}

/**
 * The goals of every benchmark in one list, from the sections as they now stand (each line
 * that says met or not met, under its section's run date and commit): rebuilt after every
 * benchmark, so the list always matches the tables below it.
 */
function goalsList(doc: string): string {
  const out: string[] = [];
  for (const name of Object.keys(BENCHES)) {
    const open = `<!-- bench:${name} -->`,
      close = `<!-- /bench:${name} -->`;
    const from = doc.indexOf(open),
      to = doc.indexOf(close);
    if (from < 0 || to < from) continue;
    const body = doc.slice(from + open.length, to);
    const run = body.match(/^_`bun run bench:all`, [^:]+: (\d{4}-\d\d-\d\d \d\d:\d\d UTC); commit ([^;]+);/m);
    const goals = body.split("\n").filter((l) => /\*\*(not )?met\*\*|: (MET|MISSED) |\bGoal\b.*\b(met|not met)\b/i.test(l));
    if (!goals.length) continue;
    out.push(`- **${name}** (${run ? `${run[1]}, commit ${run[2]}` : "not yet run by bench:all"}):`);
    for (const g of goals) out.push(`  - ${g.replace(/^[-\s]+/, "")}`);
  }
  return out.join("\n");
}

const failed: string[] = [];
for (const name of chosen) {
  console.error(`bench:all: ${name} (${BENCHES[name].join(" ")})…`);
  const before = loadAverage();
  const started = performance.now();
  const run = Bun.spawnSync(BENCHES[name], { cwd: root, stdout: "pipe", stderr: "inherit", env: { ...process.env, DHCPTOOL_BENCH_ALL: "1" } });
  const after = loadAverage();
  const minutes = ((performance.now() - started) / 60000).toFixed(1);
  const output = run.stdout.toString();
  if (run.exitCode !== 0 || !output.trim()) {
    failed.push(name);
    console.error(`bench:all: ${name} failed (exit ${run.exitCode}); its section is left as it was`);
    continue;
  }
  const header = `_\`bun run bench:all\`, ${name}: ${benchHeader({ before, after })}; ${minutes} min._`;
  const doc = placeSection(readFileSync(DOC, "utf8"), name, `${header}\n\n${output}`);
  writeFileSync(DOC, placeSection(doc, "goals", goalsList(doc)));
  console.error(`bench:all: ${name} done in ${minutes} min`);
}
if (failed.length) {
  console.error(`bench:all: failed: ${failed.join(", ")}`);
  process.exit(1);
}
