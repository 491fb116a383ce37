/**
 * The receive-path benchmark of native/rawsocket.ts, run by bench/receive.sh once it has
 * made two network namespaces joined by a veth pair:
 *   bun bench/receive-run.ts NS_A IF_A NS_B IF_B
 * Runs bench/receive-child.ts in them (receivers in A, senders in B) for three
 * measurements, logs progress on stderr and prints a Markdown table on stdout:
 *   1. one-way latency of 500 DHCP-sized broadcasts, one every 2 ms (LATENCY_FRAMES,
 *      LATENCY_INTERVAL_MS), from the sender's send() to the receiver's onFrame;
 *   2. idle CPU for IDLE_SECONDS (20) of a process holding an open RawSocket and a
 *      1 s interval timer, beside a bare Bun process with the same timer;
 *   3. frames per second through onFrame while B sends FLOOD_FRAMES (200,000) flat out,
 *      what the kernel dropped, the receiver's CPU time per frame and how many frames
 *      each wake-up of JS handled: once from one sender, once from FLOOD_SENDERS (2)
 *      senders at the same time (the receiver, not the sender, is then the limit), the
 *      latter once per receive path in RX_PATHS ("recvmmsg ring": recvmmsg() into the
 *      shim's staging area, or the socket's TPACKET_V3 ring).
 * Every wait is bounded; every child is killed (by its PID) when this process ends.
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";

const [nsA, ifA, nsB, ifB] = process.argv.slice(2);
if (!nsA || !ifA || !nsB || !ifB) {
  console.error("usage: bun bench/receive-run.ts NS_A IF_A NS_B IF_B (run by bench/receive.sh)");
  process.exit(2);
}

const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`bench: ${name} must be a positive integer`);
    process.exit(2);
  }
  return value;
};
const LATENCY_FRAMES = envInt("LATENCY_FRAMES", 500);
const LATENCY_INTERVAL_MS = envInt("LATENCY_INTERVAL_MS", 2);
const IDLE_SECONDS = envInt("IDLE_SECONDS", 20);
const FLOOD_FRAMES = envInt("FLOOD_FRAMES", 200_000);
const FLOOD_SENDERS = envInt("FLOOD_SENDERS", 2);
const RX_PATHS = (process.env.RX_PATHS ?? "recvmmsg ring").split(/[\s,]+/).filter(Boolean);
if (RX_PATHS.length === 0 || RX_PATHS.some((p) => p !== "recvmmsg" && p !== "ring")) {
  console.error("bench: RX_PATHS lists recvmmsg and/or ring");
  process.exit(2);
}
/** Idle sampling starts this long after the child says ready: start-up work is not idling. */
const IDLE_SETTLE_MS = 500;

const childScript = join(import.meta.dir, "receive-child.ts");
const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

// ---- children ----------------------------------------------------------------

type Event = Record<string, any>;

interface Child {
  name: string;
  proc: Bun.Subprocess<"pipe", "pipe", "inherit">;
  events: Event[];
  done: Promise<void>;
}

const children: Child[] = [];

function killChildren(): void {
  for (const child of children) {
    if (child.proc.exitCode === null && child.proc.signalCode === null) {
      try {
        process.kill(child.proc.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

process.on("exit", killChildren);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    killChildren();
    process.exit(1);
  });
}

// A hard ceiling on the whole run, whatever hangs.
const DEADLINE_MS = 270_000;
setTimeout(() => {
  log(`gave up after ${DEADLINE_MS / 1000} s`);
  killChildren();
  process.exit(1);
}, DEADLINE_MS).unref();

/** `ip netns exec` execs in place, so the PID Bun.spawn reports is the bun child's own. */
function spawnIn(ns: string, mode: string, args: (string | number)[]): Child {
  const proc = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, childScript, mode, ...args.map(String)], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const events: Event[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of proc.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line) events.push(JSON.parse(line));
      }
    }
  })();
  const child = { name: `${mode}@${ns}`, proc, events, done };
  children.push(child);
  return child;
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(5);
  }
}

const eventOf = (child: Child, name: string) => child.events.find((e) => e.event === name);

async function ready(child: Child): Promise<Event> {
  await waitFor(`${child.name} to be ready`, () => eventOf(child, "ready") !== undefined || child.proc.exitCode !== null, 15_000);
  const event = eventOf(child, "ready");
  if (!event) throw new Error(`${child.name} exited (${child.proc.exitCode}) before it was ready`);
  return event;
}

async function result(child: Child, timeoutMs: number): Promise<Event> {
  await waitFor(`${child.name} to report`, () => eventOf(child, "result") !== undefined || child.proc.exitCode !== null, timeoutMs);
  await Promise.race([child.done, Bun.sleep(1000)]);
  const event = eventOf(child, "result");
  if (!event) throw new Error(`${child.name} exited (${child.proc.exitCode}) without a result`);
  return event;
}

async function finished(child: Child, timeoutMs: number): Promise<void> {
  const code = await Promise.race([child.proc.exited, Bun.sleep(timeoutMs).then(() => "timeout" as const)]);
  if (code === "timeout") throw new Error(`${child.name} did not exit within ${timeoutMs} ms`);
  if (code !== 0) throw new Error(`${child.name} exited with ${code}`);
}

// ---- 1. latency --------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  // nearest rank
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function latency() {
  log(`latency: ${LATENCY_FRAMES} frames, one every ${LATENCY_INTERVAL_MS} ms, ${nsB} -> ${nsA}`);
  const rx = spawnIn(nsA, "latency-rx", [ifA]);
  await ready(rx);
  const tx = spawnIn(nsB, "latency-tx", [ifB, LATENCY_FRAMES, LATENCY_INTERVAL_MS]);
  const sent = await result(tx, LATENCY_FRAMES * LATENCY_INTERVAL_MS + 20_000);
  await finished(tx, 5000);
  await Bun.sleep(250); // stragglers
  rx.proc.stdin.end();
  const got = await result(rx, 5000);
  await finished(rx, 5000);

  const seen = new Set<number>();
  const micros: number[] = [];
  for (let i = 0; i < got.seqs.length; i++) {
    if (seen.has(got.seqs[i])) continue;
    seen.add(got.seqs[i]);
    micros.push((got.arrived[i] - got.sent[i]) * 1000);
  }
  micros.sort((a, b) => a - b);
  return {
    sent: sent.sent as number,
    meanIntervalMs: sent.meanIntervalMs as number,
    received: seen.size,
    lost: LATENCY_FRAMES - seen.size,
    min: micros[0] ?? Number.NaN,
    p50: percentile(micros, 50),
    p90: percentile(micros, 90),
    p99: percentile(micros, 99),
    max: micros[micros.length - 1] ?? Number.NaN,
    drops: got.stats.drops as number,
  };
}

// ---- 2. idle CPU -------------------------------------------------------------

const CLK_TCK = (() => {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
  const n = Number(out);
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

interface ThreadSample {
  comm: string;
  ticks: number; // utime + stime
  runNs: number; // /proc/.../schedstat: time on CPU
  switches: number; // voluntary + involuntary context switches
}

interface ProcSample {
  at: number; // performance.now()
  ticks: number; // utime + stime of the whole process (living and dead threads)
  threads: Map<string, ThreadSample>;
}

/** utime + stime (fields 14 and 15) from a stat line; the comm in parentheses may hold anything. */
function statTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field n is fields[n - 3]
  return Number(fields[11]) + Number(fields[12]);
}

function sampleProcess(pid: number): ProcSample {
  const at = performance.now();
  const ticks = statTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
  const threads = new Map<string, ThreadSample>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const dir = `/proc/${pid}/task/${tid}`;
      const status = readFileSync(`${dir}/status`, "utf8");
      const switches =
        Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0) + Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
      threads.set(tid, {
        comm: readFileSync(`${dir}/comm`, "utf8").trim(),
        ticks: statTicks(readFileSync(`${dir}/stat`, "utf8")),
        runNs: Number(readFileSync(`${dir}/schedstat`, "utf8").split(" ")[0]),
        switches,
      });
    } catch {
      // the thread ended between readdir and read
    }
  }
  return { at, ticks, threads };
}

function idleFigures(start: ProcSample, end: ProcSample) {
  const seconds = (end.at - start.at) / 1000;
  const cpuPercent = (ticks: number) => (ticks / CLK_TCK / seconds) * 100;
  let runNs = 0;
  let switches = 0;
  let rx: { ticks: number; runNs: number; switches: number } | null = null;
  for (const [tid, t] of end.threads) {
    const before = start.threads.get(tid);
    const d = {
      ticks: t.ticks - (before?.ticks ?? 0),
      runNs: t.runNs - (before?.runNs ?? 0),
      switches: t.switches - (before?.switches ?? 0),
    };
    runNs += d.runNs;
    switches += d.switches;
    if (t.comm === "dhcptool-rx") rx = d;
  }
  return {
    seconds,
    ticks: end.ticks - start.ticks,
    cpuPercent: cpuPercent(end.ticks - start.ticks),
    schedPercent: (runNs / 1e9 / seconds) * 100,
    wakeupsPerSecond: switches / seconds,
    threads: end.threads.size,
    rx: rx && {
      ticks: rx.ticks,
      cpuPercent: cpuPercent(rx.ticks),
      schedPercent: (rx.runNs / 1e9 / seconds) * 100,
      switches: rx.switches,
    },
  };
}

async function idleCpu() {
  log(`idle CPU: RawSocket + 1 s timer vs bare Bun + 1 s timer, side by side in ${nsA}, ${IDLE_SECONDS} s`);
  // The children hold their timer a little longer than we measure, and then exit on their own.
  const hold = IDLE_SECONDS + Math.ceil(IDLE_SETTLE_MS / 1000) + 2;
  const raw = spawnIn(nsA, "idle-raw", [ifA, hold]);
  const bare = spawnIn(nsA, "idle-bare", [hold]);
  await Promise.all([ready(raw), ready(bare)]);
  const bun = realpathSync(process.execPath);
  for (const child of [raw, bare]) {
    const exe = readlinkSync(`/proc/${child.proc.pid}/exe`);
    if (exe !== bun) throw new Error(`PID ${child.proc.pid} runs ${exe}, not ${bun}: cannot measure the bun child`);
  }
  await Bun.sleep(IDLE_SETTLE_MS);
  const start = [sampleProcess(raw.proc.pid), sampleProcess(bare.proc.pid)] as const;
  await Bun.sleep(IDLE_SECONDS * 1000);
  const end = [sampleProcess(raw.proc.pid), sampleProcess(bare.proc.pid)] as const;
  const [rawResult, bareResult] = await Promise.all([result(raw, 10_000), result(bare, 10_000)]);
  await Promise.all([finished(raw, 5000), finished(bare, 5000)]);
  const rawFigures = idleFigures(start[0], end[0]);
  if (!rawFigures.rx) throw new Error("no dhcptool-rx thread in the RawSocket child");
  return {
    raw: rawFigures,
    bare: idleFigures(start[1], end[1]),
    rawFrames: rawResult.frames as number,
    timerTicks: [rawResult.ticks as number, bareResult.ticks as number],
  };
}

// ---- 3. throughput -----------------------------------------------------------

/** CPU time (schedstat, ns) the process's threads spent between two samples; threads born in between count whole. */
function cpuNs(start: ProcSample, end: ProcSample): number {
  let ns = 0;
  for (const [tid, t] of end.threads) ns += t.runNs - (start.threads.get(tid)?.runNs ?? 0);
  return ns;
}

/**
 * FLOOD_FRAMES frames from `senders` flood-tx processes at once (each sends its share back
 * to back). One sender is what one Bun process can push; two press the receiver harder on
 * a 2-core machine (three busy processes on two cores), which is where kernel drops show.
 */
async function throughput(senders: number, path: string) {
  log(`throughput: ${FLOOD_FRAMES} frames as fast as ${senders} sender(s) in ${nsB} can send them, received by ${path}`);
  const rx = spawnIn(nsA, "count-rx", [ifA, FLOOD_FRAMES, ...(path === "ring" ? ["ring"] : [])]);
  await ready(rx);
  const before = sampleProcess(rx.proc.pid);
  const shares = Array.from({ length: senders }, (_, i) => Math.floor(FLOOD_FRAMES / senders) + (i < FLOOD_FRAMES % senders ? 1 : 0));
  const txs = shares.map((n) => spawnIn(nsB, "flood-tx", [ifB, n]));
  const sentAll = await Promise.all(txs.map((tx) => result(tx, 120_000)));
  await Promise.all(txs.map((tx) => finished(tx, 5000)));
  // Every frame counted, or (some were lost) give the receiver time to drain what it has.
  try {
    await waitFor("the receiver to count every frame", () => eventOf(rx, "all") !== undefined, 3000);
  } catch {
    log("throughput: not every frame reached onFrame");
  }
  const after = sampleProcess(rx.proc.pid);
  rx.proc.stdin.end();
  const got = await result(rx, 10_000);
  await finished(rx, 5000);
  const spanMs = got.lastMs - got.firstMs;
  const sent = sentAll.reduce((sum, s) => sum + (s.sent as number), 0);
  const elapsedMs = Math.max(...sentAll.map((s) => s.elapsedMs as number));
  return {
    senders,
    path,
    sent,
    sendErrors: sentAll.reduce((sum, s) => sum + (s.errors as number), 0),
    firstSendError: (sentAll.find((s) => s.firstError)?.firstError ?? "") as string,
    sendRate: sent / (elapsedMs / 1000),
    received: got.count as number,
    receiveRate: got.count > 1 && spanMs > 0 ? (got.count - 1) / (spanMs / 1000) : Number.NaN,
    passed: got.stats.packets as number,
    drops: got.stats.drops as number,
    lostBeforeSocket: Math.max(0, sent - (got.stats.packets as number)),
    /** Receiver CPU (all threads) from ready to the last frame, per frame received. */
    cpuNsPerFrame: got.count > 0 ? cpuNs(before, after) / got.count : Number.NaN,
    callbacks: got.callbacks as number,
  };
}

// ---- report ------------------------------------------------------------------

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

try {
  const lat = await latency();
  log(`latency: p50 ${fixed(lat.p50, 0)} µs, p99 ${fixed(lat.p99, 0)} µs, ${lat.lost} lost`);
  const idle = await idleCpu();
  log(`idle: RawSocket ${fixed(idle.raw.cpuPercent, 3)} %, bare ${fixed(idle.bare.cpuPercent, 3)} %`);
  const tputs = [];
  const runs = [[1, RX_PATHS[0]!] as const, ...RX_PATHS.map((path) => [FLOOD_SENDERS, path] as const)];
  for (const [senders, path] of runs) {
    if (senders === 1 && tputs.length > 0) continue;
    const tput = await throughput(senders, path);
    log(
      `throughput (${senders} sender${senders > 1 ? "s" : ""}): ${int(tput.receiveRate)} frames/s received, ` +
        `${tput.drops} dropped by the kernel, ${fixed(tput.cpuNsPerFrame / 1000, 2)} µs CPU per frame`,
    );
    tputs.push(tput);
  }

  const cpu = (await Bun.file("/proc/cpuinfo").text()).match(/model name\s*:\s*(.*)/)?.[1] ?? "cpu?";
  const cores = navigator.hardwareConcurrency;
  const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  const rx = idle.raw.rx!;
  const lines = [
    `Date: ${new Date().toISOString().slice(0, 10)}; Bun ${Bun.version}; ${cpu} (${cores} CPUs); Linux ${kernel}; veth between two namespaces`,
    "",
    "| benchmark | measure | result |",
    "|---|---|---:|",
    `| latency | frames sent / received / lost | ${lat.sent} / ${lat.received} / ${lat.lost} |`,
    `| latency | send interval (mean) | ${fixed(lat.meanIntervalMs, 3)} ms |`,
    `| latency | one-way p50 | ${fixed(lat.p50, 0)} µs |`,
    `| latency | one-way p90 | ${fixed(lat.p90, 0)} µs |`,
    `| latency | one-way p99 | ${fixed(lat.p99, 0)} µs |`,
    `| latency | one-way max | ${fixed(lat.max, 0)} µs |`,
    `| latency | one-way min | ${fixed(lat.min, 0)} µs |`,
    `| idle ${IDLE_SECONDS} s | bare Bun + 1 s timer: CPU (utime+stime) | ${fixed(idle.bare.cpuPercent, 3)} % (${idle.bare.ticks} ticks) |`,
    `| idle ${IDLE_SECONDS} s | RawSocket + 1 s timer: CPU (utime+stime) | ${fixed(idle.raw.cpuPercent, 3)} % (${idle.raw.ticks} ticks) |`,
    `| idle ${IDLE_SECONDS} s | RawSocket: dhcptool-rx thread CPU (utime+stime) | ${fixed(rx.cpuPercent, 3)} % (${rx.ticks} ticks) |`,
    `| idle ${IDLE_SECONDS} s | bare / RawSocket: CPU by schedstat | ${fixed(idle.bare.schedPercent, 4)} % / ${fixed(idle.raw.schedPercent, 4)} % |`,
    `| idle ${IDLE_SECONDS} s | bare / RawSocket: context switches per s, all threads | ${fixed(idle.bare.wakeupsPerSecond, 2)} / ${fixed(idle.raw.wakeupsPerSecond, 2)} |`,
    `| idle ${IDLE_SECONDS} s | dhcptool-rx thread: context switches | ${rx.switches} |`,
    ...tputs.flatMap((tput) => {
      const name = `throughput, ${tput.senders} sender${tput.senders > 1 ? "s" : ""}, ${tput.path}`;
      return [
        `| ${name} | frames sent (errors) | ${int(tput.sent)} (${tput.sendErrors}) |`,
        `| ${name} | send rate | ${int(tput.sendRate)} frames/s |`,
        `| ${name} | frames received in onFrame | ${int(tput.received)} |`,
        `| ${name} | receive rate (first to last frame) | ${int(tput.receiveRate)} frames/s |`,
        `| ${name} | kernel drops (socket.stats().drops) | ${int(tput.drops)} |`,
        `| ${name} | lost before the socket (sent - stats().packets) | ${int(tput.lostBeforeSocket)} |`,
        `| ${name} | receiver CPU per frame received (schedstat, all threads) | ${fixed(tput.cpuNsPerFrame / 1000, 2)} µs |`,
        `| ${name} | frames per wake-up of JS (mean) | ${fixed(tput.received / tput.callbacks, 1)} |`,
      ];
    }),
  ];
  for (const tput of tputs) if (tput.firstSendError) log(`throughput: first send error: ${tput.firstSendError}`);
  if (idle.rawFrames > 0) log(`idle: the RawSocket child saw ${idle.rawFrames} frames while idle`);
  process.stdout.write(`${lines.join("\n")}\n`);
} catch (err) {
  log(`failed: ${err instanceof Error ? err.message : String(err)}`);
  killChildren();
  process.exit(1);
}
killChildren();
