// The lab's processes and commands: running `ip`/`tc` to completion, finding server programs,
// starting a server that stays in the foreground (Kea, ISC dhcpd, udhcpd) detached in its
// namespace and waiting until it is ready, and stopping what the lab started by its PID alone,
// only while that PID still names the program in the namespace it was started in.

import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { LabError } from "./state.ts";

/** Runs argv to completion; a LabError saying what failed otherwise. */
export function run(argv: string[], what: string): string {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) {
    const err = p.stderr.toString().trim();
    throw new LabError(`${what} failed: ${argv.join(" ")}: ${err || `exit ${p.exitCode}`}`);
  }
  return p.stdout.toString();
}

/**
 * A server program from the system's directories, never from PATH: under `bun run` PATH starts
 * with node_modules/.bin, where the npm package `dhcp` (a devDependency, for the codec bench)
 * puts a `dhcpd` of its own.
 */
export function systemBinary(name: string): string | null {
  return Bun.which(name, { PATH: "/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin" });
}

export function namespaceExists(ns: string): boolean {
  return existsSync(join("/run/netns", ns));
}

/** A file's text from byte `from` on; "" when it cannot be read. */
export function readText(path: string, from = 0): string {
  try {
    return readFileSync(path).subarray(from).toString("utf8");
  } catch {
    return "";
  }
}

/**
 * Told what is awaited while startForeground polls a program until it is ready (lab up's
 * status line on a terminal), about every 10 ms. Set by labUp for its duration, so that a
 * ServerKind's start() stays a function of its server alone.
 */
let waiting: ((step: string) => void) | null = null;

/** Runs body with onWait told of each wait for a program to be ready; restores the previous listener. */
export function reportingWaits<T>(onWait: ((step: string) => void) | undefined, body: () => T): T {
  const before = waiting;
  waiting = onWait ?? null;
  try {
    return body();
  } finally {
    waiting = before;
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Alive and not a zombie: an exited process whose parent has not reaped it yet counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readText(`/proc/${pid}/stat`);
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

function inode(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

/** The PID still names the program we started (comm), in the namespace we started it in. */
export function ourProcess(pid: number, comm: string, ns: string): boolean {
  if (!alive(pid) || readText(`/proc/${pid}/comm`).trim() !== comm) return false;
  const netns = inode(join("/run/netns", ns));
  return netns !== null && inode(`/proc/${pid}/ns/net`) === netns;
}

/** SIGTERM, then SIGKILL after 3 s; returns once the process is gone. */
export function signalAndWait(pid: number): void {
  process.kill(pid, "SIGTERM");
  let until = Date.now() + 3000;
  while (alive(pid) && Date.now() < until) Bun.sleepSync(10);
  if (!alive(pid)) return;
  process.kill(pid, "SIGKILL");
  until = Date.now() + 2000;
  while (alive(pid) && Date.now() < until) Bun.sleepSync(10);
  if (alive(pid)) throw new LabError(`process ${pid} did not exit after SIGKILL`);
}

/** Stops pid if it is still the comm we started in ns; nothing otherwise. */
export function stopOurs(pid: number, comm: string, ns: string): void {
  if (ourProcess(pid, comm, ns)) signalAndWait(pid);
}

/** The PID a program wrote to pidFile (0 if none), and whether it names a live comm in ns. */
function pidFrom(pidFile: string, comm: string, ns: string): { pid: number; ours: boolean } {
  const pid = Number(readText(pidFile).trim());
  return { pid: Number.isInteger(pid) ? pid : 0, ours: Number.isInteger(pid) && pid > 1 && ourProcess(pid, comm, ns) };
}

/** A program that daemonizes once it is ready (dnsmasq, dhcrelay): run it in ns, then its PID file. */
export function startDaemonizing(what: string, ns: string, argv: string[], comm: string, pidFile: string): number {
  rmSync(pidFile, { force: true });
  run(["ip", "netns", "exec", ns, ...argv], `starting ${what} in ${ns}`);
  const { pid, ours } = pidFrom(pidFile, comm, ns);
  if (!ours) throw new LabError(`${what} in ${ns} wrote no usable pid`);
  return pid;
}

export interface Foreground {
  /** Its name in messages. */
  what: string;
  ns: string;
  /** The program and its arguments; run in ns, in a session of its own. */
  argv: string[];
  /** Its /proc/PID/comm. */
  comm: string;
  pidFile: string;
  /**
   * It writes no PID file in the foreground (dhcrelay -d): a shell writes its own PID there,
   * then execs it (`ip netns exec` execs too, so the PID stays the program's).
   */
  shellWritesPid?: boolean;
  /** Its stdout and stderr are appended here. */
  output: string;
  /** Other files it logs to. */
  logs?: string[];
  env?: Record<string, string | undefined>;
  /** Ready, from what it has said since it started (output, then logs) and its PID (null until it runs as ours). */
  ready(said: string, pid: number | null): boolean;
  /** A failure it has said (why it will not serve), or null. */
  fatal?(said: string): string | null;
  /** The line of what it said that explains a failure. */
  explain(said: string): string | undefined;
}

/**
 * Starts a program that stays in the foreground. `setsid -f` runs it in a session of its own
 * whose parent has already gone: it outlives `lab up`, and no process of ours leaves it a
 * zombie to reap. Its PID comes from the PID file it writes. Returns once ready(); stops it and
 * throws (quoting explain()) when it fails, exits or is not ready within 10 s (usually well
 * under a second; a restart appends to its files, so only what it adds counts).
 */
export function startForeground(f: Foreground): number {
  rmSync(f.pidFile, { force: true });
  const files = [f.output, ...(f.logs ?? [])];
  const from = files.map(fileSize);
  const fd = openSync(f.output, "a");
  try {
    const argv = ["ip", "netns", "exec", f.ns, ...f.argv];
    const p = Bun.spawnSync(["setsid", "-f", ...(f.shellWritesPid ? ["sh", "-c", 'echo $$ > "$0" && exec "$@"', f.pidFile] : []), ...argv], {
      stdin: "ignore",
      stdout: fd,
      stderr: fd,
      env: f.env ? { ...process.env, ...f.env } : undefined,
    });
    if (p.exitCode !== 0) throw new LabError(`starting ${f.what} in ${f.ns} failed: exit ${p.exitCode}`);
  } finally {
    closeSync(fd);
  }
  const until = Date.now() + 10_000;
  let lastForeign = 0;
  for (;;) {
    const { pid, ours } = pidFrom(f.pidFile, f.comm, f.ns);
    const said = files.map((file, i) => readText(file, from[i])).join("");
    const failed = (why: string) => {
      if (ours) signalAndWait(pid);
      return new LabError(`${f.what} in ${f.ns} ${why}: ${f.explain(said) ?? `see ${files.join(" and ")}`}`);
    };
    const fatal = f.fatal?.(said);
    if (fatal) throw failed(fatal);
    // Ready with no PID file yet (ISC dhcpd may say so before it writes the file): wait for it.
    if (f.ready(said, ours ? pid : null) && ours) return pid;
    // A PID file that names a process no longer ours: gone — unless the file is still being
    // written (a partial number), so believe it only when it reads the same twice.
    if (pid > 1 && !ours) {
      if (pid === lastForeign) throw failed("exited");
      lastForeign = pid;
    } else lastForeign = 0;
    if (Date.now() > until) throw failed("was not ready within 10 s");
    waiting?.(`waiting for ${f.what} in ${f.ns} to be ready`);
    Bun.sleepSync(10);
  }
}
