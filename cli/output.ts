// Writing to stdout and stderr the Unix way, without Node's streams (building process.stdout
// costs ~10 ms of start-up, and Bun.write blocks the whole event loop on a full pipe).
//
// Two ways to write, per descriptor:
// - "result" (one-shots, the default): every byte is written, in order, waiting for a slow
//   reader as cat would; nothing is dropped.
// - "stream" (daemons, a live watch): the protocol must never wait for a reader. Writes are
//   non-blocking on a private open file description (a pipe or a terminal reopened through
//   /proc/self/fd, so the O_NONBLOCK set on it touches no other process sharing the pipe);
//   what the reader does not take waits in a bounded queue, and lines past the bound are
//   dropped and counted. A regular file is written directly (it does not stall); so is a
//   socket (journald's stream), which cannot be reopened: journald drops rather than stalls.
//
// A reader that went away (EPIPE: `dhcptool watch eth0 | head -2`) ends the command quietly:
// no error, no stack. Its exit status is 141 (128 + SIGPIPE), what cat, yes or tcpdump give
// when the same happens to them; a daemon or a live watch makes its clean stop first.

import { errnoName, writeFd } from "../native/libc.ts";

// node:fs only where a daemon or a live capture needs it (reopening a pipe non-blocking): a
// one-shot writes through libc (native/libc.ts), and importing node:fs would cost it ~1.3 ms.
const fs = (): typeof import("node:fs") => require("node:fs");

/** write(2) of data[offset..]: the count written, or the errno's name ("EAGAIN", "EPIPE"). */
function writeSome(fd: number, data: Uint8Array, offset = 0): number | string {
  const n = writeFd(fd, data, offset);
  if (n === null) {
    try {
      return fs().writeSync(fd, data, offset); // not glibc
    } catch (err) {
      return (err as { code?: string }).code ?? "EIO";
    }
  }
  return n >= 0 ? n : errnoName(-n);
}

/** The exit status of a command whose reader went away: 128 + SIGPIPE, as a shell reports cat's. */
export const EXIT_PIPE = 141;

const FLUSH_AT = 64 * 1024;
/** The scratch a flush is encoded into: room for FLUSH_AT characters and a long last line, at 3 bytes each. */
const SCRATCH_BYTES = 4 * FLUSH_AT * 3;
const encoder = new TextEncoder();
/** Room a packet's JSON line may need (watch's are ~0.5-2 KiB): less than this left, one is dropped unmade. */
const LINE_ROOM = 16 * 1024;
const RETRY_MIN_MS = 2;
const RETRY_MAX_MS = 200;

type Mode = "result" | "stream";

class FdWriter {
  /** The descriptor written to (fd itself, or a private non-blocking reopening of it). */
  #out: number;
  #mode: Mode = "result";
  #chunks: string[] = [];
  #buffered = 0;
  /** Bytes written to the kernel but not accepted yet (stream mode), oldest first. */
  #queue: Uint8Array[] = [];
  #queued = 0;
  #scratch: Uint8Array | null = null;
  #scheduled = false;
  #retry: Timer | null = null;
  #retryMs = RETRY_MIN_MS;
  #waiters: (() => void)[] = [];
  closed = false;
  /** Lines dropped because the reader did not keep up (stream mode only). */
  dropped = 0;

  /** immediate: each write goes out now (logs, a status line: few, and their order with the results matters). */
  constructor(
    readonly fd: number,
    readonly limit: number,
    readonly immediate: boolean,
    readonly onClosed: () => void,
  ) {
    this.#out = fd;
  }

  /** Switches to non-blocking writes with a bounded queue (call before the privilege drop: /proc/self/fd is root's until then). */
  stream(): void {
    if (this.#mode === "stream") return;
    this.#flushChunks();
    this.#mode = "stream";
    try {
      const { constants, fstatSync, openSync } = fs();
      const st = fstatSync(this.fd);
      if (st.isFIFO() || st.isCharacterDevice()) {
        this.#out = openSync(`/proc/self/fd/${this.fd}`, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
      }
    } catch {
      // no /proc, or not reopenable: write to the descriptor as it is
    }
  }

  write(text: string): void {
    if (this.closed) return;
    if (this.#mode === "stream" && this.#queued + this.#buffered + text.length > this.limit) {
      this.dropped += countLines(text);
      return;
    }
    this.#chunks.push(text);
    this.#buffered += text.length;
    if (this.immediate || this.#buffered >= FLUSH_AT) this.#flushChunks();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flushChunks());
    }
  }

  /**
   * Stream mode: the queue is so near its bound that a line would be dropped. A caller that
   * makes a line per packet asks first, and counts a drop (skipLine) instead of making it.
   */
  get full(): boolean {
    return this.#mode === "stream" && this.#queued + this.#buffered + LINE_ROOM > this.limit;
  }

  /** A line not made because the queue was full: counted as dropped. */
  skipLine(): void {
    this.dropped++;
  }

  /** Bytes written but not yet taken by the reader (gathered, or queued in stream mode). */
  get backlog(): number {
    return this.#buffered + this.#queued;
  }

  /** What write() gathered goes out now (a log line must not overtake the results printed before it). */
  flushPending(): void {
    this.#flushChunks();
  }

  /** Writes now what write() gathered (lines are gathered per turn of the event loop: a write per line costs more than the line). */
  #flushChunks(): void {
    this.#scheduled = false;
    if (!this.#chunks.length) return;
    const data = this.#encode(this.#chunks.join(""));
    this.#chunks = [];
    this.#buffered = 0;
    if (this.#mode === "result") return this.#writeAll(data);
    if (this.#queue.length) {
      this.#enqueue(data);
      return this.#drain();
    }
    // Nothing queued: straight to the kernel from the scratch; only what a full pipe or a
    // signal leaves unwritten is copied into the queue (watch under a flood writes ~100 MB/s).
    const n = writeSome(this.#out, data);
    if (typeof n === "string" && n !== "EAGAIN" && n !== "EINTR") return this.#fail(n);
    const took = typeof n === "number" ? n : 0;
    if (took < data.length) {
      this.#enqueue(data.subarray(took));
      this.#later();
    } else this.#wake();
  }

  /**
   * The text as UTF-8, in a scratch area this writer reuses (no allocation per flush); text
   * that could outgrow it gets its own bytes. TextEncoder, not Buffer.from: Buffer.from is
   * JavaScript that a one-shot would compile for one call.
   */
  #encode(text: string): Uint8Array {
    if (text.length * 3 > SCRATCH_BYTES) return encoder.encode(text);
    this.#scratch ??= new Uint8Array(SCRATCH_BYTES);
    return this.#scratch.subarray(0, encoder.encodeInto(text, this.#scratch).written);
  }

  /** Bytes to wait in the queue: a copy when they are the scratch's, which the next flush reuses. */
  #enqueue(data: Uint8Array): void {
    const own = this.#scratch !== null && data.buffer === this.#scratch.buffer ? data.slice() : data;
    this.#queue.push(own);
    this.#queued += own.length;
  }

  #writeAll(data: Uint8Array): void {
    let off = 0;
    while (off < data.length && !this.closed) {
      const n = writeSome(this.#out, data, off);
      if (typeof n === "number") off += n;
      // Someone else made the descriptor non-blocking (a parent sharing it): wait for room.
      else if (n === "EAGAIN") Bun.sleepSync(1);
      else if (n !== "EINTR") return this.#fail(n);
    }
  }

  /** Stream mode: as much of the queue as the reader takes now; the rest is retried later. */
  #drain(): void {
    while (this.#queue.length && !this.closed) {
      const head = this.#queue[0];
      const n = writeSome(this.#out, head);
      if (n === "EAGAIN") return this.#later();
      if (n === "EINTR") continue;
      if (typeof n === "string") return this.#fail(n);
      this.#queued -= n;
      // The reader took something: it is slow, not stalled; come back soon.
      if (n > 0) this.#retryMs = RETRY_MIN_MS;
      if (n < head.length) {
        this.#queue[0] = head.subarray(n);
        return this.#later();
      }
      this.#queue.shift();
    }
    this.#retryMs = RETRY_MIN_MS;
    this.#wake();
  }

  /** The pipe is full: try again soon, backing off to 200 ms while the reader takes nothing (no poll(2) from JS without a stream). */
  #later(): void {
    if (this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
      this.#drain();
    }, this.#retryMs);
    // A stalled reader must not keep a finished daemon alive: flush() holds its own timer.
    this.#retry.unref();
  }

  #fail(code: string | undefined): void {
    this.closed = true;
    this.#queue = [];
    this.#queued = 0;
    this.#wake();
    // EPIPE: the reader went away. Anything else (EBADF: closed by the caller, EIO, ENOSPC)
    // ends the output the same way: there is nowhere left to say it.
    void code;
    this.onClosed();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Everything written, the reader gone, or (stream mode) deadlineMs passed: the rest is dropped then. */
  async flush(deadlineMs?: number): Promise<void> {
    this.#flushChunks();
    if (this.closed || !this.#queue.length) return;
    let timer: Timer | undefined;
    const keepAlive = setInterval(() => this.#drain(), RETRY_MAX_MS);
    await Promise.race([
      new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
      }),
      ...(deadlineMs === undefined
        ? []
        : [
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, deadlineMs);
            }),
          ]),
    ]);
    clearInterval(keepAlive);
    clearTimeout(timer);
    for (const b of this.#queue) this.dropped += countLines(new TextDecoder().decode(b));
    this.#queue = [];
    this.#queued = 0;
  }

  close(): void {
    if (this.#out !== this.fd)
      try {
        fs().closeSync(this.#out);
      } catch {
        /* already gone */
      }
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return Math.max(n, 1);
}

/** Set by streamOutput(): the stop of a daemon; else the reader gone means exit now. */
let closedHandler: (() => void) | null = null;

/** What the queue may hold while the reader is stalled: past it, lines are dropped and counted. */
const STDOUT_LIMIT = 8 * 1024 * 1024;
const STDERR_LIMIT = 1024 * 1024;

export const stdout = new FdWriter(1, STDOUT_LIMIT, false, () => {
  if (closedHandler) closedHandler();
  else process.exit(EXIT_PIPE);
});
// A closed stderr silences the logs; the results on stdout may still have a reader.
export const stderr = new FdWriter(2, STDERR_LIMIT, true, () => {});

/** Results to stdout, in order (see the modes above). */
export function print(text: string): void {
  stdout.write(text);
}

/**
 * Daemons and live captures: stdout and stderr never block the protocol from here on, and a
 * reader that goes away stops the command the way SIGTERM does (its clean stop, its summary),
 * after which it exits 141.
 */
export function streamOutput(): void {
  stdout.stream();
  stderr.stream();
  closedHandler ??= () => process.kill(process.pid, "SIGTERM");
}

/** Bytes printed but not yet taken by stdout (a capture is read no faster than it prints). */
export function queuedOutput(): number {
  return stdout.backlog;
}

/**
 * For a line per packet: false when stdout is so far behind that the line would be dropped
 * (counted as dropped now), so that it is not made at all (watch under a flood).
 */
export function roomForLine(): boolean {
  if (!stdout.full) return true;
  stdout.skipLine();
  return false;
}

/** Lines print() dropped because stdout could not keep up (watch and the daemons report it). */
export function droppedOutput(): number {
  return stdout.dropped;
}

/** Waits until stdout and stderr have taken what was written (a stalled reader: deadlineMs at most, stream mode). */
export async function flushOutput(deadlineMs?: number): Promise<void> {
  await Promise.all([stdout.flush(deadlineMs), stderr.flush(deadlineMs)]);
}
