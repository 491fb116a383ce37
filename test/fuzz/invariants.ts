// What every fuzz target checks besides "does not throw": a broken promise is a Violation
// (an Error of its own class, so the runner counts it apart from an uncaught exception).

import { safeJson } from "../../core/escape.ts";

export class Violation extends Error {
  override name = "Violation";
}

export function must(ok: unknown, what: string | (() => string)): asserts ok {
  if (!ok) throw new Violation(typeof what === "string" ? what : what());
}

/**
 * core/escape.ts escapeText promises printable ASCII (0x20–0x7e) and nothing else; the text
 * renderers (cli/render.ts) build their lines from escaped wire strings and their own ASCII,
 * joined with "\n". So a rendered packet is printable ASCII and newlines, and one rendered
 * value (a line of `watch`) is printable ASCII alone.
 */
export const PRINTABLE_LINES = /^[\x20-\x7e\n]*$/;
export const PRINTABLE_LINE = /^[\x20-\x7e]*$/;
/** safeJson promises no raw C0 (JSON escapes them), DEL, C1 or U+2028/2029 in its output. */
export const JSON_RAW_CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

export function firstBad(s: string, allowed: RegExp): string {
  for (let i = 0; i < s.length; i++) {
    if (!allowed.test(s[i])) return `U+${s.charCodeAt(i).toString(16).padStart(4, "0")} at ${i} in ${JSON.stringify(s.slice(Math.max(0, i - 30), i + 30))}`;
  }
  return "?";
}

export function mustPrint(s: string, allowed: RegExp, what: string): void {
  must(allowed.test(s), () => `${what}: not printable: ${firstBad(s, /[\x20-\x7e\n]/)}`);
}

/** safeJson output has no raw control characters, and parses back to what plain JSON gives. */
export function mustSafeJson(value: unknown, what: string): void {
  const s = safeJson(value);
  must(!JSON_RAW_CONTROL.test(s), () => `${what}: raw control character in safeJson: ${firstBad(s, /[^\x00-\x1f\x7f-\x9f\u2028\u2029]/)}`);
  must(JSON.stringify(JSON.parse(s)) === JSON.stringify(value), `${what}: safeJson does not parse back to the same value`);
}

export const isDottedQuad = (s: unknown) =>
  typeof s === "string" && /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s) && s.split(".").every((x) => Number(x) <= 255);
export const isU32 = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
