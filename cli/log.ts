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

/** Writes results to stdout, in order; `flushOutput()` waits until all of it is written. */
export function print(text: string): void {
  pending = pending.then(() => Bun.write(Bun.stdout, text));
}

export function flushOutput(): Promise<unknown> {
  return pending;
}
