// Turns hyperfine's JSON export into the Markdown table of docs/BENCHMARKS.md, with the
// ratios the targets are stated in (DESIGN.md: discover --first <= 1.3x `bun -e 0` and
// <= 2.0x busybox udhcpc's whole DORA).

export {};

interface Result { command: string; mean: number; stddev: number; median: number; min: number; max: number }

const file = process.argv[2];
if (!file) {
  console.error("usage: bun bench/report.ts HYPERFINE.json");
  process.exit(2);
}
const { results } = (await Bun.file(file).json()) as { results: Result[] };
const by = new Map(results.map((r) => [r.command, r]));
const floor = by.get("bun -e 0");
const udhcpc = by.get("udhcpc DORA");
const ms = (s: number) => (s * 1000).toFixed(1);

console.log(`Date: ${new Date().toISOString().slice(0, 10)}; Bun ${Bun.version}; ${(await Bun.file("/proc/cpuinfo").text()).match(/model name\s*:\s*(.*)/)?.[1] ?? "cpu?"}`);
console.log("");
// bench/ship.sh times no udhcpc: its table has no column for it
console.log(`| command | median ms | mean ± σ ms | min ms | × bun -e 0 |${udhcpc ? " × udhcpc DORA |" : ""}`);
console.log(`|---|---:|---:|---:|---:|${udhcpc ? "---:|" : ""}`);
for (const r of results) {
  const vsFloor = floor ? (r.median / floor.median).toFixed(2) : "-";
  const vsUdhcpc = udhcpc ? ` ${(r.median / udhcpc.median).toFixed(2)} |` : "";
  console.log(`| ${r.command} | ${ms(r.median)} | ${ms(r.mean)} ± ${ms(r.stddev)} | ${ms(r.min)} | ${vsFloor} |${vsUdhcpc}`);
}
