// What the output is connected to: a terminal (colour, width, live feedback) or a pipe or a
// file (exactly the results, no colour, no width limit). Cheap: no Node stream is built
// unless a terminal's width is asked for.

import { isTerminal } from "../native/libc.ts";

const ttyCache = new Map<number, boolean>();

/**
 * Is fd a terminal? glibc's isatty(3) (native/libc.ts), not node:tty's (importing node:tty
 * costs ~10 ms of start-up) nor node:fs (~1.3 ms). Without glibc, read from what fd is: a
 * character device named /dev/pts/N, /dev/ttyN or /dev/console.
 */
export function isTty(fd: 0 | 1 | 2): boolean {
  let t = ttyCache.get(fd);
  if (t === undefined) {
    t = isTerminal(fd) ?? isTtyDevice(fd);
    ttyCache.set(fd, t);
  }
  return t;
}

function isTtyDevice(fd: number): boolean {
  try {
    const { fstatSync, readlinkSync }: typeof import("node:fs") = require("node:fs");
    return fstatSync(fd).isCharacterDevice() && /^\/dev\/(pts\/\d+|tty\w*|console)$/.test(readlinkSync(`/proc/self/fd/${fd}`));
  } catch {
    return false;
  }
}
// Known from the start: after the privilege drop /proc/self/fd is no longer ours to read.
for (const fd of [0, 1, 2] as const) isTty(fd);

/**
 * The conventions (no-color.org, force-color.org): FORCE_COLOR (not "0" or "false") turns
 * colour on, NO_COLOR (any non-empty value) off; otherwise colour on a terminal only, and not
 * on TERM=dumb.
 */
export function colorEnabled(fd: 1 | 2, env: Record<string, string | undefined> = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "0" && force !== "false") return true;
  if (env.NO_COLOR) return false;
  return isTty(fd) && env.TERM !== "dumb";
}

/** Columns to fit: $COLUMNS when set, else the terminal's; null (no limit) for a pipe or a file. */
export function outputWidth(fd: 1 | 2 = 1, env: Record<string, string | undefined> = process.env): number | null {
  const c = Number(env.COLUMNS);
  if (Number.isInteger(c) && c > 0) return c;
  if (!isTty(fd)) return null;
  const cols = (fd === 1 ? process.stdout : process.stderr).columns;
  return typeof cols === "number" && cols > 0 ? cols : 80;
}

/** Help and usage text: the width to wrap at, 80 when nothing says otherwise. */
export function helpWidth(): number {
  return outputWidth(1) ?? 80;
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1, dim: 2 } as const;
export type Style = keyof typeof CODES;

/** text in a style when colour is on for fd, else text as it is. */
export function paint(fd: 1 | 2, style: Style, text: string): string {
  return colorEnabled(fd) ? `\x1b[${CODES[style]}m${text}\x1b[${style === "bold" || style === "dim" ? 22 : 39}m` : text;
}

/** The visible length of text (colour codes take no column). */
export function visibleLength(text: string): number {
  return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}
