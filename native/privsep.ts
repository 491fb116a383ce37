/**
 * The resident client's privileged helper (native/helper/, built as dhcptool-priv beside
 * the shim): spawned here while the daemon is still root, spoken to over the socket pair
 * of native/privchan.c in the messages of native/privsep-msg.ts. Requests are synchronous
 * (a few ms: rtnetlink, an fsync); a hook's end arrives later and resolves its promise.
 * When the helper goes away on its own, onGone says so: the daemon cannot go on without it.
 */
import { constants, statSync } from "node:fs";
import { dirname } from "node:path";
import { embeddedAsset, HELPER_ASSET } from "./assets.ts";
import { codeFor, materializeAsset, native, NativeError, nativeAssetPaths, readyCallback, strerror, type ReadyCallback } from "./shim.ts";
import { decodeReply, encodeBlob, encodeEmpty, encodeHookRecords, encodeLease, MAX_MSG, T, type PrivLease, type Reply } from "./privsep-msg.ts";

const EPIPE = 32;
const CALL_TIMEOUT_MS = 10_000;

export interface HelperOptions {
  iface: string;
  /** null: the helper's default, 1000 + ifindex. */
  metric: number | null;
  stateDir: string;
  runDir: string;
  config: string | null;
  hook: string | null;
  /** Who the hook runs as. */
  hookUid: number;
  hookGid: number;
  hookTimeoutMs: number;
}

export interface HelperResult {
  status: number;
  done: string[];
  failed: string[];
}
export type HookDone = Extract<Reply, { type: "hook-done" }>;

export class HelperError extends NativeError {}

/** The compiled binary's own copy, materialized once (a sealed memfd: nobody can change it). */
let embeddedHelper: string | null = null;

/**
 * The helper's path: the compiled binary's embedded copy, or the built file. It runs as root:
 * a file or directory that someone other than root (or us) could write is refused, as it
 * would hand them root.
 */
export function helperPath(): string {
  if (embeddedAsset(HELPER_ASSET) !== undefined) {
    embeddedHelper ??= materializeAsset(HELPER_ASSET, "exec").path;
    return embeddedHelper;
  }
  const euid = process.geteuid?.() ?? 0;
  for (const path of nativeAssetPaths(HELPER_ASSET)) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    for (const [what, s] of [
      [path, st],
      [dirname(path), statSync(dirname(path))],
    ] as const) {
      if ((s.uid !== 0 && s.uid !== euid) || (s.mode & 0o022) !== 0) {
        throw new HelperError("EPERM", `${what} may be written by someone other than root: refusing to run the privileged helper from it`);
      }
    }
    if ((st.mode & constants.S_IXUSR) === 0) throw new HelperError("EPERM", `${path} is not executable: run \`bun run build\``);
    return path;
  }
  throw new HelperError("ENOSHIM", "the privileged helper dhcptool-priv is not built: run `bun run build`");
}

function helperArgs(path: string, o: HelperOptions): string[] {
  const args = [path, "--interface", o.iface, "--state-dir", o.stateDir, "--run-dir", o.runDir];
  if (o.metric !== null) args.push("--metric", String(o.metric));
  if (o.config !== null) args.push("--config", o.config);
  if (o.hook !== null) {
    args.push("--hook", o.hook, "--hook-uid", String(o.hookUid), "--hook-gid", String(o.hookGid), "--hook-timeout-ms", String(o.hookTimeoutMs));
  }
  return args;
}

export class PrivHelper {
  readonly pid: number;
  readonly ifindex: number;
  readonly metric: number;
  #seq = 0;
  #gone = false;
  #callback: ReadyCallback | null = null;
  readonly #buf = new Uint8Array(MAX_MSG);
  readonly #hooks = new Map<number, { resolve: (d: HookDone) => void; reject: (e: Error) => void }>();
  /** Called once if the helper goes away before close(). */
  onGone: (why: string) => void = () => {};

  private constructor(pid: number, ready: Extract<Reply, { type: "ready" }>) {
    this.pid = pid;
    this.ifindex = ready.ifindex;
    this.metric = ready.metric;
  }

  /** Spawns the helper and waits for it to be ready: it holds the lock, the state directory and a route socket. */
  static spawn(o: HelperOptions): PrivHelper {
    const shim = native();
    const argv = new TextEncoder().encode(
      helperArgs(helperPath(), o)
        .map((a) => `${a}\0`)
        .join(""),
    );
    const pid = shim.dt_priv_spawn(argv, argv.length);
    if (pid < 0) throw new HelperError(codeFor(-pid), `cannot start the privileged helper: ${strerror(-pid)}`, -pid);
    const out = new Uint8Array(MAX_MSG);
    const n = shim.dt_priv_call(null, 0, out, out.length, CALL_TIMEOUT_MS);
    const reply = n > 0 ? decodeReply(out.subarray(0, n)) : null;
    if (reply === null || typeof reply === "string" || reply.type !== "ready" || reply.status !== 0) {
      shim.dt_priv_close(2000);
      const why =
        reply === null
          ? n === -EPIPE
            ? "it exited"
            : strerror(-n)
          : typeof reply === "string"
            ? reply
            : reply.type === "ready"
              ? reply.text
              : "it did not say it was ready";
      const status = reply !== null && typeof reply !== "string" ? reply.status : -1;
      throw new HelperError(status === -16 ? "EEXIST" : codeFor(-status), why, -status);
    }
    const helper = new PrivHelper(pid, reply);
    helper.#listen();
    return helper;
  }

  #listen(): void {
    this.#callback = readyCallback(() => this.#drain());
    const rc = native().dt_priv_start(this.#callback.ptr);
    if (rc < 0) throw new HelperError(codeFor(-rc), `cannot listen to the privileged helper: ${strerror(-rc)}`, -rc);
  }

  /** Unasked messages: a hook that ended, or the helper gone. */
  #drain(): void {
    const shim = native();
    for (;;) {
      const n = shim.dt_priv_next(this.#buf, this.#buf.length);
      if (n === 0) break;
      if (n < 0) {
        this.#lost(n === -EPIPE ? "the privileged helper exited" : `the privileged helper: ${strerror(-n)}`);
        return;
      }
      const r = decodeReply(this.#buf.subarray(0, n));
      if (typeof r !== "string" && r.type === "hook-done") {
        const waiter = this.#hooks.get(r.seq);
        this.#hooks.delete(r.seq);
        waiter?.resolve(r);
      }
      // Anything else unasked is not for us: ignored, as any message out of turn.
    }
    if (!this.#gone) shim.dt_priv_rearm();
  }

  #lost(why: string): void {
    if (this.#gone) return;
    this.#gone = true;
    for (const w of this.#hooks.values()) w.reject(new HelperError("EIO", why));
    this.#hooks.clear();
    this.onGone(why);
  }

  #call(msg: Uint8Array): Reply {
    if (this.#gone) throw new HelperError("EIO", "the privileged helper is gone");
    const n = native().dt_priv_call(msg, msg.length, this.#buf, this.#buf.length, CALL_TIMEOUT_MS);
    if (n < 0) {
      if (n === -EPIPE) this.#lost("the privileged helper exited");
      throw new HelperError(codeFor(-n), `the privileged helper: ${strerror(-n)}`, -n);
    }
    const r = decodeReply(this.#buf.subarray(0, n));
    if (typeof r === "string") throw new HelperError("EIO", `the privileged helper sent a malformed reply: ${r}`);
    // A hook that ended while we waited is in the queue: read it once this call is back.
    queueMicrotask(() => {
      if (!this.#gone) this.#drain();
    });
    return r;
  }

  #result(msg: Uint8Array): HelperResult {
    const r = this.#call(msg);
    if (r.type !== "result") throw new HelperError("EIO", `the privileged helper answered ${r.type} to a request`);
    return { status: r.status, done: r.done, failed: r.failed };
  }

  #next(): number {
    this.#seq = (this.#seq % 0x7fffffff) + 1;
    return this.#seq;
  }

  apply(lease: PrivLease): HelperResult {
    return this.#result(encodeLease(T.APPLY, this.#next(), lease));
  }
  adopt(lease: PrivLease): HelperResult {
    return this.#result(encodeLease(T.ADOPT, this.#next(), lease));
  }
  remove(): HelperResult {
    return this.#result(encodeEmpty(T.REMOVE, this.#next()));
  }
  save(bytes: Uint8Array): HelperResult {
    return this.#result(encodeBlob(T.SAVE, this.#next(), bytes));
  }
  unsave(): HelperResult {
    return this.#result(encodeEmpty(T.UNSAVE, this.#next()));
  }

  /** The config file's bytes, read by the helper (it may be root's alone); throws with the errno. */
  readConfig(): Uint8Array {
    const r = this.#call(encodeEmpty(T.CONFIG, this.#next()));
    if (r.type !== "config") throw new HelperError("EIO", `the privileged helper answered ${r.type} to a config read`);
    if (r.status < 0) throw new HelperError(codeFor(-r.status), strerror(-r.status), -r.status);
    return r.data;
  }

  /** Runs the hook with exactly this environment and stdin; resolves when it has ended. */
  runHook(env: Record<string, string>, stdin: Uint8Array): Promise<HookDone> {
    const seq = this.#next();
    const started = this.#result(encodeBlob(T.HOOK, seq, encodeHookRecords(env, stdin)));
    if (started.status < 0) {
      return Promise.resolve({
        type: "hook-done",
        seq,
        status: started.status,
        exitCode: null,
        signal: 0,
        timedOut: false,
        ms: 0,
        stderr: new TextEncoder().encode(started.failed.join("; ")),
        stderrDiscarded: 0,
      });
    }
    return new Promise((resolve, reject) => this.#hooks.set(seq, { resolve, reject }));
  }

  /** Ends a running hook's process group, then the helper. What is applied stays applied. */
  stop(): void {
    if (this.#gone) return;
    try {
      this.#call(encodeEmpty(T.STOP, this.#next()));
    } catch {
      /* gone already */
    }
    this.close();
  }

  /** Closes our end: the helper exits (removing nothing) and is reaped. */
  close(): void {
    this.#gone = true;
    native().dt_priv_close(3000);
    this.#callback?.close();
    this.#callback = null;
  }
}
