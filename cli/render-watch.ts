// watch's text: a packet as one line for a terminal or as one JSON line, and the summary
// at the end (and on SIGUSR1) with its server and client tables.

import type { PacketEvent, SeenPacket, Summary } from "../core/conversations.ts";
import { escapeText, safeJson } from "../core/escape.ts";
import type { OptionEntry } from "../core/inspect.ts";
import { formatDuration, renderValue } from "./render.ts";
import { renderTable } from "./render-table.ts";
import { outputWidth, paint } from "./term.ts";

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Local HH:MM:SS of a packet; the packets of one second (100k at 100k/s) share it. */
let clockS = Number.NaN,
  clockText = "";
function timeOfDay(us: number): string {
  const s = Math.floor(us / 1_000_000);
  if (s !== clockS) {
    const d = new Date(us / 1000);
    clockS = s;
    clockText = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  return `${clockText}.${pad(Math.floor(us % 1_000_000), 6)}`;
}

/**
 * An option's text, made once per entry: core/inspect.ts hands the same entries to every
 * message with the same option bytes (a server's replies), and they never change.
 */
const optionTexts = new WeakMap<OptionEntry, string>();
function entryText(o: OptionEntry): string {
  let text = optionTexts.get(o);
  if (text === undefined) optionTexts.set(o, (text = renderValue(o)));
  return text;
}

function optionText(p: SeenPacket, code: number): string | null {
  const o = p.message.options.find((x) => x.code === code);
  return o ? entryText(o) : null;
}

/** The one-line view of a packet for a terminal. */
export function packetLine(p: SeenPacket, e: PacketEvent, verbose: boolean): string {
  const m = p.message,
    f = p.frame;
  const type = m.messageType ?? (m.op === 1 ? "BOOTREQUEST" : "BOOTREPLY");
  const parts = [timeOfDay(p.timeUs), type === "NAK" ? paint(1, "red", type.padEnd(8)) : type.padEnd(8), m.xid, m.chaddr, `${f.srcIp} > ${f.dstIp}`];
  if (p.iface !== undefined) parts.unshift(escapeText(p.iface));
  const kv = (k: string, v: string | null) => {
    if (v !== null) parts.push(`${k}=${v}`);
  };
  kv("vlan", f.vlan ? f.vlan.join("/") : null); // outer/inner
  if (m.bootp) parts.push("BOOTP");
  if (f.ipChecksum === "zero") parts.push("ip-checksum=0");
  if (m.op === 1) {
    kv("ciaddr", m.ciaddr !== "0.0.0.0" ? m.ciaddr : null);
    kv("requested", optionText(p, 50));
    kv("server", optionText(p, 54));
    kv("host", optionText(p, 12));
    kv("vendor", optionText(p, 60));
  } else {
    kv("server", e.server);
    kv("yiaddr", m.yiaddr !== "0.0.0.0" ? m.yiaddr : null);
    const lease = m.options.find((o) => o.code === 51)?.value;
    kv("lease", typeof lease === "number" ? formatDuration(lease) : null);
    kv("mask", optionText(p, 1));
    kv("router", optionText(p, 3));
    kv("dns", optionText(p, 6));
    kv("message", optionText(p, 56));
    if (e.latencyMs !== null) parts.push(`${e.latencyMs.toFixed(2)} ms`);
  }
  if (e.rogue) parts.push(paint(1, "red", "ROGUE"));
  let line = parts.join("  ");
  if (verbose) {
    for (const o of m.options) line += `\n    ${String(o.code).padStart(3)} ${o.name.padEnd(26)} ${entryText(o)}`;
  }
  return line + "\n";
}

/** ISO time of a packet; packets of one millisecond (a hundred at 100k/s) share the string. */
let isoMs = Number.NaN,
  isoText = "";
function isoTime(timeUs: number): string {
  const ms = Math.floor(timeUs / 1000);
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

export function packetJson(p: SeenPacket, e: PacketEvent): string {
  const time = isoTime(p.timeUs);
  // options carry hex only with --verbose; two literal shapes rather than a spread (a flood's hot path)
  const v =
    p.iface === undefined
      ? {
          event: "packet",
          time,
          timeUs: p.timeUs,
          conversation: e.conversation,
          latencyMs: e.latencyMs,
          server: e.server,
          rogue: e.rogue,
          frame: p.frame,
          message: p.message,
        }
      : {
          event: "packet",
          time,
          timeUs: p.timeUs,
          interface: p.iface,
          conversation: e.conversation,
          latencyMs: e.latencyMs,
          server: e.server,
          rogue: e.rogue,
          frame: p.frame,
          message: p.message,
        };
  return safeJson(v) + "\n";
}

/** "not-ipv4 2, 80211-protected 1": why packets were not DHCP, most frequent first. */
function reasonList(reasons: Map<string, number>): string {
  return [...reasons]
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${n}`)
    .join(", ");
}

export function summaryText(s: Summary, decodeErrors: number, reasons: Map<string, number>, kernelDrops: number | null, wide: boolean): string {
  const c = s.conversations;
  // Every exchange is in one count: the parts add up to the total (the rarer ones shown when there are any).
  const rare = (
    [
      ["offered only", c.offered],
      ["released", c.released],
      ["declined", c.declined],
      ["begun before the capture", c.other],
    ] as const
  )
    .filter(([, k]) => k > 0)
    .map(([what, k]) => `, ${k} ${what}`)
    .join("");
  const lines = [
    `${s.packets} DHCP packet(s), ${c.total} exchange(s): ${c.acked} acked, ${c.naked} NAKed, ` +
      `${c.unanswered} unanswered${rare}, ${c.open} still open` +
      (decodeErrors ? `; ${decodeErrors} packet(s) not decodable (${reasonList(reasons)})` : "") +
      (kernelDrops ? `; ${kernelDrops} dropped by the kernel` : ""),
  ];
  const fit = { width: outputWidth(1), wide };
  const n = (header: string) => ({ header, align: "right" as const });
  if (s.servers.length) {
    const ms = (x: number | null) => (x === null ? "-" : x.toFixed(2));
    const rows = s.servers.map((v) => [
      escapeText(v.server),
      v.mac ?? "-",
      String(v.offers),
      String(v.acks),
      String(v.naks),
      ms(v.latency.p50),
      ms(v.latency.p95),
      ms(v.latency.max),
      v.rogue ? paint(1, "red", "ROGUE") : "",
    ]);
    lines.push(
      renderTable(
        [{ header: "SERVER" }, { header: "MAC", drop: 1 }, n("OFFERS"), n("ACKS"), n("NAKS"), n("P50 MS"), n("P95 MS"), n("MAX MS"), { header: "" }],
        rows,
        fit,
      ).text.trimEnd(),
    );
  }
  if (s.clients.length) {
    // each client's address with the server that gave it, then the other offers of its latest exchange
    const rows = s.clients.flatMap((c) => [
      [c.client, c.outcome === "naked" ? paint(1, "red", c.outcome) : c.outcome, c.address ?? "-", escapeText(c.server ?? "-"), String(c.exchanges)],
      ...c.offers.filter((x) => x.address !== c.address || x.server !== c.server).map((x) => ["", "offered", x.address, escapeText(x.server), ""]),
    ]);
    lines.push(
      renderTable([{ header: "CLIENT" }, { header: "OUTCOME" }, { header: "ADDRESS" }, { header: "SERVER" }, n("EXCHANGES")], rows, fit).text.trimEnd(),
    );
  }
  if (s.rogueServers.length) lines.push(`ROGUE servers: ${s.rogueServers.map(escapeText).join(", ")}`);
  return lines.join("\n") + "\n";
}
