// Rendering of results: human tables (TTY), JSON (scripts). Every string that came off the
// wire goes through escapeText or safeJson before it is printed.

import { escapeText } from "../core/escape.ts";
import { renderTable, type Cell, type Column, type Fitted } from "./render-table.ts";
import { paint } from "./term.ts";
import type { Offer } from "../core/offers.ts";
import type { InputKind, PacketView } from "../core/inspect.ts";
import { MESSAGE_TYPES, OPTIONS } from "../core/options.ts";
import { seconds } from "../core/option-codecs.ts";
import { isSubOptionList, subOptionsText } from "../core/vendor-options.ts";

/** 3150 → "52m30s", 3600 → "1h", 90061 → "1d1h1m1s". */
function compactDuration(s: number): string {
  const parts: [number, string][] = [
    [Math.floor(s / 86400), "d"],
    [Math.floor((s % 86400) / 3600), "h"],
    [Math.floor((s % 3600) / 60), "m"],
    [s % 60, "s"],
  ];
  return (
    parts
      .filter(([n]) => n > 0)
      .map(([n, u]) => `${n}${u}`)
      .join("") || "0s"
  );
}

/**
 * A duration in seconds, one way everywhere: "45 s", "3150 s (52m30s)" (the seconds a server
 * sent, then what they mean), "infinite" for 0xffffffff, "-" for none.
 */
export function formatDuration(s: number | null): string {
  if (s === null) return "-";
  if (s === 0xffffffff) return "infinite";
  s = Math.round(s);
  return s < 60 ? `${s} s` : `${s} s (${compactDuration(s)})`;
}

/** A decoded option value on one line, every wire string escaped. */
export function renderValue(v: { code: number; value?: unknown; error?: string; hex?: string }): string {
  if (v.error !== undefined) return `invalid (${escapeText(v.error)})${v.hex === undefined ? "" : ": " + v.hex}`;
  if (v.code === 53 && typeof v.value === "number") return MESSAGE_TYPES[v.value] ?? String(v.value);
  if (typeof v.value === "number" && OPTIONS.get(v.code)?.codec === seconds) return formatDuration(v.value);
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
    return Object.entries(o)
      .map(([k, val]) => `${k}=${formatValue(val)}`)
      .join(" ");
  }
  return "";
}

const OFFER_COLUMNS: Column[] = [
  { header: "SERVER" },
  { header: "MAC", drop: 1 },
  { header: "OFFERED" },
  { header: "MASK", drop: 2 },
  { header: "ROUTER", list: true },
  { header: "DNS", list: true, drop: 3 },
  { header: "LEASE", align: "right" },
  { header: "MS", align: "right" },
];

/**
 * One row per offer: the columns an engineer scans first; ROGUE in red where colour is on.
 * `ifaces` (one per offer, offers grouped by interface) adds an IFACE column first: discover
 * on several interfaces.
 */
export function renderOfferTable(offers: Offer[], showRogue: boolean, fit: { width: number | null; wide: boolean }, ifaces?: string[]): Fitted {
  const columns = [...(ifaces ? [{ header: "IFACE" }] : []), ...OFFER_COLUMNS, ...(showRogue ? [{ header: "" }] : [])];
  const rows = offers.map((o, i) => {
    const row: Cell[] = [
      ...(ifaces ? [escapeText(ifaces[i] ?? "")] : []),
      escapeText(o.serverId ?? o.sourceIp),
      o.sourceMac,
      o.yiaddr,
      o.subnetMask ?? "-",
      o.routers.map(escapeText),
      o.dns.map(escapeText),
      formatDuration(o.leaseTime),
      o.latencyMs.toFixed(1),
    ];
    if (showRogue) row.push(o.rogue ? paint(1, "red", "ROGUE") : "ok");
    return row;
  });
  return renderTable(columns, rows, fit);
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
    head.push(
      `${f.srcIp}:${f.srcPort} -> ${f.dstIp}:${f.dstPort}${macs}` +
        (f.vlan ? `  vlan ${f.vlan.join("/")}` : "") +
        (f.ipChecksum === "zero" ? "  (IPv4 header checksum 0: captured before the NIC filled it in)" : "") +
        (f.udpChecksum === "bad" ? "  (UDP checksum not valid: offloaded, or corrupt)" : ""),
    );
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
