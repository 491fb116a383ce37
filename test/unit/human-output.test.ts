// The human side of the output: colour by the conventions, durations one way, tables that fit
// the terminal (numbers aligned), log lines for a journal or a file.

import { beforeAll, describe, expect, test } from "bun:test";
import { plainLine, stderrIsJournal } from "../../cli/log.ts";
import { formatDuration } from "../../cli/render.ts";
import { fitNote, loadTable, renderTable, type Column } from "../../cli/render-table.ts";
import { colorEnabled, outputWidth, visibleLength } from "../../cli/term.ts";

describe("colour", () => {
  // fd 1 is not a terminal under bun test: only FORCE_COLOR turns colour on
  test.each([
    [{}, false],
    [{ FORCE_COLOR: "1" }, true],
    [{ FORCE_COLOR: "0" }, false],
    [{ FORCE_COLOR: "1", NO_COLOR: "1" }, true],
    [{ NO_COLOR: "1" }, false],
  ])("%j → %p", (env, on) => {
    expect(colorEnabled(1, env)).toBe(on);
  });
});

describe("durations, one way everywhere", () => {
  test.each([
    [45, "45 s"],
    [60, "60 s (1m)"],
    [3150, "3150 s (52m30s)"],
    [3600, "3600 s (1h)"],
    [90061, "90061 s (1d1h1m1s)"],
    [0xffffffff, "infinite"],
    [null, "-"],
  ])("%p → %p", (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });
});

describe("width", () => {
  test("COLUMNS wins; a pipe without it has no limit", () => {
    expect(outputWidth(1, { COLUMNS: "100" })).toBe(100);
    expect(outputWidth(1, {})).toBeNull();
    expect(outputWidth(1, { COLUMNS: "x" })).toBeNull();
  });
});

describe("tables", () => {
  beforeAll(loadTable);
  const columns: Column[] = [{ header: "SERVER" }, { header: "MAC", drop: 1 }, { header: "DNS", list: true }, { header: "MS", align: "right" }];
  const rows = [
    ["10.0.0.1", "02:00:00:00:00:01", ["10.0.0.53", "10.0.0.54", "10.0.0.55", "10.0.0.56"], "3.9"],
    ["10.0.0.2", "02:00:00:00:00:02", ["10.0.0.53"], "1234.5"],
  ];

  test("no limit: every column and every list item; numbers right-aligned past 999 ms", () => {
    const t = renderTable(columns, rows, { width: null });
    const lines = t.text.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^SERVER\s+MAC\s+DNS\s+MS$/);
    expect(lines[1]).toContain("10.0.0.53, 10.0.0.54, 10.0.0.55, 10.0.0.56");
    expect(lines[1].length).toBe(lines[2].length); // 3.9 and 1234.5 end in the same column
    expect(lines[1].endsWith("   3.9")).toBe(true);
    expect(t.hidden).toEqual([]);
    expect(fitNote(t)).toBeNull();
  });

  test("too wide: lists shortened first, then a column left out; every line fits", () => {
    const t = renderTable(columns, rows, { width: 45 });
    const lines = t.text.trimEnd().split("\n");
    expect(lines[1]).toContain("10.0.0.53 +3");
    expect(lines[0]).not.toContain("MAC");
    for (const l of lines) expect(visibleLength(l)).toBeLessThanOrEqual(45);
    expect(fitNote(t)).toBe("lists shortened, MAC left out to fit the terminal: -w (--wide) shows all");
  });

  test("lists shortened is enough: no column goes", () => {
    const t = renderTable(columns, rows, { width: 58 });
    expect(t.text).toContain("02:00:00:00:00:01");
    expect(t.text).toContain("10.0.0.53 +3");
    expect(t.hidden).toEqual([]);
  });

  test("a flag column with nothing flagged renders (table refuses width 0)", () => {
    expect(renderTable([{ header: "A" }, { header: "" }], [["x", ""]], { width: null }).text).toBe("A\nx\n");
  });

  test("--wide shows everything however narrow the terminal", () => {
    const t = renderTable(columns, rows, { width: 30, wide: true });
    expect(t.text).toContain("10.0.0.53, 10.0.0.54, 10.0.0.55, 10.0.0.56");
    expect(t.text).toContain("MAC");
  });

  test("still too wide: what remains wraps at spaces rather than running over", () => {
    const t = renderTable([{ header: "A" }, { header: "B" }], [["a long cell of words here", "another long cell of words"]], { width: 30 });
    for (const l of t.text.trimEnd().split("\n")) expect(l.length).toBeLessThanOrEqual(30);
    // broken at spaces, never inside a word
    for (const word of ["another", "long", "cell", "words", "here"]) expect(t.text).toMatch(new RegExp(`(^|\\s)${word}(\\s|$)`));
  });
});

describe("log lines for a journal, a file, a terminal's neighbour", () => {
  const at = new Date("2026-01-02T03:04:05.678Z");
  test("journald: a syslog priority first, one line, no glyph", () => {
    expect(plainLine("info", "[eth0] bound 10.0.0.5", "journal", at)).toBe("<6>[eth0] bound 10.0.0.5\n");
    expect(plainLine("warn", "x", "journal", at)).toBe("<4>x\n");
    expect(plainLine("error", "x", "journal", at)).toBe("<3>x\n");
    expect(plainLine("debug", "x", "journal", at)).toBe("<7>x\n");
  });
  test("a daemon to a file: the time and a level word", () => {
    expect(plainLine("info", "[eth0] bound", "daemon", at)).toBe("2026-01-02T03:04:05.678Z info [eth0] bound\n");
    expect(plainLine("warn", "x", "daemon", at)).toBe("2026-01-02T03:04:05.678Z warning x\n");
  });
  test("a one-shot: the level word on warnings and errors; a message of several lines stays one line", () => {
    expect(plainLine("info", "hello", "oneshot", at)).toBe("hello\n");
    expect(plainLine("warn", "a\nb\n", "oneshot", at)).toBe("warning: a; b\n");
  });
  test("JOURNAL_STREAM counts only when it names our stderr", () => {
    expect(stderrIsJournal({})).toBe(false);
    expect(stderrIsJournal({ JOURNAL_STREAM: "1:2" })).toBe(false);
  });
});
