// Builders for test frames: a server's OFFER to a known client, as bytes on the wire.

import { encodeMessage, BOOTREPLY, type OptionBytes } from "../../core/message.ts";
import { buildUdpFrame } from "../../core/frame.ts";
import { parseMac, writeIp } from "../../core/bytes.ts";

export const CLIENT_MAC = parseMac("02:00:00:00:00:01")!;
export const SERVER_MAC = parseMac("02:00:00:00:00:fe")!;
export const XID = 0x12345678;

export function ip4(ip: string): Uint8Array {
  const b = new Uint8Array(4);
  writeIp(b, 0, ip);
  return b;
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

export const OFFER_OPTIONS: OptionBytes[] = [
  { code: 53, data: Uint8Array.of(2) },
  { code: 54, data: ip4("198.18.0.1") },
  { code: 51, data: u32(3600) },
  { code: 58, data: u32(1800) },
  { code: 59, data: u32(3150) },
  { code: 1, data: ip4("255.255.255.0") },
  { code: 28, data: ip4("198.18.0.255") },
  { code: 3, data: ip4("198.18.0.1") },
  { code: 6, data: Uint8Array.of(...ip4("198.18.0.1"), ...ip4("198.18.0.2")) },
  { code: 15, data: new TextEncoder().encode("lab.example") },
];

export function offerPayload(opts: { xid?: number; chaddr?: Uint8Array; options?: OptionBytes[]; op?: number; yiaddr?: string } = {}): Uint8Array {
  return encodeMessage({
    op: opts.op ?? BOOTREPLY,
    xid: opts.xid ?? XID,
    chaddr: opts.chaddr ?? CLIENT_MAC,
    yiaddr: opts.yiaddr ?? "198.18.0.100",
    siaddr: "198.18.0.1",
    options: opts.options ?? OFFER_OPTIONS,
  });
}

export function offerFrame(payload = offerPayload(), dstMac: Uint8Array = CLIENT_MAC): Uint8Array {
  return buildUdpFrame({
    srcMac: SERVER_MAC,
    dstMac,
    srcIp: "198.18.0.1",
    dstIp: "198.18.0.100",
    srcPort: 67,
    dstPort: 68,
    payload,
    ttl: 64,
  });
}

/** Every sample line of a Prometheus exposition: `name{labels}` → value (HELP/TYPE lines skipped). */
export function metricSamples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    const v = line.slice(i + 1);
    m.set(line.slice(0, i), v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v));
  }
  return m;
}
