// How a one-shot request's lease is printed: text for a person, or KEY='value' lines for a
// shell to source (--format env). Small on purpose: the request path loads it on every run.

import { escapeText } from "../core/escape.ts";
import { leaseVars } from "../core/lease-env.ts";
import type { LeaseRecord } from "../core/lease-record.ts";
import type { RequestResult } from "./client/request.ts";
import { formatDuration } from "./render.ts";

/**
 * A value safe to `source` in sh/bash: wire strings escaped (no control characters reach a
 * terminal), then single-quoted, a ' inside written as '\'' — nothing inside single quotes
 * is expanded, so no $(…), `…` or ; can run. `escaped`: the value is escaped already (leaseVars).
 */
export function shellQuote(value: string, escaped = false): string {
  return "'" + (escaped ? value : escapeText(value)).replace(/'/g, "'\\''") + "'";
}

export function renderLeaseEnv(r: RequestResult): string {
  const l = r.lease;
  if (!l) return "";
  const vars: [string, string][] = [["interface", escapeText(r.interface)], ...leaseVars(l, "new_")];
  return vars.map(([k, v]) => `${k}=${shellQuote(v, true)}\n`).join("");
}

const list = (xs: string[]) => (xs.length ? xs.map(escapeText).join(", ") : "-");

/** lease, T1 and T2, each one way: "3600 s (1h), T1 1800 s (30m), T2 3150 s (52m30s)". */
function leaseTimes(l: LeaseRecord): string {
  return l.infinite ? "infinite" : `${formatDuration(l.leaseTime)}, T1 ${formatDuration(l.t1)}, T2 ${formatDuration(l.t2)}`;
}

export function renderLeaseText(r: RequestResult): string {
  const l = r.lease!;
  const t = r.timing;
  const steps = [
    t.discoverToOfferMs !== null ? `discover→offer ${t.discoverToOfferMs.toFixed(1)} ms` : null,
    t.requestToAckMs !== null ? `request→ack ${t.requestToAckMs.toFixed(1)} ms` : null,
    `total ${t.totalMs.toFixed(1)} ms`,
  ]
    .filter(Boolean)
    .join(", ");
  return (
    [
      `bound ${l.address} from ${escapeText(l.serverId)} (${l.serverMac}) on ${escapeText(r.interface)}, mac ${r.mac}`,
      `  mask      ${l.subnetMask ?? "-"}`,
      `  routers   ${list(l.routers)}`,
      `  routes    ${l.routes.length ? l.routes.map((x) => `${x.destination}/${x.prefix} via ${x.router}`).join(", ") : "-"}`,
      `  dns       ${list(l.dns)}`,
      `  domain    ${l.domain === null ? "-" : escapeText(l.domain)}`,
      `  search    ${list(l.search)}`,
      `  lease     ${leaseTimes(l)}`,
      `  acquired  ${l.acquiredAt}`,
      `  expires   ${l.expiresAt ?? "never"}`,
      `  steps     ${steps}`,
      ...(r.released ? ["  released  (DHCPRELEASE sent)"] : []),
    ].join("\n") + "\n"
  );
}

/** What `lease show` reports per interface, from the daemon (its status) or from the stored file. */
export type Shown = Record<string, unknown> & { interface: string; source: "daemon" | "file"; lease: LeaseRecord | null };

/** The daemon's counters in a line: "sent DISCOVER 1, REQUEST 3; received 4; dropped none". */
function countersText(c: Record<string, unknown>): string {
  const kv = (o: unknown) =>
    (o && typeof o === "object"
      ? Object.entries(o)
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(", ")
      : "") || "none";
  return (
    `sent ${kv(c.sent)}; received ${String(c.received ?? 0)}; dropped ${kv(c.dropped)}` +
    (typeof c.hooksDropped === "number" && c.hooksDropped > 0 ? `; hooks not run ${c.hooksDropped}` : "")
  );
}

function whenText(iso: string | null | undefined, now: number): string {
  if (!iso) return "never";
  const d = Math.round((Date.parse(iso) - now) / 1000);
  return `${iso} (${d >= 0 ? `in ${formatDuration(d)}` : `${formatDuration(-d)} ago`})`;
}

/** An interface's lease for a person: `lease show`, and the resident client's SIGUSR1 status. */
export function renderShown(x: Shown, now = Date.now()): string {
  const l = x.lease;
  const head =
    `${escapeText(x.interface)}  ${String(x.phase)}` +
    (x.source === "daemon" ? ` since ${String(x.since)} (daemon pid ${String(x.pid)}${x.applied ? ", applied" : ""})` : ` (stored lease, no daemon running)`);
  if (!l) return head + "\n  no lease\n";
  const rows: [string, string][] = [
    ["address", `${l.address}${l.subnetMask ? ` mask ${l.subnetMask}` : ""}`],
    ["server", `${escapeText(l.serverId)} (${l.serverMac})`],
    ["routers", list(l.routers)],
    ["routes", l.routes.length ? l.routes.map((r) => `${r.destination}/${r.prefix} via ${r.router}`).join(", ") : "-"],
    ["dns", list(l.dns)],
    ["domain", l.domain === null ? "-" : escapeText(l.domain)],
    ["search", list(l.search)],
    ["lease", leaseTimes(l)],
    ["acquired", l.acquiredAt],
    ["renew", whenText(l.renewAt, now)],
    ["rebind", whenText(l.rebindAt, now)],
    ["expires", whenText(l.expiresAt, now)],
  ];
  if (x.counters && typeof x.counters === "object") rows.push(["packets", countersText(x.counters as Record<string, unknown>)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${head}\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n")}\n`;
}
