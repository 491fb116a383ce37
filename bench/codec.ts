// Codec throughput: our decodeMessage / encodeMessage on a realistic DHCPACK beside the npm
// `dhcp` package's parser and formatter (what its own server runs on every datagram), on one
// core. Each row: >= 200k warm-up iterations, then 5 timed runs of >= 1 s each
// (Bun.nanoseconds; the rows take turns, round by round), median reported. Checks first that
// both parsers read the same xid, yiaddr and lease time (exit 1 if not). Prints a Markdown
// table, the environment, and whether the targets hold (>= 1,000,000 decodes/s, >= 5x npm).
//
//   bun bench/codec.ts     re-runs itself pinned to one CPU with taskset when it can (the last
//                          allowed CPU, or CODEC_BENCH_CPU=n; CODEC_BENCH_NO_PIN=1 to skip)
//

import { cpus } from "node:os";
import { decodeMessage, encodeMessage, getU32, type DhcpMessage } from "../core/message.ts";
import { decodeOption, encodeOption } from "../core/options.ts";
import { optionViews } from "../core/offers.ts";
import { bytesEqual } from "../core/bytes.ts";
import {
  ACK_BUFFER, ACK_BYTES, LEASE, TYPED_OPTIONS, XID, YIADDR,
  ackFields, loadNpmProtocol, npmFormatInput,
} from "./codec-fixture.ts";

// ---- one core: pin the whole process (JIT and GC helper threads too) ----

const pinned = process.env.CODEC_BENCH_PINNED;
if (!pinned && !process.env.CODEC_BENCH_NO_PIN && Bun.which("taskset")) {
  // The last CPU this process may use (CPU 0 tends to take the device interrupts), or CODEC_BENCH_CPU.
  const status = await Bun.file("/proc/self/status").text().catch(() => "");
  const allowed = status.match(/Cpus_allowed_list:\s*([0-9,-]+)/)?.[1] ?? "0";
  const cpu = process.env.CODEC_BENCH_CPU ?? allowed.split(/[,-]/).at(-1)!;
  const child = Bun.spawn(["taskset", "-c", cpu, process.execPath, ...process.argv.slice(1)], {
    stdio: ["inherit", "inherit", "inherit"],
    env: { ...process.env, CODEC_BENCH_PINNED: cpu },
  });
  process.exit(await child.exited);
}

const WARMUP = 200_000;
const RUNS = 5;
const MIN_NS = 1e9;
const BATCH = 5_000; // iterations between clock reads
const TARGET_RATE = 1_000_000;
const TARGET_RATIO = 5;

/** A body runs the operation n times and returns something derived from every result. */
type Body = (n: number) => number;

let sink = 0;

/**
 * Warms every body up, then runs 5 rounds; each round times every body for >= 1 s in turn, so
 * a load change on the machine falls on all rows alike. Returns each body's 5 rates.
 */
function measureAll(bodies: Body[]): number[][] {
  for (const body of bodies) sink ^= body(WARMUP);
  const rates: number[][] = bodies.map(() => []);
  for (let r = 0; r < RUNS; r++) {
    bodies.forEach((body, k) => {
      let n = 0;
      const t0 = Bun.nanoseconds();
      let t = t0;
      do {
        sink ^= body(BATCH);
        n += BATCH;
        t = Bun.nanoseconds();
      } while (t - t0 < MIN_NS);
      rates[k].push((n * 1e9) / (t - t0));
    });
  }
  return rates;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// ---- check once, before timing, that both parsers read the same message ----

const npm = loadNpmProtocol();
if (!npm) {
  console.error("bench: the npm package `dhcp` is missing (bun install; it is a devDependency)");
  process.exit(1);
}
const fields = ackFields();
const ours = decodeMessage(ACK_BYTES);
if (!ours.ok) {
  console.error(`bench: our decoder rejects the fixture: ${ours.error.reason}`);
  process.exit(1);
}
let theirs;
try {
  theirs = npm.parse(ACK_BUFFER);
} catch (err) {
  console.error(`bench: the npm parser throws on the fixture: ${err}`);
  process.exit(1);
}
const mismatch: string[] = [];
const ourLease = getU32(ours.message, 51);
if (ours.message.xid !== XID || theirs.xid !== XID) mismatch.push(`xid ours ${ours.message.xid} theirs ${theirs.xid} (want ${XID})`);
if (ours.message.yiaddr !== YIADDR || theirs.yiaddr !== YIADDR) mismatch.push(`yiaddr ours ${ours.message.yiaddr} theirs ${theirs.yiaddr} (want ${YIADDR})`);
if (ourLease !== LEASE || theirs.options[51] !== LEASE) mismatch.push(`lease ours ${ourLease} theirs ${theirs.options[51]} (want ${LEASE})`);
if (ours.message.options.size !== TYPED_OPTIONS.length || Object.keys(theirs.options).length !== TYPED_OPTIONS.length) {
  mismatch.push(`option count ours ${ours.message.options.size} theirs ${Object.keys(theirs.options).length} (want ${TYPED_OPTIONS.length})`);
}
// The npm formatter's output must carry the same option bytes (it writes them in code order).
const npmOut = npm.format(npmFormatInput());
const back = decodeMessage(npmOut._data.subarray(0, npmOut._w));
if (!back.ok) mismatch.push(`npm format output does not decode: ${back.error.reason}`);
else {
  if (back.message.xid !== XID || back.message.yiaddr !== YIADDR) mismatch.push("npm format output: xid or yiaddr differ");
  for (const [code, data] of ours.message.options) {
    const other = back.message.options.get(code);
    if (!other || !bytesEqual(other, data)) mismatch.push(`npm format output: option ${code} differs`);
  }
}
const prealloc = new Uint8Array(2048);
const OFFSET = 42; // Ethernet + IPv4 + UDP headers in front of the payload
if (!bytesEqual(encodeMessage(fields, prealloc, OFFSET), ACK_BYTES)) mismatch.push("encode at an offset differs from encode");
if (mismatch.length) {
  for (const m of mismatch) console.error(`bench: parsers disagree: ${m}`);
  process.exit(1);
}

// ---- the operations ----

const bytes = ACK_BYTES;
const buffer = ACK_BUFFER;
const npmInput = npmFormatInput();

const bodies: { name: string; body: Body; vs?: string }[] = [
  {
    name: "ours: decodeMessage",
    vs: "npm dhcp: Protocol.parse",
    body(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const r = decodeMessage(bytes);
        if (r.ok) s += r.message.xid + r.message.options.size;
      }
      return s;
    },
  },
  {
    name: "ours: decodeMessage + decodeOption per option",
    vs: "npm dhcp: Protocol.parse",
    body(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const r = decodeMessage(bytes);
        if (!r.ok) continue;
        for (const [code, data] of r.message.options) {
          const o = decodeOption(code, data);
          if (o.ok && o.value !== undefined) s++;
        }
      }
      return s;
    },
  },
  {
    name: "ours: decodeMessage + optionViews (adds names, hex)",
    vs: "npm dhcp: Protocol.parse",
    body(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const r = decodeMessage(bytes);
        if (r.ok) s += optionViews(r.message as DhcpMessage).length;
      }
      return s;
    },
  },
  {
    name: "npm dhcp: Protocol.parse",
    body(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const r = npm.parse(buffer);
        s += r.xid + (r.options[51] as number);
      }
      return s;
    },
  },
  {
    name: "ours: encodeMessage (option bytes ready)",
    vs: "npm dhcp: Protocol.format",
    body(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const b = encodeMessage(fields);
        s += b.length + b[b.length - 1];
      }
      return s;
    },
  },
  {
    name: "ours: encodeMessage into a buffer at offset 42",
    vs: "npm dhcp: Protocol.format",
    body(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const b = encodeMessage(fields, prealloc, OFFSET);
        s += b.length + b[4];
      }
      return s;
    },
  },
  {
    name: "ours: encodeOption per option + encodeMessage (from typed values)",
    vs: "npm dhcp: Protocol.format",
    body(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const options = TYPED_OPTIONS.map(([code, v]) => ({ code, data: encodeOption(code, v) }));
        const b = encodeMessage({ ...fields, options });
        s += b.length + b[b.length - 1];
      }
      return s;
    },
  },
  {
    name: "npm dhcp: Protocol.format",
    body(n) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const sb = npm.format(npmInput);
        s += sb._w + sb._data[4];
      }
      return s;
    },
  },
];

const rates = measureAll(bodies.map((b) => b.body));
const results = new Map(bodies.map((b, k) => [b.name, { median: median(rates[k]), runs: rates[k] }]));

// ---- report ----

const fmtRate = (r: number) => Math.round(r).toLocaleString("en-US");
const spread = (runs: number[]) => {
  const lo = Math.min(...runs), hi = Math.max(...runs);
  return `${(((hi - lo) / ((hi + lo) / 2)) * 100).toFixed(1)}%`;
};
const git = (args: string[]) => {
  const r = Bun.spawnSync(["git", ...args], { cwd: import.meta.dir, stderr: "ignore" });
  return r.success ? r.stdout.toString().trim() : "";
};
const head = git(["rev-parse", "--short", "HEAD"]);
const coreDirty = git(["status", "--porcelain", "--", "../core"]) !== "";
const cpu = (await Bun.file("/proc/cpuinfo").text().catch(() => "")).match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model ?? "cpu?";

console.log(`Message: DHCPACK, ${ACK_BYTES.length} bytes, ${TYPED_OPTIONS.length} options (${TYPED_OPTIONS.map(([c]) => c).join(", ")}); encoder option bytes prepared once.`);
console.log("");
/** Ours ÷ theirs within each round (both timed back to back), then the median of the 5. */
const ratio = (ours: string, theirs: string) => {
  const a = results.get(ours)!.runs, b = results.get(theirs)!.runs;
  return median(a.map((x, i) => x / b[i]));
};
console.log("| operation | msgs/s (median of 5) | ns/msg | ratio ours ÷ theirs | best of 5, msgs/s | spread of 5 |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const b of bodies) {
  const r = results.get(b.name)!;
  const vs = b.vs ? `${ratio(b.name, b.vs).toFixed(2)}× vs ${b.vs.replace("npm dhcp: ", "")}` : "—";
  console.log(`| ${b.name} | ${fmtRate(r.median)} | ${(1e9 / r.median).toFixed(0)} | ${vs} | ${fmtRate(Math.max(...r.runs))} | ${spread(r.runs)} |`);
}
console.log("");
console.log(`Date: ${new Date().toISOString()}; Bun ${Bun.version} (${process.platform}-${process.arch}); CPU: ${cpu}; git ${head || "?"}${coreDirty ? " (core/ modified)" : ""}; ${pinned ? `pinned to CPU ${pinned} (taskset)` : "not pinned"}; warm-up ${WARMUP.toLocaleString("en-US")}, ${RUNS} runs of >= ${MIN_NS / 1e9} s.`);

const DECODE = "ours: decodeMessage", DECODE_ALL = "ours: decodeMessage + decodeOption per option", NPM = "npm dhcp: Protocol.parse";
const decode = results.get(DECODE)!.median;
const decodeAll = results.get(DECODE_ALL)!.median;
const vsNpm = ratio(DECODE, NPM), allVsNpm = ratio(DECODE_ALL, NPM);
const rateOk = decode >= TARGET_RATE;
const ratioOk = vsNpm >= TARGET_RATIO;
console.log("");
console.log(`Target ≥ ${fmtRate(TARGET_RATE)} decodes/s: ${rateOk ? "MET" : "MISSED"} (${fmtRate(decode)}/s decodeMessage; ${fmtRate(decodeAll)}/s with every option decoded)`);
console.log(`Target ≥ ${TARGET_RATIO}× the npm parser: ${ratioOk ? "MET" : "MISSED"} (${vsNpm.toFixed(2)}× decodeMessage; ${allVsNpm.toFixed(2)}× with every option decoded, the like-for-like row: Protocol.parse types every option)`);
console.log(`Spread = (max - min) / mean of the 5 runs; a large one means other work shared the CPU (the ratios are paired per round, so they hold up better than the rates).`);
console.log(`(sink ${sink})`);
