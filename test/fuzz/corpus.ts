// The valid inputs structured mutation starts from: real captures (test/fixtures) and what
// our own encoder builds (OFFERs plain, overloaded and with every structured option, client
// DISCOVER/REQUEST, a NAK, an ACK full of hostile names). Built once per process.

import { readFileSync } from "node:fs";
import { buildClientMessage } from "../../core/client.ts";
import { buildUdpFrame } from "../../core/frame.ts";
import { parseHexText } from "../../core/inspect.ts";
import { encodeMessage, type OptionBytes } from "../../core/message.ts";
import { decodePcap } from "../../core/pcap.ts";
import { CLIENT_MAC, OFFER_OPTIONS, SERVER_MAC, XID, ip4, offerFrame, offerPayload, u32 } from "../unit/helpers.ts";

const FIXTURES = `${import.meta.dir}/../fixtures`;
const ETH_IP_UDP = 14 + 20 + 8;
const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 255);

/** 119 with a compression pointer back into the first name (RFC 3397's own example). */
export const SEARCH_119 = Uint8Array.from([
  3, 101, 110, 103, 5, 97, 112, 112, 108, 101, 3, 99, 111, 109, 0, 9, 109, 97, 114, 107, 101, 116, 105, 110, 103, 0xc0, 4,
]);
export const ROUTES_121 = Uint8Array.of(0, 198, 18, 0, 1, 8, 10, 198, 18, 0, 254, 25, 10, 229, 0, 128, 198, 18, 0, 253);
/** Names that would move a terminal's cursor, run a command, or look like a second line. */
export const HOSTILE_TEXTS = [
  "\x1b[2J\x1b[H",
  "\x1b]0;pwned\x07",
  "\x9b31m",
  "$(reboot)",
  "`id`",
  "a;b&c|d",
  "'\"",
  "line\nnext",
  "tab\there",
  "nul\0inside",
  "\x7f\x80\x9f\xa0\xff",
  "\u00e9t\u00e9",
  "\r\n",
  "host\x00",
  "..",
  "\\",
  "a.b\\c",
];

function pcapFrames(): Uint8Array[] {
  try {
    // readFileSync gives a Node Buffer, whose slice() is a view: copy into plain Uint8Arrays,
    // or the mutators (which copy with slice()) would write into the corpus
    const r = decodePcap(new Uint8Array(readFileSync(`${FIXTURES}/dora-two-servers.pcap`)));
    return r.ok ? r.packets.map((p) => new Uint8Array(p.data)) : [];
  } catch {
    return [];
  }
}

function hexFixtureFrame(): Uint8Array[] {
  try {
    const b = parseHexText(readFileSync(`${FIXTURES}/dnsmasq-offer.hex`, "latin1"));
    return b ? [b] : [];
  } catch {
    return [];
  }
}

function serverFrame(payload: Uint8Array, dstMac = CLIENT_MAC): Uint8Array {
  return buildUdpFrame({ srcMac: SERVER_MAC, dstMac, srcIp: "198.18.0.1", dstIp: "198.18.0.100", srcPort: 67, dstPort: 68, payload, ttl: 64 });
}

function clientFrame(payload: Uint8Array): Uint8Array {
  return buildUdpFrame({
    srcMac: CLIENT_MAC,
    dstMac: new Uint8Array(6).fill(255),
    srcIp: "0.0.0.0",
    dstIp: "255.255.255.255",
    srcPort: 68,
    dstPort: 67,
    payload,
  });
}

function encoderMessages(): Uint8Array[] {
  const identity = { mac: CLIENT_MAC, hostname: "lab" };
  const structured: OptionBytes[] = [
    ...OFFER_OPTIONS,
    { code: 119, data: SEARCH_119 },
    { code: 121, data: ROUTES_121 },
    { code: 81, data: Uint8Array.of(5, 0, 0, 4, 104, 111, 115, 116, 0) },
    { code: 82, data: Uint8Array.of(1, 4, 101, 116, 104, 48, 2, 2, 10, 11) },
    { code: 61, data: Uint8Array.of(1, 2, 0, 0, 0, 0, 1) },
    { code: 77, data: Uint8Array.of(3, 97, 98, 99, 2, 0, 1) },
    { code: 120, data: Uint8Array.of(1, 198, 18, 0, 1) },
    { code: 124, data: Uint8Array.of(0, 0, 0x0d, 0xe9, 3, 1, 2, 3) },
    { code: 108, data: u32(1800) },
    { code: 43, data: new Uint8Array(600).fill(0x41) },
  ];
  const hostile: OptionBytes[] = [
    { code: 53, data: Uint8Array.of(5) },
    { code: 54, data: ip4("198.18.0.1") },
    { code: 51, data: u32(1) },
    { code: 12, data: text(HOSTILE_TEXTS.join("")) },
    { code: 15, data: text("\x1b[31mred\x1b[0m.example") },
    { code: 56, data: text("go away\n$(rm -rf /)") },
    { code: 81, data: Uint8Array.of(0, 0, 0, ...text("\x9b2J;`id`")) },
    { code: 119, data: Uint8Array.of(63, ...new Uint8Array(63).fill(0x1b), 0xc0, 0) },
  ];
  return [
    offerPayload(),
    encodeMessage({
      op: 2,
      xid: XID,
      chaddr: CLIENT_MAC,
      yiaddr: "198.18.0.100",
      maxLength: 576,
      options: [...OFFER_OPTIONS, ...Array.from({ length: 30 }, (_, i) => ({ code: 224 + i, data: new Uint8Array(10).fill(i) }))],
    }),
    offerPayload({ options: structured }),
    encodeMessage({ op: 2, xid: XID, chaddr: CLIENT_MAC, options: structured.filter((o) => o.code !== 43), maxLength: 576 }),
    offerPayload({
      options: [
        { code: 53, data: Uint8Array.of(6) },
        { code: 54, data: ip4("198.18.0.1") },
        { code: 56, data: text("wrong network") },
      ],
      yiaddr: "0.0.0.0",
    }),
    offerPayload({ options: hostile }),
    buildClientMessage(identity, { messageType: 1, xid: XID }),
    buildClientMessage(identity, { messageType: 3, xid: XID, requestedIp: "198.18.0.100", serverId: "198.18.0.1" }),
    buildClientMessage({ ...identity, preferIpv6: true, clientId: Uint8Array.of(255, 1, 2, 3, 4) }, { messageType: 3, xid: XID, ciaddr: "198.18.0.100" }),
  ];
}

export interface Corpus {
  /** Bare DHCP messages (BOOTP header on). */
  messages: Uint8Array[];
  /** Whole Ethernet frames. */
  frames: Uint8Array[];
}

let corpus: Corpus | null = null;

export function getCorpus(): Corpus {
  if (corpus) return corpus;
  const captured = [...hexFixtureFrame(), ...pcapFrames()];
  const built = encoderMessages();
  const frames = [
    ...captured,
    ...built.map((m, i) => (i >= 6 ? clientFrame(m) : serverFrame(m, i % 2 ? new Uint8Array(6).fill(255) : CLIENT_MAC))),
    offerFrame(),
  ];
  const messages = [...captured.filter((f) => f.length > ETH_IP_UDP).map((f) => f.slice(ETH_IP_UDP)), ...built];
  corpus = { messages, frames };
  return corpus;
}
