// Property tests (fast-check) for the wire codec:
//   (a) hostile bytes: random and mutated messages, random option data and random frames
//       never make the decoders throw, and every failure is a typed value;
//   (b) messages: decode(encode(m)) gives m back, with long options split (RFC 3396) and
//       overflow into file/sname (option 52) when a 576-byte limit forces it;
//   (c) every codec kind: decode(encode(v)) equals v for generated values.
// The seed is fixed so a failure reproduces; FUZZ_RUNS=<n> runs every property n times and
// FUZZ_SEED=<n> changes the seed, for long runs (`FUZZ_RUNS=20000 bun test test/unit/properties.test.ts`).

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fromHex, toHex, u32ToIp } from "../../core/bytes.ts";
import { optionViews, OfferCollector } from "../../core/offers.ts";
import { safeJson } from "../../core/escape.ts";
import { effectiveRoutes, ipv6OnlyWait, messageLeaseTimes, subnetMask } from "../../core/lease-times.ts";
import {
  decodeMessage,
  encodeMessage,
  getIp,
  getIps,
  getString,
  getU32,
  messageType,
  type DecodeResult,
  type MessageFields,
  type OptionBytes,
} from "../../core/message.ts";
import * as c from "../../core/option-codecs.ts";
import type { Codec } from "../../core/option-codecs.ts";
import { decodeOption, encodeOption, OPTIONS } from "../../core/options.ts";
import { CLIENT_MAC, OFFER_OPTIONS, offerFrame, offerPayload, XID } from "./helpers.ts";
import { roundTrip } from "./roundtrip.ts";

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS) || 0;
const SEED = Number(process.env.FUZZ_SEED) || 0x0dc9;
/** fast-check parameters: the default run count unless FUZZ_RUNS overrides it. */
const params = (numRuns: number) => ({ seed: SEED, numRuns: FUZZ_RUNS || numRuns });
/** bun's per-test timeout: generous when a long run was asked for. */
const TIMEOUT = FUZZ_RUNS ? 3_600_000 : 20_000;

// ---- value arbitraries, one per codec kind ----

const byte = fc.nat(255);
const u32 = fc.oneof(
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff),
  fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([hi, lo]) => hi * 0x10000 + lo),
);
const ipAny = u32.map(u32ToIp);
const ipNonZero = ipAny.filter((a) => a !== "0.0.0.0");
const bytesHex = (max: number, min = 0) => fc.uint8Array({ minLength: min, maxLength: max, size: "max" }).map((b) => toHex(b));
const latin1Char = (min: number) => fc.integer({ min, max: 255 }).map((n) => String.fromCharCode(n));
/** A label of any bytes, in presentation form: a dot or backslash inside it is escaped ("\\."). */
const dnsLabel = (max: number) =>
  fc
    .string({
      unit: byte.map((n) => String.fromCharCode(n)),
      minLength: 1,
      maxLength: Math.max(1, Math.min(63, max)),
      size: "max",
    })
    .map((l) => l.replace(/[\\.]/g, (ch) => "\\" + ch));
const wireLength = (name: string) => (name === "" ? 1 : name.split(".").reduce((n, l) => n + 1 + l.length, 1));
/** Keeps the longest prefix of `items` whose encoding fits `max` bytes (at least the first). */
function fitting<T>(items: T[], size: (x: T) => number, max: number): T[] {
  let total = 0,
    k = 0;
  while (k < items.length && (k === 0 || total + size(items[k]) <= max)) total += size(items[k++]);
  return items.slice(0, k);
}
/** A name of up to 5 labels, at most min(255, max) bytes on the wire; sometimes the root. */
const dnsName = (max: number) => {
  const limit = Math.min(255, max);
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant("") },
    { weight: 9, arbitrary: fc.array(dnsLabel(limit - 2), { minLength: 1, maxLength: 5 }).map((ls) => fitting(ls, (l) => l.length + 1, limit - 1).join(".")) },
  );
};
const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/**
 * An arbitrary for each kind of value, sized so its encoding stays within `max` bytes: small
 * (≤ 61, one instance that fits even in sname) or large (hundreds, split by RFC 3396).
 */
function arbOf(kind: string, max: number): fc.Arbitrary<unknown> {
  const n = (per: number, cap = Infinity) => Math.max(1, Math.min(cap, Math.floor(max / per)));
  const size = "max" as const; // lengths spread over the whole range, not only the small end
  switch (kind) {
    case "u8":
      return byte;
    case "u16":
      return fc.nat(0xffff);
    case "u32":
    case "seconds":
      return u32;
    case "i32":
      return fc.integer();
    case "bool":
      return fc.boolean();
    case "flag":
      return fc.constant(true);
    case "ip":
      return ipAny;
    case "mask":
      return fc.nat(32).map((p) => u32ToIp(maskOf(p)));
    case "ipList":
      return fc.array(ipNonZero, { minLength: 1, maxLength: n(4, 63), size });
    case "ipList0":
      return fc.array(ipNonZero, { minLength: 0, maxLength: n(4, 63), size });
    case "ipPairs":
      return fc.array(fc.tuple(ipAny, ipAny), { minLength: 1, maxLength: n(8), size });
    case "uintList1":
      return fc.array(byte, { minLength: 1, maxLength: n(1), size });
    case "uintList2":
      return fc.array(fc.nat(0xffff), { minLength: 1, maxLength: n(2), size });
    case "uintList":
      return fc.array(byte, { minLength: 0, maxLength: n(1), size });
    case "text":
      return fc.string({ unit: latin1Char(0), minLength: 1, maxLength: n(1), size });
    case "hex":
      return bytesHex(n(1));
    case "domainList":
      return fc.array(dnsName(max), { minLength: 1, maxLength: 20, size }).map((ns) => fitting(ns, wireLength, max));
    case "classlessRoutes":
      return fc.array(
        fc
          .record({ prefix: fc.nat(32), d: u32, router: ipAny })
          .map(({ prefix, d, router }) => ({ destination: u32ToIp((d & maskOf(prefix)) >>> 0), prefix, router })),
        { minLength: 1, maxLength: n(9), size },
      );
    case "clientId":
      return fc.oneof(
        fc.uint8Array({ minLength: 6, maxLength: 6 }).map((m) => ({ type: 1, id: toHex(m, ":") })),
        fc.record({ type: byte.filter((t) => t !== 1), id: bytesHex(Math.min(64, max - 1), 1) }),
      );
    case "messageType":
      return fc.integer({ min: 1, max: c.MESSAGE_TYPE_NAMES.length - 1 });
    case "overload":
      return fc.integer({ min: 1, max: 3 });
    case "lengthPrefixedList": {
      const len = Math.min(255, max - 1);
      const printable = fc
        .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((x) => String.fromCharCode(x)), minLength: 1, maxLength: len, size })
        .filter((s) => !s.startsWith("hex:"));
      const binary = fc
        .uint8Array({ minLength: 1, maxLength: len, size })
        .filter((b) => b.some((x) => x < 0x20 || x >= 0x7f))
        .map((b) => "hex:" + toHex(b));
      return fc
        .array(fc.oneof(printable, binary), { minLength: 1, maxLength: 20, size })
        .map((v) => fitting(v, (x) => c.lengthPrefixedList.encodingLength([x]), max));
    }
    case "subOptions":
      return fc
        .array(fc.record({ code: byte, hex: bytesHex(Math.min(255, max - 2)) }), { maxLength: 20, size })
        .map((v) => (v.length && c.subOptions.encodingLength(v) > max ? fitting(v, (x) => 2 + x.hex.length / 2, max) : v));
    case "vendorSpecific":
      return fc.oneof(
        // sub-options (PAD and END are not codes), or bytes that are not sub-options: each decodes to itself
        fc
          .array(fc.record({ code: fc.integer({ min: 1, max: 254 }), hex: bytesHex(Math.min(255, max - 3)) }), { minLength: 1, maxLength: 20, size })
          .map((v) => fitting(v, (x) => 2 + x.hex.length / 2, max - 1)),
        bytesHex(max).filter((h) => same(c.vendorSpecific.decode(fromHex(h)!), { ok: true, value: h })),
      );
    case "clientFqdn":
      return fc
        .record({ flags: fc.nat(15), rcode1: byte, rcode2: byte })
        .chain((h) => (h.flags & 4 ? dnsName(max - 3) : fc.string({ unit: latin1Char(0), maxLength: max - 3, size })).map((name) => ({ ...h, name })));
    case "vendorBlocks":
      return fc
        .array(fc.record({ enterprise: u32, hex: bytesHex(Math.min(255, max - 5)) }), { minLength: 1, maxLength: 20, size })
        .map((v) => fitting(v, (x) => 5 + x.hex.length / 2, max));
    case "sipServers":
      return fc.oneof(
        arbOf("domainList", max - 1).map((names) => ({ names })),
        arbOf("ipList", max - 1).map((addresses) => ({ addresses })),
      );
    case "uuid":
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
        const h = toHex(b);
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      });
    case "ndi":
      return fc.record({ type: byte, major: byte, minor: byte });
    default:
      throw new Error(`no arbitrary for codec kind ${kind}`);
  }
}

/** Every codec kind with a codec instance (factories in each shape the registry uses). */
const KINDS: [string, Codec<any>][] = [
  ...(Object.entries(c).filter(([, v]) => typeof v === "object" && v !== null && "decode" in v) as [string, Codec<any>][]),
  ["ipList", c.ipList()],
  ["ipList0", c.ipList({ allowEmpty: true })],
  ["uintList1", c.uintList(1, { min: 1 })],
  ["uintList2", c.uintList(2, { min: 1 })],
  ["uintList", c.uintList(1)],
];

const SINGLETON_KIND = new Map<Codec<any>, string>(KINDS.filter(([k]) => k in c).map(([k, v]) => [v, k]));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The kind of a registered codec: a singleton by identity, a factory-made one by what it decodes. */
function kindOf(codec: Codec<any>): string {
  const k = SINGLETON_KIND.get(codec);
  if (k) return k;
  const empty = codec.decode(new Uint8Array(0)).ok;
  const asIps = codec.decode(Uint8Array.of(10, 0, 0, 1));
  if (asIps.ok && same(asIps.value, ["10.0.0.1"])) return empty ? "ipList0" : "ipList";
  const asU8 = codec.decode(Uint8Array.of(1, 2, 3));
  if (asU8.ok && same(asU8.value, [1, 2, 3])) return empty ? "uintList" : "uintList1";
  const asU16 = codec.decode(Uint8Array.of(0, 1, 0, 2));
  if (asU16.ok && same(asU16.value, [1, 2])) return "uintList2";
  throw new Error("a registered codec of no known kind: give it an arbitrary here");
}

const CODES = [...OPTIONS.keys()];
const MESSAGE_CODES = CODES.filter((code) => code !== 52); // 52 is the encoder's to set
const KIND_OF_CODE = new Map(CODES.map((code) => [code, kindOf(OPTIONS.get(code)!.codec)]));

// ---- (c) every codec kind round-trips generated values ----

describe("(c) every codec kind: decode(encode(v)) equals v", () => {
  test("every exported codec and factory has an arbitrary, and every registered option a kind", () => {
    const exported = Object.entries(c)
      .filter(([, v]) => typeof v === "function" || (typeof v === "object" && v !== null && "decode" in v))
      .map(([k]) => k);
    for (const k of exported) {
      const kinds = KINDS.filter(([name]) => name === k || name.startsWith(k));
      expect(kinds.length).toBeGreaterThan(0);
      for (const [name] of kinds) expect(() => arbOf(name, 64)).not.toThrow();
    }
    expect(KIND_OF_CODE.size).toBe(OPTIONS.size);
  });

  test.each(KINDS.map(([k, codec]) => [k, codec] as const))(
    "%s",
    (kind, codec) => {
      fc.assert(
        fc.property(arbOf(kind, 600), (v) => {
          roundTrip(codec, v);
        }),
        params(150),
      );
    },
    TIMEOUT,
  );
});

// ---- (b) whole messages ----

const header = fc.record({
  op: byte,
  hops: byte,
  xid: u32,
  secs: fc.nat(0xffff),
  flags: fc.nat(0xffff),
  ciaddr: ipAny,
  yiaddr: ipAny,
  siaddr: ipAny,
  giaddr: ipAny,
  chaddr: fc.uint8Array({ minLength: 0, maxLength: 16 }),
});
const cText = (max: number) => fc.string({ unit: latin1Char(1), maxLength: max });

interface TypedOption {
  code: number;
  value: unknown;
}

/** Up to `count` distinct registered options with values of about `max` bytes each. */
const typedOptions = (count: number, max: number, codes = MESSAGE_CODES) =>
  fc
    .uniqueArray(fc.constantFrom(...codes), { maxLength: count })
    .chain((codes) => fc.tuple(...codes.map((code) => arbOf(KIND_OF_CODE.get(code)!, max).map((value): TypedOption => ({ code, value })))));

const toBytes = (opts: TypedOption[]): OptionBytes[] => opts.map((o) => ({ code: o.code, data: encodeOption(o.code, o.value) }));
const instancesLength = (opts: OptionBytes[]) => opts.reduce((n, o) => n + o.data.length + 2 * Math.max(1, Math.ceil(o.data.length / 255)), 0);

/** Wire order after decoding: first-seen order, 82 last (RFC 3046 2.1), repeats joined. */
function expectedOptions(opts: OptionBytes[]): [number, string][] {
  const m = new Map<number, string>();
  for (const o of [...opts.filter((x) => x.code !== 82), ...opts.filter((x) => x.code === 82)]) m.set(o.code, (m.get(o.code) ?? "") + toHex(o.data));
  return [...m];
}

function decodeOk(p: Uint8Array): Extract<DecodeResult, { ok: true }> {
  const r = decodeMessage(p);
  if (!r.ok) throw new Error(`decode failed: ${JSON.stringify(r.error)}`);
  return r;
}

function expectHeader(r: Extract<DecodeResult, { ok: true }>, f: MessageFields) {
  const m = r.message;
  const chaddr = new Uint8Array(16);
  chaddr.set(f.chaddr);
  const got: Record<string, unknown> = {
    op: m.op,
    htype: m.htype,
    hlen: m.hlen,
    hops: m.hops,
    xid: m.xid,
    secs: m.secs,
    flags: m.flags,
    ciaddr: m.ciaddr,
    yiaddr: m.yiaddr,
    siaddr: m.siaddr,
    giaddr: m.giaddr,
    chaddr: toHex(m.chaddr),
  };
  expect(got).toEqual({
    op: f.op,
    htype: 1,
    hlen: f.chaddr.length,
    hops: f.hops,
    xid: f.xid,
    secs: f.secs,
    flags: f.flags,
    ciaddr: f.ciaddr,
    yiaddr: f.yiaddr,
    siaddr: f.siaddr,
    giaddr: f.giaddr,
    chaddr: toHex(chaddr),
  });
}

function expectTyped(r: Extract<DecodeResult, { ok: true }>, opts: TypedOption[]) {
  for (const o of opts) expect(decodeOption(o.code, r.message.options.get(o.code)!)).toEqual({ ok: true, value: o.value });
}

describe("(b) messages: decode(encode(m)) equals m", () => {
  test(
    "header fields, sname/file and up to 20 typed options, long ones split (RFC 3396)",
    () => {
      let long = 0;
      fc.assert(
        fc.property(header, cText(63), cText(127), typedOptions(20, 700), (h, sname, file, opts) => {
          const options = toBytes(opts);
          if (options.some((o) => o.data.length > 255)) long++;
          const f: MessageFields = { ...h, sname, file, options };
          const p = encodeMessage(f);
          expect(p.length).toBeGreaterThanOrEqual(300);
          const r = decodeOk(p);
          expect(r.warnings).toEqual([]);
          expectHeader(r, f);
          expect([r.message.sname, r.message.file]).toEqual([sname, file]);
          expect([...r.message.options].map(([k, v]) => [k, toHex(v)])).toEqual(expectedOptions(options));
          expectTyped(r, opts);
        }),
        params(300),
      );
      expect(long).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  test(
    "maxLength 576 forces overflow into file, then sname, announced by option 52",
    () => {
      // Small options after at most one long one, trimmed to a budget. Values are cut where an
      // area runs out (RFC 3396), so everything fits that fits: 332 bytes in the options field
      // plus each free area (file 127, sname 63), less 2 bytes of header per area a value
      // spills into; past that the encoder refuses with a RangeError.
      // (82 is left out of the long slot: the encoder moves it last, where a long one may not fit)
      const LONG_FIRST_CODES = MESSAGE_CODES.filter((code) => code !== 82);
      let overloaded = 0;
      const flags = new Set<string>();
      const arb = fc.tuple(
        header,
        typedOptions(1, 328, LONG_FIRST_CODES),
        typedOptions(20, 61),
        fc.integer({ min: 300, max: 540 }),
        fc.constantFrom("none", "file", "sname"),
      );
      fc.assert(
        fc.property(arb, ([h, first, rest, budget, fieldInUse]) => {
          const seen = new Set(first.map((o) => o.code));
          const opts: TypedOption[] = [...first];
          let total = instancesLength(toBytes(first));
          for (const o of rest) {
            const size = instancesLength(toBytes([o]));
            if (seen.has(o.code) || total + size > budget) continue;
            opts.push(o);
            seen.add(o.code);
            total += size;
          }
          const options = toBytes(opts);
          const sname = fieldInUse === "sname" ? "boot.example" : "";
          const file = fieldInUse === "file" ? "pxelinux.0" : "";
          const sure = 332 + (file ? 0 : 127 - 2) + (sname ? 0 : 63 - 2) - 2 * opts.length;
          const f: MessageFields = { ...h, sname, file, options, maxLength: 576 };
          let p: Uint8Array;
          try {
            p = encodeMessage(f);
          } catch (e) {
            expect(e).toBeInstanceOf(RangeError);
            expect(total).toBeGreaterThan(sure);
            return;
          }
          expect(p.length).toBeLessThanOrEqual(576);
          const r = decodeOk(p);
          expect(r.warnings).toEqual([]);
          expectHeader(r, f);
          const got = [...r.message.options].map(([k, v]) => [k, toHex(v)] as [number, string]);
          let ov = 0;
          if (240 + total + 1 > 576) {
            overloaded++;
            const [code, hex] = got.shift()!;
            expect(code).toBe(52);
            ov = parseInt(hex, 16);
            flags.add(hex);
            expect(ov & 1 ? !file : true).toBe(true); // a file name given keeps file for itself
            expect(ov & 2 ? !sname : true).toBe(true);
          }
          expect(r.message.options.has(52)).toBe(ov !== 0);
          expect(r.message.file).toBe(ov & 1 ? "" : file);
          expect(r.message.sname).toBe(ov & 2 ? "" : sname);
          expect(got).toEqual(expectedOptions(options));
          expectTyped(r, opts);
        }),
        params(400),
      );
      expect(overloaded).toBeGreaterThan(0);
      expect([...flags]).toContain("01");
      expect([...flags]).toContain("02");
    },
    TIMEOUT,
  );

  test("options that need the options field, file and sname: option 52 = 3, and they read back", () => {
    const big = new Uint8Array(480).map((_, i) => i & 255);
    const f: MessageFields = {
      op: 2,
      xid: 1,
      chaddr: new Uint8Array(6),
      options: [
        { code: 53, data: Uint8Array.of(5) },
        { code: 43, data: big },
      ],
      maxLength: 576,
    };
    const p = encodeMessage(f);
    expect(p.length).toBeLessThanOrEqual(576);
    const r = decodeOk(p);
    expect(toHex(r.message.options.get(52)!)).toBe("03");
    expect(toHex(r.message.options.get(43)!)).toBe(toHex(big));
  });

  test(
    "raw options with repeated codes come back joined, in first-seen order",
    () => {
      const raw = fc.array(
        fc.record({ code: fc.integer({ min: 1, max: 254 }).filter((x) => x !== 52), data: fc.uint8Array({ maxLength: 600, size: "max" }) }),
        { maxLength: 20, size: "max" },
      );
      fc.assert(
        fc.property(header, raw, (h, options) => {
          const r = decodeOk(encodeMessage({ ...h, options }));
          expect([...r.message.options].map(([k, v]) => [k, toHex(v)])).toEqual(expectedOptions(options));
        }),
        params(300),
      );
    },
    TIMEOUT,
  );

  test("options that fit in 576 bytes using file and sname are encoded, not refused", () => {
    // 3 + 404 bytes of options; the field, file and sname hold 332 + 127 + 63. RFC 3396
    // lets the encoder split the 400-byte option wherever it needs to.
    const options = [
      { code: 53, data: Uint8Array.of(2) },
      { code: 43, data: new Uint8Array(400).fill(7) },
    ];
    let p: Uint8Array | undefined;
    expect(() => {
      p = encodeMessage({ op: 2, xid: XID, chaddr: CLIENT_MAC, options, maxLength: 576 });
    }).not.toThrow();
    expect(p!.length).toBeLessThanOrEqual(576);
    expect(toHex(decodeOk(p!).message.options.get(43)!)).toBe(toHex(options[1].data));
  });
});

// ---- (a) hostile bytes never make a decoder throw ----

const ERROR_KINDS = ["short", "cookie", "option-truncated", "option-too-long"];
const WARNING_KINDS = ["no-end", "data-after-end", "sname-unterminated", "file-unterminated", "overload-invalid"];
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

/** decodeMessage returns a typed result; everything downstream of a good one is total too. */
function checkDecode(p: Uint8Array) {
  let r!: DecodeResult;
  expect(() => {
    r = decodeMessage(p);
  }).not.toThrow();
  if (!r.ok) {
    expect(ERROR_KINDS).toContain(r.error.kind);
    expect(r.error.offset).toBeGreaterThanOrEqual(0);
    expect(r.error.offset).toBeLessThanOrEqual(p.length);
    expect(r.error.reason).toBeString();
    return;
  }
  for (const w of r.warnings) {
    expect(WARNING_KINDS).toContain(w.kind);
    expect(w.offset).toBeLessThanOrEqual(p.length);
  }
  const m = r.message;
  for (const [code, data] of m.options) checkOption(code, data);
  expect(() => {
    messageType(m);
    getIp(m, 54);
    getIps(m, 3);
    getU32(m, 51);
    getString(m, 15);
    messageLeaseTimes(m);
    effectiveRoutes(m);
    ipv6OnlyWait(m, true);
    subnetMask(m);
  }).not.toThrow();
  // whatever the options hold, their JSON carries no terminal control characters (HOSTILE 22)
  expect(safeJson(optionViews(m))).not.toMatch(CONTROL);
}

function checkOption(code: number, data: Uint8Array) {
  let r!: ReturnType<typeof decodeOption>;
  expect(() => {
    r = decodeOption(code, data);
  }).not.toThrow();
  if (!r.ok) {
    expect(r.error).toMatchObject({ kind: "option", code });
    expect(r.error.offset).toBeGreaterThanOrEqual(0);
    expect(r.error.offset).toBeLessThanOrEqual(data.length);
    expect(r.error.reason.length).toBeGreaterThan(0);
    return;
  }
  const spec = OPTIONS.get(code);
  if (!spec) {
    expect(r.value).toBe(toHex(data));
    return;
  }
  roundTrip(spec.codec, r.value); // whatever decodes must encode and decode back to itself
}

type Mutation =
  | { op: "flip"; at: number; value: number }
  | { op: "truncate"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; n: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("flip" as const), at: fc.nat(), value: byte }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }) },
);

/**
 * Applies mutations. With `focus`, odd positions land at or after it (the options start at
 * 240; 236 also catches the cookie), so most mutations hit what is parsed.
 */
function mutate(base: Uint8Array, ms: Mutation[], focus = 0): Uint8Array {
  let b: Uint8Array = base.slice();
  for (const m of ms) {
    const at = m.at % 2 && focus < b.length ? focus + ((m.at >> 1) % (b.length - focus)) : m.at % (b.length + 1);
    if (m.op === "flip") {
      if (at < b.length) b[at] = m.value;
    } else if (m.op === "truncate") b = b.slice(0, at);
    else if (m.op === "insert") b = concat(b.subarray(0, at), m.bytes, b.subarray(at));
    else b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + m.n)));
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

const HEADER_PREFIX = offerPayload().slice(0, 240); // a good header and cookie

/** Valid messages to mutate: the plain OFFER, an overloaded one, one with long and structured options. */
const BASES: Uint8Array[] = [
  offerPayload(),
  encodeMessage({
    op: 2,
    xid: XID,
    chaddr: CLIENT_MAC,
    yiaddr: "198.18.0.100",
    maxLength: 576,
    options: [...OFFER_OPTIONS, ...Array.from({ length: 30 }, (_, i) => ({ code: 224 + i, data: new Uint8Array(10).fill(i) }))],
  }),
  offerPayload({
    options: [
      ...OFFER_OPTIONS,
      {
        code: 119,
        data: Uint8Array.from([3, 101, 110, 103, 5, 97, 112, 112, 108, 101, 3, 99, 111, 109, 0, 9, 109, 97, 114, 107, 101, 116, 105, 110, 103, 0xc0, 4]),
      },
      { code: 121, data: Uint8Array.of(0, 198, 18, 0, 1, 8, 10, 198, 18, 0, 254, 25, 10, 229, 0, 128, 198, 18, 0, 253) },
      { code: 81, data: Uint8Array.of(5, 0, 0, 4, 104, 111, 115, 116, 0) },
      { code: 82, data: Uint8Array.of(1, 4, 101, 116, 104, 48, 2, 2, 10, 11) },
      { code: 61, data: Uint8Array.of(1, 2, 0, 0, 0, 0, 1) },
      { code: 43, data: new Uint8Array(600).fill(0x41) },
    ],
  }),
];

describe("(a) hostile bytes: decoders return a value or a typed error, never throw", () => {
  test(
    "random bytes as a DHCP message",
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 1500, size: "max" }), (b) => {
          checkDecode(b);
        }),
        params(300),
      );
    },
    TIMEOUT,
  );

  test(
    "random options after a valid header and cookie",
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 1200, size: "max" }), (opts) => {
          const p = new Uint8Array(240 + opts.length);
          p.set(HEADER_PREFIX);
          p.set(opts, 240);
          checkDecode(p);
        }),
        params(500),
      );
    },
    TIMEOUT,
  );

  test(
    "valid messages with bytes flipped, cut, inserted and deleted",
    () => {
      const flips = fc.array(fc.record({ op: fc.constant("flip" as const), at: fc.nat(), value: byte }), { minLength: 1, maxLength: 8 });
      const edits = fc.oneof(fc.array(mutation, { minLength: 1, maxLength: 8 }), flips);
      fc.assert(
        fc.property(fc.constantFrom(...BASES), edits, (base, ms) => {
          checkDecode(mutate(base, ms, 236));
        }),
        params(600),
      );
    },
    TIMEOUT,
  );

  test(
    "decodeOption on every registered code with random data",
    () => {
      fc.assert(
        fc.property(fc.constantFrom(...CODES, 0, 224, 255), fc.uint8Array({ maxLength: 600, size: "max" }), (code, data) => {
          checkOption(code, data);
        }),
        params(1500),
      );
    },
    TIMEOUT,
  );

  test(
    "decodeOption on every registered code with a valid value, mutated",
    () => {
      const arb = fc
        .constantFrom(...MESSAGE_CODES)
        .chain((code) => fc.tuple(fc.constant(code), arbOf(KIND_OF_CODE.get(code)!, 120), fc.array(mutation, { minLength: 1, maxLength: 4 })));
      fc.assert(
        fc.property(arb, ([code, value, ms]) => {
          const data = encodeOption(code, value);
          checkOption(code, mutate(data, ms));
        }),
        params(1500),
      );
    },
    TIMEOUT,
  );

  test(
    "OfferCollector.accept on random and mutated frames: never throws, every frame accounted for",
    () => {
      const frames = BASES.map((p) => offerFrame(p));
      const PAYLOAD = 14 + 20 + 8;
      const csum = fc.constantFrom("valid" as const, "partial" as const, "unknown" as const);
      // byte flips inside the DHCP payload, with the kernel vouching for the UDP checksum, so
      // the frame gets past the IP and UDP checks and the damage reaches the DHCP decoder
      const flip = fc.record({ op: fc.constant("flip" as const), at: fc.nat().map((x) => 2 * x + 1), value: byte });
      const frame = fc.oneof(
        fc.tuple(fc.uint8Array({ maxLength: 1600, size: "max" }), csum),
        fc.tuple(
          fc.tuple(fc.constantFrom(...frames), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([f, ms]) => mutate(f, ms, PAYLOAD + 236)),
          csum,
        ),
        fc.tuple(
          fc.tuple(fc.constantFrom(...frames), fc.array(flip, { minLength: 1, maxLength: 6 })).map(([f, ms]) => mutate(f, ms, PAYLOAD + 236)),
          fc.constant("valid" as const),
        ),
      );
      const c = new OfferCollector({ xid: XID, mac: CLIENT_MAC, startedAt: 0 });
      let fed = 0;
      fc.assert(
        fc.property(frame, ([bytes, cs]) => {
          expect(() => c.accept({ bytes, csum: cs }, fed++)).not.toThrow();
        }),
        params(1500),
      );
      expect(c.drops.toJSON()["internal-error"]).toBeUndefined();
      expect(c.drops.total + c.offers.reduce((n, o) => n + o.copies, 0)).toBe(fed);
      expect(safeJson(c.offers)).not.toMatch(CONTROL);
    },
    TIMEOUT,
  );
});
