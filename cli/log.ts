// The one logger, and the one way to print results. Logs go to stderr so stdout carries
// only results (--json stays clean).
//
// Start-up matters here: touching process.stdout or process.stderr builds Node's stream
// machinery (~9 ms on this machine, more than a whole discover on the wire), and consola
// costs ~30 ms. console.error and Bun.write(Bun.stdout) are native and cost nothing.
// Callers escape wire strings (core/escape.ts) before they reach a message.

export type LogLevel = 0 | 1 | 2 | 3; // quiet (errors only), normal, verbose, debug

let level: LogLevel = 1;

export function setLogLevel(l: LogLevel): void {
  level = l;
}

export function logLevel(): LogLevel {
  return level;
}

export const log = {
  error(msg: string): void { console.error("error: " + msg); },
  warn(msg: string): void { if (level >= 1) console.error("warning: " + msg); },
  info(msg: string): void { if (level >= 1) console.error(msg); },
  verbose(msg: string): void { if (level >= 2) console.error(msg); },
  debug(msg: string): void { if (level >= 3) console.error("debug: " + msg); },
};

let pending: Promise<unknown> = Promise.resolve();
let chunks: string[] = [];
let buffered = 0;
let scheduled = false;
const FLUSH_AT = 64 * 1024;
/** Output waiting for a slow stdout is capped: past it, lines are dropped and counted. */
const MAX_QUEUED = 32 * 1024 * 1024;
let queued = 0;
let dropped = 0;

function flushChunks(): void {
  scheduled = false;
  if (!chunks.length) return;
  const text = chunks.join("");
  chunks = [];
  buffered = 0;
  queued += text.length;
  pending = pending.then(() => Bun.write(Bun.stdout, text)).finally(() => { queued -= text.length; });
}

/** Lines print() dropped because stdout could not keep up (watch reports it). */
export function droppedOutput(): number {
  return dropped;
}

/**
 * Writes results to stdout, in order. Lines are gathered and written in one go per turn of
 * the event loop (or every 64 KiB): watch prints a line per packet, and a write per line
 * would cost more than decoding the packet. `flushOutput()` waits until all is written.
 */
export function print(text: string): void {
  if (queued + buffered > MAX_QUEUED) { dropped++; return; }
  chunks.push(text);
  buffered += text.length;
  if (buffered >= FLUSH_AT) flushChunks();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flushChunks);
  }
}

export function flushOutput(): Promise<unknown> {
  flushChunks();
  return pending;
}
