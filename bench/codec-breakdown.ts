// Where the time of "decodeMessage + every option typed" goes, part by part: the whole loop
// of bench/codec.ts beside the same loop without one part (the header's addresses and chaddr,
// or one option code), all interleaved like the bench; a part's cost is the difference, paired
// per round. Beside them: decodeMessage alone and npm's Protocol.parse on the same stream.
//
//   bun bench/codec-breakdown.ts          a Markdown table (pinned to one CPU like the bench)
//   bun --cpu-prof-md bench/codec-breakdown.ts --profile
//                                         only the whole loop for 5 s, under Bun's profiler

import { decodeMessage, optionAt } from "../core/message.ts";
import { optionName } from "../core/options.ts";
import { ACK_BUFFERS, ACK_STREAM, CLIENTS, loadNpmProtocol, TYPED_OPTIONS } from "./codec-fixture.ts";
import { measureInterleaved, median, sunk, type Body } from "./codec-measure.ts";

const pinned = process.env.CODEC_BENCH_PINNED;
if (!pinned && !process.env.CODEC_BENCH_NO_PIN && Bun.which("taskset")) {
  const status = await Bun.file("/proc/self/status")
    .text()
    .catch(() => "");
  const cpu = process.env.CODEC_BENCH_CPU ?? (status.match(/Cpus_allowed_list:\s*([0-9,-]+)/)?.[1] ?? "0").split(/[,-]/).at(-1)!;
  const child = Bun.spawn(["taskset", "-c", cpu, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: ["inherit", "inherit", "inherit"],
    env: { ...process.env, CODEC_BENCH_PINNED: cpu },
  });
  process.exit(await child.exited);
}

const LAST = CLIENTS - 1;
const npm = loadNpmProtocol();
if (!npm) {
  console.error("bench: the npm package `dhcp` is missing (bun install; it is a devDependency)");
  process.exit(1);
}

/** The bench's typed loop, leaving out the header (skip = "header"), one code, or nothing. */
function typedWithout(skip: number | "header" | null): Body {
  return (n) => {
    let s = 0,
      next = LAST;
    for (let i = 0; i < n; i++) {
      const r = decodeMessage(ACK_STREAM[(next = (next + 1) & LAST)]);
      if (!r.ok) continue;
      const m = r.message;
      if (skip !== "header") s += m.ciaddr.length + m.yiaddr.length + m.siaddr.length + m.giaddr.length + m.chaddr.length;
      const t = m.options;
      for (let k = 0; k < t.size; k++) {
        if (t.codeAt(k) === skip) continue;
        const o = optionAt(t, k);
        if (o.ok && o.value !== undefined) s++;
      }
    }
    return s;
  };
}

const decodeOnly: Body = (n) => {
  let s = 0,
    next = LAST;
  for (let i = 0; i < n; i++) {
    const r = decodeMessage(ACK_STREAM[(next = (next + 1) & LAST)]);
    if (r.ok) s += r.message.xid + r.message.options.size;
  }
  return s;
};

const npmParse: Body = (n) => {
  let s = 0,
    next = LAST;
  for (let i = 0; i < n; i++) s += npm.parse(ACK_BUFFERS[(next = (next + 1) & LAST)]).xid;
  return s;
};

if (process.argv.includes("--profile")) {
  const whole = typedWithout(null);
  const t0 = Bun.nanoseconds();
  let s = 0;
  while (Bun.nanoseconds() - t0 < 5e9) s ^= whole(10_000);
  console.log(`(sink ${s})`);
  process.exit(0);
}

const codes = TYPED_OPTIONS.map(([code]) => code);
const rows: { name: string; body: Body }[] = [
  { name: "whole loop", body: typedWithout(null) },
  { name: "header: ciaddr, yiaddr, siaddr, giaddr, chaddr", body: typedWithout("header") },
  ...codes.map((code) => ({ name: `option ${code} (${optionName(code)})`, body: typedWithout(code) })),
  { name: "decodeMessage alone", body: decodeOnly },
  { name: "npm dhcp: Protocol.parse", body: npmParse },
];
const rates = measureInterleaved(
  rows.map((r) => r.body),
  { warmupMs: 400, rounds: 9, roundMs: 200, sliceMs: 5 },
);
const ns = rates.map((rs) => rs.map((r) => 1e9 / r));
const whole = ns[0];

console.log("| part | ns per message | share of the whole loop |");
console.log("|---|---:|---:|");
const wholeNs = median(whole);
console.log(`| whole loop (decodeMessage + header + every option typed) | ${wholeNs.toFixed(0)} | 100 % |`);
rows.forEach((row, k) => {
  if (k === 0 || k >= rows.length - 2) return;
  const cost = median(whole.map((w, i) => w - ns[k][i]));
  console.log(`| ${row.name} | ${cost.toFixed(0)} | ${((cost / wholeNs) * 100).toFixed(0)} % |`);
});
const dec = median(ns[rows.length - 2]);
console.log(`| decodeMessage alone (measured, not a difference) | ${dec.toFixed(0)} | ${((dec / wholeNs) * 100).toFixed(0)} % |`);
console.log(`| npm dhcp: Protocol.parse, for scale | ${median(ns[rows.length - 1]).toFixed(0)} | — |`);
console.log("");
console.log(
  `Differences of medians paired per round, 9 rounds; parts under ~20 ns are within the noise. ${pinned ? `Pinned to CPU ${pinned}.` : "Not pinned."} (sink ${sunk()})`,
);
