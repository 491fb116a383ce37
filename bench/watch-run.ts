/**
 * The receiver benchmark of `dhcptool watch`, run by bench/watch.sh once it has made two
 * network namespaces joined by a veth pair and a scratch directory in /dev/shm:
 *   bun bench/watch-run.ts NS_A IF_A NS_B IF_B WORKDIR
 * B floods the link with DHCP exchanges at a paced RATE (bench/watch-tx.ts); in A, one at
 * a time, a receiver listens to the same flood:
 *   watch     `dhcptool watch IF_A --json`, stdout to a file in WORKDIR; its final summary
 *             gives the packets it decoded and the kernel's drops on its socket
 *   tcpdump   `tcpdump -i IF_A -n -w /dev/null 'udp port 67 or udp port 68'`, defaults
 *             (no --immediate-mode, libpcap's 2 MiB ring); its exit report
 *   tshark    `tshark -i IF_A -n -f '...' -T fields -e dhcp.option.dhcp`, stdout to a file
 *             (a line per decoded packet); its exit report (captured, dropped)
 * then a soak: watch --json for SOAK_SECONDS of flood, VmRSS sampled every 5 s, and the
 * output watch still had queued when the flood ended.
 * Each receiver is stopped with SIGINT once its output has stopped growing after the flood.
 * Progress on stderr, a Markdown table on stdout.
 *
 * tshark's capture child, dumpcap, spools the capture to a temporary file (TMPDIR=WORKDIR)
 * and tshark decodes behind it: the report says how long its output kept growing.
 *
 * Knobs (environment): RATE (100000 frames/s), SECONDS (10), SOAK_SECONDS (60; 0 skips the
 * soak), SOAK_OUT (file: watch's stdout to a file in WORKDIR, punched out every 250 ms;
 * null: to /dev/null, where no output queue builds up: RSS only, no summary),
 * TOOLS ("watch tcpdump tshark"), CLIENTS (1024 exchanges per pass of the pool),
 * XID_MODE (fresh: new xids every pass; repeat: the same CLIENTS exchanges over and over).
 * Every wait is bounded; every process started here is killed by its PID when this ends.
 */
import { join } from "node:path";
import {
  alive,
  countLines,
  cpuSeconds,
  hasThread,
  int,
  killAll,
  killChildrenOnExit,
  lastJson,
  log,
  rssMiB,
  rxPackets,
  size,
  spawnIn,
  stop,
  text,
  waitFor,
} from "./watch-proc.ts";
import { type Received, report, type Sent, type Soak } from "./watch-report.ts";

const [nsA, ifA, nsB, ifB, workDir] = process.argv.slice(2);
if (!nsA || !ifA || !nsB || !ifB || !workDir) {
  console.error("usage: bun bench/watch-run.ts NS_A IF_A NS_B IF_B WORKDIR (run by bench/watch.sh)");
  process.exit(2);
}

const envNumber = (name: string, fallback: number, min: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < min) {
    console.error(`bench: ${name} must be a number >= ${min}`);
    process.exit(2);
  }
  return value;
};
const RATE = envNumber("RATE", 100_000, 1);
const SECONDS = envNumber("SECONDS", 10, 1);
const SOAK_SECONDS = envNumber("SOAK_SECONDS", 60, 0);
const CLIENTS = Math.round(envNumber("CLIENTS", 1024, 1));
const SOAK_OUT = (process.env.SOAK_OUT ?? "file") as "file" | "null";
if (SOAK_OUT !== "file" && SOAK_OUT !== "null") {
  console.error("bench: SOAK_OUT is file (watch --json > a file in /dev/shm) or null (> /dev/null)");
  process.exit(2);
}
const XID_MODE = process.env.XID_MODE ?? "fresh";
if (XID_MODE !== "fresh" && XID_MODE !== "repeat") {
  console.error("bench: XID_MODE is fresh or repeat");
  process.exit(2);
}
const TOOLS = (process.env.TOOLS ?? "watch tcpdump tshark").split(/[\s,]+/).filter(Boolean);
for (const t of TOOLS) {
  if (t !== "watch" && t !== "tcpdump" && t !== "tshark") {
    console.error(`bench: unknown tool ${t} in TOOLS (watch, tcpdump, tshark)`);
    process.exit(2);
  }
}
/** RSS samples every this many seconds during the soak; growth is judged after SOAK_WARMUP_S. */
const RSS_EVERY_S = 5;
const SOAK_WARMUP_S = 10;
/** After the flood: a receiver is done when its output has not grown for QUIET_MS (at most DRAIN_MAX_MS). */
const QUIET_MS = 500;
/** tshark decodes behind the capture (dumpcap spools to a temporary file): it may need long. */
const DRAIN_MAX_MS = { watch: 5_000, tcpdump: 2_500, tshark: Math.max(15, 2 * SECONDS) * 1000 } as const;
const FILTER = "udp port 67 or udp port 68";

const budgetMs = (TOOLS.reduce((sum, t) => sum + (t === "tshark" ? 3 * SECONDS + 60 : SECONDS + 45), 0) + (SOAK_SECONDS > 0 ? SOAK_SECONDS + 60 : 0)) * 1000;
killChildrenOnExit(budgetMs);

// ---- the flood ---------------------------------------------------------------

async function flood(seconds: number): Promise<Sent> {
  const errFile = join(workDir, "tx.err");
  const tx = spawnIn(nsB, [process.execPath, "bench/watch-tx.ts", ifB, String(RATE), String(seconds), String(CLIENTS), XID_MODE], "pipe", errFile);
  const out = await Promise.race([new Response(tx.stdout as ReadableStream).text(), Bun.sleep((seconds + 30) * 1000).then(() => null)]);
  if (out === null) throw new Error("the sender did not finish");
  const code = await tx.exited;
  const line = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !line) throw new Error(`the sender failed (exit ${code}): ${text(errFile).trim()}`);
  const r = JSON.parse(line) as Sent;
  if (r.firstError) log(`sender: first send error: ${r.firstError}`);
  return r;
}

// ---- receivers ---------------------------------------------------------------

async function runTool(tool: "watch" | "tcpdump" | "tshark"): Promise<Received> {
  const out = join(workDir, `${tool}.out`);
  const err = join(workDir, `${tool}.err`);
  let cmd: string[];
  let shown: string;
  let ready: () => boolean;
  let progress: () => number;
  if (tool === "watch") {
    cmd = [process.execPath, "cli/main.ts", "watch", ifA, "--json"];
    shown = `dhcptool watch ${ifA} --json > file`;
    ready = () => text(out).includes('"event":"start"');
    progress = () => size(out);
  } else if (tool === "tcpdump") {
    cmd = ["tcpdump", "-i", ifA, "-n", "-w", "/dev/null", FILTER];
    shown = `tcpdump -i ${ifA} -n -w /dev/null '${FILTER}'`;
    ready = () => text(err).includes("listening on");
    // no output to watch: its ring hands blocks over within 1 s (libpcap's timeout), wait it out
    progress = () => performance.now();
  } else {
    cmd = ["tshark", "-i", ifA, "-n", "-f", FILTER, "-T", "fields", "-e", "dhcp.option.dhcp"];
    shown = `tshark -i ${ifA} -n -f '${FILTER}' -T fields -e dhcp.option.dhcp > file`;
    ready = () => text(err).includes("Capturing on");
    progress = () => size(out);
  }
  log(`${tool}: ${shown}, ${RATE} frames/s for ${SECONDS} s`);
  // tshark's capture child (dumpcap) writes a temporary pcapng: keep it in WORKDIR
  const proc = spawnIn(nsA, cmd, tool === "tcpdump" ? "/dev/null" : out, err, { TMPDIR: workDir });
  await waitFor(`${tool} to start`, () => ready() || !alive(proc), 20_000);
  if (!alive(proc)) throw new Error(`${tool} exited (${proc.exitCode}) before it was ready: ${text(err).trim()}`);
  await Bun.sleep(300);
  const rx0 = rxPackets(nsA, ifA);
  const cpu0 = cpuSeconds(proc.pid);
  const t0 = performance.now();
  const sent = await flood(SECONDS);
  const outAtFloodEnd = size(out);
  // let it catch up with what it has queued (output stops growing), bounded
  const drainStart = performance.now();
  let last = progress();
  let lastChange = performance.now();
  while (performance.now() - drainStart < DRAIN_MAX_MS[tool] && performance.now() - lastChange < QUIET_MS) {
    await Bun.sleep(50);
    const now = progress();
    if (now !== last) {
      last = now;
      lastChange = performance.now();
    }
  }
  const cpu1 = cpuSeconds(proc.pid);
  const wall = (performance.now() - t0) / 1000;
  const arrived = rxPackets(nsA, ifA) - rx0;
  const outGrewMs = lastChange - drainStart;
  const stopped = await stop(proc, tool);
  const outFinal = size(out);
  const errText = text(err);
  const r: Received = {
    tool,
    command: shown,
    sent,
    arrived,
    received: Number.NaN,
    drops: null,
    decoded: Number.NaN,
    lines: Number.NaN,
    outputDropped: null,
    cpuPercent: ((cpu1 - cpu0) / wall) * 100,
    lagMs: tool === "tcpdump" ? null : outGrewMs,
    exitMs: stopped.ms,
    cleanExit: stopped.ok,
    note: "",
  };
  if (tool === "watch") {
    const summary = lastJson(out);
    if (summary.event !== "summary") throw new Error(`watch: no summary at the end of its output (${errText.trim()})`);
    r.received = summary.packets + (summary.decodeErrors ?? 0);
    r.decoded = summary.packets;
    r.drops = summary.kernelDrops;
    r.lines = countLines(out) - 2; // start, summary
    r.outputDropped = summary.outputDropped ?? null;
    if (r.lines + (r.outputDropped ?? 0) !== summary.packets) {
      r.note = `${r.lines} packet lines + ${r.outputDropped} dropped != ${summary.packets} packets in the summary`;
    }
    if (summary.decodeErrors) r.note += ` ${summary.decodeErrors} not decodable`;
    const mb = (n: number) => (n / 1e6).toFixed(0);
    r.note +=
      ` output: ${mb(outAtFloodEnd)} MB written by the end of the flood, ${mb(outFinal - outAtFloodEnd)} MB after it ` +
      `(exit ${(stopped.ms / 1000).toFixed(1)} s after SIGINT)`;
  } else {
    const captured = /(\d+) packets? captured/.exec(errText);
    const dropped = /(\d+) packets? dropped by kernel/.exec(errText) ?? /(\d+) packets? dropped from/.exec(errText);
    r.received = captured ? Number(captured[1]) : Number.NaN;
    r.drops = dropped ? Number(dropped[1]) : tool === "tshark" && captured ? 0 : null;
    r.decoded = r.lines = tool === "tshark" ? countLines(out) : Number.NaN;
    if (tool === "tshark" && !dropped) r.note = 'no "dropped" line at exit: tshark prints one only when dumpcap reports drops';
    const byFilter = /(\d+) packets? received by filter/.exec(errText);
    if (byFilter && Number(byFilter[1]) !== r.received) r.note = `${int(Number(byFilter[1]))} received by filter`;
  }
  if (!stopped.ok) r.note += " killed after SIGINT";
  else if (stopped.ms > 2000) r.note += ` exited ${(stopped.ms / 1000).toFixed(1)} s after SIGINT`;
  log(
    `${tool}: sent ${sent.sent} (${Math.round(sent.rate)}/s), arrived ${arrived}, received ${r.received}, ` +
      `kernel drops ${r.drops}, decoded ${r.decoded}, lines ${r.lines}, output dropped ${r.outputDropped}, CPU ${r.cpuPercent.toFixed(0)} %`,
  );
  if (r.note) log(`${tool}: ${r.note.trim()}`);
  // a watch output at 100k/s is ~100 MB per second of flood: do not keep it
  Bun.spawnSync(["rm", "-f", out, join(workDir, `${tool}.err`)]);
  return r;
}

// ---- soak --------------------------------------------------------------------

async function soak(): Promise<Soak> {
  const out = join(workDir, "soak.out");
  const err = join(workDir, "soak.err");
  const toFile = SOAK_OUT === "file";
  log(`soak: dhcptool watch ${ifA} --json > ${toFile ? "file" : "/dev/null"} under ${RATE} frames/s for ${SOAK_SECONDS} s, VmRSS every ${RSS_EVERY_S} s`);
  const proc = spawnIn(nsA, [process.execPath, "cli/main.ts", "watch", ifA, "--json"], toFile ? out : "/dev/null", err);
  // with stdout to /dev/null, the start line cannot be seen: the socket is open once the
  // process has its receive thread
  const started = () => (toFile ? text(out).includes('"event":"start"') : hasThread(proc.pid, "dhcptool-rx"));
  await waitFor("watch to start", () => !alive(proc) || started(), 20_000);
  if (!alive(proc)) throw new Error(`watch exited before it was ready: ${text(err).trim()}`);
  await Bun.sleep(300);
  const exe = Bun.spawnSync(["readlink", `/proc/${proc.pid}/exe`])
    .stdout.toString()
    .trim();
  if (!exe.includes("bun")) throw new Error(`PID ${proc.pid} is ${exe}, not bun: cannot sample its RSS`);
  // The output runs to GBs: every 250 ms the written part of the file is punched out
  // (fallocate --punch-hole), so /dev/shm holds little while the size still counts every
  // byte written. (Truncating would not do: Bun.write to a file first fallocates [0, len),
  // which after a truncation puts len zero bytes ahead of the text.)
  const empty = () => {
    if (!toFile) return;
    const n = size(out);
    if (n > 0) Bun.spawnSync(["fallocate", "--punch-hole", "--offset", "0", "--length", String(n), out]);
  };
  const samples = [{ t: 0, mib: rssMiB(proc.pid), outMB: 0 }];
  const t0 = performance.now();
  const sending = flood(SOAK_SECONDS);
  let done = false;
  sending
    .finally(() => {
      done = true;
    })
    .catch(() => {});
  let nextSample = RSS_EVERY_S;
  while (!done) {
    await Bun.sleep(250);
    empty();
    const t = (performance.now() - t0) / 1000;
    if (t >= nextSample && nextSample <= SOAK_SECONDS) {
      samples.push({ t: nextSample, mib: rssMiB(proc.pid), outMB: size(out) / 1e6 });
      nextSample += RSS_EVERY_S;
    }
  }
  const sent = await sending;
  const atFloodEnd = size(out);
  // let it write out what it has queued (its output stops growing), bounded
  const drainStart = performance.now();
  let quietSince = performance.now();
  let peakMib = rssMiB(proc.pid);
  let lastSize = atFloodEnd;
  while (performance.now() - drainStart < (toFile ? 30_000 : 1000) && performance.now() - quietSince < 1000) {
    await Bun.sleep(250);
    peakMib = Math.max(peakMib, rssMiB(proc.pid));
    const before = size(out);
    empty();
    if (size(out) !== before || before !== lastSize) quietSince = performance.now();
    lastSize = before;
  }
  const drainedMs = quietSince - drainStart;
  samples.push({ t: Math.round((performance.now() - t0) / 1000), mib: rssMiB(proc.pid), outMB: size(out) / 1e6 });
  const stopped = await stop(proc, "watch (soak)");
  const summary = toFile ? lastJson(out) : {};
  const tailText = toFile ? text(out, "tail", 4096) : "";
  const total = size(out);
  Bun.spawnSync(["rm", "-f", out, err]);
  if (toFile && summary.event !== "summary") {
    throw new Error(`soak: no summary at the end of watch output (exit ${proc.exitCode}, ${total} bytes, ends ${JSON.stringify(tailText.slice(-200))})`);
  }
  return {
    seconds: SOAK_SECONDS,
    output: SOAK_OUT,
    sent,
    samples,
    packets: toFile ? summary.packets : null,
    drops: toFile ? summary.kernelDrops : null,
    outputDropped: toFile ? (summary.outputDropped ?? null) : null,
    backlogMB: toFile ? (total - atFloodEnd) / 1e6 : null,
    drainedMs,
    drainPeakMib: peakMib,
    exitMs: stopped.ms,
  };
}

// ---- report ------------------------------------------------------------------

try {
  const results: Received[] = [];
  for (const tool of TOOLS) results.push(await runTool(tool as "watch" | "tcpdump" | "tshark"));
  const soaked = SOAK_SECONDS > 0 ? await soak() : null;
  const setup = { rate: RATE, seconds: SECONDS, clients: CLIENTS, xidMode: XID_MODE, warmupS: SOAK_WARMUP_S };
  process.stdout.write(await report(results, soaked, setup));
} catch (err) {
  log(`failed: ${err instanceof Error ? err.message : String(err)}`);
  killAll();
  process.exit(1);
}
killAll();
