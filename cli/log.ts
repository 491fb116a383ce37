// The one logger: everything goes to stderr so stdout carries only results (--json stays
// clean). Deliberately tiny: consola costs ~30 ms of start-up, more than a whole discover.
// Callers escape wire strings (core/escape.ts) before they reach a message.

export type LogLevel = 0 | 1 | 2 | 3; // quiet (errors only), normal, verbose, debug

let level: LogLevel = 1;
const color = process.stderr.isTTY && !process.env.NO_COLOR;
const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);

export function setLogLevel(l: LogLevel): void {
  level = l;
}

export function logLevel(): LogLevel {
  return level;
}

function write(line: string): void {
  process.stderr.write(line + "\n");
}

export const log = {
  error(msg: string): void { write(paint("31", "error") + ": " + msg); },
  warn(msg: string): void { if (level >= 1) write(paint("33", "warning") + ": " + msg); },
  info(msg: string): void { if (level >= 1) write(msg); },
  verbose(msg: string): void { if (level >= 2) write(paint("2", msg)); },
  debug(msg: string): void { if (level >= 3) write(paint("2", "debug: " + msg)); },
};
