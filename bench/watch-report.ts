/**
 * The Markdown report of bench/watch-run.ts: one table row per receiver on the same flood
 * (packets the kernel handed over, the kernel's drops, packets decoded, lines written, lines
 * dropped on the way out), then the soak's RSS verdict, then what each column means.
 */
import { readFileSync } from "node:fs";
import { int } from "./watch-proc.ts";

export interface Sent {
  sent: number;
  errors: number;
  firstError: string;
  elapsedMs: number;
  rate: number;
  maxBurst: number;
  meanBurst: number;
  writtenOff: number;
}

export interface Received {
  tool: string;
  command: string;
  sent: Sent;
  arrived: number;
  received: number;
  drops: number | null;
  /** Packets decoded (watch: DHCP packets in its summary; tshark: lines of -T fields output). */
  decoded: number;
  /** Packet lines in the output file (NaN: the tool writes none). */
  lines: number;
  /** Lines the tool said it dropped because its output did not keep up (watch's outputDropped). */
  outputDropped: number | null;
  cpuPercent: number;
  /** How long after the flood its output kept growing (null: no output to watch). */
  lagMs: number | null;
  exitMs: number;
  cleanExit: boolean;
  note: string;
}

export interface Soak {
  seconds: number;
  output: "file" | "null";
  sent: Sent;
  samples: { t: number; mib: number; outMB: number }[];
  packets: number | null;
  drops: number | null;
  outputDropped: number | null;
  /** Output written after the flood had ended: what watch still had queued. */
  backlogMB: number | null;
  /** How long after the flood its output kept growing; the highest RSS seen meanwhile. */
  drainedMs: number;
  drainPeakMib: number;
  exitMs: number;
}

export interface Setup {
  rate: number;
  seconds: number;
  clients: number;
  xidMode: string;
  /** RSS is judged from this many seconds into the soak. */
  warmupS: number;
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

function row(r: Received): string {
  const perS = (n: number, ms: number) => (Number.isFinite(n) ? int(n / (ms / 1000)) : "-");
  const lag = r.lagMs === null ? "-" : `${(r.lagMs / 1000).toFixed(1)} s`;
  return (
    `| ${r.tool} | ${int(r.sent.sent)} (${int(r.sent.rate)}/s) | ${int(r.arrived)} | ${int(r.received)} | ${int(r.drops)} | ` +
    `${int(r.decoded)} | ${int(r.lines)} | ${int(r.outputDropped)} | ${perS(r.decoded, r.sent.elapsedMs)} | ` +
    `${r.cpuPercent.toFixed(0)} % | ${lag} | ${r.lagMs === null ? "-" : perS(r.decoded, r.sent.elapsedMs + r.lagMs)} |`
  );
}

/** DESIGN.md's goal for watch, judged on this run: 100k/s decoded, no kernel drop, no output line dropped. */
function goalLine(r: Received, setup: Setup): string {
  const perS = r.decoded / (r.sent.elapsedMs / 1000);
  const asked = setup.rate >= 100_000;
  const met = asked && perS >= 100_000 * 0.98 && r.drops === 0 && r.outputDropped === 0 && r.lines === r.decoded;
  return (
    `Goal (watch --json to a file under a 100k/s flood: 100k/s decoded, 0 kernel drops, 0 output lines dropped): ` +
    `${met ? "**met**" : "**not met**"} (${int(perS)}/s decoded of ${int(r.sent.rate)}/s sent, ${int(r.drops)} kernel drops, ` +
    `${int(r.outputDropped)} output lines dropped${asked ? "" : `; the flood asked for ${int(setup.rate)}/s only`})`
  );
}

function soakLines(soaked: Soak, warmupS: number): string[] {
  const s = soaked.samples;
  const mibs = s.map((x) => x.mib);
  const late = s.filter((x) => x.t >= warmupS);
  const half = Math.ceil(late.length / 2);
  const firstMax = Math.max(...late.slice(0, half).map((x) => x.mib));
  const secondMax = Math.max(...late.slice(half).map((x) => x.mib));
  // growing: a clear upward trend (least squares) and a later half that tops the earlier one;
  // a garbage-collected heap saws up and down by tens of MiB without either
  const meanMib = late.reduce((sum, x) => sum + x.mib, 0) / Math.max(1, late.length);
  const rising = slope(late) > Math.max(10, 0.05 * meanMib) && secondMax > firstMax * 1.1;
  const verdict = late.length < 4 ? "too short to judge" : rising ? "GROWING" : "bounded (no steady growth)";
  const toFile = soaked.output === "file";
  const lines = [
    "",
    `RSS of watch --json > ${toFile ? "a file in /dev/shm" : "/dev/null"} over a ${soaked.seconds} s flood ` +
      `(${int(soaked.sent.sent)} frames, ${int(soaked.sent.rate)}/s` +
      (soaked.packets !== null ? `; decoded ${int(soaked.packets)}, kernel drops ${int(soaked.drops)}, output dropped ${int(soaked.outputDropped)}` : "") +
      "): " +
      `min ${Math.min(...mibs).toFixed(0)} MiB, max ${Math.max(...mibs).toFixed(0)} MiB; ` +
      `from ${warmupS} s: ${late[0]?.mib.toFixed(0)} → ${late[late.length - 1]?.mib.toFixed(0)} MiB, ` +
      `slope ${slope(late).toFixed(0)} MiB/min, ` +
      `max of the later half ${secondMax.toFixed(0)} vs the earlier ${firstMax.toFixed(0)} MiB: ${verdict}`,
    `RSS samples (s: MiB${toFile ? ", MB of output written so far" : ""}): ` +
      s.map((x) => `${x.t}: ${x.mib.toFixed(0)}${toFile ? ` (${x.outMB.toFixed(0)})` : ""}`).join(", "),
  ];
  if (soaked.backlogMB !== null) {
    lines.push(
      `Output still queued in watch when the flood ended: ${soaked.backlogMB.toFixed(0)} MB, written out over the next ` +
        `${(soaked.drainedMs / 1000).toFixed(1)} s (RSS up to ${soaked.drainPeakMib.toFixed(0)} MiB meanwhile); ` +
        `exit ${(soaked.exitMs / 1000).toFixed(1)} s after SIGINT`,
    );
  }
  return lines;
}

export async function report(results: Received[], soaked: Soak | null, setup: Setup): Promise<string> {
  const cpu = (await Bun.file("/proc/cpuinfo").text()).match(/model name\s*:\s*(.*)/)?.[1] ?? "cpu?";
  const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const lines = [
    `Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC; Bun ${Bun.version}; ${cpu} ` +
      `(${navigator.hardwareConcurrency} CPUs, load average ${load} at the end); Linux ${kernel}; ` +
      `veth between two namespaces; flood: ${int(setup.rate)} frames/s asked for ${setup.seconds} s, ` +
      `${setup.clients} clients' DORA exchanges (${setup.xidMode} xids), 342/353-byte frames`,
    "",
    "| receiver | frames sent (rate achieved) | arrived at the veth | received | kernel drops | decoded | lines written | " +
      "output dropped | decoded per s of flood | receiver CPU | output lag | decoded per s, flood + lag |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map(row),
  ];
  const notes = [
    ...results.map(
      (r) => `- ${r.tool}: \`${r.command}\`` + (r.tool === "tcpdump" ? " (defaults: buffered, no --immediate-mode; libpcap's 2 MiB TPACKET_V3 ring)" : ""),
    ),
    ...results.filter((r) => r.note.trim()).map((r) => `- ${r.tool}: ${r.note.trim()}`),
  ];
  for (const r of results) {
    if (r.sent.writtenOff > 0) {
      notes.push(`- ${r.tool}: the sender fell behind and wrote off ${int(r.sent.writtenOff)} frames (max burst ${r.sent.maxBurst})`);
    }
  }
  const watch = results.find((r) => r.tool === "watch");
  if (watch) lines.push("", goalLine(watch, setup));
  if (soaked) lines.push(...soakLines(soaked, setup.warmupS));
  lines.push(
    "",
    '- received: what the tool counted (watch: packets in its summary; tcpdump/tshark: "packets captured"); ' +
      "kernel drops: PACKET_STATISTICS (watch: kernelDrops in its summary; tcpdump/tshark: their exit report); " +
      "decoded: watch: DHCP packets decoded (its summary), tshark: lines of -T fields output; " +
      "lines written: packet lines in the output file; output dropped: lines watch did not write because " +
      "its output queue was full (outputDropped in its summary); " +
      "receiver CPU: utime+stime of the receiver and its children over the flood, 100 % = one core; " +
      "output lag: how long after the flood the output file kept growing (watch: queued output being written; " +
      "tshark: decoding behind dumpcap, which spools the capture to a temporary file)",
    ...notes,
  );
  return `${lines.join("\n")}\n`;
}
