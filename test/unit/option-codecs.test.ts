// Table-driven vectors for every codec kind in core/option-codecs.ts: wire bytes → value
// (each value then goes through the shared round trip), wire bytes that must be refused (with
// the reason, and the offset where one is meaningful), and user text for parse() both ways.

import { describe, expect, test } from "bun:test";
import { fromHex, toHex } from "../../core/bytes.ts";
import * as codecs from "../../core/option-codecs.ts";
import type { Codec } from "../../core/option-codecs.ts";
import { roundTrip } from "./roundtrip.ts";

// ---- building wire bytes readably ----

/** Hex of an ASCII/Latin-1 string. */
const a = (s: string) => toHex(Uint8Array.from(s, (c) => c.charCodeAt(0)));
/** A label: length byte and text. */
const label = (s: string) => (s.length < 16 ? "0" : "") + s.length.toString(16) + a(s);
/** A name in wire format, uncompressed, with its root label. */
const name = (dotted: string) => dotted.split(".").map(label).join("") + "00";
const rep = (hex: string, n: number) => hex.repeat(n);
const bytes = (hex: string) => {
  const b = fromHex(hex);
  if (!b) throw new Error(`bad hex in a test vector: ${hex}`);
  return b;
};
const L63 = "x".repeat(63);

// ---- the table shape ----

interface Table<T> {
  /** The export this table covers (a codec, or a factory such as ipList). */
  kind: string;
  title: string;
  codec: Codec<T>;
  /** [wire hex, value] or [wire hex, value, re-encoded hex] when the input is not canonical. */
  decode: ([string, T] | [string, T, string])[];
  /** [wire hex, reason, offset?]: decode must refuse with this reason (and offset). */
  decodeErrors: [string, RegExp, number?][];
  parse: [string, T][];
  parseErrors: [string, RegExp][];
}

const table = <T>(t: Table<T>): Table<T> => t;
/** A row's title: short enough to read in the runner's output. */
const shown = (s: string) => (s === "" ? "(empty)" : s.length > 48 ? `${s.slice(0, 48)}… (${s.length} chars)` : s);

const RFC3442_ROUTER = "c0a80001"; // 192.168.0.1
const route = (destination: string, prefix: number, router = "192.168.0.1") => ({ destination, prefix, router });

const TABLES: Table<any>[] = [
  table({
    kind: "u8",
    title: "u8",
    codec: codecs.u8,
    decode: [
      ["00", 0],
      ["40", 64],
      ["ff", 255],
    ],
    decodeErrors: [
      ["", /length 0, u8 needs 1/],
      ["0102", /length 2/],
    ],
    parse: [
      ["0", 0],
      ["255", 255],
      ["0xff", 255],
      [" 7 ", 7],
    ],
    parseErrors: [
      ["256", /0 to 255/],
      ["-1", /whole number/],
      ["abc", /whole number/],
      ["", /whole number/],
      ["1.5", /whole number/],
    ],
  }),
  table({
    kind: "u16",
    title: "u16",
    codec: codecs.u16,
    decode: [
      ["0000", 0],
      ["05dc", 1500],
      ["ffff", 65535],
    ],
    decodeErrors: [
      ["05", /length 1, u16 needs 2/],
      ["000000", /length 3/],
      ["", /length 0/],
    ],
    parse: [
      ["1500", 1500],
      ["0xFFFF", 65535],
    ],
    parseErrors: [
      ["65536", /0 to 65535/],
      ["15OO", /whole number/],
    ],
  }),
  table({
    kind: "u32",
    title: "u32",
    codec: codecs.u32,
    decode: [
      ["00000e10", 3600],
      ["ffffffff", 0xffffffff],
      ["80000000", 0x80000000],
    ],
    decodeErrors: [
      ["000e10", /length 3, u32 needs 4/],
      ["0000000e10", /length 5/],
    ],
    parse: [
      ["4294967295", 0xffffffff],
      ["0", 0],
    ],
    parseErrors: [
      ["4294967296", /0 to 4294967295/],
      ["1e3", /whole number/],
    ],
  }),
  table({
    kind: "seconds",
    title: "seconds (lease, T1, T2, 108)",
    codec: codecs.seconds,
    decode: [
      ["00000e10", 3600],
      ["ffffffff", 0xffffffff],
      ["00000000", 0],
      ["00000001", 1],
    ],
    decodeErrors: [
      ["000e10", /length 3/],
      ["", /length 0/],
    ],
    parse: [
      ["3600", 3600],
      ["10s", 10],
      ["90m", 5400],
      ["12h", 43200],
      ["7d", 604800],
      ["2w", 1209600],
      ["12H", 43200],
      ["infinite", 0xffffffff],
      ["FOREVER", 0xffffffff],
      ["4294967295", 0xffffffff],
    ],
    parseErrors: [
      ["1.5h", /not a duration/],
      ["12x", /not a duration/],
      ["", /not a duration/],
      ["-5", /not a duration/],
      ["4294967296", /beyond 2\^32 - 1/],
      ["49711d", /beyond/],
    ],
  }),
  table({
    kind: "i32",
    title: "i32 (time offset)",
    codec: codecs.i32,
    decode: [
      ["ffffb9b0", -18000],
      ["00000e10", 3600],
      ["7fffffff", 0x7fffffff],
      ["80000000", -0x80000000],
    ],
    decodeErrors: [
      ["ffff", /length 2, a signed 32-bit value needs 4/],
      ["ffffffffff", /length 5/],
    ],
    parse: [
      ["-18000", -18000],
      ["3600", 3600],
      ["2147483647", 2147483647],
      ["-2147483648", -2147483648],
    ],
    // An empty value is not a number: `--option time-offset=` must not quietly send 0.
    parseErrors: [
      ["2147483648", /signed 32-bit/],
      ["abc", /signed 32-bit/],
      ["1.5", /signed 32-bit/],
      ["", /signed 32-bit/],
    ],
  }),
  table({
    kind: "bool",
    title: "bool (RFC 2132 flags such as 19)",
    codec: codecs.bool,
    decode: [
      ["00", false],
      ["01", true],
    ],
    decodeErrors: [
      ["02", /value 2 is neither 0 nor 1/],
      ["ff", /neither/],
      ["", /length 0/],
      ["0101", /length 2/],
    ],
    parse: [
      ["true", true],
      ["on", true],
      ["1", true],
      ["YES", true],
      ["false", false],
      ["off", false],
      ["0", false],
      ["no", false],
    ],
    parseErrors: [
      ["maybe", /not true\/false/],
      ["2", /not true\/false/],
    ],
  }),
  table({
    kind: "flag",
    title: "flag (80 rapid commit)",
    codec: codecs.flag,
    decode: [["", true]],
    decodeErrors: [
      ["00", /length 1, a flag carries no data/],
      ["0101", /length 2/],
    ],
    parse: [
      ["", true],
      ["true", true],
      ["1", true],
    ],
    parseErrors: [
      ["false", /takes no value/],
      ["x", /takes no value/],
    ],
  }),
  table({
    kind: "ip",
    title: "ip",
    codec: codecs.ip,
    decode: [
      ["c0000201", "192.0.2.1"],
      ["00000000", "0.0.0.0"],
      ["ffffffff", "255.255.255.255"],
    ],
    decodeErrors: [
      ["c00002", /length 3, an IPv4 address needs 4/],
      ["c000020101", /length 5/],
      ["", /length 0/],
    ],
    parse: [
      ["192.0.2.1", "192.0.2.1"],
      [" 10.0.0.1 ", "10.0.0.1"],
      ["010.0.0.1", "10.0.0.1"],
    ],
    parseErrors: [
      ["192.0.2", /not an IPv4/],
      ["256.0.0.1", /not an IPv4/],
      ["a.b.c.d", /not an IPv4/],
      ["", /not an IPv4/],
      ["1.2.3.4.5", /not an IPv4/],
    ],
  }),
  table({
    kind: "mask",
    title: "mask (HOSTILE 24)",
    codec: codecs.mask,
    decode: [
      ["ffffff00", "255.255.255.0"],
      ["ffffff80", "255.255.255.128"],
      ["fffffffe", "255.255.255.254"],
      ["00000000", "0.0.0.0"],
      ["ffffffff", "255.255.255.255"],
    ],
    decodeErrors: [
      ["ff00ff00", /255\.0\.255\.0 is not a contiguous mask/],
      ["00ffffff", /contiguous/],
      ["ffffff01", /contiguous/],
      ["ffffff", /length 3/],
    ],
    parse: [
      ["/24", "255.255.255.0"],
      ["24", "255.255.255.0"],
      ["255.255.255.0", "255.255.255.0"],
      ["/0", "0.0.0.0"],
      ["/32", "255.255.255.255"],
      ["/25", "255.255.255.128"],
    ],
    parseErrors: [
      ["/33", /prefix \/33 is over 32/],
      ["255.0.255.0", /contiguous/],
      ["x", /not an IPv4/],
    ],
  }),
  table({
    kind: "ipList",
    title: "ipList (3, 6, 42, 44 …; HOSTILE 16)",
    codec: codecs.ipList(),
    decode: [
      ["c0000201", ["192.0.2.1"]],
      ["c0000201c0000202", ["192.0.2.1", "192.0.2.2"]],
      [rep("0a000001", 63), Array(63).fill("10.0.0.1")],
    ],
    decodeErrors: [
      ["", /length 0 is not a positive multiple of 4/],
      ["c00002", /length 3 is not a positive multiple of 4/],
      ["c0000201c000", /length 6/],
      ["c000020100000000", /0\.0\.0\.0 in an address list/, 4],
      ["00000000", /0\.0\.0\.0/, 0],
      [rep("0a000001", 64), /64 addresses, more than 63/],
    ],
    parse: [
      ["192.0.2.1, 192.0.2.2", ["192.0.2.1", "192.0.2.2"]],
      ["192.0.2.1 192.0.2.2", ["192.0.2.1", "192.0.2.2"]],
      ["10.0.0.1", ["10.0.0.1"]],
    ],
    // parse must not accept what decode refuses: a list the tool itself would call invalid.
    parseErrors: [
      ["", /at least one address/],
      ["192.0.2.1,bogus", /"bogus" is not an IPv4/],
      ["0.0.0.0", /0\.0\.0\.0/],
      [Array(64).fill("10.0.0.1").join(","), /more than 63/],
    ],
  }),
  table({
    kind: "ipList",
    title: "ipList allowEmpty (68 mobile IP home agents)",
    codec: codecs.ipList({ allowEmpty: true }),
    decode: [
      ["", []],
      ["c0000201", ["192.0.2.1"]],
    ],
    decodeErrors: [["c00002", /multiple of 4/]],
    parse: [
      ["", []],
      ["192.0.2.1", ["192.0.2.1"]],
    ],
    parseErrors: [["192.0.2", /not an IPv4/]],
  }),
  table({
    kind: "ipPairs",
    title: "ipPairs (21 policy filter, 33 static routes)",
    codec: codecs.ipPairs,
    decode: [
      ["c0000200ffffff00", [["192.0.2.0", "255.255.255.0"]]],
      [
        "0a0000000a000001" + "0a0100000a000002",
        [
          ["10.0.0.0", "10.0.0.1"],
          ["10.1.0.0", "10.0.0.2"],
        ],
      ],
    ],
    decodeErrors: [
      ["", /length 0 is not a positive multiple of 8/],
      ["c0000200ffff", /length 6/],
      ["c0000200ffffff00c0", /length 9/],
    ],
    parse: [
      ["192.0.2.0:255.255.255.0", [["192.0.2.0", "255.255.255.0"]]],
      [
        "10.0.0.0/10.0.0.1, 10.1.0.0:10.0.0.2",
        [
          ["10.0.0.0", "10.0.0.1"],
          ["10.1.0.0", "10.0.0.2"],
        ],
      ],
    ],
    parseErrors: [
      ["", /at least one/],
      ["192.0.2.0", /ADDRESS:ADDRESS/],
      ["1.2.3.4:5.6.7.8:9.9.9.9", /ADDRESS:ADDRESS/],
      ["1.2.3.4:x", /ADDRESS:ADDRESS/],
    ],
  }),
  table({
    kind: "uintList",
    title: "uintList(1, min 1) (55 parameter request list)",
    codec: codecs.uintList(1, { min: 1 }),
    decode: [
      ["0103060f", [1, 3, 6, 15]],
      ["ff", [255]],
    ],
    decodeErrors: [["", /needs at least 1 value/]],
    parse: [
      ["1,3,6,15", [1, 3, 6, 15]],
      ["1 3", [1, 3]],
    ],
    parseErrors: [
      ["", /at least 1/],
      ["256", /0 to 255/],
      ["1,x", /whole number/],
    ],
  }),
  table({
    kind: "uintList",
    title: "uintList(2, min 1) (25 MTU plateaus, 93, 117)",
    codec: codecs.uintList(2, { min: 1 }),
    decode: [
      ["05dc0240", [1500, 576]],
      ["0000", [0]],
    ],
    decodeErrors: [
      ["05dc02", /length 3 is not a multiple of 2/],
      ["", /at least 1/],
    ],
    parse: [["1500,576", [1500, 576]]],
    parseErrors: [
      ["65536", /0 to 65535/],
      ["", /at least 1/],
    ],
  }),
  table({
    kind: "uintList",
    title: "uintList(1) without a minimum",
    codec: codecs.uintList(1),
    decode: [
      ["", []],
      ["01", [1]],
    ],
    decodeErrors: [],
    parse: [
      ["", []],
      ["7", [7]],
    ],
    parseErrors: [["x", /whole number/]],
  }),
  table({
    kind: "text",
    title: "text (12, 15, 56 …; HOSTILE 22: kept raw)",
    codec: codecs.text,
    decode: [
      [a("lab.example"), "lab.example"],
      [a("host") + "00", "host\0"], // a server's trailing NUL is kept, not trimmed
      ["1b5b324a", "\x1b[2J"],
      ["ff9b", "\xff\x9b"],
      [a("$(touch /tmp/pwned)"), "$(touch /tmp/pwned)"],
      [rep("41", 300), "A".repeat(300)], // longer than one option instance (RFC 3396)
    ],
    decodeErrors: [["", /empty text/]],
    parse: [
      ["hello", "hello"],
      ["a b", "a b"],
      ["caf\xe9", "caf\xe9"],
    ],
    parseErrors: [
      ["", /empty text/],
      ["snow \u2603", /only 8-bit characters/],
    ],
  }),
  table({
    kind: "hex",
    title: "hex (unknown options)",
    codec: codecs.hex,
    decode: [
      ["", ""],
      ["0102ff", "0102ff"],
      [rep("ab", 300), rep("ab", 300)],
    ],
    decodeErrors: [], // any bytes are hex: nothing to refuse
    parse: [
      ["hex:0102ff", "0102ff"],
      ["01:02:FF", "0102ff"],
      ["0102ff", "0102ff"],
      ["", ""],
    ],
    parseErrors: [
      ["0x01", /not hex bytes/],
      ["abc", /not hex bytes/],
      ["zz", /not hex bytes/],
    ],
  }),
  table({
    kind: "domainList",
    title: "domainList (119, RFC 3397; HOSTILE 18)",
    codec: codecs.domainList,
    decode: [
      [name("lab.example"), ["lab.example"]],
      // RFC 3397 section 3's example: the second name points back at "apple.com" in the first.
      [name("eng.apple.com") + label("marketing") + "c004", ["eng.apple.com", "marketing.apple.com"], name("eng.apple.com") + name("marketing.apple.com")],
      // a name that is nothing but a pointer, and a pointer to a name that itself ends in a pointer
      [
        name("com") + label("example") + "c000" + label("www") + "c005" + "c00f",
        ["com", "example.com", "www.example.com", "www.example.com"],
        name("com") + name("example.com") + name("www.example.com") + name("www.example.com"),
      ],
      ["00", [""]],
      // the longest legal name: 255 bytes on the wire
      [name([L63, L63, L63, "y".repeat(61)].join(".")), [[L63, L63, L63, "y".repeat(61)].join(".")]],
    ],
    decodeErrors: [
      ["", /empty/],
      ["c000", /does not point backward/, 0], // points at itself
      [label("a") + "c000", /does not point backward/, 2], // back to its own start: a loop
      [name("a") + label("b") + "c003", /does not point backward/, 5], // the second name loops on itself
      ["c002" + name("a"), /does not point backward/, 0], // forward
      [name("a") + "c0ff", /does not point backward/, 3], // beyond the data
      [name("a") + "ffff", /does not point backward/, 3], // 0x3fff, far out of range
      [name("a") + "c0", /truncated compression pointer/, 3],
      ["40" + rep("78", 64) + "00", /label length 64 over 63/, 0],
      ["80" + rep("78", 128) + "00", /label length 128 over 63/, 0], // the reserved 10xxxxxx prefix
      [name("a") + "4100", /label length 65 over 63/, 3],
      [name([L63, L63, L63, L63].join(".")), /longer than 255/],
      // each part legal, but the pointer makes the second name 257 bytes long
      [name([L63, L63, L63].join(".")) + label(L63) + "c000", /longer than 255/],
      ["05" + a("ab"), /label runs past the end/, 0],
      [label("a"), /name runs past the end/, 2],
      // an expansion bomb: one long name, then a hundred 2-byte names pointing at it
      [name([L63, L63, L63].join(".")) + rep("c000", 100), /expand beyond 8 KiB/],
    ],
    parse: [
      ["a.example,b.example", ["a.example", "b.example"]],
      ["example.com.", ["example.com"]],
      ["a.example b.example", ["a.example", "b.example"]],
    ],
    parseErrors: [
      ["", /at least one name/],
      [`${"x".repeat(64)}.example`, /longer than 63/],
      ["ex\x01ample.com", /spaces or non-ASCII/],
      [[L63, L63, L63, L63].join("."), /longer than 255/],
    ],
  }),
  table({
    kind: "classlessRoutes",
    title: "classlessRoutes (121, 249; RFC 3442; HOSTILE 17)",
    codec: codecs.classlessRoutes,
    decode: [
      // RFC 3442 section 3's examples, each with router 192.168.0.1
      ["00" + RFC3442_ROUTER, [route("0.0.0.0", 0)]],
      ["080a" + RFC3442_ROUTER, [route("10.0.0.0", 8)]],
      ["190ae50080" + RFC3442_ROUTER, [route("10.229.0.128", 25)]],
      ["18c00002" + "0a000001", [route("192.0.2.0", 24, "10.0.0.1")]],
      ["20c0a80005" + RFC3442_ROUTER, [route("192.168.0.5", 32)]],
      ["00" + RFC3442_ROUTER + "080a" + RFC3442_ROUTER + "190ae50080" + RFC3442_ROUTER, [route("0.0.0.0", 0), route("10.0.0.0", 8), route("10.229.0.128", 25)]],
    ],
    decodeErrors: [
      ["", /empty/],
      ["210a000000" + RFC3442_ROUTER, /prefix length 33 over 32/, 0],
      ["00" + RFC3442_ROUTER + "ff", /prefix length 255 over 32/, 5],
      ["18c000", /route runs past the end/, 0], // destination cut short
      ["080ac0a8", /route runs past the end/, 0], // router cut short
      ["00" + RFC3442_ROUTER + "08", /route runs past the end/, 5],
      ["190ae50081" + RFC3442_ROUTER, /bits set beyond the prefix/, 0], // .129/25
      ["0c0a1f" + RFC3442_ROUTER, /bits set beyond the prefix/, 0], // 10.31/12
    ],
    parse: [
      ["192.0.2.0/24,10.0.0.1", [route("192.0.2.0", 24, "10.0.0.1")]],
      ["0.0.0.0/0,10.0.0.1 10.0.0.0/8,10.0.0.2", [route("0.0.0.0", 0, "10.0.0.1"), route("10.0.0.0", 8, "10.0.0.2")]],
    ],
    parseErrors: [
      ["", /DEST\/PREFIX,ROUTER/],
      ["192.0.2.0/24", /DEST\/PREFIX,ROUTER/],
      ["192.0.2.1/24,10.0.0.1", /host bits set beyond \/24/],
      ["192.0.2.0/33,10.0.0.1", /is not DEST\/PREFIX,ROUTER/],
      ["192.0.2.0/24,bogus", /is not DEST\/PREFIX,ROUTER/],
      ["192.0.2.0,10.0.0.1", /is not DEST\/PREFIX,ROUTER/],
    ],
  }),
  table({
    kind: "clientId",
    title: "clientId (61; HOSTILE 21)",
    codec: codecs.clientId,
    decode: [
      ["01020000000001", { type: 1, id: "02:00:00:00:00:01" }],
      ["ff000000010001aabbccdd", { type: 255, id: "000000010001aabbccdd" }],
      ["006162", { type: 0, id: "6162" }],
    ],
    decodeErrors: [
      ["", /length 0: needs a type and at least one byte/],
      ["01", /length 1/],
      ["010200000000", /type 1 \(Ethernet\) needs 6 bytes of MAC, has 5/],
      ["0102000000000102", /has 7/],
    ],
    parse: [
      ["aa:bb:cc:dd:ee:ff", { type: 1, id: "aa:bb:cc:dd:ee:ff" }],
      ["AA-BB-CC-DD-EE-FF", { type: 1, id: "aa:bb:cc:dd:ee:ff" }],
      ["255:0001abcd", { type: 255, id: "0001abcd" }],
      ["hex:01aabbccddeeff", { type: 1, id: "aa:bb:cc:dd:ee:ff" }],
      ["hex:006162", { type: 0, id: "6162" }],
    ],
    parseErrors: [
      ["", /not a client id/],
      ["1:aabb", /type 1 \(Ethernet\) needs 6 bytes/],
      ["300:aa", /not a client id/],
      ["5:abc", /not a client id/],
      ["zz", /not a client id/],
      ["hex:01", /length 1/],
    ],
  }),
  table({
    kind: "messageType",
    title: "messageType (53; HOSTILE 14)",
    codec: codecs.messageType,
    decode: [
      ["01", 1],
      ["02", 2],
      ["08", 8],
      ["12", 18],
    ],
    decodeErrors: [
      ["00", /unknown message type 0/],
      ["13", /unknown message type 19/],
      ["ff", /unknown message type 255/],
      ["", /length 0/],
      ["0202", /length 2/],
    ],
    parse: [
      ["DHCPOFFER", 2],
      ["offer", 2],
      ["Request", 3],
      ["5", 5],
      ["dhcpinform", 8],
    ],
    parseErrors: [
      ["OFFERS", /not a message type/],
      ["0", /not a message type/],
      ["19", /not a message type/],
      ["", /not a message type/],
    ],
  }),
  table({
    kind: "overload",
    title: "overload (52; HOSTILE 19)",
    codec: codecs.overload,
    decode: [
      ["01", 1],
      ["02", 2],
      ["03", 3],
    ],
    decodeErrors: [
      ["00", /overload value 0 is not 1, 2 or 3/],
      ["04", /value 4/],
      ["ff", /value 255/],
      ["0102", /length 2/],
    ],
    parse: [
      ["1", 1],
      ["3", 3],
    ],
    // parse must not accept what decode refuses
    parseErrors: [
      ["4", /1, 2 or 3/],
      ["x", /whole number/],
    ],
  }),
  table({
    kind: "lengthPrefixedList",
    title: "lengthPrefixedList (77 user class, RFC 3004)",
    codec: codecs.lengthPrefixedList,
    decode: [
      [label("test") + label("abc"), ["test", "abc"]],
      ["020001", ["hex:0001"]], // not printable: shown as hex
      [label("hex:"), ["hex:6865783a"]], // looks like the hex prefix: shown as hex
      [label("a,b c"), ["a,b c"]],
    ],
    decodeErrors: [
      ["", /empty/],
      ["00", /zero-length item/, 0],
      ["056162", /item runs past the end/, 0],
      ["016103" + "62", /runs past/, 2],
      [label("a") + "00", /zero-length/, 2],
    ],
    parse: [
      ["test,abc", ["test", "abc"]],
      ["hex:0001", ["hex:0001"]],
    ],
    parseErrors: [
      ["", /at least one item/],
      ["hex:zz", /must be 1-255 bytes/],
      ["y".repeat(256), /must be 1-255 bytes/],
    ],
  }),
  table({
    kind: "subOptions",
    title: "subOptions (82 relay agent info, RFC 3046; HOSTILE 21)",
    codec: codecs.subOptions,
    decode: [
      [
        "0104" + a("eth0") + "02020a0b",
        [
          { code: 1, hex: a("eth0") },
          { code: 2, hex: "0a0b" },
        ],
      ],
      ["", []],
      ["0500", [{ code: 5, hex: "" }]],
    ],
    decodeErrors: [
      ["01", /sub-option header runs past the end/, 0],
      ["01050102", /sub-option 1 runs past the end/, 0],
      ["0101aa020900", /sub-option 2 runs past the end/, 3],
      ["0101aa02", /header runs past/, 3],
    ],
    parse: [
      [
        "1=hex:0a0b,2=eth0",
        [
          { code: 1, hex: "0a0b" },
          { code: 2, hex: a("eth0") },
        ],
      ],
      ["9=", [{ code: 9, hex: "" }]],
    ],
    parseErrors: [
      ["", /at least one CODE=VALUE/],
      ["x=1", /not CODE=VALUE/],
      ["256=a", /not CODE=VALUE/],
      ["1=hex:zz", /sub-option 1: bad value/],
    ],
  }),
  table({
    kind: "vendorSpecific",
    title: "vendorSpecific (43: sub-options when they are, else opaque hex; RFC 2132 8.4)",
    codec: codecs.vendorSpecific,
    decode: [
      // PXE as dnsmasq sends it: discovery-control 8, then END
      ["060108ff", [{ code: 6, hex: "08" }]],
      [
        "0104" + a("eth0") + "0900ff",
        [
          { code: 1, hex: a("eth0") },
          { code: 9, hex: "" },
        ],
        "0104" + a("eth0") + "0900ff",
      ],
      ["0000060108ff0000", [{ code: 6, hex: "08" }], "060108ff"], // PAD skipped, END ends them
      ["060108", [{ code: 6, hex: "08" }], "060108ff"], // no END: written back with one
      ["0102ff", "0102ff"], // not sub-options: opaque bytes
      ["060108ff01", "060108ff01"], // bytes after END: opaque
      ["", ""],
      ["0000", "0000"],
    ],
    decodeErrors: [], // any bytes are a 43: nothing to refuse
    parse: [
      [
        "1=eth0,6=hex:08",
        [
          { code: 1, hex: a("eth0") },
          { code: 6, hex: "08" },
        ],
      ],
      ["hex:0102ff", "0102ff"],
      ["01:02:ff", "0102ff"],
    ],
    parseErrors: [
      ["1=hex:zz", /sub-option 1: bad value/],
      ["zz", /neither CODE=VALUE sub-options nor hex/],
    ],
  }),
  table({
    kind: "clientFqdn",
    title: "clientFqdn (81, RFC 4702; HOSTILE 22)",
    codec: codecs.clientFqdn,
    decode: [
      ["050000" + name("host.example"), { flags: 5, rcode1: 0, rcode2: 0, name: "host.example" }],
      ["01ffff" + a("host.example"), { flags: 1, rcode1: 255, rcode2: 255, name: "host.example" }], // E clear: ASCII
      ["040000", { flags: 4, rcode1: 0, rcode2: 0, name: "" }], // empty: "give me a name"
      ["000000" + a("h\0o\x1b"), { flags: 0, rcode1: 0, rcode2: 0, name: "h\0o\x1b" }], // raw, escaped only when shown
    ],
    decodeErrors: [
      ["0500", /length 2, needs at least 3/],
      ["150000", /flags 0x15 has reserved bits set/],
      ["050000" + "40" + rep("78", 64) + "00", /label length 64 over 63/, 3],
      ["050000c000", /pointer/, 3],
      ["050000" + name("a") + "62", /bytes after the name/, 6],
    ],
    parse: [
      ["host.example", { flags: 5, rcode1: 0, rcode2: 0, name: "host.example" }],
      ["host.example.", { flags: 5, rcode1: 0, rcode2: 0, name: "host.example" }],
      ["1:host", { flags: 1, rcode1: 0, rcode2: 0, name: "host" }],
      ["4:", { flags: 4, rcode1: 0, rcode2: 0, name: "" }],
    ],
    parseErrors: [
      ["16:host", /flags are 0-15/],
      [`${"x".repeat(64)}.example`, /longer than 63/],
    ],
  }),
  table({
    kind: "vendorBlocks",
    title: "vendorBlocks (124, 125; RFC 3925)",
    codec: codecs.vendorBlocks,
    decode: [
      ["00000de9030a0b0c", [{ enterprise: 3561, hex: "0a0b0c" }]],
      [
        "00000de9030a0b0c" + "ffffffff0100",
        [
          { enterprise: 3561, hex: "0a0b0c" },
          { enterprise: 0xffffffff, hex: "00" },
        ],
      ],
      ["0000000100", [{ enterprise: 1, hex: "" }]],
    ],
    decodeErrors: [
      ["", /empty/],
      ["00000de9", /enterprise block header runs past the end/, 0],
      ["00000de9050a0b", /enterprise data runs past the end/, 0],
      ["0000000100" + "00000002", /header runs past/, 5],
    ],
    parse: [
      ["3561:0a0b0c", [{ enterprise: 3561, hex: "0a0b0c" }]],
      [
        "3561:hex:0a0b,1:",
        [
          { enterprise: 3561, hex: "0a0b" },
          { enterprise: 1, hex: "" },
        ],
      ],
    ],
    parseErrors: [
      ["", /at least one ENTERPRISE:HEX/],
      ["x:01", /not ENTERPRISE:HEX/],
      ["4294967296:00", /not ENTERPRISE:HEX/],
      ["3561:zz", /not ENTERPRISE:HEX/],
    ],
  }),
  table({
    kind: "sipServers",
    title: "sipServers (120, RFC 3361)",
    codec: codecs.sipServers,
    decode: [
      ["00" + name("sip.example"), { names: ["sip.example"] }],
      ["00" + name("a.sip.example") + label("b") + "c002", { names: ["a.sip.example", "b.sip.example"] }, "00" + name("a.sip.example") + name("b.sip.example")],
      ["01c0000201c0000202", { addresses: ["192.0.2.1", "192.0.2.2"] }],
    ],
    decodeErrors: [
      ["", /too short/],
      ["00", /too short/],
      ["0200", /unknown encoding 2/],
      ["01c00002", /multiple of 4/],
      // offsets count from the start of the option's data, the encoding byte included
      ["00" + "40" + rep("78", 64) + "00", /label length 64 over 63/, 1],
      ["01c000020100000000", /0\.0\.0\.0 in an address list/, 5],
    ],
    parse: [
      ["10.0.0.1,10.0.0.2", { addresses: ["10.0.0.1", "10.0.0.2"] }],
      ["sip.example", { names: ["sip.example"] }],
    ],
    parseErrors: [
      ["", /give addresses or domain names/],
      ["bad\x01name", /give addresses or domain names/],
    ],
  }),
  table({
    kind: "uuid",
    title: "uuid (97, RFC 4578)",
    codec: codecs.uuid,
    decode: [["00" + "00112233445566778899aabbccddeeff", "00112233-4455-6677-8899-aabbccddeeff"]],
    decodeErrors: [
      ["01" + "00112233445566778899aabbccddeeff", /expected type 0 and 16 bytes, got length 17/],
      ["00" + "00112233445566778899aabbccddee", /got length 16/],
      ["", /got length 0/],
    ],
    parse: [
      ["00112233-4455-6677-8899-AABBCCDDEEFF", "00112233-4455-6677-8899-aabbccddeeff"],
      ["00112233445566778899aabbccddeeff", "00112233-4455-6677-8899-aabbccddeeff"],
    ],
    parseErrors: [
      ["xyz", /not a UUID/],
      ["00112233-4455", /not a UUID/],
    ],
  }),
  table({
    kind: "ndi",
    title: "ndi (94, RFC 4578)",
    codec: codecs.ndi,
    decode: [
      ["010201", { type: 1, major: 2, minor: 1 }],
      ["010300", { type: 1, major: 3, minor: 0 }],
    ],
    decodeErrors: [
      ["0102", /length 2, needs 3/],
      ["01020100", /length 4/],
    ],
    parse: [
      ["1.2.1", { type: 1, major: 2, minor: 1 }],
      ["1:2:1", { type: 1, major: 2, minor: 1 }],
      ["1,3,0", { type: 1, major: 3, minor: 0 }],
    ],
    parseErrors: [
      ["1.2", /TYPE\.MAJOR\.MINOR/],
      ["1.2.256", /TYPE\.MAJOR\.MINOR/],
      ["a.b.c", /TYPE\.MAJOR\.MINOR/],
    ],
  }),
];

describe("every codec kind has a table", () => {
  test("each codec or codec factory exported by core/option-codecs.ts is covered", () => {
    const exported = Object.entries(codecs)
      .filter(([, v]) => typeof v === "function" || (typeof v === "object" && v !== null && "decode" in v))
      .map(([k]) => k)
      .sort();
    const covered = [...new Set(TABLES.map((t) => t.kind))].sort();
    expect(covered).toEqual(exported);
  });
});

for (const t of TABLES) {
  describe(t.title, () => {
    test.each(t.decode.map((r) => [shown(r[0]), r] as const))("decode %s", (_, [hex, value, reencoded]) => {
      expect(t.codec.decode(bytes(hex))).toEqual({ ok: true, value });
      const wire = roundTrip(t.codec, value);
      expect(toHex(wire)).toBe(reencoded ?? hex);
    });
    if (t.decodeErrors.length) {
      test.each(t.decodeErrors.map((r) => [shown(r[0]), r] as const))("refuses %s", (_, [hex, reason, offset]) => {
        const r = t.codec.decode(bytes(hex));
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.error.reason).toMatch(reason);
        if (offset !== undefined) expect(r.error.offset).toBe(offset);
        expect(r.error.offset).toBeGreaterThanOrEqual(0);
        expect(r.error.offset).toBeLessThanOrEqual(hex.length / 2);
      });
    }
    test.each(t.parse.map((r) => [shown(JSON.stringify(r[0])), r] as const))("parse %s", (_, [text, value]) => {
      expect(t.codec.parse(text)).toEqual({ ok: true, value });
      roundTrip(t.codec, value); // what a user types goes on the wire and reads back the same
    });
    test.each(t.parseErrors.map((r) => [shown(JSON.stringify(r[0])), r] as const))("parse refuses %s", (_, [text, reason]) => {
      const r = t.codec.parse(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.reason).toMatch(reason);
    });
  });
}

// ---- cases a table row cannot say ----

describe("classlessRoutes: RFC 3442 examples written out", () => {
  test.each([
    ["00 c0a80001", "0.0.0.0/0"],
    ["08 0a c0a80001", "10.0.0.0/8"],
    ["19 0a e5 00 80 c0a80001", "10.229.0.128/25"],
  ])("%s → %s via 192.168.0.1", (hex, cidr) => {
    const r = codecs.classlessRoutes.decode(bytes(hex));
    expect(r.ok && r.value.map((x) => `${x.destination}/${x.prefix}`)).toEqual([cidr]);
    expect(r.ok && r.value[0].router).toBe("192.168.0.1");
  });
});

describe("domainList: hostile compression never hangs (HOSTILE 18)", () => {
  test("an expansion bomb at the 16 KiB concatenation cap is refused quickly", () => {
    const long = name([L63, L63, L63, "y".repeat(61)].join(".")); // 255 bytes
    const data = bytes(long + rep("c000", Math.floor((16384 - 255) / 2)));
    const t0 = performance.now();
    const r = codecs.domainList.decode(data);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toMatch(/8 KiB/);
  });

  test("a 16 KiB chain of pointers to pointers (no labels to count) finishes quickly", () => {
    // name 0 is the root; every later name is a pointer to the pointer before it
    const b = new Uint8Array(16383);
    for (let p = 1; p + 1 < b.length; p += 2) {
      const target = p === 1 ? 0 : p - 2;
      b[p] = 0xc0 | (target >> 8);
      b[p + 1] = target & 0xff;
    }
    const t0 = performance.now();
    const r = codecs.domainList.decode(b);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.ok ? r.value.every((n) => n === "") : r.error.reason.length > 0).toBe(true);
  });

  test("a pointer inside the second of two concatenated 119 instances resolves (RFC 3396 + 3397)", () => {
    // RFC 3397 section 3: the pointer's offset counts from the start of the joined data
    const first = bytes(name("eng.apple.com").slice(0, 18)); // cut mid-name, as a split would
    const second = bytes(name("eng.apple.com").slice(18) + label("marketing") + "c004");
    const joined = new Uint8Array(first.length + second.length);
    joined.set(first);
    joined.set(second, first.length);
    expect(codecs.domainList.decode(joined)).toEqual({ ok: true, value: ["eng.apple.com", "marketing.apple.com"] });
  });
});

describe("decode → encode → decode is the identity for every value decode gives", () => {
  // core/option-codecs.ts promises decode(encode(v)) equals v; a decoded value is such a v.
  // A label that itself holds a dot ("a." then "b") decodes to "a..b", which encodes as
  // labels "a", "b" and reads back as "a.b": the name changes on the way through.
  test("119: a label containing a dot survives a round trip", () => {
    const wire = bytes(label("a.") + label("b") + "00");
    const first = codecs.domainList.decode(wire);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    const out = new Uint8Array(codecs.domainList.encodingLength(first.value));
    codecs.domainList.encode(first.value, out, 0);
    expect(codecs.domainList.decode(out)).toEqual(first);
  });
});

describe("clientFqdn: RFC 4702 section 2.3.1 partial names", () => {
  // "To send a partial name, the Domain Name field is set to the DNS-encoded domain name
  // without the terminating zero-length label." Clients do this; it is not an error.
  test("E set, a name without its root label decodes", () => {
    const r = codecs.clientFqdn.decode(bytes("050000" + label("host")));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.name).toBe("host");
  });
});
