// How a one-shot request's lease is printed: text for a person, or KEY='value' lines for a
// shell to source (--format env). Small on purpose: the request path loads it on every run.

import { escapeText } from "../core/escape.ts";
import { leaseVars } from "../core/lease-env.ts";
import type { RequestResult } from "./client/request.ts";

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

export function renderLeaseText(r: RequestResult): string {
  const l = r.lease!;
  const list = (xs: string[]) => (xs.length ? xs.map(escapeText).join(", ") : "-");
  const secs = (s: number) => (l.infinite ? "infinite" : `${s} s`);
  const t = r.timing;
  const steps = [
    t.discoverToOfferMs !== null ? `discover→offer ${t.discoverToOfferMs.toFixed(1)} ms` : null,
    t.requestToAckMs !== null ? `request→ack ${t.requestToAckMs.toFixed(1)} ms` : null,
    `total ${t.totalMs.toFixed(1)} ms`,
  ].filter(Boolean).join(", ");
  return [
    `bound ${l.address} from ${escapeText(l.serverId)} (${l.serverMac}) on ${escapeText(r.interface)}, mac ${r.mac}`,
    `  mask      ${l.subnetMask ?? "-"}`,
    `  routers   ${list(l.routers)}`,
    `  routes    ${l.routes.length ? l.routes.map((x) => `${x.destination}/${x.prefix} via ${x.router}`).join(", ") : "-"}`,
    `  dns       ${list(l.dns)}`,
    `  domain    ${l.domain === null ? "-" : escapeText(l.domain)}`,
    `  search    ${list(l.search)}`,
    `  lease     ${secs(l.leaseTime)} (T1 ${secs(l.t1)}, T2 ${secs(l.t2)})`,
    `  acquired  ${l.acquiredAt}`,
    `  expires   ${l.expiresAt ?? "never"}`,
    `  steps     ${steps}`,
    ...(r.released ? ["  released  (DHCPRELEASE sent)"] : []),
  ].join("\n") + "\n";
}
