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

import type { ConsolaInstance, LogObject } from "consola";
import { safeJson } from "../core/escape.ts";
import { clearStatusLine } from "./live.ts";
import { print, stderr, stdout } from "./output.ts";
import { colorEnabled, isTty, outputWidth } from "./term.ts";

export { droppedOutput, flushOutput, print, queuedOutput } from "./output.ts";

/** A result as JSON, every wire string escaped (safeJson): the one way a command prints one. */
export function printJson(value: unknown): void {
  print(safeJson(value, 2) + "\n");
}

export type LogLevel = 0 | 1 | 2 | 3; // quiet (errors only), normal, verbose, debug
type Kind = "error" | "warn" | "info" | "verbose" | "debug";

const MIN_LEVEL: Record<Kind, LogLevel> = { error: 0, warn: 1, info: 1, verbose: 2, debug: 3 };

let level: LogLevel = 1;
let human = true;
let daemon = false;
let sink: Sink | null = null;

export function setLogLevel(l: LogLevel): void {
  level = l;
}

export function logLevel(): LogLevel {
  return level;
}

/** --json, --format env: the machine path. Logs stay plain lines, and consola is not loaded. */
export function setMachineOutput(): void {
  human = false;
  sink = null;
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
    const st = (require("node:fs") as typeof import("node:fs")).fstatSync(2); // a daemon's question: not worth node:fs for every one-shot
    return js === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/** A log line for a pipe, a file or the journal: one line, whatever the message holds. */
export function plainLine(kind: Kind, msg: string, style: "oneshot" | "daemon" | "journal", now = new Date()): string {
  const text = msg.trim().replace(/\s*\n\s*/g, "; ");
  if (style === "journal") return `<${PRIORITY[kind]}>${text}\n`;
  if (style === "daemon") return `${now.toISOString()} ${WORD[kind]} ${text}\n`;
  return kind === "info" || kind === "verbose" ? `${text}\n` : `${WORD[kind]}: ${text}\n`;
}

function plainSink(): (kind: Kind, msg: string) => void {
  const style = daemon ? (stderrIsJournal() ? "journal" : "daemon") : "oneshot";
  return (kind, msg) => stderr.write(plainLine(kind, msg, style));
}

type Sink = (kind: Kind, msg: string) => void;

/** consola on its way: lines wait for it in order (main waits for them before exiting). */
let loading: Promise<void> | null = null;

/**
 * consola, loaded by a dynamic import on the first line logged (so that a bundle keeps it in
 * a chunk of its own, never parsed on the machine path); the lines logged meanwhile wait.
 */
function consolaSink(): Sink {
  let ready: Sink | null = null;
  let waiting: [Kind, string][] = [];
  loading = makeConsola()
    .catch(() => plainSink())
    .then((s) => {
      ready = s;
      for (const [k, m] of waiting) s(k, m);
      waiting = [];
    });
  return (kind, msg) => {
    if (ready) ready(kind, msg);
    else waiting.push([kind, msg]);
  };
}

/** Lines logged but still waiting for consola are written. */
export async function flushLog(): Promise<void> {
  await loading;
}

/** consola with its terminal reporter where a person reads stderr, else plain lines through it. */
async function makeConsola(): Promise<Sink> {
  const tty = isTty(2);
  const out = {
    write: (s: string) => {
      clearStatusLine();
      stderr.write(s);
      return true;
    },
    // the width lets consola put a daemon's time at the right edge; a one-shot's lines end at their text
    get columns() {
      return tty && daemon ? (outputWidth(2) ?? 80) : 0;
    },
  } as unknown as NodeJS.WriteStream;
  let c: ConsolaInstance;
  if (tty) {
    // consola decides on colour once, at import, from the environment: tell it ours (stderr's).
    const env = process.env;
    const saved = { NO_COLOR: env.NO_COLOR, FORCE_COLOR: env.FORCE_COLOR };
    if (colorEnabled(2)) {
      delete env.NO_COLOR;
      env.FORCE_COLOR = "1";
    } else {
      env.NO_COLOR = "1";
      delete env.FORCE_COLOR;
    }
    let createConsola: typeof import("consola").createConsola;
    try {
      ({ createConsola } = await import("consola"));
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete env[k];
        else env[k] = v;
    }
    // fancy: consola picks its plain reporter under CI or NODE_ENV=test; a terminal is a terminal
    // (index.mjs reads `fancy`; its .d.ts, as resolved here, does not declare it)
    const options: Parameters<typeof createConsola>[0] & { fancy: boolean } = {
      level: 5,
      throttle: 0,
      fancy: true,
      stdout: out,
      stderr: out,
      formatOptions: { date: daemon, compact: true },
    };
    c = createConsola(options);
  } else {
    const { createConsola } = await import("consola/core");
    const style = daemon ? (stderrIsJournal() ? "journal" : "daemon") : "oneshot";
    const reverse: Record<string, Kind> = { error: "error", warn: "warn", info: "info", log: "verbose", debug: "debug" };
    c = createConsola({
      level: 5,
      throttle: 0,
      stdout: out,
      stderr: out,
      reporters: [{ log: (o: LogObject) => stderr.write(plainLine(reverse[o.type] ?? "info", String(o.args[0]), style, o.date)) }],
    });
  }
  return (kind, msg) => {
    // no badge: an error is one line with its glyph, not a banner between blank lines
    const obj = { message: msg, badge: false };
    if (kind === "error") c.error(obj);
    else if (kind === "warn") c.warn(obj);
    else if (kind === "info") c.info(obj);
    else if (kind === "verbose") c.log(obj);
    else c.debug(obj);
  };
}

function emit(kind: Kind, msg: string): void {
  if (level < MIN_LEVEL[kind]) return;
  sink ??= human ? consolaSink() : plainSink();
  clearStatusLine();
  stdout.flushPending();
  sink(kind, msg);
}

export const log = {
  error(msg: string): void {
    emit("error", msg);
  },
  warn(msg: string): void {
    emit("warn", msg);
  },
  info(msg: string): void {
    emit("info", msg);
  },
  verbose(msg: string): void {
    emit("verbose", msg);
  },
  debug(msg: string): void {
    emit("debug", msg);
  },
};
