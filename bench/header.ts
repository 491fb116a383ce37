// The line every benchmark table in docs/BENCHMARKS.md starts with: when, which commit, on
// what machine, and how loaded it was, so that a figure can be told from one the code no
// longer gives (bench/all.sh regenerates them all in one run).

import { cpus } from "node:os";

function git(args: string[]): string {
  const r = Bun.spawnSync(["git", "-C", import.meta.dir, ...args], { stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "";
}

/** The commit, with "+ changes" when the worktree differs from it outside docs/. */
export function commitName(): string {
  const head = git(["rev-parse", "--short", "HEAD"]) || "unknown";
  return git(["status", "--porcelain", "--", ".", ":!docs"]) ? `${head} + changes` : head;
}

export function machineName(): string {
  const cpu = cpus();
  const kernel = Bun.spawnSync(["uname", "-r"]).stdout.toString().trim();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? "cpu?"}, Linux ${kernel}, Bun ${Bun.version}`;
}

export const loadAverage = (): string => require("node:fs").readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/** "Date …; commit …; machine …; load average … before, … after" (load: the 1/5/15-minute figures). */
export function benchHeader(load: { before?: string; after?: string } = {}): string {
  const parts = [`${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`, `commit ${commitName()}`, machineName()];
  if (load.before) parts.push(`load average ${load.before} before${load.after ? `, ${load.after} after` : ""} (${cpus().length} cores)`);
  return parts.join("; ");
}
