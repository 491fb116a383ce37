// The messages bench/codec.ts times: DHCPACKs as an office server sends them, one to each of
// 1024 clients (its own xid, chaddr, address and host name; the server's options the same in
// all), built with our encoder, plus the same messages in the shapes the npm `dhcp` package
// (0.2.20) takes and gives. The parsers read them in turn, as a server's stream comes: no
// parser sees the same message twice in a row, and more distinct addresses go by than any
// small cache holds. Shared so that a profile measures exactly what the bench does.

import { encodeMessage, type MessageFields } from "../core/message.ts";
import { encodeOption, type ClasslessRoute } from "../core/options.ts";
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { latin1, u32ToIp } from "../core/bytes.ts";

export const CLIENTS = 1024;
const hostName = (i: number) => `laptop-${String(i).padStart(4, "0")}`;

/** Typed option values in wire order, as a caller of encodeOption holds them (client i's ACK). */
export function typedOptions(i = 0): [number, unknown][] {
  return [
    [53, 5], // DHCPACK
    [54, "192.168.8.1"], // server id
    [51, 86400], // lease time
    [58, 43200], // T1
    [59, 75600], // T2
    [1, "255.255.248.0"],
    [3, ["192.168.8.1"]],
    [6, ["192.168.8.1", "192.168.8.2"]],
    [15, "corp.example.com"],
    [28, "192.168.15.255"],
    [119, ["corp.example.com", "example.com"]],
    // 5 + 7 bytes: a multiple of 4, so the npm parser (which reads 121 as a list of addresses)
    // stays aligned with the options after it instead of running into them.
    [
      121,
      [
        { destination: "0.0.0.0", prefix: 0, router: "192.168.8.1" },
        { destination: "172.16.0.0", prefix: 12, router: "192.168.8.254" },
      ] satisfies ClasslessRoute[],
    ],
    [12, hostName(i)],
    [42, ["192.168.8.1", "192.168.8.2"]],
  ];
}
export const TYPED_OPTIONS = typedOptions(0);

export const XID = 0x3903f326;
export const YIADDR = "192.168.8.16";
export const LEASE = 86400;
export const CHADDR = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x00, 0x00);

/** Client i's ACK (i = 0 is the one the checks and the encoder rows use). */
export function ackFields(i = 0): MessageFields {
  const chaddr = CHADDR.slice();
  chaddr[4] = i >> 8;
  chaddr[5] = i & 255;
  return {
    op: 2,
    xid: XID + i,
    chaddr,
    yiaddr: u32ToIp(0xc0a80810 + i),
    siaddr: "192.168.8.1",
    options: typedOptions(i).map(([code, v]) => ({ code, data: encodeOption(code, v) })),
  };
}

/** Our encoder's bytes of the ACKs, client by client (what both parsers read). */
export const ACK_STREAM: Uint8Array[] = Array.from({ length: CLIENTS }, (_, i) => encodeMessage(ackFields(i)));
export const ACK_BYTES: Uint8Array = ACK_STREAM[0];

// ---- the npm `dhcp` package ----

export interface NpmParsed {
  op: number;
  xid: number;
  yiaddr: string;
  chaddr: string;
  options: Record<number, unknown>;
}
export interface NpmSeqBuffer {
  _data: Buffer;
  _w: number;
}
export interface NpmProtocol {
  /** What its Server and Client call on every datagram (lib/dhcp.js: `req = Protocol.parse(buf)`). */
  parse(buf: Buffer): NpmParsed;
  /** What its Server and Client call before every send (lib/dhcp.js `_send`). */
  format(data: unknown): NpmSeqBuffer;
}

export function loadNpmProtocol(): NpmProtocol | null {
  try {
    return require("dhcp/lib/protocol.js") as NpmProtocol;
  } catch {
    return null;
  }
}

/**
 * A second, separate instance of the package (its files copied to a temporary directory), for
 * the bench's control row: the same parser timed against itself must read 1.00 x, and how far
 * it strays is how far any ratio in the table can be trusted. Returns it and a cleanup.
 */
export function loadNpmProtocolCopy(): { protocol: NpmProtocol; remove: () => void } | null {
  try {
    const lib = dirname(require.resolve("dhcp/lib/protocol.js"));
    const dir = mkdtempSync(join(tmpdir(), "dhcptool-bench-npm-"));
    for (const f of readdirSync(lib)) if (f.endsWith(".js")) copyFileSync(join(lib, f), join(dir, f));
    return { protocol: require(join(dir, "protocol.js")) as NpmProtocol, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch {
    return null;
  }
}

/** The ACKs as the Buffers the package's dgram socket would hand its parser. */
export const ACK_BUFFERS: Buffer[] = ACK_STREAM.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
export const ACK_BUFFER: Buffer = ACK_BUFFERS[0];

/**
 * The ACK as the package's `format` takes it. Its option types cannot say 119 (DNS names) or
 * 121 (routes), so those go in as what its parser reads them as (raw text, a list of
 * "addresses") built from our bytes: the option data on the wire is then the same as ours.
 */
export function npmFormatInput(): Record<string, unknown> {
  const opts: Record<number, unknown> = {};
  for (const [code, v] of TYPED_OPTIONS) {
    if (code === 119) opts[code] = latin1(encodeOption(119, v));
    else if (code === 121) {
      const b = encodeOption(121, v);
      const ips: string[] = [];
      for (let i = 0; i < b.length; i += 4) ips.push(`${b[i]}.${b[i + 1]}.${b[i + 2]}.${b[i + 3]}`);
      opts[code] = ips;
    } else opts[code] = v;
  }
  return {
    op: 2,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: XID,
    secs: 0,
    flags: 0,
    ciaddr: "0.0.0.0",
    yiaddr: YIADDR,
    siaddr: "192.168.10.1",
    giaddr: "0.0.0.0",
    chaddr: "52-54-00-12-00-00",
    sname: "",
    file: "",
    options: opts,
  };
}
