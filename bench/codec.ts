// Codec throughput: our decodeMessage / encodeMessage on a server's stream of DHCPACKs (1024
// clients, bench/codec-fixture.ts) beside the npm `dhcp` package's parser and formatter (what
// its own server runs on every datagram), on one core. The rows run interleaved in short slices (bench/codec-measure.ts), 9 rounds, and each
// ratio is taken within a round before the median: the machine is shared, and a ratio of two
// rates measured seconds apart would say more about the neighbours than about the code.
// Checks first that both parsers read the same xid, yiaddr, lease time and host name in every
// message (exit 1 if not).
// Prints a Markdown table, the environment and load, and whether the targets hold.
//
//   bun bench/codec.ts     re-runs itself pinned to one CPU with taskset when it can (the last
//                          allowed CPU, or CODEC_BENCH_CPU=n; CODEC_BENCH_NO_PIN=1 to skip)
//   CODEC_BENCH_ROUNDS=n   rounds (default 9); CODEC_BENCH_ROUND_MS=ms time per row per round
//   CODEC_BENCH_SLICE_MS=ms  the slices a round is cut into (default 5)
//

import { cpus } from "node:os";
import { decodeMessage, encodeMessage, getString, getU32, optionAt, type DhcpMessage } from "../core/message.ts";
import { encodeOption } from "../core/options.ts";
import { optionViews } from "../core/offers.ts";
import { bytesEqual } from "../core/bytes.ts";
import { cpuBusy, DEFAULTS, measureInterleaved, median, pairedRatio, sunk, type Body } from "./codec-measure.ts";
import {
  ACK_BUFFER,
  ACK_BUFFERS,
  ACK_BYTES,
  ACK_STREAM,
  CLIENTS,
  LEASE,
  TYPED_OPTIONS,
  XID,
  YIADDR,
  ackFields,
  loadNpmProtocol,
  loadNpmProtocolCopy,
  npmFormatInput,
} from "./codec-fixture.ts";

// ---- one core: pin the whole process (JIT and GC helper threads too) ----

const pinned = process.env.CODEC_BENCH_PINNED;
if (!pinned && !process.env.CODEC_BENCH_NO_PIN && Bun.which("taskset")) {
  // The last CPU this process may use (CPU 0 tends to take the device interrupts), or CODEC_BENCH_CPU.
  const status = await Bun.file("/proc/self/status")
    .text()
    .catch(() => "");
  const allowed = status.match(/Cpus_allowed_list:\s*([0-9,-]+)/)?.[1] ?? "0";
  const cpu = process.env.CODEC_BENCH_CPU ?? allowed.split(/[,-]/).at(-1)!;
  const child = Bun.spawn(["taskset", "-c", cpu, process.execPath, ...process.argv.slice(1)], {
    stdio: ["inherit", "inherit", "inherit"],
    env: { ...process.env, CODEC_BENCH_PINNED: cpu },
  });
  process.exit(await child.exited);
}

const TARGET_RATE = 1_000_000;
/** Issue 16: decodeMessage >= 8x npm's Protocol.parse; every option typed >= 2x. */
const TARGET_DECODE = 8,
  TARGET_TYPED = 2;

// ---- check once, before timing, that both parsers read the same message ----

const npm = loadNpmProtocol();
const npmCopy = loadNpmProtocolCopy();
if (!npm || !npmCopy) {
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
// Every client's ACK: both read its xid, address and host name alike.
ACK_STREAM.forEach((bytes, i) => {
  const a = decodeMessage(bytes),
    b = npm.parse(ACK_BUFFERS[i]);
  if (!a.ok || a.message.xid !== XID + i || b.xid !== XID + i || a.message.yiaddr !== b.yiaddr || getString(a.message, 12) !== b.options[12]) {
    mismatch.push(`client ${i}: xid, yiaddr or host name differ`);
  }
});
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

// Each decoding body walks the stream of ACKs, one client after another from the first.
const stream = ACK_STREAM,
  buffers = ACK_BUFFERS,
  LAST = CLIENTS - 1;
const npmInput = npmFormatInput();

const bodies: { name: string; body: Body; vs?: string }[] = [
  {
    name: "ours: decodeMessage",
    vs: "npm dhcp: Protocol.parse",
    body(n) {
      let s = 0,
        next = LAST;
      for (let i = 0; i < n; i++) {
        const r = decodeMessage(stream[(next = (next + 1) & LAST)]);
        if (r.ok) s += r.message.xid + r.message.options.size;
      }
      return s;
    },
  },
  {
    name: "ours: decodeMessage + every option typed",
    vs: "npm dhcp: Protocol.parse",
    body(n) {
      let s = 0,
        next = LAST;
      for (let i = 0; i < n; i++) {
        const r = decodeMessage(stream[(next = (next + 1) & LAST)]);
        if (!r.ok) continue;
        // Like npm's parse: the header's addresses and chaddr too (ours are read on demand).
        const m = r.message;
        s += m.ciaddr.length + m.yiaddr.length + m.siaddr.length + m.giaddr.length + m.chaddr.length;
        const t = m.options;
        for (let k = 0; k < t.size; k++) {
          const o = optionAt(t, k);
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
      let s = 0,
        next = LAST;
      for (let i = 0; i < n; i++) {
        const r = decodeMessage(stream[(next = (next + 1) & LAST)]);
        if (r.ok) s += optionViews(r.message as DhcpMessage).length;
      }
      return s;
    },
  },
  {
    name: "npm dhcp: Protocol.parse",
    body(n) {
      let s = 0,
        next = LAST;
      for (let i = 0; i < n; i++) {
        const r = npm.parse(buffers[(next = (next + 1) & LAST)]);
        s += r.xid + (r.options[51] as number);
      }
      return s;
    },
  },
  {
    name: "control: npm dhcp, a second copy: Protocol.parse",
    vs: "npm dhcp: Protocol.parse",
    body(n) {
      let s = 0,
        next = LAST;
      for (let i = 0; i < n; i++) {
        const r = npmCopy.protocol.parse(buffers[(next = (next + 1) & LAST)]);
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

const opts = {
  ...DEFAULTS,
  rounds: Number(process.env.CODEC_BENCH_ROUNDS ?? DEFAULTS.rounds),
  roundMs: Number(process.env.CODEC_BENCH_ROUND_MS ?? DEFAULTS.roundMs),
  sliceMs: Number(process.env.CODEC_BENCH_SLICE_MS ?? DEFAULTS.sliceMs),
};
const busy = await cpuBusy();
const rates = measureInterleaved(
  bodies.map((b) => b.body),
  opts,
);
npmCopy.remove();
const results = new Map(bodies.map((b, k) => [b.name, { median: median(rates[k]), runs: rates[k] }]));

// ---- report ----

const fmtRate = (r: number) => Math.round(r).toLocaleString("en-US");
const spread = (runs: number[]) => {
  const lo = Math.min(...runs),
    hi = Math.max(...runs);
  return `${(((hi - lo) / ((hi + lo) / 2)) * 100).toFixed(0)} %`;
};
const git = (args: string[]) => {
  const r = Bun.spawnSync(["git", ...args], { cwd: import.meta.dir, stderr: "ignore" });
  return r.success ? r.stdout.toString().trim() : "";
};
const head = git(["rev-parse", "--short", "HEAD"]);
const coreDirty = git(["status", "--porcelain", "--", "../core"]) !== "";
const cpu =
  (
    await Bun.file("/proc/cpuinfo")
      .text()
      .catch(() => "")
  ).match(/model name\s*:\s*(.*)/)?.[1] ??
  cpus()[0]?.model ??
  "cpu?";
const ratio = (ours: string, theirs: string) => pairedRatio(results.get(ours)!.runs, results.get(theirs)!.runs);
const R = opts.rounds;

console.log(
  `Messages: ${CLIENTS} DHCPACKs of ${ACK_BYTES.length} bytes, one per client (own xid, chaddr, yiaddr, host name), decoded in turn; ${TYPED_OPTIONS.length} options (${TYPED_OPTIONS.map(([c]) => c).join(", ")}). Encoder rows: the first ACK, option bytes prepared once.`,
);
console.log("");
console.log(`| operation | msgs/s (median of ${R}) | ns/msg | ÷ npm (median of ${R} paired rounds) | lowest–highest round | spread of rates |`);
console.log("|---|---:|---:|---:|---:|---:|");
for (const b of bodies) {
  const r = results.get(b.name)!;
  const q = b.vs ? ratio(b.name, b.vs) : null;
  const vs = q ? `**${q.median.toFixed(2)} ×** ${b.vs!.replace("npm dhcp: ", "")}` : "—";
  const range = q ? `${q.low.toFixed(2)}–${q.high.toFixed(2)}` : "—";
  console.log(`| ${b.name} | ${fmtRate(r.median)} | ${(1e9 / r.median).toFixed(0)} | ${vs} | ${range} | ${spread(r.runs)} |`);
}
console.log("");
console.log(
  `Date: ${new Date().toISOString()}; Bun ${Bun.version} (${process.platform}-${process.arch}); CPU: ${cpu}; git ${head || "?"}${coreDirty ? " (core/ modified)" : ""}; ${pinned ? `pinned to CPU ${pinned} (taskset)` : "not pinned"}; warm-up ${opts.warmupMs} ms per row, ${R} rounds of ${opts.roundMs} ms per row in ${opts.sliceMs} ms slices, rows interleaved.`,
);
console.log(`Load: ${await busy()}.`);

const control = ratio("control: npm dhcp, a second copy: Protocol.parse", "npm dhcp: Protocol.parse");
console.log(
  `Control: npm's parser against a second copy of itself reads ${control.median.toFixed(2)} × (rounds ${control.low.toFixed(2)}–${control.high.toFixed(2)}); ratios closer than that to each other are not told apart.`,
);

const DECODE = "ours: decodeMessage",
  TYPED = "ours: decodeMessage + every option typed",
  NPM = "npm dhcp: Protocol.parse";
const decode = results.get(DECODE)!.median;
const vsNpm = ratio(DECODE, NPM).median,
  typedVsNpm = ratio(TYPED, NPM).median;
const verdict = (ok: boolean) => (ok ? "MET" : "MISSED");
console.log("");
console.log(`Target ≥ ${fmtRate(TARGET_RATE)} decodes/s: ${verdict(decode >= TARGET_RATE)} (${fmtRate(decode)}/s decodeMessage)`);
console.log(`Target decodeMessage ≥ ${TARGET_DECODE} × npm Protocol.parse: ${verdict(vsNpm >= TARGET_DECODE)} (${vsNpm.toFixed(2)} ×)`);
console.log(`Target every option typed ≥ ${TARGET_TYPED} × npm Protocol.parse: ${verdict(typedVsNpm >= TARGET_TYPED)} (${typedVsNpm.toFixed(2)} ×)`);
console.log(`(sink ${sunk()})`);
