// A scripted hostile DHCP server for the lab. Run in a server namespace
// (`ip netns exec NS bun test/lab/hostile-server.ts --scenario NAME --marker-dir DIR`), it
// listens on srv0 through our own shim (a 'watch' RawSocket: it must hear the client's
// broadcasts to port 67) and answers each DISCOVER and REQUEST with the frames its scenario
// crafts: broken in the ways HOSTILE.md lists, usually followed by a good reply, so a test can
// show the client survives the junk and still binds to the good server. It prints one JSON
// line per client message heard and per reply sent (with what each command should make of
// it), and exits on SIGTERM.
//
// SCENARIOS is the table the lab tests run (test/lab/hostile.test.ts); each entry says which
// HOSTILE items it sends and what discover and request (one-shot; the resident client shares
// its engine) should end with. startHostileServer() is in ./hostile-helpers.ts.

import { writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { macToString } from "../../core/bytes.ts";
import { DHCP_SERVER_PORT, parseUdpFrame } from "../../core/frame.ts";
import { decodeMessage, getIp, messageType } from "../../core/message.ts";
import {
  both,
  bootp,
  concat,
  GOOD_IP,
  ipBytes,
  KERNEL,
  LATE,
  MASK,
  NOBODY_MAC,
  OFFERED,
  OFFSETS,
  OK,
  opt,
  replyFrame,
  replyPayload,
  rogue,
  set16,
  fixIpSum,
  fixUdpSum,
  split,
  u32Bytes,
  udpFrame,
  type FrameSpec,
  type Heard,
  type Persona,
  type Reply,
  type ReplySpec,
} from "./hostile-helpers.ts";

// ---------------------------------------------------------------- the table's types

export type RequestOutcome = "bound" | "nak" | "no-offer" | "no-ack" | "ipv6-only";

export interface Expect {
  /** Server ids (source IP without one) discover lists, in any order; [] means exit 3. */
  discover: string[];
  /** Fields of listed offers, by server id (matched as a subset). */
  offers?: Record<string, Record<string, unknown>>;
  request: {
    outcome: RequestOutcome;
    /** Fields of the lease when bound (matched as a subset); server and address are GOOD_IP/OFFERED unless given. */
    lease?: Record<string, unknown>;
    /** Other fields of request's JSON (matched as a subset). */
    result?: Record<string, unknown>;
    /** Bounds on its timing.totalMs: the retransmissions kept their pace. */
    totalMs?: [number, number];
  };
}

export interface Scenario {
  name: string;
  /** The HOSTILE.md items it sends. */
  items: number[];
  title: string;
  answer(x: Heard): Reply[];
  expect: Expect;
  /** Arguments replacing the test's defaults (timing, --prefer-ipv6). */
  args?: { discover?: string[]; request?: string[] };
  /** Only the JSON runs: text and env add nothing here (a flood would only make them slow). */
  jsonOnly?: boolean;
}

// ---------------------------------------------------------------- timing

/** The good reply follows the junk by this much, so it arrives last and every bit of junk is counted. */
const GAP_MS = 20;
/** Offers from other servers come after the good OFFER: request has chosen by then. */
const LATE_OFFER_MS = 40;
/** …and the good ACK waits for them, so request counts them (REQUESTING) before it is done. */
const SLOW_ACK_MS = 100;
/** Past every window the tests give (HOSTILE 30). */
const TOO_LATE_MS = 900;
const FLOOD = 2000;

// ---------------------------------------------------------------- building blocks

const OFFER = 2,
  ACK = 5,
  NAK = 6;
const answerType = (x: Heard) => (x.type === "DISCOVER" ? OFFER : ACK);
/** The REQUEST names the good server and the address it offered. */
const asksGood = (x: Heard) => x.type === "REQUEST" && x.serverId === GOOD_IP && x.requestedIp === OFFERED;

interface GoodOptions {
  spec?: ReplySpec;
  delayMs?: number;
  ackDelayMs?: number;
}

/**
 * The good server: an OFFER for every DISCOVER, an ACK for a REQUEST that chose it; `spec`
 * shapes both (quirks a client must live with). Each comes GAP_MS after the junk unless told.
 */
function good(x: Heard, g: GoodOptions = {}): Reply[] {
  if (x.type === "DISCOVER") {
    return [{ label: "the good server's OFFER", frame: replyFrame(x, OFFER, g.spec), delayMs: g.delayMs ?? GAP_MS, fates: both(OK) }];
  }
  if (!asksGood(x)) return [];
  return [{ label: "the good server's ACK", frame: replyFrame(x, ACK, g.spec), delayMs: g.ackDelayMs ?? g.delayMs ?? GAP_MS, fates: { request: OK } }];
}

/** An OFFER from another server after the good one: discover lists it, request has already chosen. */
function lateOffer(x: Heard, label: string, spec: ReplySpec, warnings: string[] = []): Reply[] {
  if (x.type !== "DISCOVER") return [];
  return [{ label, frame: replyFrame(x, OFFER, spec), delayMs: LATE_OFFER_MS, fates: { discover: OK, request: "offer-not-selecting", warnings } }];
}

/** The good reply to x, as a frame to break. */
function goodFrame(x: Heard, f: FrameSpec = {}): Uint8Array {
  return replyFrame(x, answerType(x), {}, f);
}

const junk = (label: string, frame: Uint8Array | Uint8Array[], fates: Reply["fates"]): Reply => ({ label, frame, fates });

/** The good reply with `extra` bytes inside the IP datagram after the UDP datagram, UDP checksum 0. */
function withTrailingBytes(x: Heard, extra: number): Uint8Array {
  const f = goodFrame(x);
  const out = new Uint8Array(f.length + extra).fill(0xee, f.length);
  out.set(f);
  set16(out, OFFSETS.IP + 2, f.length - OFFSETS.IP + extra);
  set16(out, OFFSETS.UDP + 6, 0);
  return fixIpSum(out);
}

/** Hostile strings; commands they would run touch files under markerDir. */
export function hostileNames(markerDir: string) {
  const m = (tag: string) => `${markerDir}/p-${tag}`;
  return {
    hostname: `host$(touch ${m("12")})\nsecond-line`,
    domain: `lab'; touch ${m("15")}; reboot #\x1b]0;owned\x07\x1b[2J\x00after-nul`,
    fqdn: "`touch " + m("81") + "`\x9b31m|x&",
    /** One label of option 119 (no dots: the whole thing is one label). */
    searchLabel: `$(touch ${m("119")})`,
    searchEvil: "x\x1b[2Jy",
    message: `\x1b[31mwelcome\x07 | touch ${m("56")} &`,
    tftp: `"; touch ${m("66")}; "`,
    bootfile: `|touch ${m("67")}&`,
    sname: `\x1b]2;t\x07$(touch ${m("sn")})`,
    file: "`touch " + m("file") + "`\n\r",
    nak: `\x1b[2J\x1b]0;owned\x07denied; $(touch ${m("nak")})\n\`reboot\``,
  };
}

/** The presentation form of the hostile 119 name ("." inside a label would be escaped; there is none). */
export function hostileSearch(markerDir: string): string {
  const n = hostileNames(markerDir);
  return `${n.searchLabel}.${n.searchEvil}.example`;
}

/** One DNS label: its length, then its bytes. */
const dnsLabel = (s: string) => Uint8Array.of(s.length, ...Array.from(s, (c) => c.charCodeAt(0)));

// ---------------------------------------------------------------- the scenarios

export const SCENARIOS: Scenario[] = [
  {
    name: "ip-header",
    items: [1, 2, 3, 4],
    title: "Ethernet and IPv4 headers: short frames, bad ihl, version, protocol, fragments, total length, header checksum",
    answer: (x) => {
      // biome-ignore lint/suspicious/noConfusingVoidType: an edit changes the frame in place (returning nothing) or returns a new one
      const f = (edit: (b: Uint8Array) => Uint8Array | void, spec: FrameSpec = {}) => {
        const b = goodFrame(x, spec);
        return edit(b) ?? b;
      };
      return [
        junk(
          "13 bytes, less than an Ethernet header",
          f((b) => b.slice(0, 13)),
          both(KERNEL),
        ),
        junk(
          "Ethernet + 19 bytes",
          f((b) => b.slice(0, 33)),
          both(KERNEL),
        ),
        junk(
          "ihl 15 in a 60-byte frame",
          f((b) => {
            const c = b.slice(0, 60);
            c[14] = 0x4f;
            return c;
          }),
          both(KERNEL),
        ),
        // to 198.18.0.68: with a 16-byte header the filter reads that address's low half as the port, 68
        junk(
          "ihl 4",
          f(
            (b) => {
              b[14] = 0x44;
              fixIpSum(b);
            },
            { dstIp: "198.18.0.68" },
          ),
          both("ip-header-bad"),
        ),
        junk(
          "ethertype IPv6",
          f((b) => {
            b[12] = 0x86;
            b[13] = 0xdd;
          }),
          both(KERNEL),
        ),
        junk(
          "IP version 6 under an IPv4 ethertype",
          f((b) => {
            b[14] = 0x65;
            fixIpSum(b);
          }),
          both("ip-version"),
        ),
        junk(
          "protocol 6 (TCP)",
          f((b) => {
            b[23] = 6;
            fixIpSum(b);
          }),
          both(KERNEL),
        ),
        junk(
          "more-fragments set",
          f((b) => {
            set16(b, 20, 0x2000);
            fixIpSum(b);
          }),
          both(KERNEL),
        ),
        junk(
          "fragment offset 8",
          f((b) => {
            set16(b, 20, 0x0001);
            fixIpSum(b);
          }),
          both(KERNEL),
        ),
        junk(
          "cut short: IP total length beyond the frame",
          f((b) => b.slice(0, 14 + 20 + 8 + 100)),
          both("ip-length"),
        ),
        junk(
          "IP total length 27",
          f((b) => {
            set16(b, 16, 27);
            fixIpSum(b);
          }),
          both("ip-length"),
        ),
        junk(
          "bad IPv4 header checksum",
          f((b) => {
            b[24] ^= 0xff;
          }),
          both("ip-checksum"),
        ),
        ...good(x),
      ];
    },
    expect: { discover: [GOOD_IP], request: { outcome: "bound" } },
  },
  {
    name: "udp-ethernet",
    items: [5, 6, 7],
    title: "UDP length, checksum and port; Ethernet destination; trailing bytes trimmed",
    answer: (x) => {
      const f = (edit: (b: Uint8Array) => void, spec: FrameSpec = {}) => {
        const b = goodFrame(x, spec);
        edit(b);
        return b;
      };
      const goodReply = {
        label: `the good server's ${x.type === "DISCOVER" ? "OFFER" : "ACK"}: 16 bytes after the UDP datagram, UDP checksum 0`,
        frame: withTrailingBytes(x, 16),
        delayMs: GAP_MS,
        fates: x.type === "DISCOVER" ? both(OK) : { request: OK },
      };
      return [
        junk(
          "UDP length 7",
          f((b) => set16(b, 38, 7)),
          both("udp-length"),
        ),
        junk(
          "UDP length beyond the IP payload",
          f((b) => set16(b, 38, b.length)),
          both("udp-length"),
        ),
        junk(
          "bad UDP checksum",
          f((b) => {
            b[40] ^= 0x5a;
          }),
          both("udp-checksum"),
        ),
        junk(
          "to UDP port 69",
          f((b) => {
            set16(b, 36, 69);
            fixUdpSum(b);
          }),
          both(KERNEL, { watch: "packet" }),
        ),
        junk(
          "to another host's MAC",
          f(() => {}, { dstMac: NOBODY_MAC }),
          both("not-for-us"),
        ),
        ...(x.type === "DISCOVER" || asksGood(x) ? [goodReply] : []),
      ];
    },
    expect: { discover: [GOOD_IP], request: { outcome: "bound" } },
  },
  {
    name: "bootp-header",
    items: [8, 9, 10, 11],
    title: "BOOTP header: short, op 1, htype/hlen, other xid, other chaddr, bad or missing cookie; sname/file without NUL",
    answer: (x) => {
      const t = answerType(x);
      const p = (spec: ReplySpec) => udpFrame(x, replyPayload(x, t, spec));
      return [
        junk("BOOTP of 200 bytes", udpFrame(x, replyPayload(x, t).slice(0, 200)), both("decode-short")),
        junk("op 1 (BOOTREQUEST)", p({ op: 1 }), both("not-reply")),
        junk("htype 6", p({ htype: 6 }), both("not-ethernet")),
        junk("hlen 16", p({ hlen: 16 }), both("not-ethernet")),
        junk("another xid", p({ xid: (x.xid + 1) >>> 0 }), both("wrong-xid")),
        junk("another client's chaddr", p({ chaddr: NOBODY_MAC }), both("wrong-chaddr")),
        // a client drops a message without the DHCP cookie; watch shows it as BOOTP (RFC 951)
        junk("wrong magic cookie", p({ cookie: 0x63825364 }), both("decode-cookie", { watch: "packet" })),
        junk("no magic cookie (236 bytes)", p({ cookie: null }), both("decode-short", { watch: "packet" })),
        ...good(x, { spec: { sname: "\x1b[2J" + "S".repeat(60), file: "F".repeat(128) } }).map((r) => ({
          ...r,
          label: r.label + ": sname and file without NUL",
          fates: { ...r.fates, warnings: x.type === "DISCOVER" ? ["sname-unterminated", "file-unterminated"] : [] },
        })),
      ];
    },
    expect: { discover: [GOOD_IP], offers: { [GOOD_IP]: { leaseTime: 3600 } }, request: { outcome: "bound" } },
  },
  {
    name: "option-framing",
    items: [12, 13],
    title: "Options: length past the end, code without a length byte; no END; data after END",
    answer: (x) => {
      const t = answerType(x);
      const head = [opt(53, [t]), opt(54, ipBytes(GOOD_IP))];
      return [
        junk(
          "option 15's length runs past the end",
          udpFrame(x, bootp(x, { options: [...head, Uint8Array.of(15, 255, 0x61, 0x62)], end: false, padTo: 0 })),
          both("decode-option-truncated"),
        ),
        junk(
          "an option code with no length byte ends the message",
          udpFrame(x, bootp(x, { options: [...head, Uint8Array.of(15)], end: false, padTo: 0 })),
          both("decode-option-truncated"),
        ),
        ...good(x, { spec: { end: false }, ackDelayMs: SLOW_ACK_MS }).map((r) => ({
          ...r,
          label: r.label + " without END",
          fates: { ...r.fates, warnings: ["no-end"] },
        })),
        ...lateOffer(
          x,
          "another server's OFFER with options after END",
          {
            from: rogue(0),
            options: [opt(53, [OFFER]), opt(54, ipBytes(rogue(0).ip)), opt(51, u32Bytes(600)), Uint8Array.of(255), opt(15, "after-end")],
            end: false,
          },
          ["data-after-end"],
        ),
      ];
    },
    expect: { discover: [GOOD_IP, rogue(0).ip], offers: { [rogue(0).ip]: { domain: null, leaseTime: 600 } }, request: { outcome: "bound" } },
  },
  {
    name: "message-type",
    items: [14],
    title: "Option 53 missing, of length 2, unknown; the wrong type for the exchange",
    answer: (x) => {
      const p = (type: number, spec: ReplySpec = {}) => replyFrame(x, type, spec);
      if (x.type === "DISCOVER") {
        return [
          junk("no option 53", p(OFFER, { set: [[53, null]] }), both("no-message-type")),
          junk("option 53 of length 2", p(OFFER, { set: [[53, [2, 2]]] }), both("no-message-type")),
          junk("option 53 = 99", p(OFFER, { set: [[53, [99]]] }), both("no-message-type")),
          junk("an ACK answering a DISCOVER", p(ACK), { discover: "not-offer", request: "ack-not-requested" }),
          junk("a NAK answering a DISCOVER", p(NAK), { discover: "not-offer", request: "nak-not-requested" }),
          ...good(x),
        ];
      }
      return [
        junk("no option 53", p(ACK, { set: [[53, null]] }), { request: "no-message-type" }),
        junk("an OFFER answering a REQUEST", p(OFFER), { request: "offer-not-selecting" }),
        junk("type 13 (LEASEACTIVE) answering a REQUEST", p(ACK, { set: [[53, [13]]] }), { request: "unexpected-type" }),
        ...good(x),
      ];
    },
    expect: { discover: [GOOD_IP], request: { outcome: "bound" } },
  },
  {
    name: "fixed-length",
    items: [15],
    title: "Fixed-length options (1, 51, 54, 58, 59, 108) of the wrong length: the field is ignored",
    answer: (x) => {
      const quirks: ReplySpec = {
        set: [
          [1, [255, 255, 255]],
          [58, [0, 1]],
          [59, [0, 0, 0, 0, 1]],
          [108, [0, 5]],
        ],
      };
      const r = [
        ...good(x, { spec: quirks, ackDelayMs: SLOW_ACK_MS }).map((g) => ({
          ...g,
          label: g.label + ": 1, 58, 59, 108 of the wrong length",
          fates: { ...g.fates, warnings: ["option-1-invalid", "option-58-invalid", "option-59-invalid", "option-108-invalid"] },
        })),
        ...lateOffer(x, "another server's OFFER with a 2-byte lease time", { from: rogue(1), set: [[51, [0x0e, 0x10]]] }, ["option-51-invalid"]),
      ];
      if (x.type === "DISCOVER") {
        return [
          junk("another server's OFFER with a 5-byte server id", replyFrame(x, OFFER, { from: rogue(0), set: [[54, [198, 18, 0, 66, 0]]] }), {
            discover: OK,
            request: "offer-no-server-id",
            warnings: ["option-54-invalid"],
          }),
          ...r,
        ];
      }
      return [junk("an ACK with a 3-byte lease time", replyFrame(x, ACK, { set: [[51, [0, 0x0e, 0x10]]] }), { request: "ack-no-lease" }), ...r];
    },
    expect: {
      discover: [rogue(0).ip, GOOD_IP, rogue(1).ip],
      offers: {
        [GOOD_IP]: { subnetMask: null, renewalTime: null, rebindingTime: null, ipv6OnlyPreferred: null, leaseTime: 3600 },
        [rogue(0).ip]: { serverId: null, sourceIp: rogue(0).ip },
        [rogue(1).ip]: { leaseTime: null },
      },
      request: { outcome: "bound", lease: { subnetMask: null, leaseTime: 3600, t1: 1800, t2: 3150 } },
    },
  },
  {
    name: "address-lists",
    items: [16],
    title: "Address lists (3, 6, 42, 44): length 0, not a multiple of 4, 0.0.0.0 inside, 64 entries",
    answer: (x) => {
      const many = concat(Array.from({ length: 64 }, (_, i) => ipBytes(`198.18.0.${i + 2}`)));
      const quirks: ReplySpec = {
        set: [
          [3, [198, 18, 0, 1, 0, 0]],
          [6, concat([ipBytes(GOOD_IP), ipBytes("0.0.0.0")])],
          [42, many],
          [44, []],
        ],
      };
      return good(x, { spec: quirks }).map((g) => ({
        ...g,
        label: g.label + ": bad 3, 6, 42, 44",
        fates: { ...g.fates, warnings: ["option-3-invalid", "option-6-invalid", "option-42-invalid", "option-44-invalid"] },
      }));
    },
    expect: {
      discover: [GOOD_IP],
      offers: { [GOOD_IP]: { routers: [], dns: [] } },
      request: { outcome: "bound", lease: { routers: [], dns: [], routes: [] } },
    },
  },
  {
    name: "classless-routes",
    items: [17],
    title: "Option 121: prefix 33, missing router bytes, bits beyond the prefix; 121 beside 3 wins",
    answer: (x) => {
      const routes = concat([Uint8Array.of(8, 10), ipBytes(GOOD_IP), Uint8Array.of(0), ipBytes("198.18.0.2")]);
      const bad = (n: number, what: string, value: number[]) =>
        lateOffer(x, `another server's OFFER: 121 ${what}`, { from: rogue(n), set: [[121, value]] }, ["option-121-invalid"]);
      return [
        ...good(x, { spec: { set: [[121, routes]] }, ackDelayMs: SLOW_ACK_MS }),
        ...bad(0, "prefix 33", [33, 10, 0, 0, 0, 198, 18, 0, 1]),
        ...bad(1, "without its router's last bytes", [24, 10, 0, 0, 198, 18]),
        ...bad(2, "with bits set beyond /12", [12, 10, 0x1f, 198, 18, 0, 1]),
      ];
    },
    expect: {
      discover: [GOOD_IP, rogue(0).ip, rogue(1).ip, rogue(2).ip],
      offers: {
        [GOOD_IP]: {
          routers: [GOOD_IP],
          classlessRoutes: [
            { destination: "10.0.0.0", prefix: 8, router: GOOD_IP },
            { destination: "0.0.0.0", prefix: 0, router: "198.18.0.2" },
          ],
        },
        [rogue(0).ip]: { classlessRoutes: [] },
      },
      request: {
        outcome: "bound",
        lease: {
          routers: [GOOD_IP],
          routes: [
            { destination: "10.0.0.0", prefix: 8, router: GOOD_IP },
            { destination: "0.0.0.0", prefix: 0, router: "198.18.0.2" },
          ],
        },
      },
    },
  },
  {
    name: "domain-search",
    items: [18],
    title: "Option 119: pointer loop, forward and truncated pointers, label 64, name over 255, an expansion bomb",
    answer: (x) => {
      // RFC 3397's example, compressed, split over two instances
      const search = concat([dnsLabel("eng"), dnsLabel("apple"), dnsLabel("com"), Uint8Array.of(0), dnsLabel("marketing"), Uint8Array.of(0xc0, 4)]);
      const bad = (n: number, what: string, value: Uint8Array) =>
        lateOffer(x, `another server's OFFER: 119 ${what}`, { from: rogue(n), set: [[119, value]] }, ["option-119-invalid"]);
      const longName = concat([...Array.from({ length: 5 }, () => dnsLabel("n".repeat(60))), Uint8Array.of(0)]);
      const bomb = concat([dnsLabel("b".repeat(63)), Uint8Array.of(0), ...Array.from({ length: 150 }, () => Uint8Array.of(0xc0, 0))]);
      return [
        ...good(x, { spec: { raw: [opt(119, search.subarray(0, 10)), opt(119, search.subarray(10))] }, ackDelayMs: SLOW_ACK_MS }),
        ...bad(0, "a pointer to itself", Uint8Array.of(0xc0, 0)),
        ...bad(1, "a forward pointer", concat([dnsLabel("abc"), Uint8Array.of(0xc0, 8, 0, 0), dnsLabel("xyz"), Uint8Array.of(0)])),
        ...bad(2, "a truncated pointer", concat([dnsLabel("abc"), Uint8Array.of(0xc0)])),
        ...bad(3, "a 64-byte label", concat([dnsLabel("l".repeat(64)), Uint8Array.of(0)])),
        ...bad(4, "a 306-byte name", longName),
        ...bad(5, "150 pointers to a 63-byte label", bomb),
      ];
    },
    expect: {
      discover: [GOOD_IP, ...[0, 1, 2, 3, 4, 5].map((n) => rogue(n).ip)],
      offers: { [GOOD_IP]: { search: ["eng.apple.com", "marketing.apple.com"] }, [rogue(5).ip]: { search: [] } },
      request: { outcome: "bound", lease: { search: ["eng.apple.com", "marketing.apple.com"] } },
    },
  },
  {
    name: "overload",
    items: [19],
    title: "Option 52: options in sname and file; a second overload inside them; value 7; an option running past file",
    answer: (x) => {
      const t = answerType(x);
      const area = (...o: Uint8Array[]) => concat([...o, Uint8Array.of(255)]);
      const overloaded = bootp(x, {
        yiaddr: OFFERED,
        options: [opt(53, [t]), opt(54, ipBytes(GOOD_IP)), opt(52, [3])],
        file: area(opt(51, u32Bytes(3600)), opt(1, ipBytes(MASK)), opt(3, ipBytes(GOOD_IP))),
        sname: area(opt(6, ipBytes(GOOD_IP)), opt(15, "lab.example")),
      });
      const from = (n: number) => ({ from: rogue(n), yiaddr: OFFERED });
      const r: Reply[] = [];
      if (x.type === "DISCOVER" || asksGood(x)) {
        r.push({
          label: `the good server's ${t === OFFER ? "OFFER" : "ACK"}, options in file and sname`,
          frame: udpFrame(x, overloaded),
          delayMs: t === OFFER ? GAP_MS : SLOW_ACK_MS,
          fates: t === OFFER ? both(OK) : { request: OK },
        });
      }
      if (x.type !== "DISCOVER") return r;
      const second = bootp(x, {
        ...from(0),
        options: [opt(53, [OFFER]), opt(52, [1])],
        file: area(opt(54, ipBytes(rogue(0).ip)), opt(51, u32Bytes(600)), opt(52, [2])),
        sname: area(opt(15, "followed-a-second-overload")),
      });
      const seven = bootp(x, { ...from(1), options: [opt(53, [OFFER]), opt(54, ipBytes(rogue(1).ip)), opt(52, [7])], sname: "plain\0" });
      const pastFile = bootp(x, {
        ...from(2),
        options: [opt(53, [OFFER]), opt(52, [1])],
        file: concat([opt(54, ipBytes(rogue(2).ip)), Uint8Array.of(15, 200, 0x61)]),
      });
      r.push(
        {
          label: "another server: 52 = 1, and 52 = 2 inside file",
          frame: udpFrame(x, second, from(0)),
          delayMs: LATE_OFFER_MS,
          fates: { discover: OK, request: "offer-not-selecting" },
        },
        {
          label: "another server: 52 = 7",
          frame: udpFrame(x, seven, from(1)),
          delayMs: LATE_OFFER_MS,
          fates: { discover: OK, request: "offer-not-selecting", warnings: ["overload-invalid", "option-52-invalid"] },
        },
        {
          label: "another server: an option in file runs past it",
          frame: udpFrame(x, pastFile, from(2)),
          delayMs: LATE_OFFER_MS,
          fates: both("decode-option-truncated"),
        },
      );
      return r;
    },
    expect: {
      discover: [GOOD_IP, rogue(0).ip, rogue(1).ip],
      offers: {
        [GOOD_IP]: { leaseTime: 3600, subnetMask: MASK, routers: [GOOD_IP], dns: [GOOD_IP], domain: "lab.example" },
        [rogue(0).ip]: { leaseTime: 600, domain: null },
      },
      request: { outcome: "bound", lease: { subnetMask: MASK, routers: [GOOD_IP], dns: [GOOD_IP], domain: "lab.example", leaseTime: 3600 } },
    },
  },
  {
    name: "repeated-options",
    items: [20],
    title: "Repeated options are joined before decoding (RFC 3396): 6, 15, 51 in pieces; 53 twice is no type; over 16 KiB is refused",
    answer: (x) => {
      const t = answerType(x);
      const pieces = [
        opt(53, [t]),
        opt(54, ipBytes(GOOD_IP)),
        opt(51, [0, 0]),
        opt(51, [0x0e, 0x10]),
        opt(1, ipBytes(MASK)),
        opt(6, ipBytes(GOOD_IP)),
        opt(6, ipBytes("198.18.0.2")),
        opt(15, "lab"),
        opt(15, ".example"),
      ];
      // 66 instances of 43: 16,830 bytes, over the 16 KiB one option may total (a jumbo frame)
      const huge = replyPayload(x, t, { raw: split(43, new Uint8Array(66 * 255).fill(0x2b)) });
      return [
        junk("option 53 twice", udpFrame(x, replyPayload(x, t, { options: [opt(53, [t]), ...pieces] })), both("no-message-type")),
        junk("option 43 in 66 pieces, over 16 KiB joined", udpFrame(x, huge), both("decode-option-too-long")),
        ...good(x, { spec: { options: pieces } }),
      ];
    },
    expect: {
      discover: [GOOD_IP],
      offers: { [GOOD_IP]: { leaseTime: 3600, dns: [GOOD_IP, "198.18.0.2"], domain: "lab.example" } },
      request: { outcome: "bound", lease: { leaseTime: 3600, dns: [GOOD_IP, "198.18.0.2"], domain: "lab.example" } },
    },
  },
  {
    name: "client-id-relay",
    items: [21],
    title: "Option 61 of a length its type does not fit; option 82 sub-options running past it",
    answer: (x) => [
      ...good(x, {
        spec: {
          set: [
            [61, [1]],
            [82, [1, 10, 0x61, 0x62]],
          ],
        },
        ackDelayMs: SLOW_ACK_MS,
      }).map((g) => ({
        ...g,
        fates: { ...g.fates, warnings: ["option-61-invalid", "option-82-invalid"] },
      })),
      ...lateOffer(x, "another server's OFFER: 61 type 1 with 2 bytes", { from: rogue(0), set: [[61, [1, 0xaa, 0xbb]]] }, ["option-61-invalid"]),
    ],
    expect: { discover: [GOOD_IP, rogue(0).ip], request: { outcome: "bound" } },
  },
  {
    name: "hostile-names",
    items: [22],
    title: "Names (12, 15, 81, 119, 56, 66, 67, sname, file) with NUL, newlines, escape sequences, $(…), backticks, quotes",
    answer: (x) => {
      const n = hostileNames(x.markerDir);
      const search = concat([dnsLabel(n.searchLabel), dnsLabel(n.searchEvil), dnsLabel("example"), Uint8Array.of(0)]);
      return good(x, {
        spec: {
          set: [
            [12, n.hostname],
            [15, n.domain],
            [81, [0, 0, 0, ...Array.from(n.fqdn, (c) => c.charCodeAt(0))]],
            [119, search],
            [56, n.message],
            [66, n.tftp],
            [67, n.bootfile],
          ],
          sname: n.sname + "\0",
          file: n.file + "\0",
        },
      });
    },
    expect: { discover: [GOOD_IP], request: { outcome: "bound" } }, // the strings are checked by the test
  },
  {
    name: "nak-message",
    items: [22],
    title: "A NAK from the chosen server whose message (56) carries escape sequences and shell syntax",
    answer: (x) => {
      if (x.type === "DISCOVER") return good(x);
      return [{ label: "NAK with a hostile message", frame: replyFrame(x, NAK, { set: [[56, hostileNames(x.markerDir).nak]] }), fates: { request: OK } }];
    },
    expect: { discover: [GOOD_IP], request: { outcome: "nak", result: { nak: { server: GOOD_IP } } } },
  },
  {
    name: "wrong-ack-nak",
    items: [26, 27],
    title: "An ACK from another server, an ACK for another address, a NAK from another server: ignored",
    answer: (x) =>
      x.type === "DISCOVER"
        ? good(x)
        : [
            junk("an ACK from another server", replyFrame(x, ACK, { from: rogue(0) }), { request: "ack-other-server" }),
            junk("an ACK for another address", replyFrame(x, ACK, { yiaddr: "198.18.0.124" }), { request: "ack-wrong-address" }),
            junk("a NAK from another server", replyFrame(x, NAK, { from: rogue(0) }), { request: "nak-other-server" }),
            ...good(x),
          ],
    expect: { discover: [GOOD_IP], request: { outcome: "bound" } },
  },
  {
    name: "lease-infinite",
    items: [23],
    title: "Lease time 0 and none refused; 0xffffffff is an infinite lease that is never renewed",
    answer: (x) => {
      const infinite: ReplySpec = {
        set: [
          [51, u32Bytes(0xffffffff)],
          [58, u32Bytes(10)],
          [59, u32Bytes(5)],
        ],
      };
      if (x.type === "DISCOVER") return good(x, { spec: infinite });
      return [
        junk("an ACK with lease time 0", replyFrame(x, ACK, { set: [[51, u32Bytes(0)]] }), { request: "ack-no-lease" }),
        junk("an ACK without a lease time", replyFrame(x, ACK, { set: [[51, null]] }), { request: "ack-no-lease" }),
        ...good(x, { spec: infinite }),
      ];
    },
    expect: {
      discover: [GOOD_IP],
      offers: { [GOOD_IP]: { leaseTime: 0xffffffff } },
      request: { outcome: "bound", lease: { infinite: true, leaseTime: 0xffffffff, expiresAt: null, renewAt: null, rebindAt: null } },
    },
  },
  {
    name: "bad-server-ids",
    items: [26],
    title: "Issue 11 finding 12: ACKs whose server id cannot be a server's (0.0.0.0, broadcast, multicast, loopback, the offered address itself)",
    answer: (x) => {
      if (x.type === "DISCOVER") return good(x);
      const id = (ip: string) => replyFrame(x, ACK, { set: [[54, ipBytes(ip)]] });
      return [
        ...["0.0.0.0", "255.255.255.255", "224.0.0.1", "127.0.0.1", OFFERED].map((ip) =>
          junk(`an ACK with server id ${ip}`, id(ip), { request: "bad-server-id" }),
        ),
        ...good(x),
      ];
    },
    expect: { discover: [GOOD_IP], request: { outcome: "bound" } },
  },
  {
    name: "timers",
    items: [23],
    title: "T1 >= T2 >= lease: both reset to lease/2 and lease*7/8",
    answer: (x) =>
      good(x, {
        spec: {
          set: [
            [51, u32Bytes(600)],
            [58, u32Bytes(700)],
            [59, u32Bytes(650)],
          ],
        },
      }),
    expect: { discover: [GOOD_IP], request: { outcome: "bound", lease: { leaseTime: 600, t1: 300, t2: 525 } } },
  },
  {
    name: "ipv6-only",
    items: [23],
    title: "Option 108 of 1 s (asked for with --prefer-ipv6): waits the 300 s floor",
    answer: (x) => good(x, { spec: { set: [[108, u32Bytes(1)]] } }),
    args: { request: ["--prefer-ipv6"] },
    expect: {
      discover: [GOOD_IP],
      offers: { [GOOD_IP]: { ipv6OnlyPreferred: 1 } },
      request: { outcome: "ipv6-only", result: { ipv6Only: { server: GOOD_IP, waitSec: 300 }, requestsSent: 0 } },
    },
  },
  {
    name: "bad-addresses",
    items: [24, 25],
    title: "yiaddr 0.0.0.0 (with and without a server id), broadcast, multicast, loopback, the subnet's edges; a mask with holes",
    answer: (x) => {
      const quirks: ReplySpec = { set: [[1, ipBytes("255.0.255.0")]] };
      const offer = (yiaddr: string, set: ReplySpec["set"] = []) => replyFrame(x, OFFER, { from: rogue(0), yiaddr, set });
      if (x.type === "DISCOVER") {
        return [
          junk("OFFER of 0.0.0.0 without a server id", offer("0.0.0.0", [[54, null]]), both("offer-no-address")),
          ...["0.0.0.0", "255.255.255.255", "224.0.0.1", "127.0.0.1", "127.9.9.9", "198.18.0.255", "198.18.0.0"].map((a) =>
            junk(`OFFER of ${a}`, offer(a), both("offer-bad-address")),
          ),
          ...good(x, { spec: quirks }).map((g) => ({ ...g, label: g.label + " with mask 255.0.255.0", fates: { ...g.fates, warnings: ["option-1-invalid"] } })),
        ];
      }
      return [
        junk("an ACK for 127.0.0.1", replyFrame(x, ACK, { yiaddr: "127.0.0.1" }), { request: "ack-wrong-address" }),
        junk("an ACK for 255.255.255.255", replyFrame(x, ACK, { yiaddr: "255.255.255.255" }), { request: "ack-wrong-address" }),
        ...good(x, { spec: quirks }),
      ];
    },
    expect: { discover: [GOOD_IP], offers: { [GOOD_IP]: { subnetMask: null } }, request: { outcome: "bound", lease: { subnetMask: null } } },
  },
  {
    name: "xid-flood",
    items: [28],
    title: `A flood of ${FLOOD} valid-looking replies for other xids before the good one`,
    answer: (x) => {
      const flood = Array.from({ length: FLOOD }, (_, i) => replyFrame(x, answerType(x), { from: rogue(0), xid: (x.xid + 1 + i) >>> 0 }));
      return [junk("replies for other xids", flood, both("wrong-xid", { lossy: true })), ...good(x, { delayMs: 300 })];
    },
    jsonOnly: true,
    expect: { discover: [GOOD_IP], request: { outcome: "bound" } },
  },
  {
    name: "offer-every-request",
    items: [29],
    title: "A server that answers every REQUEST with a new OFFER: no livelock, the retransmissions keep their pace",
    answer: (x) =>
      x.type === "DISCOVER"
        ? good(x)
        : [junk("a new OFFER for the REQUEST", replyFrame(x, OFFER, { yiaddr: `198.18.0.${130 + (x.nth % 100)}` }), { request: "offer-not-selecting" })],
    args: { request: ["--timeout", "0.25", "--tries", "3"] },
    // three REQUESTs 0.25 s apart, then the last wait: an OFFER neither restarts nor hurries the exchange
    expect: { discover: [GOOD_IP], request: { outcome: "no-ack", result: { discoversSent: 1, requestsSent: 3 }, totalMs: [740, 1500] } },
  },
  {
    name: "late-replies",
    items: [30],
    title: "Replies that arrive after the window: exit 3, nothing taken",
    answer: (x) => good(x, { delayMs: TOO_LATE_MS }).map((r) => ({ ...r, fates: both(LATE) })),
    args: { discover: ["--wait", "0.5"], request: ["--timeout", "0.25", "--tries", "2"] },
    expect: { discover: [], request: { outcome: "no-offer", result: { discoversSent: 2, requestsSent: 0 }, totalMs: [490, 1500] } },
  },
];

// ---------------------------------------------------------------- the server process

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: { scenario: { type: "string" }, iface: { type: "string", default: "srv0" }, "marker-dir": { type: "string", default: "/nonexistent" } },
  });
  const scenario = SCENARIOS.find((s) => s.name === values.scenario);
  if (!scenario) {
    console.error(`unknown scenario ${JSON.stringify(values.scenario)}: ${SCENARIOS.map((s) => s.name).join(", ")}`);
    process.exit(2);
  }
  const t0 = performance.now();
  const at = () => Math.round((performance.now() - t0) * 10) / 10;
  const out = (line: object) => writeSync(1, JSON.stringify(line) + "\n");
  const hex = (xid: number) => "0x" + xid.toString(16).padStart(8, "0");
  const seen = new Map<string, number>();
  // imported here so that importing the table (the tests do) does not load the shim
  const { RawSocket } = await import("../../native/rawsocket.ts");
  let self!: Persona;

  const send = (r: Reply, x: Heard, client: string) => {
    const frames = Array.isArray(r.frame) ? r.frame : [r.frame];
    let sent = 0,
      error: string | undefined;
    for (const f of frames) {
      try {
        socket.send(f);
        sent++;
      } catch (err) {
        error = (err as Error).message;
      }
    }
    out({
      event: sent ? "sent" : "send-failed",
      label: r.label,
      answering: x.type,
      client,
      xid: hex(x.xid),
      nth: x.nth,
      count: sent,
      bytes: frames[0]?.length ?? 0,
      fates: r.fates,
      atMs: at(),
      ...(error ? { error } : {}),
    });
  };

  const socket = RawSocket.open(values.iface!, {
    filter: "watch",
    onFrame(frame) {
      if (frame.outgoing) return;
      const f = parseUdpFrame(frame.bytes, { csum: frame.csum, dstPort: DHCP_SERVER_PORT });
      if (!f.ok) return;
      const d = decodeMessage(f.frame.payload);
      if (!d.ok || d.message.op !== 1) return;
      const m = d.message,
        type = messageType(m);
      if (type !== 1 && type !== 3) return;
      const client = macToString(m.chaddr);
      const key = `${type}/${m.xid}/${client}`;
      const nth = (seen.get(key) ?? 0) + 1;
      seen.set(key, nth);
      const x: Heard = {
        type: type === 1 ? "DISCOVER" : "REQUEST",
        xid: m.xid,
        mac: m.chaddr.slice(0, 6),
        requestedIp: getIp(m, 50),
        serverId: getIp(m, 54),
        nth,
        self,
        markerDir: values["marker-dir"]!,
      };
      out({ event: "heard", type: x.type, client, xid: hex(x.xid), nth, atMs: at() });
      for (const r of scenario.answer(x)) {
        out({ event: "scheduled", label: r.label, delayMs: r.delayMs ?? 0 });
        if (r.delayMs) setTimeout(() => send(r, x, client), r.delayMs);
        else send(r, x, client);
      }
    },
    // a scenario that throws is a broken test: say so on stderr (the helper fails the test)
    onError(err) {
      console.error(`hostile-server: ${(err as Error)?.stack ?? String(err)}`);
    },
  });
  self = { ip: GOOD_IP, mac: socket.info.mac };
  const keepAlive = setInterval(() => {}, 1 << 30); // the receive thread does not hold the event loop
  const stop = () => {
    clearInterval(keepAlive);
    socket.close();
    out({ event: "stopped", atMs: at() });
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  out({ event: "ready", scenario: scenario.name, iface: values.iface, mac: macToString(self.mac), atMs: at() });
}

if (import.meta.main) await main();
