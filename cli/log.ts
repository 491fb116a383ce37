// The one logger, and the one way to print results (cli/output.ts). Logs go to stderr so
// stdout carries only results (--json stays clean). Callers escape wire strings
// (core/escape.ts) before they reach a message.
//
// How a log line looks depends on who reads it:
// - a person at a terminal: consola's reporter (a glyph per level, colour when colour is on,
//   the time on the right for a daemon), loaded on the first line logged;
// - a pipe, a file, or the journal (JOURNAL_STREAM names our stderr): one line per event,
//   no glyph, no colour, no blank line; a one-shot says "warning: …", a daemon starts each
//   line with a syslog priority (<3> error, <4> warning, <6> info, <7> debug) for journald
//   or else with the time and a level word;
// - the machine path (--json, --format env): the same plain lines, and consola is never
//   imported (its ~17 ms would be most of a discover's start-up).

import { fstatSync } from "node:fs";
import { clearStatusLine } from "./live.ts";
import { stderr } from "./output.ts";

export { droppedOutput, flushOutput, print } from "./output.ts";

export type LogLevel = 0 | 1 | 2 | 3; // quiet (errors only), normal, verbose, debug
type Kind = "error" | "warn" | "info" | "verbose" | "debug";

const MIN_LEVEL: Record<Kind, LogLevel> = { error: 0, warn: 1, info: 1, verbose: 2, debug: 3 };

let level: LogLevel = 1;
let daemon = false;
let sink: ((kind: Kind, msg: string) => void) | null = null;

export function setLogLevel(l: LogLevel): void {
  level = l;
}

export function logLevel(): LogLevel {
  return level;
}

/** A daemon: each line says when (the time, or journald's priority prefix). */
export function setDaemonLog(): void {
  daemon = true;
  sink = null;
}

const WORD: Record<Kind, string> = { error: "error", warn: "warning", info: "info", verbose: "info", debug: "debug" };
const PRIORITY: Record<Kind, number> = { error: 3, warn: 4, info: 6, verbose: 6, debug: 7 };

/** Is stderr the journal? systemd sets JOURNAL_STREAM to the device:inode of the stream it gave us. */
export function stderrIsJournal(env: Record<string, string | undefined> = process.env): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js) return false;
  try {
    const st = fstatSync(2);
    return js === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/** A log line for a pipe, a file or the journal: one line, whatever the message holds. */
export function plainLine(kind: Kind, msg: string, style: "oneshot" | "daemon" | "journal", now = new Date()): string {
  const text = msg.replace(/\s*\n\s*/g, "; ");
  if (style === "journal") return `<${PRIORITY[kind]}>${text}\n`;
  if (style === "daemon") return `${now.toISOString()} ${WORD[kind]} ${text}\n`;
  return kind === "info" || kind === "verbose" ? `${text}\n` : `${WORD[kind]}: ${text}\n`;
}

function plainSink(): (kind: Kind, msg: string) => void {
  const style = daemon ? (stderrIsJournal() ? "journal" : "daemon") : "oneshot";
  return (kind, msg) => stderr.write(plainLine(kind, msg, style));
}

function emit(kind: Kind, msg: string): void {
  if (level < MIN_LEVEL[kind]) return;
  sink ??= plainSink();
  clearStatusLine();
  sink(kind, msg);
}

export const log = {
  error(msg: string): void { emit("error", msg); },
  warn(msg: string): void { emit("warn", msg); },
  info(msg: string): void { emit("info", msg); },
  verbose(msg: string): void { emit("verbose", msg); },
  debug(msg: string): void { emit("debug", msg); },
};
