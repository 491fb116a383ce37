// The daemon's control socket: a unix stream socket, mode 0600 (only root, or the user the
// daemon runs as, may talk to it), one per daemon and interface: <run-dir>/<iface>.sock.
// One request per connection: a JSON line in, a JSON line out, then the daemon closes.
//
// Whoever connects is not trusted to behave (HOSTILE 33): a request is at most 4 KiB, must
// arrive within 5 s and parse as one of the known commands; an answer the client does not
// read within 5 s is dropped with the connection; at most 16 connections at once. Nothing a
// client sends can throw out of here or stop the daemon.
//
// The lock (a second daemon on the same interface refuses to start) is the privileged
// helper's: a flock(2) on RUN_DIR/IFACE.lock in a directory only root may write
// (native/helper/priv.c), so no local user can take it first (issue 11 finding 6).

import type { Socket } from "bun";
import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.ts";

export { DEFAULT_RUN_DIR } from "./paths.ts";
export const MAX_REQUEST_BYTES = 4096;
const REQUEST_TIMEOUT_MS = 5000;
const MAX_CONNECTIONS = 16;

export type ControlCommand = "show" | "renew" | "rebind" | "release";
export const CONTROL_COMMANDS: readonly ControlCommand[] = ["show", "renew", "rebind", "release"];
export interface ControlRequest {
  cmd: ControlCommand;
}
export type ControlReply = { ok: true; [key: string]: unknown } | { ok: false; error: string };

export function controlPath(runDir: string, iface: string): string {
  return join(runDir, `${iface}.sock`);
}

/** Parses one request line; anything else is an error text for the reply. */
export function parseRequest(line: string): ControlRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not JSON: send one line like {"cmd":"show"}';
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "a request is a JSON object";
  const cmd = (v as { cmd?: unknown }).cmd;
  if (typeof cmd !== "string" || !(CONTROL_COMMANDS as readonly string[]).includes(cmd)) {
    return `unknown command (one of: ${CONTROL_COMMANDS.join(", ")})`;
  }
  return { cmd: cmd as ControlCommand };
}

export class LockError extends UserError {}

interface ConnState {
  buf: string;
  answered: boolean;
  timer: Timer | null;
  pending: Uint8Array | null;
}

export interface ControlServer {
  path: string;
  close(): void;
}

/**
 * Listens on `path` and answers each request with `handle`'s reply. The socket file is made
 * with umask 077 and then chmod 0600 (no moment where others could connect).
 */
export function serveControl(path: string, handle: (req: ControlRequest) => Promise<ControlReply>): ControlServer {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // We hold the interface lock, so a socket file here is a dead daemon's leftover.
  if (existsSync(path)) unlinkSync(path);
  const open = new Set<Socket<ConnState>>();
  const oldMask = process.umask(0o077);
  let server: ReturnType<typeof Bun.listen<ConnState>>;
  try {
    server = Bun.listen<ConnState>({
      unix: path,
      socket: {
        open(s) {
          s.data = { buf: "", answered: false, timer: null, pending: null };
          open.add(s);
          if (open.size > MAX_CONNECTIONS) {
            const oldest = open.values().next().value!;
            open.delete(oldest);
            oldest.terminate();
          }
          // Too slow to ask, or too slow to read the answer: either way, closed.
          s.data.timer = setTimeout(() => s.terminate(), REQUEST_TIMEOUT_MS);
        },
        data(s, chunk) {
          const st = s.data;
          if (st.answered) return; // one request per connection; the rest is ignored
          st.buf += chunk.toString("latin1");
          const nl = st.buf.indexOf("\n");
          if (nl < 0 && st.buf.length <= MAX_REQUEST_BYTES) return;
          st.answered = true;
          const line = nl < 0 ? null : st.buf.slice(0, nl);
          st.buf = "";
          if (line === null || line.length > MAX_REQUEST_BYTES) {
            reply(s, { ok: false, error: `request too large (at most ${MAX_REQUEST_BYTES} bytes, one line)` });
            return;
          }
          const req = parseRequest(line.trim());
          if (typeof req === "string") {
            reply(s, { ok: false, error: req });
            return;
          }
          handle(req).then(
            (r) => reply(s, r),
            (err) => reply(s, { ok: false, error: err instanceof Error ? err.message : String(err) }),
          );
        },
        drain(s) {
          const p = s.data.pending;
          if (!p) return;
          const n = s.write(p);
          if (n < p.length) s.data.pending = p.subarray(Math.max(0, n));
          else {
            s.data.pending = null;
            s.end();
          }
        },
        close(s) {
          open.delete(s);
          if (s.data?.timer) clearTimeout(s.data.timer);
        },
        error() {},
      },
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o600);

  function reply(s: Socket<ConnState>, r: ControlReply): void {
    const bytes = new TextEncoder().encode(JSON.stringify(r) + "\n");
    const n = s.write(bytes);
    if (n < bytes.length)
      s.data.pending = bytes.subarray(Math.max(0, n)); // drain() sends the rest, or the timer ends it
    else s.end();
  }

  return {
    path,
    close() {
      // Not closing open connections: the answer to the `release` that ended the daemon may
      // still be on its way. Idle ones end by their own timer (or with the process).
      server.stop(false);
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}

export class ControlError extends UserError {}

/** Sends one request to the daemon at `path` and returns its reply. ControlError when none answers. */
export async function callControl(path: string, req: ControlRequest, timeoutMs = 10_000): Promise<ControlReply> {
  if (!existsSync(path)) throw new ControlError(`no daemon: ${path} does not exist`);
  return await new Promise<ControlReply>((resolve, reject) => {
    let buf = "";
    let settled = false;
    const done = (err: Error | null, value?: ControlReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => done(new ControlError(`the daemon at ${path} did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
    Bun.connect({
      unix: path,
      socket: {
        open(s) {
          s.write(JSON.stringify(req) + "\n");
        },
        data(s, chunk) {
          buf += chunk.toString("utf8");
          if (buf.length > 16 * 1024 * 1024) {
            s.terminate();
            done(new ControlError("the daemon's answer is too large"));
          }
        },
        close() {
          const line = buf.split("\n", 1)[0];
          try {
            const v = JSON.parse(line) as ControlReply;
            if (typeof v !== "object" || v === null || typeof v.ok !== "boolean") throw new Error("shape");
            done(null, v);
          } catch {
            done(new ControlError(`the daemon at ${path} gave an answer that is not a reply`));
          }
        },
        error(_s, err) {
          done(new ControlError(`${path}: ${err.message}`));
        },
        connectError(_s, err) {
          const code = (err as { code?: string }).code;
          done(new ControlError(code === "ECONNREFUSED" ? `no daemon listens on ${path} (a leftover socket file?)` : `${path}: ${err.message}`));
        },
      },
    }).catch((err: Error) => {
      const code = (err as { code?: string }).code;
      done(new ControlError(code === "ECONNREFUSED" || code === "ENOENT" ? `no daemon listens on ${path}` : `${path}: ${err.message}`));
    });
  });
}
