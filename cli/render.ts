// Rendering of results: human tables (TTY), JSON (scripts). Every string that came off the
// wire goes through escapeText or safeJson before it is printed.

import { escapeText, safeJson } from "../core/escape.ts";
import { print } from "./log.ts";
import type { Offer, OptionView } from "../core/discover.ts";

export function printJson(value: unknown): void {
  print(safeJson(value, 2) + "\n");
}

export function formatSeconds(s: number | null): string {
  if (s === null) return "-";
  if (s === 0xffffffff) return "infinite";
  if (s % 86400 === 0) return `${s / 86400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

function list(xs: string[]): string {
  return xs.length ? xs.map(escapeText).join(", ") : "-";
}

export function renderValue(v: OptionView): string {
  if (v.error !== undefined) return `invalid (${escapeText(v.error)}): ${v.hex}`;
  const x = v.value;
  if (typeof x === "string") return escapeText(x);
  if (typeof x === "number" || typeof x === "boolean") return String(x);
  if (Array.isArray(x)) {
    return x.map((e) => typeof e === "object" && e !== null
      ? ("destination" in e ? `${e.destination}/${e.prefix} via ${e.router}` : `${e.code}:${e.hex}`)
      : escapeText(String(e))).join(", ");
  }
  if (x && typeof x === "object" && "type" in x) return `type ${x.type} ${escapeText(x.id)}`;
  return v.hex;
}

/**
 * Columns padded to their widest cell, two spaces apart, no borders: what `ip`, `ss` and
 * `column -t` print, and what grep and awk take apart easily. (The `table` package costs
 * ~7 ms of start-up for the same result; see docs/BENCHMARKS.md.)
 */
export function alignColumns(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ").trimEnd())
    .join("\n") + "\n";
}

/** One row per offer: the columns an engineer scans first. */
export function renderOfferTable(offers: Offer[], showRogue: boolean): string {
  const header = ["SERVER", "MAC", "OFFERED", "MASK", "ROUTER", "DNS", "LEASE", "MS"];
  if (showRogue) header.push("");
  const rows = offers.map((o) => {
    const row = [
      escapeText(o.serverId ?? o.sourceIp), o.sourceMac, o.yiaddr, o.subnetMask ?? "-",
      list(o.routers), list(o.dns), formatSeconds(o.leaseTime), o.latencyMs.toFixed(1),
    ];
    if (showRogue) row.push(o.rogue ? "ROGUE" : "ok");
    return row;
  });
  return alignColumns([header, ...rows]);
}

/** Every option of one offer, for --verbose. */
export function renderOfferDetail(o: Offer): string {
  const lines = [`offer from ${o.serverId ?? o.sourceIp} (${o.sourceIp}, ${o.sourceMac}) in ${o.latencyMs.toFixed(1)} ms:`];
  lines.push(`  yiaddr ${o.yiaddr}  siaddr ${o.siaddr}  giaddr ${o.giaddr}${o.copies > 1 ? `  (${o.copies} copies)` : ""}`);
  for (const v of o.options) lines.push(`  ${String(v.code).padStart(3)} ${v.name.padEnd(24)} ${renderValue(v)}`);
  return lines.join("\n");
}
