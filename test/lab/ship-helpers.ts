// Helpers for the shipping tests: the compiled binary (built once per test run, only when a
// source is newer than it), an install under a temporary PREFIX, and running a program with
// exactly the environment a test gives it.

import { chmodSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");

type Env = Record<string, string | undefined>;

export interface Ran {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs argv to completion; env replaces the environment when given (nothing inherited). */
export function run(argv: string[], opts: { env?: Env; cwd?: string; stdin?: string } = {}): Ran {
  const p = Bun.spawnSync(argv, {
    stdout: "pipe",
    stderr: "pipe",
    cwd: opts.cwd,
    env: opts.env ?? { ...process.env, NO_COLOR: "1" },
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
  });
  return { exitCode: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

function mustRun(argv: string[], what: string, env?: Env): Ran {
  const r = run(argv, { env });
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}): ${r.stderr}${r.stdout}`);
  return r;
}

let binary: string | undefined;
/** dist/dhcptool, compiled by scripts/compile.sh (a no-op when it is newer than every source). */
export function compiledBinary(): string {
  if (binary === undefined) {
    mustRun(["bash", `${ROOT}/scripts/compile.sh`], "bun run compile");
    binary = `${ROOT}/dist/dhcptool`;
  }
  return binary;
}

/** A fresh directory under /tmp that every user may enter (the tests run programs as nobody). */
export function tempDir(tag: string): string {
  const dir = mkdtempSync(`/tmp/dt${tag}-`);
  chmodSync(dir, 0o755);
  return dir;
}

/** scripts/install.sh into `prefix` (the caller's temporary directory, which it removes). */
export function installInto(prefix: string): void {
  compiledBinary();
  mustRun(["bash", `${ROOT}/scripts/install.sh`], "scripts/install.sh", { ...process.env, PREFIX: prefix });
}

/**
 * A directory holding links to just these programs, to stand for PATH on a machine without
 * Bun (on a merged-/usr system, /usr/bin holds bun and everything else alike).
 */
export function pathOf(dir: string, programs: string[]): string {
  const bin = join(dir, "path");
  mkdirSync(bin, { recursive: true });
  for (const p of programs) {
    const target = Bun.which(p);
    if (!target) throw new Error(`${p} is not installed`);
    symlinkSync(target, join(bin, p));
  }
  return bin;
}
