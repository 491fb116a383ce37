/**
 * Processes, files and /proc for bench/watch-run.ts: children started in a network namespace
 * and killed by PID (with their own children: tshark runs dumpcap) however the bench ends,
 * bounded waits, reading a few bytes of outputs that run to GBs, CPU time and RSS.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
export const log = (text: string) => process.stderr.write(`bench: ${text}\n`);
export const int = (n: number | null) => (n !== null && Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
const CLK_TCK = (() => {
  const n = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();
const EXIT_WAIT_MS = 15_000;

const started: Bun.Subprocess[] = [];
export const alive = (p: Bun.Subprocess) => p.exitCode === null && p.signalCode === null;

/** PIDs of the children (any depth) of pid: tshark runs dumpcap. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

function killTree(pid: number): void {
  for (const p of [...descendants(pid), pid]) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export function killAll(): void {
  for (const p of started) if (alive(p)) killTree(p.pid);
}

/** Every child started here is killed on exit, on a signal, and when the bench overruns budgetMs. */
export function killChildrenOnExit(budgetMs: number): void {
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping`);
      killAll();
      process.exit(1);
    });
  }
  setTimeout(() => {
    log(`gave up after ${budgetMs / 1000} s`);
    killAll();
    process.exit(1);
  }, budgetMs).unref();
}

/** `ip netns exec` execs in place: the PID is the command's own. stdout/stderr: files, appended. */
/** `out` "pipe": read the child's stdout (a ReadableStream). */
export function spawnIn(ns: string, cmd: string[], out: string, err: string, env?: Record<string, string>): Bun.Subprocess {
  const fds: number[] = [];
  const open = (path: string) => {
    const fd = openSync(path, "a");
    fds.push(fd);
    return fd;
  };
  const proc = Bun.spawn(["ip", "netns", "exec", ns, ...cmd], {
    cwd: root,
    stdin: "ignore",
    stdout: out === "pipe" ? "pipe" : open(out),
    stderr: open(err),
    env: { ...process.env, ...env },
  });
  for (const fd of fds) closeSync(fd);
  started.push(proc);
  return proc;
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** SIGINT, then up to EXIT_WAIT_MS for a clean exit, then SIGKILL (the process and its children). */
export async function stop(proc: Bun.Subprocess, name: string): Promise<{ ok: boolean; ms: number }> {
  const t0 = performance.now();
  if (alive(proc)) proc.kill("SIGINT");
  const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(EXIT_WAIT_MS).then(() => false)]);
  if (!done) {
    log(`${name} did not exit within ${EXIT_WAIT_MS / 1000} s of SIGINT: killed`);
    killTree(proc.pid);
    await proc.exited;
  }
  return { ok: done, ms: performance.now() - t0 };
}

export const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);

/** At most `limit` bytes of a file, from its start or from its end (watch's output runs to GBs). */
export function text(path: string, from: "head" | "tail" = "head", limit = 1 << 20): string {
  if (!existsSync(path)) return "";
  const fd = openSync(path, "r");
  try {
    const total = fstatSync(fd).size;
    const n = Math.min(total, limit);
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, from === "head" ? 0 : total - n);
    return buf.subarray(0, got).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** The last JSON line of watch's output: its summary (which lists up to 4096 clients). */
export function lastJson(path: string): Record<string, any> {
  const tail = text(path, "tail", 8 << 20).trimEnd();
  try {
    // (after a punched-out stretch, zero bytes stand where the line before it ended)
    return JSON.parse(tail.slice(tail.lastIndexOf("\n") + 1).replace(/^\0+/, ""));
  } catch {
    return {};
  }
}

export const countLines = (path: string) => {
  const out = Bun.spawnSync(["wc", "-l", path]).stdout.toString();
  return Number(out.trim().split(/\s+/)[0]);
};

/** utime + stime of a process and its descendants, in seconds. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks / CLK_TCK;
}

export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s*(\d+)\s*kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** The process has a thread named prefix… (watch's receive thread is dhcptool-rx). */
export function hasThread(pid: number, prefix: string): boolean {
  return readdirSync(`/proc/${pid}/task`).some((t) => {
    try {
      return readFileSync(`/proc/${pid}/task/${t}/comm`, "utf8").startsWith(prefix);
    } catch {
      return false;
    }
  });
}

/** Frames that reached an interface in a namespace (its rx counter): what any receiver there could see. */
export function rxPackets(ns: string, ifname: string): number {
  const out = Bun.spawnSync(["ip", "-n", ns, "-s", "-j", "link", "show", ifname]).stdout.toString();
  return Number(JSON.parse(out)[0]?.stats64?.rx?.packets ?? Number.NaN);
}
