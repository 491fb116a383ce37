// The user's hook program, run on each lease event (bound, renewed, expired, …) the way
// dhclient-script, dhcpcd-run-hooks and udhcpc's script are — but never through a shell:
// the program is exec'd directly with an argv of one, and everything a server sent reaches
// it only as environment values and JSON on stdin, where nothing is parsed as a command
// (HOSTILE 22). The environment is built from nothing (the daemon's own is not passed on),
// the run is bounded in time and in output, and a broken hook is a result, never a throw
// (HOSTILE 34).

import { envValue, leaseVars } from "../../core/lease-env.ts";
import { log } from "../log.ts";
import type { LeaseRecord } from "../../core/lease-record.ts";
import { errnoText } from "./store.ts";

export interface HookEvent {
  /** What happened: BOUND, RENEW, REBIND, EXPIRE, RELEASE, NAK, STOP… (the daemon's words). */
  reason: string;
  interface: string;
  /** The lease now held (new_* variables), or null. */
  lease: LeaseRecord | null;
  /** The lease held before this event (old_* variables), or null. */
  oldLease: LeaseRecord | null;
  /** More variables; names must be shell-style (A-Z, a-z, 0-9, _), and cannot replace the ones above. */
  extra?: Record<string, string>;
}

export interface RunHookOptions {
  /** Default 10 000 ms; then SIGTERM to the hook's process group, SIGKILL 1 s later. */
  timeoutMs?: number;
  /** Per stream (stdout, stderr); default 64 KiB. The rest is read, discarded and counted. */
  maxOutputBytes?: number;
}

export interface HookResult {
  /** null when a signal ended it, or it never started. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** UTF-8 decoded (invalid bytes as U+FFFD); escape before showing it. */
  stdout: string;
  stderr: string;
  /** Bytes past maxOutputBytes that were thrown away. */
  stdoutDiscarded: number;
  stderrDiscarded: number;
  ms: number;
  /** Why it did not run (missing, not executable…). */
  error?: string;
}

/** A fixed PATH, as dhclient-script expects: the hook should not depend on how the daemon was started. */
export const HOOK_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_HOOK_OUTPUT = 64 * 1024;
const KILL_AFTER_MS = 1000;
/**
 * After the hook exits, how long its output pipes may stay open: a child it left running in
 * the background holds them, and we do not wait for it (nor kill it: it exited in time).
 */
const PIPE_GRACE_MS = 200;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The hook's whole environment: extras, then the lease variables, then PATH, reason, interface. */
export function hookEnv(event: HookEvent): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.extra ?? {})) {
    // The daemon builds these names itself: a bad one is a bug, not hostile input.
    if (!ENV_NAME.test(name)) throw new RangeError(`hook variable name ${JSON.stringify(name)} is not a shell-style name`);
    env[name] = envValue(value);
  }
  if (event.lease) for (const [k, v] of leaseVars(event.lease, "new_")) env[k] = v;
  if (event.oldLease) for (const [k, v] of leaseVars(event.oldLease, "old_")) env[k] = v;
  env.PATH = HOOK_PATH;
  env.reason = envValue(event.reason);
  env.interface = envValue(event.interface);
  return env;
}

const hexOf = (s: string) => Array.from(s, (c) => (c.charCodeAt(0) & 0xff).toString(16).padStart(2, "0")).join("");
const withRaw = (l: LeaseRecord | null) => l && { ...l, raw: { domain: l.domain === null ? null : hexOf(l.domain), search: l.search.map(hexOf) } };

/**
 * The event as the hook reads it on stdin: one line of pure-ASCII JSON (every character past
 * 0x7e written \u00XX, so JSON.parse gives one character per wire byte), and beside each
 * lease's text fields their bytes as hex (`raw.domain`, `raw.search`; every option's bytes
 * are in `options`), so a hook never has to trust a re-encoding (finding 8).
 */
export function hookStdin(event: HookEvent): Uint8Array {
  const json = JSON.stringify({ ...event, lease: withRaw(event.lease), oldLease: withRaw(event.oldLease) }).replace(
    /[\u007f-\uffff]/g,
    (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0"),
  );
  return new TextEncoder().encode(`${json}\n`);
}

/** The result of a hook that did not run (or whose run could not be carried out): nothing exited, nothing was said. */
function notRun(ms: number, error: string): HookResult {
  return { exitCode: null, signal: null, timedOut: false, stdout: "", stderr: "", stdoutDiscarded: 0, stderrDiscarded: 0, ms, error };
}

/**
 * Runs `prog` once for `event` and reports how it went. Never rejects for the program's
 * sake: missing, not executable, hung, noisy or crashing, it all comes back in the result.
 * The hook runs in a session of its own (setsid) so a timeout can end what it started too.
 */
export async function runHook(prog: string, event: HookEvent, opts: RunHookOptions = {}): Promise<HookResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  const cap = opts.maxOutputBytes ?? DEFAULT_HOOK_OUTPUT;
  const env = hookEnv(event);
  const started = performance.now();
  let proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  try {
    proc = Bun.spawn([prog], { env, stdin: "pipe", stdout: "pipe", stderr: "pipe", detached: true });
  } catch (e) {
    return notRun(performance.now() - started, `cannot run the hook ${prog}: ${errnoText(e)}`);
  }
  // A hook that exits without reading stdin closes the pipe: EPIPE is its business, not ours.
  try {
    const pending = proc.stdin.write(hookStdin(event));
    const ended = proc.stdin.end();
    Promise.resolve(pending).catch(() => {});
    Promise.resolve(ended).catch(() => {});
  } catch {
    /* already gone */
  }

  const out = capture(proc.stdout, cap);
  const err = capture(proc.stderr, cap);
  let timedOut = false;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid, signal);
    } catch {
      try {
        proc.kill(signal);
      } catch {
        /* gone */
      }
    }
  };
  let killTimer: Timer | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup("SIGTERM");
    // Whatever ignores SIGTERM is killed in a second, even if the result is already back.
    killTimer = setTimeout(() => killGroup("SIGKILL"), KILL_AFTER_MS);
    killTimer.unref();
  }, timeoutMs);
  await proc.exited;
  clearTimeout(timer);
  const ms = performance.now() - started;
  let grace: Timer | undefined;
  await Promise.race([
    Promise.all([out.done, err.done]),
    new Promise<void>((resolve) => {
      grace = setTimeout(resolve, PIPE_GRACE_MS);
    }),
  ]);
  clearTimeout(grace);
  out.stop();
  err.stop();
  const signal = proc.signalCode;
  return {
    exitCode: proc.exitCode,
    signal: signal === null || signal === undefined ? null : String(signal),
    timedOut,
    stdout: out.text(),
    stderr: err.text(),
    stdoutDiscarded: out.discarded(),
    stderrDiscarded: err.discarded(),
    ms,
  };
}

/** Reads a pipe to its end, keeping the first `cap` bytes and counting the rest. */
function capture(stream: ReadableStream<Uint8Array>, cap: number) {
  const kept: Uint8Array[] = [];
  let keptBytes = 0,
    discarded = 0;
  const reader = stream.getReader();
  const done = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const room = cap - keptBytes;
        if (room > 0) {
          const part = value.length > room ? value.subarray(0, room) : value;
          kept.push(part.slice());
          keptBytes += part.length;
        }
        discarded += Math.max(0, value.length - Math.max(room, 0));
      }
    } catch {
      /* cancelled, or the pipe broke: keep what came */
    }
  })();
  return {
    done,
    stop: () => {
      reader.cancel().catch(() => {});
    },
    text: () => new TextDecoder().decode(Buffer.concat(kept)),
    discarded: () => discarded,
  };
}

// ---------------------------------------------------------------- the queue

export interface HookQueueOptions extends RunHookOptions {
  /** Events waiting (not counting the one running); default 64. Past it the oldest is dropped. */
  maxPending?: number;
  /** Called with each result, in event order. */
  onResult?: (event: HookEvent, result: HookResult) => void;
  /** Called for each event dropped because the queue was full. */
  onDrop?: (event: HookEvent) => void;
  /** Runs one hook (tests put a fake here); default runHook. */
  run?: (prog: string, event: HookEvent, opts: RunHookOptions) => Promise<HookResult>;
}

/**
 * Hooks run one at a time, in event order: a hook that sees "BOUND" must have finished
 * before the one for "EXPIRE" starts, or the second could undo the first's work in the wrong
 * order. Bounded: a hook slower than the events that feed it loses the oldest waiting events
 * (the newest state is what matters), and they are counted.
 */
export class HookQueue {
  readonly #prog: string;
  readonly #opts: HookQueueOptions;
  readonly #max: number;
  #queue: HookEvent[] = [];
  #running = false;
  #dropped = 0;
  #ran = 0;
  #waiters: (() => void)[] = [];

  constructor(prog: string, opts: HookQueueOptions = {}) {
    this.#prog = prog;
    this.#opts = opts;
    this.#max = Math.max(1, opts.maxPending ?? 64);
  }

  /** Events waiting to run. */
  get pending(): number {
    return this.#queue.length;
  }
  /** Whether a hook is running now. */
  get busy(): boolean {
    return this.#running;
  }
  /** Events dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }
  /** Hooks run to a result. */
  get ran(): number {
    return this.#ran;
  }

  push(event: HookEvent): void {
    if (this.#queue.length >= this.#max) {
      const old = this.#queue.shift()!;
      this.#dropped++;
      this.#callback(() => this.#opts.onDrop?.(old));
    }
    this.#queue.push(event);
    if (!this.#running) void this.#drain();
  }

  /** Resolves once nothing runs and nothing waits (shutdown). */
  idle(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async #drain(): Promise<void> {
    this.#running = true;
    const run = this.#opts.run ?? runHook;
    const { timeoutMs, maxOutputBytes } = this.#opts;
    try {
      for (let event = this.#queue.shift(); event; event = this.#queue.shift()) {
        let result: HookResult;
        try {
          result = await run(this.#prog, event, { timeoutMs, maxOutputBytes });
        } catch (e) {
          result = notRun(0, `the hook ${this.#prog} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        this.#ran++;
        const done = event;
        this.#callback(() => this.#opts.onResult?.(done, result));
      }
    } finally {
      this.#running = false;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    }
  }

  /** A throwing callback is a bug to report, but must not stop the hooks after it. */
  #callback(f: () => void): void {
    try {
      f();
    } catch (e) {
      log.error(`hook queue callback: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
}
