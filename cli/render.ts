// Rendering of results: human tables (TTY), JSON (scripts). Every string that came off the
// wire goes through escapeText or safeJson before it is printed.

import { escapeText, safeJson } from "../core/escape.ts";
import { print } from "./log.ts";
import type { Offer } from "../core/offers.ts";
import type { InputKind, PacketView } from "../core/inspect.ts";
import { MESSAGE_TYPES, OPTIONS } from "../core/options.ts";
import { seconds } from "../core/option-codecs.ts";
import { isSubOptionList, subOptionsText } from "../core/vendor-options.ts";

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

/** A decoded option value on one line, every wire string escaped. */
export function renderValue(v: { code: number; value?: unknown; error?: string; hex?: string }): string {
  if (v.error !== undefined) return `invalid (${escapeText(v.error)})${v.hex === undefined ? "" : ": " + v.hex}`;
  if (v.code === 53 && typeof v.value === "number") return MESSAGE_TYPES[v.value] ?? String(v.value);
  if (typeof v.value === "number" && OPTIONS.get(v.code)?.codec === seconds) return `${v.value} (${formatSeconds(v.value)})`;
  return formatValue(v.value) || (v.hex ?? "");
}

function formatValue(x: unknown): string {
  if (typeof x === "string") return escapeText(x);
  if (typeof x === "number" || typeof x === "boolean") return String(x);
  // 82, 43: in the syntax --option takes (1=text,2=hex:0a0b), escaped for the terminal
  if (isSubOptionList(x)) return escapeText(subOptionsText(x));
  if (Array.isArray(x)) return x.map(formatValue).join(", ");
  if (x && typeof x === "object") {
    const o = x as Record<string, unknown>;
    if ("destination" in o && "prefix" in o) return `${o.destination}/${o.prefix} via ${o.router}`;
    if ("code" in o && "hex" in o) return `${o.code}:${o.hex}`;
    if ("enterprise" in o) return `enterprise ${o.enterprise}: ${o.hex}`;
    return Object.entries(o).map(([k, val]) => `${k}=${formatValue(val)}`).join(" ");
  }
  return "";
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

/**
 * One row per offer: the columns an engineer scans first. `ifaces` (one per offer, offers
 * grouped by interface) adds an IFACE column first: discover on several interfaces.
 */
export function renderOfferTable(offers: Offer[], showRogue: boolean, ifaces?: string[]): string {
  const header = ["SERVER", "MAC", "OFFERED", "MASK", "ROUTER", "DNS", "LEASE", "MS"];
  if (ifaces) header.unshift("IFACE");
  if (showRogue) header.push("");
  const rows = offers.map((o, i) => {
    const row = [
      ...(ifaces ? [escapeText(ifaces[i] ?? "")] : []),
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

function time(us: number): string {
  const d = new Date(us / 1000);
  // core/pcap.ts keeps times in range; this guards any other caller
  return Number.isNaN(d.getTime()) ? "(no time)" : d.toISOString().replace("T", " ").replace("Z", "");
}

/** One decoded packet for a terminal: addresses, header, then every option. */
export function renderPacket(p: PacketView, kind: InputKind): string {
  const lines: string[] = [];
  const head = [kind === "pcap" ? `#${p.index}` : "", p.timestampUs !== undefined ? time(p.timestampUs) : ""].filter(Boolean);
  if (p.frame) {
    const f = p.frame;
    const macs = f.srcMac || f.dstMac ? `  ${f.srcMac ?? "?"} -> ${f.dstMac ?? "?"}` : "";
    head.push(`${f.srcIp}:${f.srcPort} -> ${f.dstIp}:${f.dstPort}${macs}` +
      (f.vlan ? `  vlan ${f.vlan.join("/")}` : "") +
      (f.ipChecksum === "zero" ? "  (IPv4 header checksum 0: captured before the NIC filled it in)" : "") +
      (f.udpChecksum === "bad" ? "  (UDP checksum not valid: offloaded, or corrupt)" : ""));
  }
  if (head.length) lines.push(head.join("  "));
  if (p.error !== undefined) {
    lines.push(`  ${escapeText(p.error)}`);
    return lines.join("\n") + "\n\n";
  }
  const m = p.message!;
  const type = m.messageType ? "DHCP" + m.messageType : m.op === 1 ? "BOOTREQUEST" : "BOOTREPLY";
  lines.push(`  ${type}  xid ${m.xid}  secs ${m.secs}  flags 0x${m.flags.toString(16).padStart(4, "0")}${m.broadcast ? " (broadcast)" : ""}  hops ${m.hops}`);
  if (m.bootp) lines.push("  (BOOTP, RFC 951: no DHCP magic cookie, so no options; the header as sent)");
  lines.push(`  chaddr ${m.chaddr}  ciaddr ${m.ciaddr}  yiaddr ${m.yiaddr}  siaddr ${m.siaddr}  giaddr ${m.giaddr}`);
  if (m.sname) lines.push(`  sname "${escapeText(m.sname)}"`);
  if (m.file) lines.push(`  file "${escapeText(m.file)}"`);
  if (m.vend && /[^0]/.test(m.vend)) lines.push(`  vend ${m.vend}`);
  for (const o of m.options) lines.push(`  ${String(o.code).padStart(3)} ${o.name.padEnd(26)} ${renderValue(o)}`);
  for (const w of m.warnings) lines.push(`  (warning: ${w.kind} at byte ${w.offset})`);
  return lines.join("\n") + "\n\n";
}
