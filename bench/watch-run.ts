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
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [nsA, ifA, nsB, ifB, workDir] = process.argv.slice(2);
if (!nsA || !ifA || !nsB || !ifB || !workDir) {
  console.error('usage: bun bench/watch-run.ts NS_A IF_A NS_B IF_B WORKDIR (run by bench/watch.sh)');
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
const RATE = envNumber('RATE', 100_000, 1);
const SECONDS = envNumber('SECONDS', 10, 1);
const SOAK_SECONDS = envNumber('SOAK_SECONDS', 60, 0);
const CLIENTS = Math.round(envNumber('CLIENTS', 1024, 1));
const SOAK_OUT = (process.env.SOAK_OUT ?? 'file') as 'file' | 'null';
if (SOAK_OUT !== 'file' && SOAK_OUT !== 'null') {
  console.error('bench: SOAK_OUT is file (watch --json > a file in /dev/shm) or null (> /dev/null)');
  process.exit(2);
}
const XID_MODE = process.env.XID_MODE ?? 'fresh';
if (XID_MODE !== 'fresh' && XID_MODE !== 'repeat') {
  console.error('bench: XID_MODE is fresh or repeat');
  process.exit(2);
}
const TOOLS = (process.env.TOOLS ?? 'watch tcpdump tshark').split(/[\s,]+/).filter(Boolean);
for (const t of TOOLS) {
  if (t !== 'watch' && t !== 'tcpdump' && t !== 'tshark') {
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
const EXIT_WAIT_MS = 15_000;
const FILTER = 'udp port 67 or udp port 68';

const root = join(import.meta.dir, '..');
const log = (text: string) => process.stderr.write(`bench: ${text}\n`);
const int = (n: number | null) => (n !== null && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const CLK_TCK = (() => {
  const n = Number(Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString().trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

// ---- processes ---------------------------------------------------------------

const started: Bun.Subprocess[] = [];
const alive = (p: Bun.Subprocess) => p.exitCode === null && p.signalCode === null;

/** PIDs of the children (any depth) of pid: tshark runs dumpcap. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, pp] of parent) if (pp === p) { out.push(child); queue.push(child); }
  }
  return out;
}

function killAll(): void {
  for (const p of started) {
    if (!alive(p)) continue;
    for (const pid of [...descendants(p.pid), p.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    killAll();
    process.exit(1);
  });
}

const budgetMs =
  (TOOLS.reduce((sum, t) => sum + (t === 'tshark' ? 3 * SECONDS + 60 : SECONDS + 45), 0) + (SOAK_SECONDS > 0 ? SOAK_SECONDS + 60 : 0)) * 1000;
setTimeout(() => {
  log(`gave up after ${budgetMs / 1000} s`);
  killAll();
  process.exit(1);
}, budgetMs).unref();

/** `ip netns exec` execs in place: the PID is the command's own. stdout/stderr: files, appended. */
function spawnIn(ns: string, cmd: string[], out: string | 'pipe', err: string, env?: Record<string, string>): Bun.Subprocess {
  const fds: number[] = [];
  const open = (path: string) => {
    const fd = openSync(path, 'a');
    fds.push(fd);
    return fd;
  };
  const proc = Bun.spawn(['ip', 'netns', 'exec', ns, ...cmd], {
    cwd: root,
    stdin: 'ignore',
    stdout: out === 'pipe' ? 'pipe' : open(out),
    stderr: open(err),
    env: { ...process.env, ...env },
  });
  for (const fd of fds) closeSync(fd);
  started.push(proc);
  return proc;
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}

const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);
/** At most `limit` bytes of a file, from its start or from its end (watch's output runs to GBs). */
function text(path: string, from: 'head' | 'tail' = 'head', limit = 1 << 20): string {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const total = fstatSync(fd).size;
    const n = Math.min(total, limit);
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, from === 'head' ? 0 : total - n);
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
/** The last JSON line of watch's output: its summary (which lists up to 4096 clients). */
function lastJson(path: string): Record<string, any> {
  const tail = text(path, 'tail', 8 << 20).trimEnd();
  try {
    // (after a punched-out stretch, zero bytes stand where the line before it ended)
    return JSON.parse(tail.slice(tail.lastIndexOf('\n') + 1).replace(/^\0+/, ''));
  } catch {
    return {};
  }
}

/** SIGINT, then up to EXIT_WAIT_MS for a clean exit, then SIGKILL (the process and its children). */
async function stop(proc: Bun.Subprocess, name: string): Promise<{ ok: boolean; ms: number }> {
  const t0 = performance.now();
  if (alive(proc)) proc.kill('SIGINT');
  const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(EXIT_WAIT_MS).then(() => false)]);
  if (!done) {
    log(`${name} did not exit within ${EXIT_WAIT_MS / 1000} s of SIGINT: killed`);
    for (const pid of [...descendants(proc.pid), proc.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await proc.exited;
  }
  return { ok: done, ms: performance.now() - t0 };
}

/** utime + stime of a process and its descendants, in seconds. */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks / CLK_TCK;
}

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s*(\d+)\s*kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Frames that reached IF_A (the veth's rx counter): what any receiver there could see. */
function rxPackets(): number {
  const out = Bun.spawnSync(['ip', '-n', nsA, '-s', '-j', 'link', 'show', ifA]).stdout.toString();
  return Number(JSON.parse(out)[0]?.stats64?.rx?.packets ?? Number.NaN);
}

// ---- the flood ---------------------------------------------------------------

interface Sent { sent: number; errors: number; firstError: string; elapsedMs: number; rate: number; maxBurst: number; meanBurst: number; writtenOff: number }

async function flood(seconds: number): Promise<Sent> {
  const errFile = join(workDir, 'tx.err');
  const tx = spawnIn(nsB, [process.execPath, 'bench/watch-tx.ts', ifB, String(RATE), String(seconds), String(CLIENTS), XID_MODE], 'pipe', errFile);
  const out = await Promise.race([
    new Response(tx.stdout as ReadableStream).text(),
    Bun.sleep((seconds + 30) * 1000).then(() => null),
  ]);
  if (out === null) throw new Error('the sender did not finish');
  const code = await tx.exited;
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line) throw new Error(`the sender failed (exit ${code}): ${text(errFile).trim()}`);
  const r = JSON.parse(line) as Sent;
  if (r.firstError) log(`sender: first send error: ${r.firstError}`);
  return r;
}

// ---- receivers ---------------------------------------------------------------

interface Received {
  tool: string;
  command: string;
  sent: Sent;
  arrived: number;
  received: number;
  decoded: number;
  drops: number | null;
  cpuPercent: number;
  /** How long after the flood its output kept growing (null: no output to watch). */
  lagMs: number | null;
  exitMs: number;
  cleanExit: boolean;
  note: string;
}

const countLines = (path: string) => {
  const out = Bun.spawnSync(['wc', '-l', path]).stdout.toString();
  return Number(out.trim().split(/\s+/)[0]);
};

async function runTool(tool: 'watch' | 'tcpdump' | 'tshark'): Promise<Received> {
  const out = join(workDir, `${tool}.out`);
  const err = join(workDir, `${tool}.err`);
  let cmd: string[];
  let shown: string;
  let ready: () => boolean;
  let progress: () => number;
  if (tool === 'watch') {
    cmd = [process.execPath, 'cli/main.ts', 'watch', ifA, '--json'];
    shown = `dhcptool watch ${ifA} --json > file`;
    ready = () => text(out).includes('"event":"start"');
    progress = () => size(out);
  } else if (tool === 'tcpdump') {
    cmd = ['tcpdump', '-i', ifA, '-n', '-w', '/dev/null', FILTER];
    shown = `tcpdump -i ${ifA} -n -w /dev/null '${FILTER}'`;
    ready = () => text(err).includes('listening on');
    // no output to watch: its ring hands blocks over within 1 s (libpcap's timeout), wait it out
    progress = () => performance.now();
  } else {
    cmd = ['tshark', '-i', ifA, '-n', '-f', FILTER, '-T', 'fields', '-e', 'dhcp.option.dhcp'];
    shown = `tshark -i ${ifA} -n -f '${FILTER}' -T fields -e dhcp.option.dhcp > file`;
    ready = () => text(err).includes('Capturing on');
    progress = () => size(out);
  }
  log(`${tool}: ${shown}, ${RATE} frames/s for ${SECONDS} s`);
  // tshark's capture child (dumpcap) writes a temporary pcapng: keep it in WORKDIR
  const proc = spawnIn(nsA, cmd, tool === 'tcpdump' ? '/dev/null' : out, err, { TMPDIR: workDir });
  await waitFor(`${tool} to start`, () => ready() || !alive(proc), 20_000);
  if (!alive(proc)) throw new Error(`${tool} exited (${proc.exitCode}) before it was ready: ${text(err).trim()}`);
  await Bun.sleep(300);
  const rx0 = rxPackets();
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
    if (now !== last) { last = now; lastChange = performance.now(); }
  }
  const cpu1 = cpuSeconds(proc.pid);
  const wall = (performance.now() - t0) / 1000;
  const arrived = rxPackets() - rx0;
  const outGrewMs = lastChange - drainStart;
  const stopped = await stop(proc, tool);
  const outFinal = size(out);
  const errText = text(err);
  const r: Received = {
    tool, command: shown, sent, arrived, received: Number.NaN, decoded: Number.NaN, drops: null,
    cpuPercent: ((cpu1 - cpu0) / wall) * 100, lagMs: tool === 'tcpdump' ? null : outGrewMs,
    exitMs: stopped.ms, cleanExit: stopped.ok, note: '',
  };
  if (tool === 'watch') {
    const summary = lastJson(out);
    if (summary.event !== 'summary') throw new Error(`watch: no summary at the end of its output (${errText.trim()})`);
    r.received = r.decoded = summary.packets;
    r.drops = summary.kernelDrops;
    const packetLines = countLines(out) - 2; // start, summary
    if (packetLines !== summary.packets) r.note = `${packetLines} packet lines vs summary ${summary.packets}`;
    if (summary.decodeErrors) r.note += ` ${summary.decodeErrors} not decodable`;
    const mb = (n: number) => (n / 1e6).toFixed(0);
    r.note += ` output: ${mb(outAtFloodEnd)} MB written by the end of the flood, ${mb(outFinal - outAtFloodEnd)} MB after it ` +
      `(exit ${(stopped.ms / 1000).toFixed(1)} s after SIGINT)`;
  } else {
    const captured = /(\d+) packets? captured/.exec(errText);
    const dropped = /(\d+) packets? dropped by kernel/.exec(errText) ?? /(\d+) packets? dropped from/.exec(errText);
    r.received = captured ? Number(captured[1]) : Number.NaN;
    r.drops = dropped ? Number(dropped[1]) : tool === 'tshark' && captured ? 0 : null;
    r.decoded = tool === 'tshark' ? countLines(out) : Number.NaN;
    if (tool === 'tshark' && !dropped) r.note = 'no "dropped" line at exit: tshark prints one only when dumpcap reports drops';
    const byFilter = /(\d+) packets? received by filter/.exec(errText);
    if (byFilter && Number(byFilter[1]) !== r.received) r.note = `${int(Number(byFilter[1]))} received by filter`;
  }
  if (!stopped.ok) r.note += ' killed after SIGINT';
  else if (stopped.ms > 2000) r.note += ` exited ${(stopped.ms / 1000).toFixed(1)} s after SIGINT`;
  log(
    `${tool}: sent ${sent.sent} (${Math.round(sent.rate)}/s), arrived ${arrived}, received ${r.received}, ` +
      `decoded ${r.decoded}, kernel drops ${r.drops}, CPU ${r.cpuPercent.toFixed(0)} %`,
  );
  if (r.note) log(`${tool}: ${r.note.trim()}`);
  // a watch output at 100k/s is ~100 MB per second of flood: do not keep it
  Bun.spawnSync(['rm', '-f', out, join(workDir, `${tool}.err`)]);
  return r;
}

// ---- soak --------------------------------------------------------------------

interface Soak {
  seconds: number;
  output: 'file' | 'null';
  sent: Sent;
  samples: { t: number; mib: number; outMB: number }[];
  packets: number | null;
  drops: number | null;
  /** Output written after the flood had ended: what watch still had queued. */
  backlogMB: number | null;
  /** How long after the flood its output kept growing; the highest RSS seen meanwhile. */
  drainedMs: number;
  drainPeakMib: number;
  exitMs: number;
}

async function soak(): Promise<Soak> {
  const out = join(workDir, 'soak.out');
  const err = join(workDir, 'soak.err');
  const toFile = SOAK_OUT === 'file';
  log(`soak: dhcptool watch ${ifA} --json > ${toFile ? 'file' : '/dev/null'} under ${RATE} frames/s for ${SOAK_SECONDS} s, VmRSS every ${RSS_EVERY_S} s`);
  const proc = spawnIn(nsA, [process.execPath, 'cli/main.ts', 'watch', ifA, '--json'], toFile ? out : '/dev/null', err);
  // with stdout to /dev/null, the start line cannot be seen: the socket is open once the
  // process has its receive thread
  const started = () => toFile
    ? text(out).includes('"event":"start"')
    : readdirSync(`/proc/${proc.pid}/task`).some((t) => { try { return readFileSync(`/proc/${proc.pid}/task/${t}/comm`, 'utf8').startsWith('dhcptool-rx'); } catch { return false; } });
  await waitFor('watch to start', () => !alive(proc) || started(), 20_000);
  if (!alive(proc)) throw new Error(`watch exited before it was ready: ${text(err).trim()}`);
  await Bun.sleep(300);
  const exe = Bun.spawnSync(['readlink', `/proc/${proc.pid}/exe`]).stdout.toString().trim();
  if (!exe.includes('bun')) throw new Error(`PID ${proc.pid} is ${exe}, not bun: cannot sample its RSS`);
  // The output runs to GBs: every 250 ms the written part of the file is punched out
  // (fallocate --punch-hole), so /dev/shm holds little while the size still counts every
  // byte written. (Truncating would not do: Bun.write to a file first fallocates [0, len),
  // which after a truncation puts len zero bytes ahead of the text.)
  const empty = () => {
    if (!toFile) return;
    const n = size(out);
    if (n > 0) Bun.spawnSync(['fallocate', '--punch-hole', '--offset', '0', '--length', String(n), out]);
  };
  const samples = [{ t: 0, mib: rssMiB(proc.pid), outMB: 0 }];
  const t0 = performance.now();
  const sending = flood(SOAK_SECONDS);
  let done = false;
  sending.finally(() => { done = true; }).catch(() => {});
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
  const stopped = await stop(proc, 'watch (soak)');
  const summary = toFile ? lastJson(out) : {};
  const tailText = toFile ? text(out, 'tail', 4096) : '';
  const total = size(out);
  Bun.spawnSync(['rm', '-f', out, err]);
  if (toFile && summary.event !== 'summary') {
    throw new Error(`soak: no summary at the end of watch output (exit ${proc.exitCode}, ${total} bytes, ends ${JSON.stringify(tailText.slice(-200))})`);
  }
  return {
    seconds: SOAK_SECONDS, output: SOAK_OUT, sent, samples,
    packets: toFile ? summary.packets : null, drops: toFile ? summary.kernelDrops : null,
    backlogMB: toFile ? (total - atFloodEnd) / 1e6 : null, drainedMs, drainPeakMib: peakMib, exitMs: stopped.ms,
  };
}

/** Least-squares slope in MiB per minute. */
function slope(points: { t: number; mib: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mm = points.reduce((s, p) => s + p.mib, 0) / n;
  const num = points.reduce((s, p) => s + (p.t - mt) * (p.mib - mm), 0);
  const den = points.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  return den ? (num / den) * 60 : Number.NaN;
}

// ---- report ------------------------------------------------------------------


try {
  const results: Received[] = [];
  for (const tool of TOOLS) results.push(await runTool(tool as 'watch' | 'tcpdump' | 'tshark'));
  const soaked = SOAK_SECONDS > 0 ? await soak() : null;

  const cpu = (await Bun.file('/proc/cpuinfo').text()).match(/model name\s*:\s*(.*)/)?.[1] ?? 'cpu?';
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const lines = [
    `Date: ${new Date().toISOString().slice(0, 10)}; Bun ${Bun.version}; ${cpu} (${navigator.hardwareConcurrency} CPUs); ` +
      `Linux ${kernel}; veth between two namespaces; flood: ${int(RATE)} frames/s asked for ${SECONDS} s, ` +
      `${CLIENTS} clients' DORA exchanges (${XID_MODE} xids), 342/353-byte frames`,
    '',
    '| receiver | frames sent (rate achieved) | arrived at the veth | received | decoded | decoded per s of flood | kernel drops | receiver CPU | output lag | decoded per s, flood + lag |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => {
      const perS = Number.isFinite(r.decoded) ? r.decoded / (r.sent.elapsedMs / 1000) : Number.NaN;
      return `| ${r.tool} | ${int(r.sent.sent)} (${int(r.sent.rate)}/s) | ${int(r.arrived)} | ${int(r.received)} | ` +
        `${int(r.decoded)} | ${int(perS)} | ${int(r.drops)} | ${r.cpuPercent.toFixed(0)} % | ` +
        `${r.lagMs === null ? '-' : `${(r.lagMs / 1000).toFixed(1)} s`} | ` +
        `${r.lagMs === null ? '-' : int(r.decoded / ((r.sent.elapsedMs + r.lagMs) / 1000))} |`;
    }),
  ];
  const notes = [
    ...results.map((r) => `- ${r.tool}: \`${r.command}\`${r.tool === 'tcpdump' ? ' (defaults: buffered, no --immediate-mode; libpcap\'s 2 MiB TPACKET_V3 ring)' : ''}`),
    ...results.filter((r) => r.note.trim()).map((r) => `- ${r.tool}: ${r.note.trim()}`),
  ];
  for (const r of results) {
    if (r.sent.writtenOff > 0) notes.push(`- ${r.tool}: the sender fell behind and wrote off ${int(r.sent.writtenOff)} frames (max burst ${r.sent.maxBurst})`);
  }
  if (soaked) {
    const s = soaked.samples;
    const mibs = s.map((x) => x.mib);
    const late = s.filter((x) => x.t >= SOAK_WARMUP_S);
    const half = Math.ceil(late.length / 2);
    const firstMax = Math.max(...late.slice(0, half).map((x) => x.mib));
    const secondMax = Math.max(...late.slice(half).map((x) => x.mib));
    // growing: a clear upward trend (least squares) and a later half that tops the earlier one;
    // a garbage-collected heap saws up and down by tens of MiB without either
    const meanMib = late.reduce((sum, x) => sum + x.mib, 0) / Math.max(1, late.length);
    const rising = slope(late) > Math.max(10, 0.05 * meanMib) && secondMax > firstMax * 1.1;
    const verdict = late.length < 4 ? 'too short to judge' : rising ? 'GROWING' : 'bounded (no steady growth)';
    const target = soaked.output === 'file' ? 'a file in /dev/shm' : '/dev/null';
    lines.push(
      '',
      `RSS of watch --json > ${target} over a ${soaked.seconds} s flood (${int(soaked.sent.sent)} frames, ${int(soaked.sent.rate)}/s` +
        (soaked.packets !== null ? `; decoded ${int(soaked.packets)}, kernel drops ${int(soaked.drops)}` : '') + `): ` +
        `min ${Math.min(...mibs).toFixed(0)} MiB, max ${Math.max(...mibs).toFixed(0)} MiB; ` +
        `from ${SOAK_WARMUP_S} s: ${late[0]?.mib.toFixed(0)} → ${late[late.length - 1]?.mib.toFixed(0)} MiB, slope ${slope(late).toFixed(0)} MiB/min, ` +
        `max of the later half ${secondMax.toFixed(0)} vs the earlier ${firstMax.toFixed(0)} MiB: ${verdict}`,
      `RSS samples (s: MiB${soaked.output === 'file' ? ', MB of output written so far' : ''}): ` +
        s.map((x) => `${x.t}: ${x.mib.toFixed(0)}${soaked.output === 'file' ? ` (${x.outMB.toFixed(0)})` : ''}`).join(', '),
    );
    if (soaked.backlogMB !== null) {
      lines.push(
        `Output still queued in watch when the flood ended: ${soaked.backlogMB.toFixed(0)} MB, written out over the next ` +
          `${(soaked.drainedMs / 1000).toFixed(1)} s (RSS up to ${soaked.drainPeakMib.toFixed(0)} MiB meanwhile); exit ${(soaked.exitMs / 1000).toFixed(1)} s after SIGINT`,
      );
    }
  }
  lines.push(
    '',
    '- received: what the tool counted (watch: packets in its summary; tcpdump/tshark: "packets captured"); ' +
      'decoded: packet lines written (watch: the summary count; tshark: lines of -T fields output); ' +
      'receiver CPU: utime+stime of the receiver and its children over the flood, 100 % = one core; ' +
      'output lag: how long after the flood the output file kept growing (watch: queued output being written; ' +
      'tshark: decoding behind dumpcap, which spools the capture to a temporary file)',
    ...notes,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
} catch (err) {
  log(`failed: ${err instanceof Error ? err.message : String(err)}`);
  killAll();
  process.exit(1);
}
killAll();
