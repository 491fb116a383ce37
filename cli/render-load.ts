// request --clients, rendered: the report as text (perfdhcp's numbers and then some: counts by
// message type, drops, latency percentiles, pool exhaustion, a row per second), the per-second
// series as CSV (--format csv, to plot where the server's knee is), and the live status line
// a terminal shows on stderr while the run goes on. (--json is the report itself.)

import type { LoadReport } from "./client/load.ts";
import type { Counts, LatencySummary, SecondRow } from "../core/load-stats.ts";
import { escapeText } from "../core/escape.ts";
import { renderTable } from "./render-table.ts";

/** The first row heads the columns; the first column is names, the rest numbers (right-aligned). Needs loadTable(). */
function alignColumns(rows: string[][]): string {
  const [head, ...body] = rows;
  return renderTable(
    head.map((header, i) => ({ header, align: i === 0 ? "left" : "right" })),
    body,
    { width: null },
  ).text;
}

const ms = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1));
const rate = (x: number | null) => (x === null ? "-" : `${x}/s`);

function latencyRow(name: string, l: LatencySummary | null): string[] {
  return l === null ? [name, "-", "-", "-", "-", "-", "-", "0"] : [name, ms(l.min), ms(l.avg), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.max), String(l.count)];
}

export function renderLoadText(r: LoadReport): string {
  const c = r.counts,
    o = r.outcomes;
  const via = r.giaddr ? ` as relay ${r.giaddr} to ${r.server}` : r.server ? ` to ${r.server}` : "";
  const out: string[] = [];
  out.push(
    `load on ${escapeText(r.interface)}${via}: ${r.started} of ${r.planned} clients started ` +
      `(MACs ${r.macPrefix}:…, seed ${r.seed}), ${(r.elapsedMs / 1000).toFixed(2)} s\n`,
  );
  out.push(`  rate      target ${rate(r.rate.target)}, achieved ${rate(r.rate.achieved)}, leases ${rate(r.rate.leasesPerSecond)}\n`);
  out.push(
    `  leases    ${o.bound} bound, ${o.nak} NAK, ${o["no-offer"]} no OFFER, ${o["no-ack"]} no ACK` +
      (o.interrupted ? `, ${o.interrupted} cut short` : "") +
      "\n",
  );
  const sent = [
    `DISCOVER ${c.discovers}`,
    `REQUEST ${c.requests}`,
    ...(c.renews ? [`REQUEST (renew) ${c.renews}`] : []),
    ...(c.releases ? [`RELEASE ${c.releases}`] : []),
  ];
  const got = [`OFFER ${c.offers}`, `ACK ${c.acks}`, `NAK ${c.naks}`, ...(c.renews ? [`ACK (renew) ${c.renewAcks}`, `NAK (renew) ${c.renewNaks}`] : [])];
  out.push(`  sent      ${sent.join(", ")}\n`);
  out.push(`  received  ${got.join(", ")}\n`);
  out.push(
    `  drops     no OFFER ${c.noOffer} (${r.dropPercent.offer} %), no ACK ${c.noAck} (${r.dropPercent.ack} %)` +
      (c.renews ? `, renew unanswered ${c.renewNoAck}` : "") +
      "\n",
  );
  const lat = [
    ["  latency ms", "min", "avg", "p50", "p90", "p99", "max", "n"],
    latencyRow("  DISCOVER→OFFER", r.latencyMs.offer),
    latencyRow("  REQUEST→ACK", r.latencyMs.ack),
  ];
  if (r.latencyMs.renew) lat.push(latencyRow("  renew→ACK", r.latencyMs.renew));
  out.push(alignColumns(lat));
  if (r.exhaustion) {
    const e = r.exhaustion;
    // Silence alone cannot tell an empty pool from a server that stalled: say both.
    out.push(
      e.how === "nak"
        ? `  pool      exhausted: after ${e.leases} leases, NAKs to the last ${e.refused} clients in a row\n`
        : `  pool      exhausted (or the server stalled): after ${e.leases} leases, no answer to the last ${e.refused} clients in a row\n`,
    );
  }
  if (r.duplicateAddresses) out.push(`  warning   ${r.duplicateAddresses} ACK(s) for an address another client of this run held\n`);
  const dropped = Object.entries(r.dropped)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  if (dropped || r.kernelDrops) out.push(`  replies dropped  ${dropped || "none"}; kernel drops ${r.kernelDrops}\n`);
  if (r.series.length) {
    out.push("\n");
    const head = ["second", "DISCOVER", "OFFER", "REQUEST", "ACK", "NAK", "no OFFER", "no ACK", "D→O p50", "D→O p99", "R→A p50", "R→A p99"];
    out.push(
      alignColumns([
        head,
        ...r.series.map((s) => [
          String(s.second),
          ...[s.discovers, s.offers, s.requests, s.acks, s.naks, s.noOffer, s.noAck].map(String),
          ms(s.offerP50),
          ms(s.offerP99),
          ms(s.ackP50),
          ms(s.ackP99),
        ]),
      ]),
    );
  }
  return out.join("");
}

const CSV_COLUMNS: [string, (s: SecondRow) => number | null][] = [
  ["second", (s) => s.second],
  ["discovers", (s) => s.discovers],
  ["offers", (s) => s.offers],
  ["requests", (s) => s.requests],
  ["acks", (s) => s.acks],
  ["naks", (s) => s.naks],
  ["no_offer", (s) => s.noOffer],
  ["no_ack", (s) => s.noAck],
  ["renews", (s) => s.renews],
  ["renew_acks", (s) => s.renewAcks],
  ["renew_naks", (s) => s.renewNaks],
  ["renew_no_ack", (s) => s.renewNoAck],
  ["releases", (s) => s.releases],
  ["offer_p50_ms", (s) => s.offerP50],
  ["offer_p99_ms", (s) => s.offerP99],
  ["ack_p50_ms", (s) => s.ackP50],
  ["ack_p99_ms", (s) => s.ackP99],
];

/** The per-second series, one row per second of the run; an empty cell where nothing was timed. */
export function renderLoadCsv(series: SecondRow[]): string {
  const lines = [CSV_COLUMNS.map(([name]) => name).join(",")];
  for (const s of series) lines.push(CSV_COLUMNS.map(([, get]) => get(s) ?? "").join(","));
  return lines.join("\n") + "\n";
}

/** One status line for second `row` of the run (no newline: the caller redraws it in place). */
export function renderLoadStatus(row: SecondRow, total: Counts, started: number, planned: number): string {
  return (
    `${row.second + 1} s: started ${started}/${planned} (${row.discovers} DISCOVER/s), ` +
    `OFFER ${total.offers}, ACK ${total.acks}, NAK ${total.naks}, drops ${total.noOffer + total.noAck}, ` +
    `D→O p50 ${ms(row.offerP50)} ms, R→A p50 ${ms(row.ackP50)} ms`
  );
}
