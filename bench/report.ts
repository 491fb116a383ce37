// Turns hyperfine's JSON exports into a Markdown table with the ratios the goals are stated
// in. Several files are rounds of the same commands (bench/discover.sh turns their order each
// round): times are pooled for the medians, and each ratio is the median of the per-round
// ratios, so that load that came and went during the run falls on both sides of it.
//
//   bun bench/report.ts [--title T] [--floor CMD] [--versus CMD] [--load "1 5 15"]…
//                       [--goal "CMD|REF|MAX"]… ROUND.json…

import { benchHeader } from "./header.ts";

interface Result {
  command: string;
  times: number[];
}

const files: string[] = [];
const goals: { cmd: string; ref: string; max: number }[] = [];
const loads: string[] = [];
let title = "";
let floorName = "bun -e 0";
let versusName = "";
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--title") title = argv[++i];
  else if (a === "--floor") floorName = argv[++i];
  else if (a === "--versus") versusName = argv[++i];
  else if (a === "--load") loads.push(argv[++i]);
  else if (a === "--goal") {
    const [cmd, ref, max] = argv[++i].split("|");
    goals.push({ cmd, ref, max: Number(max) });
  } else files.push(a);
}
if (!files.length) {
  console.error("usage: bun bench/report.ts [--floor CMD] [--versus CMD] [--goal CMD|REF|MAX]… HYPERFINE.json…");
  process.exit(2);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

const rounds: Map<string, number[]>[] = [];
const order: string[] = [];
for (const f of files) {
  const { results } = (await Bun.file(f).json()) as { results: Result[] };
  const round = new Map<string, number[]>();
  for (const r of results) {
    round.set(r.command, r.times);
    if (!order.includes(r.command)) order.push(r.command);
  }
  rounds.push(round);
}
const pooled = (cmd: string) => rounds.flatMap((r) => r.get(cmd) ?? []);
/** Median over rounds of (cmd's median / ref's median in the same round), and the range. */
function ratio(cmd: string, ref: string): { mid: number; lo: number; hi: number } | null {
  const rs = rounds.filter((r) => r.has(cmd) && r.has(ref)).map((r) => median(r.get(cmd)!) / median(r.get(ref)!));
  return rs.length ? { mid: median(rs), lo: Math.min(...rs), hi: Math.max(...rs) } : null;
}
const ms = (s: number) => (s * 1000).toFixed(1);
const showRatio = (r: ReturnType<typeof ratio>) =>
  r ? (rounds.length > 1 ? `${r.mid.toFixed(2)} (${r.lo.toFixed(2)}–${r.hi.toFixed(2)})` : r.mid.toFixed(2)) : "-";

// Under bench:all (bench/all.ts) the section already has its title and a header line.
if (!process.env.DHCPTOOL_BENCH_ALL) {
  if (title) console.log(`**${title}**\n`);
  console.log(benchHeader({ before: loads[0], after: loads[1] }) + "\n");
}
const runs = pooled(order[0]).length;
console.log(
  `${rounds.length > 1 ? `${rounds.length} rounds, ` : ""}${runs} runs per command in all${rounds.length > 1 ? "; ratios: median of the rounds' (lowest–highest)" : ""}.\n`,
);
const hasFloor = order.includes(floorName);
const hasVersus = versusName !== "" && order.includes(versusName);
console.log(`| command | median ms | mean ± σ ms | min ms |${hasFloor ? ` × ${floorName} |` : ""}${hasVersus ? ` × ${versusName} |` : ""}`);
console.log(`|---|---:|---:|---:|${hasFloor ? "---:|" : ""}${hasVersus ? "---:|" : ""}`);
for (const cmd of order) {
  const t = pooled(cmd);
  const cells = [cmd, ms(median(t)), `${ms(mean(t))} ± ${ms(sd(t))}`, ms(Math.min(...t))];
  if (hasFloor) cells.push(showRatio(ratio(cmd, floorName)));
  if (hasVersus) cells.push(showRatio(ratio(cmd, versusName)));
  console.log(`| ${cells.join(" | ")} |`);
}
if (goals.length) {
  console.log("\nGoals:");
  for (const g of goals) {
    const r = ratio(g.cmd, g.ref);
    const verdict = r === null ? "not measured" : r.mid <= g.max ? "**met**" : "**not met**";
    console.log(`- \`${g.cmd}\` ≤ ${g.max} × \`${g.ref}\`: ${verdict}${r ? ` (${r.mid.toFixed(2)} ×)` : ""}`);
  }
}
