// The resident client at rest (DESIGN.md: < 0.1 % CPU idle over 60 s, RSS ≤ 40 MB): a lab
// with one dnsmasq server, `request lab0 --daemon --apply` bound to it, then its CPU time
// and RSS over IDLE_SECONDS (default 60), beside a bare Bun process holding a timer over the
// same window. Prints a Markdown table. Needs root; the lab is removed on exit.
//
//   sudo bun bench/daemon.ts            IDLE_SECONDS=20 sudo bun bench/daemon.ts
//   SMOL=1 runs the daemon under `bun --smol` (it made no difference here: 44 MB either way);
//   BUNDLE=1 runs dist/main.js (bun run build:bundle first) instead of the sources;
//   COMPILED=1 runs the shipped binary, dist/dhcptool (bun run compile first).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inClient, labDown, labUp } from "../cli/lab/index.ts";

const IDLE_S = Number(process.env.IDLE_SECONDS ?? 60);
const TICKS = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}

function rssKb(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)/m)![1]);
}

async function measure(pid: number): Promise<{ cpuPct: number; rssMb: number; ticks: number }> {
  const t0 = cpuTicks(pid);
  const w0 = performance.now();
  await Bun.sleep(IDLE_S * 1000);
  const ticks = cpuTicks(pid) - t0;
  const wall = (performance.now() - w0) / 1000;
  return { cpuPct: (ticks / TICKS / wall) * 100, rssMb: rssKb(pid) / 1024, ticks };
}

const name = `dtbd${process.pid % 1000}`;
const dir = mkdtempSync(join(tmpdir(), "dhcptool-bench-"));
labDown(name);
const lab = labUp({ name, servers: 1 });
// BUNDLE=1: the minified bundle (bun run build:bundle), as an installed dhcptool would run.
const main = process.env.BUNDLE ? `${import.meta.dir}/../dist/main.js` : `${import.meta.dir}/../cli/main.ts`;
const command = process.env.COMPILED ? [`${import.meta.dir}/../dist/dhcptool`] : [process.execPath, ...(process.env.SMOL ? ["--smol"] : []), main];
let daemon: ReturnType<typeof Bun.spawn> | null = null;
let bare: ReturnType<typeof Bun.spawn> | null = null;
try {
  daemon = Bun.spawn(inClient(lab, [...command, "request", "lab0", "--daemon", "--apply", "--json",
    "--state-dir", join(dir, "state"), "--run-dir", join(dir, "run")]), { stdout: "pipe", stderr: "inherit" });
  const reader = (daemon.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!text.includes('"event":"bound"')) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the daemon ended before binding");
    text += new TextDecoder().decode(value);
  }
  void (async () => { while (!(await reader.read()).done); })(); // keep draining
  await Bun.sleep(1000); // start-up work done
  bare = Bun.spawn([process.execPath, "-e", "setInterval(() => {}, 1 << 30)"], { stdout: "ignore" });
  await Bun.sleep(1000);
  console.error(`bench: measuring ${IDLE_S} s of idle…`);
  const [d, b] = await Promise.all([measure(daemon.pid), measure(bare.pid)]);
  console.log(`| idle ${IDLE_S} s | CPU | CPU ticks | RSS |`);
  console.log(`|---|---|---|---|`);
  console.log(`| request --daemon --apply (bound) | ${d.cpuPct.toFixed(3)} % | ${d.ticks} | ${d.rssMb.toFixed(1)} MB |`);
  console.log(`| bare bun (a timer) | ${b.cpuPct.toFixed(3)} % | ${b.ticks} | ${b.rssMb.toFixed(1)} MB |`);
  console.log(`\ntargets: CPU < 0.1 % (${d.cpuPct < 0.1 ? "met" : "NOT met"}), RSS ≤ 40 MB (${d.rssMb <= 40 ? "met" : "NOT met"})`);
} finally {
  daemon?.kill("SIGTERM");
  bare?.kill();
  await daemon?.exited;
  labDown(name);
  rmSync(dir, { recursive: true, force: true });
}
