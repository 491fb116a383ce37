// Human tables, rendered by the `table` package: columns padded to their widest cell, two
// spaces apart, no borders (what `ip`, `ss` and `column -t` print, easy to grep and cut),
// numbers right-aligned so that 999 ms and 1234.5 ms line up.
//
// A table fits the terminal it is shown on (cli/term.ts outputWidth; a pipe has no limit):
// first lists are shortened ("10.0.0.1 +3"), then the least needed columns are left out,
// then what remains wraps at spaces. `--wide` (-w) shows everything, however wide.
// `table` (it loads ajv: ~12 ms) is loaded only on the paths that print a table: they call
// loadTable() first (a dynamic import, so that a bundle keeps it in a chunk of its own).

import type { ColumnUserConfig, TableUserConfig } from "table";
import { visibleLength } from "./term.ts";

export interface Column {
  header: string;
  align?: "left" | "right";
  /** The cell is a list: shortened to its first item and a count when the table must fit. */
  list?: boolean;
  /** Left out to fit, lowest first; a column without it always stays. */
  drop?: number;
}

/** A cell: text, or a list's items (joined with ", ", or shortened). */
export type Cell = string | string[];

export interface Fitted {
  text: string;
  /** Headers of the columns left out to fit (empty when everything is shown). */
  hidden: string[];
  /** Some list was shortened to fit. */
  shortened: boolean;
}

let tableModule: typeof import("table") | null = null;

/** Loads `table`; renderTable needs it loaded. */
export async function loadTable(): Promise<void> {
  tableModule ??= await import("table");
}

const GAP = 2;
const MIN_WRAP = 6;

function cellText(c: Cell, short: boolean): string {
  if (typeof c === "string") return c;
  if (c.length === 0) return "-";
  return short && c.length > 1 ? `${c[0]} +${c.length - 1}` : c.join(", ");
}

function widths(columns: Column[], rows: string[][], keep: number[]): number[] {
  // at least 1: `table` refuses a column of width 0 (a flag column with nothing flagged)
  return keep.map((i) => Math.max(1, visibleLength(columns[i].header), ...rows.map((r) => visibleLength(r[i]))));
}

const total = (ws: number[]) => ws.reduce((a, b) => a + b, 0) + GAP * Math.max(0, ws.length - 1);

/** The rows under their headers, fitted to `width` columns (null: no limit) unless `wide`. */
export function renderTable(columns: Column[], rows: Cell[][], opts: { width: number | null; wide?: boolean }): Fitted {
  const limit = opts.wide ? null : opts.width;
  let shortened = false;
  let text = rows.map((r) => r.map((c) => cellText(c, false)));
  let keep = columns.map((_, i) => i);
  if (limit !== null && total(widths(columns, text, keep)) > limit) {
    text = rows.map((r) => r.map((c) => cellText(c, true)));
    shortened = rows.some((r) => r.some((c) => Array.isArray(c) && c.length > 1));
    const droppable = keep.filter((i) => columns[i].drop !== undefined).sort((a, b) => columns[a].drop! - columns[b].drop!);
    for (const i of droppable) {
      if (total(widths(columns, text, keep)) <= limit) break;
      keep = keep.filter((k) => k !== i);
    }
  }
  const ws = widths(columns, text, keep);
  // Still too wide: the widest columns wrap (at spaces) until the table fits.
  if (limit !== null) {
    // a column at a time, the widest, so that the wrapped ones end up alike
    while (total(ws) > limit) {
      const widest = ws.indexOf(Math.max(...ws));
      if (ws[widest] <= MIN_WRAP) break;
      ws[widest]--;
    }
  }
  if (!tableModule) throw new Error("renderTable: loadTable() first");
  const { table, getBorderCharacters } = tableModule;
  const config: TableUserConfig = {
    border: getBorderCharacters("void"),
    drawHorizontalLine: () => false,
    columns: keep.map(
      (i, k): ColumnUserConfig => ({
        alignment: columns[i].align ?? "left",
        width: ws[k],
        wrapWord: true,
        paddingLeft: 0,
        paddingRight: k === keep.length - 1 ? 0 : GAP,
      }),
    ),
  };
  // A table whose headers are all empty is a list of key/value rows: no header line.
  const headed = columns.some((c) => c.header !== "");
  const data = [...(headed ? [keep.map((i) => columns[i].header)] : []), ...text.map((r) => keep.map((i) => r[i]))];
  const out = table(data, config)
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l, i, all) => l !== "" || i < all.length - 1);
  return { text: out.join("\n") + "\n", hidden: columns.filter((_, i) => !keep.includes(i)).map((c) => c.header), shortened };
}

/** The note a fitted table needs, or null: what was left out and how to see it. */
export function fitNote(f: Fitted): string | null {
  const what = [f.shortened ? "lists shortened" : "", f.hidden.length ? `${f.hidden.join(", ")} left out` : ""].filter(Boolean);
  return what.length ? `${what.join(", ")} to fit the terminal: -w (--wide) shows all` : null;
}
