// Running a resident dhcptool (`request lab0 --daemon --json -v`, or watch or discover with
// --daemon) in a lab's client namespace and following its NDJSON events, as a supervisor or
// a user tailing the log would.

import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inClient, type LabState } from "../../cli/lab/index.ts";
import { readLines } from "./cli-helpers.ts";
import { MAIN, dhcptool, inNs, type RunResult } from "./helpers.ts";

export interface DaemonEvent {
  time: string;
  level: string;
  event: string;
  message: string;
  [k: string]: unknown;
}

/** A resident dhcptool (any command with --json) in the lab's client namespace, its NDJSON events followed. */
export class Resident {
  readonly events: DaemonEvent[] = [];
  readonly stderr: string[] = [];
  readonly proc: ReturnType<typeof Bun.spawn>;
  readonly exited: Promise<number>;
  #waiters: { pred: (e: DaemonEvent) => boolean; resolve: (e: DaemonEvent) => void }[] = [];

  constructor(
    readonly lab: LabState,
    args: string[],
  ) {
    const argv = [process.execPath, MAIN, ...args];
    this.proc = Bun.spawn(inClient(lab, argv), { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    void readLines(this.proc.stdout as ReadableStream<Uint8Array>, (line) => {
      if (!line) return;
      let e: DaemonEvent;
      try {
        e = JSON.parse(line) as DaemonEvent;
      } catch {
        throw new Error(`daemon printed a line that is not JSON: ${line}`);
      }
      this.events.push(e);
      for (const w of [...this.#waiters])
        if (w.pred(e)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(e);
        }
    });
    void readLines(this.proc.stderr as ReadableStream<Uint8Array>, (line) => {
      if (line) this.stderr.push(line);
    });
    this.exited = this.proc.exited;
  }

  /** The first event (already seen or coming) from index `from` on that matches. */
  waitFor(pred: (e: DaemonEvent) => boolean, timeoutMs: number, from = 0, what = "an event"): Promise<DaemonEvent> {
    const seen = this.events.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (e: DaemonEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; events: ${this.events.map((e) => e.event + ":" + e.message).join(" | ")}; stderr: ${this.stderr.join(" | ")}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }

  event(name: string, timeoutMs: number, from = 0, pred: (e: DaemonEvent) => boolean = () => true): Promise<DaemonEvent> {
    return this.waitFor((e) => e.event === name && pred(e), timeoutMs, from, `"${name}"`);
  }

  kill(signal: NodeJS.Signals | number = "SIGTERM"): void {
    this.proc.kill(signal);
  }

  /** Stops it (SIGTERM) if it still runs, waiting at most 5 s before SIGKILL. */
  async stop(): Promise<number> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.kill("SIGTERM");
    const t = setTimeout(() => this.kill("SIGKILL"), 5000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

/** `dhcptool request IFACE --daemon --json -v` with its own state and run directories. */
export class Daemon extends Resident {
  constructor(
    lab: LabState,
    readonly dirs: DaemonDirs,
    extra: string[] = [],
    readonly iface = "lab0",
  ) {
    super(lab, ["request", iface, "--daemon", "--json", "-v", "--state-dir", dirs.state, "--run-dir", dirs.run, ...extra]);
  }

  /** A lease taken: by DORA ("bound") or by rebooting into a stored one ("reboot"). */
  leased(timeoutMs: number, from = 0): Promise<DaemonEvent> {
    return this.waitFor((e) => e.event === "bound" || e.event === "reboot", timeoutMs, from, "a lease (bound or reboot)");
  }
}

export interface TaskStatus {
  uid: string;
  gid: string;
  capEff: string;
  capPrm: string;
  capBnd: string;
  noNewPrivs: string;
  seccomp: string;
}

/** The kernel's account of a process and of every one of its threads (tasks): ids, capabilities, no_new_privs, seccomp. */
export function privileges(pid: number): TaskStatus & { threads: TaskStatus[] } {
  const read = (path: string): TaskStatus => {
    const t = readFileSync(path, "utf8");
    const f = (n: string) => t.match(new RegExp(`^${n}:[ \\t]*(.*)$`, "m"))?.[1]?.trim() ?? "";
    return { uid: f("Uid"), gid: f("Gid"), capEff: f("CapEff"), capPrm: f("CapPrm"), capBnd: f("CapBnd"), noNewPrivs: f("NoNewPrivs"), seccomp: f("Seccomp") };
  };
  const { readdirSync } = require("node:fs") as typeof import("node:fs");
  const threads = readdirSync(`/proc/${pid}/task`).map((t) => read(`/proc/${pid}/task/${t}/status`));
  return { ...read(`/proc/${pid}/status`), threads };
}

export interface DaemonDirs {
  root: string;
  state: string;
  run: string;
}

export function daemonDirs(): DaemonDirs {
  const root = mkdtempSync(join(tmpdir(), "dhcptool-daemon-"));
  chmodSync(root, 0o755); // as /var/lib is: the daemon runs as --user once its sockets are open
  return { root, state: join(root, "state"), run: join(root, "run") };
}

export function removeDirs(d: DaemonDirs): void {
  rmSync(d.root, { recursive: true, force: true });
}

/** `dhcptool lease …` in the client namespace with the same directories. */
export function lease(lab: LabState, d: DaemonDirs, args: string[]): Promise<RunResult> {
  return dhcptool(lab, ["lease", ...args, "--state-dir", d.state, "--run-dir", d.run]);
}

interface IpAddr {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number; broadcast?: string; valid_life_time?: number }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  protocol?: string;
  scope?: string;
}

export function ipv4Addresses(lab: LabState): { local: string; prefixlen: number; broadcast?: string; valid_life_time?: number }[] {
  const j = JSON.parse(inNs(lab.clientNs, ["ip", "-j", "addr", "show", "dev", "lab0"])) as IpAddr[];
  return (j[0]?.addr_info ?? []).filter((a) => a.family === "inet");
}

export function dhcpRoutes(lab: LabState): IpRoute[] {
  return (JSON.parse(inNs(lab.clientNs, ["ip", "-j", "route", "show", "dev", "lab0"])) as IpRoute[]).filter((r) => r.protocol === "dhcp");
}
