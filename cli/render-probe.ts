// How the resident prober (discover --daemon, cli/client/probe.ts) reports: a line per event
// on a terminal, or an NDJSON event per line with --json; the summary on SIGUSR1 and at the
// end. Every string that came off the wire is escaped here.

import { escapeText, safeJson } from "../core/escape.ts";
import type { FactChange, FactValue, ProbeEvent, ProbeRunSummary } from "../core/probe.ts";
import type { ProbeOutput, ProbeStart } from "./client/probe.ts";
import { log, print } from "./log.ts";
import { formatDuration } from "./render.ts";
import { renderTable } from "./render-table.ts";
import { outputWidth, paint } from "./term.ts";

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function value(field: FactChange["field"] | null, v: FactValue): string {
  if (v === null) return "-";
  if (typeof v === "number") return field === "leaseTime" ? formatDuration(v) : String(v);
  if (Array.isArray(v)) return v.length ? v.map(escapeText).join(", ") : "-";
  return escapeText(v);
}

const FIELD_LABEL: Record<FactChange["field"], string> = {
  subnetMask: "mask",
  routers: "routers",
  dns: "dns",
  domain: "domain",
  search: "search",
  classlessRoutes: "routes(121)",
  leaseTime: "lease",
  sourceIp: "source ip",
  sourceMac: "source mac",
};

/** One event for a terminal, or null when it is shown only with --verbose. */
export function eventLine(e: ProbeEvent, now: number, verbose: boolean): string | null {
  const head = (name: string) => `${stamp(now)}  ${name.padEnd(15)}  ${escapeText(e.event === "probe" ? "" : e.server)}`;
  switch (e.event) {
    case "server-new":
    case "server-back": {
      const parts = [
        e.event === "server-back" ? `back after ${e.absentProbes} probe(s) without an offer:` : "",
        `from ${escapeText(e.sourceIp)} ${escapeText(e.sourceMac)}`,
        `mask ${value(null, e.subnetMask)}`,
        `routers ${value(null, e.routers)}`,
        `dns ${value(null, e.dns)}`,
        `domain ${value(null, e.domain)}`,
        `lease ${value("leaseTime", e.leaseTime)}`,
        `offered ${escapeText(e.offered)}`,
        `${e.latencyMs.toFixed(1)} ms`,
      ].filter(Boolean);
      if (e.rogue) parts.push("ROGUE");
      return `${head(e.event)}  ${parts.join("  ")}\n`;
    }
    case "server-changed":
      return `${head(e.event)}  ${e.changes.map((c) => `${FIELD_LABEL[c.field]} ${value(c.field, c.old)} -> ${value(c.field, c.new)}`).join("; ")}\n`;
    case "server-vanished":
      return `${head(e.event)}  no offer in ${e.missedProbes} probes in a row (last seen ${stamp(e.lastSeen)})\n`;
    case "rogue": {
      const why = e.reason === "first-seen" ? "" : e.reason === "back" ? " (back after vanishing)" : " (no longer matches)";
      return `${head("ROGUE")}  from ${escapeText(e.sourceIp)} ${escapeText(e.sourceMac)} is not in --allow-server${why}\n`;
    }
    case "probe":
      if (!verbose) return null;
      return (
        `${stamp(now)}  ${"probe".padEnd(15)}  #${e.probe}  ` +
        (e.error !== undefined
          ? `failed: ${escapeText(e.error)}\n`
          : `${e.offers} offer(s), ${e.servers} server(s) present${e.rogue ? `, ${e.rogue} rogue` : ""}, ${e.durationMs} ms\n`)
      );
  }
}

/** One event as an NDJSON line: time first, event name second, times as ISO strings. */
export function eventJson(e: ProbeEvent | ProbeRunSummary | { event: string; [k: string]: unknown }, now: number): string {
  const fields: Record<string, unknown> = { time: new Date(now).toISOString(), ...e };
  if (e.event === "server-vanished") fields.lastSeen = new Date((e as { lastSeen: number }).lastSeen).toISOString();
  if (e.event === "summary" || e.event === "stats") {
    fields.servers = (e as ProbeRunSummary).servers.map((s) => ({
      ...s,
      firstSeen: new Date(s.firstSeen).toISOString(),
      lastSeen: new Date(s.lastSeen).toISOString(),
    }));
  }
  return safeJson(fields) + "\n";
}

function summaryText(s: ProbeRunSummary, now: number, final: boolean, wide: boolean): string {
  const rogue = s.rogueServers.length ? `; ROGUE: ${s.rogueServers.map(escapeText).join(", ")}${s.rogueServersTruncated ? ", …" : ""}` : "; no rogue server";
  let text =
    `${stamp(now)}  ${(final ? "summary" : "stats").padEnd(15)}  ${s.probes} probe(s)` +
    (s.probesFailed ? ` (${s.probesFailed} failed)` : "") +
    `, ${s.serversSeen} server(s) seen` +
    (s.serversForgotten ? ` (${s.serversForgotten} forgotten to stay bounded)` : "") +
    rogue +
    "\n";
  if (s.servers.length) {
    const rows = s.servers.map((v) => [
      escapeText(v.server),
      v.status,
      String(v.probesSeen),
      stamp(v.firstSeen),
      stamp(v.lastSeen),
      v.rogue ? paint(1, "red", "ROGUE") : "",
    ]);
    const columns = [
      { header: "SERVER" },
      { header: "STATUS" },
      { header: "PROBES", align: "right" as const },
      { header: "FIRST SEEN", drop: 1 },
      { header: "LAST SEEN" },
      { header: "" },
    ];
    text += renderTable(columns, rows, { width: outputWidth(1), wide }).text;
  }
  return text;
}

/**
 * The prober's output: lines for a person, or NDJSON with --json. `several`: more than one
 * interface is probed, so each line starts with it and each event carries `interface`.
 */
export function probePrinter(json: boolean, verbose: boolean, wide = false, several = false): ProbeOutput {
  const tagged = <T extends { event: string }>(e: T, iface: string) => (several ? { ...e, interface: iface } : e);
  const prefix = (iface: string, text: string) => (several ? text.replace(/^(?=.)/gm, `${escapeText(iface)}  `) : text);
  return {
    start(info: ProbeStart, now: number) {
      if (json) print(eventJson({ event: "start", ...info }, now));
    },
    events(events: ProbeEvent[], now: number, iface: string) {
      for (const e of events) {
        if (e.event === "rogue") {
          log.warn(
            `rogue DHCP server${several ? ` on ${escapeText(iface)}` : ""}: ${escapeText(e.server)} (${escapeText(e.sourceMac)}) is not in --allow-server`,
          );
        }
        const line = json ? eventJson(tagged(e, iface), now) : eventLine(e, now, verbose);
        if (line !== null) print(json ? line : prefix(iface, line));
      }
    },
    summary(s: ProbeRunSummary, rogueSeen: boolean, final: boolean, now: number, iface: string) {
      print(json ? eventJson(tagged({ ...s, event: final ? "summary" : "stats", rogueSeen }, iface), now) : prefix(iface, summaryText(s, now, final, wide)));
    },
  };
}
