// The resident client at rest (DESIGN.md: < 0.1 % CPU idle, RSS ≤ 32 MB): a lab with one
// dnsmasq server, `request lab0 --daemon --apply` bound to it, then its CPU time and RSS over
// IDLE_SECONDS (default 60) beside a bare Bun process holding a timer over the same window,
// for each form it ships in (FORMS, default "compiled bundle source": dist/dhcptool, the npm
// bundle dist/main.js, the sources), one after the other. RSS is split into what is mapped
// from files (the executable's pages: Bun's code) and anonymous memory (heap, stacks).
// Prints a Markdown table. Needs root; the lab is removed on exit.
//
//   sudo bun bench/daemon.ts            IDLE_SECONDS=20 FORMS=compiled sudo bun bench/daemon.ts
//   SMOL=1 runs the bundle and the sources under `bun --smol`.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inClient, labDown, labUp } from "../cli/lab/index.ts";

const IDLE_S = Number(process.env.IDLE_SECONDS ?? 60);
const TICKS = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}

/** VmRSS, and the part of it mapped from files (RssFile) and anonymous (RssAnon), in kB. */
function rssKb(pid: number): { rss: number; file: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+)`, "m"))?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS"), file: kb("RssFile"), anon: kb("RssAnon") };
}

async function measure(pid: number): Promise<{ cpuPct: number; ticks: number; rssMb: number; fileMb: number; anonMb: number }> {
  const t0 = cpuTicks(pid);
  const w0 = performance.now();
  await Bun.sleep(IDLE_S * 1000);
  const ticks = cpuTicks(pid) - t0;
  const wall = (performance.now() - w0) / 1000;
  const r = rssKb(pid);
  return { cpuPct: (ticks / TICKS / wall) * 100, ticks, rssMb: r.rss / 1024, fileMb: r.file / 1024, anonMb: r.anon / 1024 };
}

const root = `${import.meta.dir}/..`;
const FORMS: Record<string, () => string[]> = {
  compiled: () => [`${root}/dist/dhcptool`],
  bundle: () => [process.execPath, ...(process.env.SMOL ? ["--smol"] : []), `${root}/dist/main.js`],
  source: () => [process.execPath, ...(process.env.SMOL ? ["--smol"] : []), `${root}/cli/main.ts`],
};
const forms = (process.env.FORMS ?? "compiled bundle source").split(/\s+/).filter(Boolean);
for (const f of forms) if (!Object.hasOwn(FORMS, f)) throw new Error(`FORMS: "${f}" is not one of ${Object.keys(FORMS).join(", ")}`);
for (const script of ["native/build.sh", "scripts/bundle.sh", "scripts/compile.sh"]) {
  if (Bun.spawnSync(["bash", `${root}/${script}`], { stdout: "ignore", stderr: "inherit" }).exitCode !== 0) throw new Error(`${script} failed`);
}

const RSS_GOAL_MB = 32;
const CPU_GOAL_PCT = 0.1;
const name = `dtbd${process.pid % 1000}`;
const dir = mkdtempSync(join(tmpdir(), "dhcptool-bench-"));
labDown(name);
const lab = labUp({ name, servers: 1 });
const rows: string[] = [];
const verdicts: string[] = [];
const bare = Bun.spawn([process.execPath, "-e", "setInterval(() => {}, 1 << 30)"], { stdout: "ignore" });
try {
  for (const form of forms) {
    mkdirSync(join(dir, form)); // the daemon makes its state and run directories in it, not their parents
    const daemon = Bun.spawn(
      inClient(lab, [
        ...FORMS[form](),
        "request",
        "lab0",
        "--daemon",
        "--apply",
        "--json",
        "--state-dir",
        join(dir, form, "state"),
        "--run-dir",
        join(dir, form, "run"),
      ]),
      { stdout: "pipe", stderr: "inherit" },
    );
    try {
      const reader = (daemon.stdout as ReadableStream<Uint8Array>).getReader();
      let text = "";
      while (!text.includes('"event":"bound"')) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the daemon (${form}) ended before binding`);
        text += new TextDecoder().decode(value);
      }
      void (async () => {
        while (!(await reader.read()).done);
      })(); // keep draining
      await Bun.sleep(2000); // start-up work done
      console.error(`bench: ${form}: measuring ${IDLE_S} s of idle…`);
      const [d, b] = await Promise.all([measure(daemon.pid), measure(bare.pid)]);
      const mb = (x: number) => `${x.toFixed(1)} MB`;
      rows.push(`| request --daemon --apply, ${form} | ${d.cpuPct.toFixed(3)} % | ${d.ticks} | ${mb(d.rssMb)} | ${mb(d.fileMb)} | ${mb(d.anonMb)} |`);
      rows.push(`| bare bun (a timer), same window | ${b.cpuPct.toFixed(3)} % | ${b.ticks} | ${mb(b.rssMb)} | ${mb(b.fileMb)} | ${mb(b.anonMb)} |`);
      const ok = (cond: boolean) => (cond ? "**met**" : "**not met**");
      verdicts.push(
        `- ${form}: CPU < ${CPU_GOAL_PCT} % ${ok(d.cpuPct < CPU_GOAL_PCT)} (${d.cpuPct.toFixed(3)} %); RSS ≤ ${RSS_GOAL_MB} MB ${ok(d.rssMb <= RSS_GOAL_MB)} (${mb(d.rssMb)})`,
      );
    } finally {
      daemon.kill("SIGTERM");
      await daemon.exited;
    }
  }
  console.log(`| idle ${IDLE_S} s | CPU | CPU ticks | RSS | mapped from files | anonymous |`);
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const r of rows) console.log(r);
  console.log("\nGoals:");
  for (const v of verdicts) console.log(v);
} finally {
  bare.kill();
  labDown(name);
  rmSync(dir, { recursive: true, force: true });
}
