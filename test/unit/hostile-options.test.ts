// HOSTILE.md items 12–24 (options): each hostile option either drops the message with a typed
// error (kind, code, offset) and a drop counter, or is ignored (its typed getter gives the
// default, decodeOption refuses it, the offer shows it as an error) while the rest of the
// message stands; decode warnings are counted; nothing throws out of the receive path.

import { describe, expect, test } from "bun:test";
import { fromHex, toHex } from "../../core/bytes.ts";
import { OfferCollector, type Offer } from "../../core/offers.ts";
import { escapeText, safeJson } from "../../core/escape.ts";
import {
  effectiveRoutes,
  INFINITE,
  ipv6OnlyWait,
  isUsableAddress,
  leaseTimes,
  messageLeaseTimes,
  MIN_V6ONLY_WAIT,
  subnetMask,
} from "../../core/lease-times.ts";
import {
  decodeMessage,
  encodeMessage,
  getIp,
  getIps,
  getOption,
  getString,
  getU32,
  messageType,
  BOOTREPLY,
  type DhcpMessage,
  type OptionBytes,
} from "../../core/message.ts";
import { decodeOption } from "../../core/options.ts";
import { CLIENT_MAC, ip4, OFFER_OPTIONS, offerFrame, u32, XID } from "./helpers.ts";

// ---- building messages ----

const bytes = (hex: string) => fromHex(hex)!;
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const ips = (...list: string[]) => Uint8Array.from(list.flatMap((x) => [...ip4(x)]));
const opt = (code: number, data: Uint8Array | string): OptionBytes => ({ code, data: typeof data === "string" ? bytes(data) : data });

/** OFFER_OPTIONS with `code` replaced (in place) or added at the end; null removes it. */
function withOption(code: number, data: Uint8Array | null, base: OptionBytes[] = OFFER_OPTIONS): OptionBytes[] {
  const out = base.filter((o) => o.code !== code || data !== null).map((o) => (o.code === code ? { code, data: data! } : o));
  if (data !== null && !base.some((o) => o.code === code)) out.push({ code, data });
  return out;
}

function payload(o: { options?: OptionBytes[]; yiaddr?: string; minLength?: number } = {}): Uint8Array {
  return encodeMessage({
    op: BOOTREPLY,
    xid: XID,
    chaddr: CLIENT_MAC,
    yiaddr: o.yiaddr ?? "198.18.0.100",
    siaddr: "198.18.0.1",
    options: o.options ?? OFFER_OPTIONS,
    minLength: o.minLength,
  });
}

/** Offset of the END option in the main options field. */
function endOffset(p: Uint8Array): number {
  let i = 240;
  while (p[i] !== 255) i += p[i] === 0 ? 1 : 2 + p[i + 1];
  return i;
}

function decoded(p: Uint8Array): { message: DhcpMessage; warnings: { kind: string; offset: number }[] } {
  let r!: ReturnType<typeof decodeMessage>;
  expect(() => {
    r = decodeMessage(p);
  }).not.toThrow();
  if (!r.ok) throw new Error(`expected the message to decode, got ${JSON.stringify(r.error)}`);
  return r;
}

function collect(p: Uint8Array): { c: OfferCollector; offer: Offer | null } {
  const c = new OfferCollector({ xid: XID, mac: CLIENT_MAC, startedAt: 0 });
  let offer: Offer | null = null;
  expect(() => {
    offer = c.accept({ bytes: offerFrame(p), csum: "unknown" }, 1);
  }).not.toThrow();
  expect(c.drops.toJSON()["internal-error"]).toBeUndefined();
  return { c, offer };
}

/** The message is dropped: a typed decode error, and the collector counts `decode-<kind>`. */
function expectDropped(p: Uint8Array, error: { kind: string; code?: number; offset?: number }) {
  const r = decodeMessage(p);
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error).toMatchObject(error);
  expect(r.error.reason.length).toBeGreaterThan(0);
  const { c, offer } = collect(p);
  expect(offer).toBeNull();
  expect(c.drops.toJSON()).toEqual({ [`decode-${error.kind}`]: 1 });
}

/** The frame is a well-formed message the collector drops for `reason`. */
function expectCollectorDrops(p: Uint8Array, reason: string) {
  const { c, offer } = collect(p);
  expect(offer).toBeNull();
  expect(c.drops.toJSON()).toEqual({ [reason]: 1 });
}

/** The option is ignored: decodeOption refuses it, the offer stands and shows the error. */
function expectIgnored(p: Uint8Array, code: number, reason?: RegExp): { message: DhcpMessage; offer: Offer } {
  const { message } = decoded(p);
  expect(message.options.has(code)).toBe(true);
  const r = decodeOption(code, message.options.get(code)!);
  expect(r.ok).toBe(false);
  if (!r.ok && reason) expect(r.error.reason).toMatch(reason);
  expect(getOption(message, code)).toBeUndefined();
  const { c, offer } = collect(p);
  expect(c.drops.total).toBe(0);
  expect(offer).not.toBeNull();
  const view = offer!.options.find((v) => v.code === code)!;
  expect(view.error).toBeString();
  expect(view.value).toBeUndefined();
  expect(view.hex).toBe(toHex(message.options.get(code)!));
  return { message, offer: offer! };
}

test("control: the plain OFFER decodes with no warnings and is accepted", () => {
  const { warnings } = decoded(payload());
  expect(warnings).toEqual([]);
  const { c, offer } = collect(payload());
  expect(offer).not.toBeNull();
  expect(c.drops.total + c.warnings.total).toBe(0);
});

describe("HOSTILE 12: option length byte missing or running past the end", () => {
  test("the last byte of the message is an option code with no length", () => {
    const full = payload();
    const e = endOffset(full);
    const p = full.slice(0, e + 1);
    p[e] = 3;
    expectDropped(p, { kind: "option-truncated", code: 3, offset: e });
  });

  test("a length that runs past the end of the message", () => {
    const full = payload();
    const e = endOffset(full);
    const p = full.slice(0, e + 6);
    p[e] = 15;
    p[e + 1] = 200;
    expectDropped(p, { kind: "option-truncated", code: 15, offset: e });
  });

  test("the first option's length runs past the end", () => {
    const p = payload().slice(0, 250);
    p[240] = 53;
    p[241] = 255;
    expectDropped(p, { kind: "option-truncated", code: 53, offset: 240 });
  });

  test("an option in an overloaded file field runs past the field", () => {
    const p = payload({ options: withOption(52, Uint8Array.of(1)) });
    p[108] = 15;
    p[109] = 127; // 108 + 2 + 127 > 236
    expectDropped(p, { kind: "option-truncated", code: 15, offset: 108 });
  });

  test("an option code in the last byte of an overloaded file field has no length", () => {
    const p = payload({ options: withOption(52, Uint8Array.of(1)) });
    p[235] = 6;
    expectDropped(p, { kind: "option-truncated", code: 6, offset: 235 });
  });
});

describe("HOSTILE 13: no END; bytes after END", () => {
  test("no END: a warning at the end of the message, the options before it stand", () => {
    const p = payload();
    p[endOffset(p)] = 0;
    const { message, warnings } = decoded(p);
    expect(warnings).toEqual([{ kind: "no-end", offset: p.length }]);
    expect(getIps(message, 6)).toEqual(["198.18.0.1", "198.18.0.2"]);
    const { c, offer } = collect(p);
    expect(offer).not.toBeNull();
    expect(c.warnings.toJSON()).toEqual({ "no-end": 1 });
  });

  test("options after END are not read, and the first non-PAD byte after END is reported", () => {
    const p = payload({ minLength: 340 });
    const e = endOffset(p);
    p.set(bytes("00 06 04 08080808 03 04 01010101"), e + 1); // PAD, then a DNS and a router option
    const { message, warnings } = decoded(p);
    expect(warnings).toEqual([{ kind: "data-after-end", offset: e + 2 }]);
    expect(getIps(message, 6)).toEqual(["198.18.0.1", "198.18.0.2"]);
    expect(getIps(message, 3)).toEqual(["198.18.0.1"]);
    const { c, offer } = collect(p);
    expect(offer!.dns).toEqual(["198.18.0.1", "198.18.0.2"]);
    expect(c.warnings.toJSON()).toEqual({ "data-after-end": 1 });
  });

  test("only PAD after END is not worth a warning", () => {
    expect(decoded(payload({ minLength: 400 })).warnings).toEqual([]);
  });

  test("an overloaded file field without END: a warning at its end", () => {
    const p = payload({ options: withOption(52, Uint8Array.of(1)) });
    p.set(bytes("06 04 08080808"), 108); // no END, then PAD to 236
    const { message, warnings } = decoded(p);
    expect(warnings).toEqual([{ kind: "no-end", offset: 236 }]);
    expect(getIps(message, 6)).toEqual(["198.18.0.1", "198.18.0.2", "8.8.8.8"]);
  });
});

describe("HOSTILE 14: option 53 missing, wrong length, unknown value", () => {
  test("control: 53 = OFFER is accepted", () => {
    expect(collect(payload()).offer).not.toBeNull();
  });

  test("53 missing", () => {
    const p = payload({ options: withOption(53, null) });
    expect(messageType(decoded(p).message)).toBe(0);
    expectCollectorDrops(p, "no-message-type");
  });

  test.each([
    ["length 0", ""],
    ["length 2", "0202"],
    ["value 0", "00"],
    ["value 19", "13"],
    ["value 255", "ff"],
  ])("53 with %s", (_, hex) => {
    const p = payload({ options: withOption(53, bytes(hex)) });
    const { message } = decoded(p);
    expect(decodeOption(53, message.options.get(53)!).ok).toBe(false);
    expectCollectorDrops(p, "no-message-type");
  });

  test("the typed getter gives its default (0) for a value decodeOption refuses, not the raw byte", () => {
    for (const hex of ["", "0202", "00", "13", "ff"]) {
      expect(messageType(decoded(payload({ options: withOption(53, bytes(hex)) })).message)).toBe(0);
    }
  });

  test("53 repeated: the two instances join into a 2-byte value (RFC 3396), which is no type", () => {
    const p = payload({ options: [opt(53, "02"), ...OFFER_OPTIONS] });
    expect(toHex(decoded(p).message.options.get(53)!)).toBe("0202");
    expectCollectorDrops(p, "no-message-type");
  });

  test("53 = ACK is not an OFFER", () => {
    expectCollectorDrops(payload({ options: withOption(53, Uint8Array.of(5)) }), "not-offer");
  });
});

describe("HOSTILE 15: fixed-length options with the wrong length", () => {
  const field: Record<number, (o: Offer) => unknown> = {
    1: (o) => o.subnetMask,
    51: (o) => o.leaseTime,
    54: (o) => o.serverId,
    58: (o) => o.renewalTime,
    59: (o) => o.rebindingTime,
    108: (o) => o.ipv6OnlyPreferred,
    50: () => null,
  };
  const rows = [1, 51, 54, 58, 59, 108, 50].flatMap((code) => [0, 3, 5, 8].map((len) => [code, len] as const));
  test.each(rows)("option %i with length %i is ignored", (code, len) => {
    const p = payload({ options: withOption(code, new Uint8Array(len).fill(0x0a)) });
    const { message, offer } = expectIgnored(p, code, new RegExp(`length ${len}`));
    expect(getIp(message, code)).toBeNull();
    expect(getU32(message, code)).toBeNull();
    expect(field[code](offer)).toBeNull();
  });

  test("a bad server id does not stop the offer being keyed by its source address", () => {
    const { offer } = collect(payload({ options: withOption(54, bytes("c61200")) }));
    expect(offer!.serverId).toBeNull();
    expect(offer!.sourceIp).toBe("198.18.0.1");
  });
});

describe("HOSTILE 16: address lists (3, 6, 42, 44) of bad length or content", () => {
  const bad: [string, Uint8Array][] = [
    ["length 0", new Uint8Array(0)],
    ["length 5", bytes("c612000101")],
    ["length 7", bytes("c6120001c61200")],
    ["0.0.0.0 inside", ips("198.18.0.1", "0.0.0.0")],
    ["64 entries (over 255/4)", ips(...Array(64).fill("10.0.0.1"))],
  ];
  const rows = [3, 6, 42, 44].flatMap((code) => bad.map(([what, data]) => [code, what, data] as const));
  test.each(rows)("option %i with %s is ignored", (code, _, data) => {
    const { message, offer } = expectIgnored(payload({ options: withOption(code, data) }), code);
    expect(getIps(message, code)).toEqual([]);
    if (code === 3) expect(offer.routers).toEqual([]);
    if (code === 6) expect(offer.dns).toEqual([]);
  });

  test("control: 63 entries (252 bytes) are read", () => {
    const { message } = decoded(payload({ options: withOption(6, ips(...Array(63).fill("10.0.0.1"))) }));
    expect(getIps(message, 6)).toHaveLength(63);
  });

  test("a bad option 3 leaves no default route", () => {
    const { message } = decoded(payload({ options: withOption(3, bytes("c61200")) }));
    expect(effectiveRoutes(message)).toEqual([]);
  });
});

describe("HOSTILE 17: option 121 (RFC 3442)", () => {
  const bad: [string, string, number][] = [
    ["prefix length 33", "21 c6120000 c6120001", 0],
    ["prefix length over 32 in the second route", "00 c6120001 40 0a000000 c6120001", 5],
    ["destination bytes missing", "18 0a00", 0],
    ["router bytes missing", "08 0a c612", 0],
    ["router of the second route missing", "00 c6120001 08 0a c6", 5],
    ["bits set beyond the prefix (/25)", "19 0ae50081 c6120001", 0],
    ["bits set beyond the prefix (/12)", "0c 0a1f c6120001", 0],
  ];
  test.each(bad)("%s: ignored, and option 3 applies", (_, hex, offset) => {
    const p = payload({ options: withOption(121, bytes(hex)) });
    const { message, offer } = expectIgnored(p, 121);
    const r = decodeOption(121, message.options.get(121)!);
    expect(!r.ok && r.error).toMatchObject({ kind: "option", code: 121, offset });
    expect(offer.classlessRoutes).toEqual([]);
    expect(effectiveRoutes(message)).toEqual([{ destination: "0.0.0.0", prefix: 0, router: "198.18.0.1" }]);
  });

  test("121 and 3 together: 121 wins, 3 is ignored (no default route from 3)", () => {
    const p = payload({ options: withOption(121, bytes("08 0a c61200fe")) });
    const { message } = decoded(p);
    expect(getIps(message, 3)).toEqual(["198.18.0.1"]);
    expect(effectiveRoutes(message)).toEqual([{ destination: "10.0.0.0", prefix: 8, router: "198.18.0.254" }]);
  });

  test("121 with its own default route overrides the router in 3", () => {
    const p = payload({ options: withOption(121, bytes("00 c61200fe 08 0a c61200fd")) });
    expect(effectiveRoutes(decoded(p).message)).toEqual([
      { destination: "0.0.0.0", prefix: 0, router: "198.18.0.254" },
      { destination: "10.0.0.0", prefix: 8, router: "198.18.0.253" },
    ]);
  });

  test("without 121, the first router in 3 is the default route", () => {
    const p = payload({ options: withOption(3, ips("198.18.0.1", "198.18.0.2")) });
    expect(effectiveRoutes(decoded(p).message)).toEqual([{ destination: "0.0.0.0", prefix: 0, router: "198.18.0.1" }]);
  });
});

describe("HOSTILE 18: option 119 compression", () => {
  const L63 = "3f" + "78".repeat(63);
  const label = (s: string) => toHex(Uint8Array.of(s.length)) + toHex(ascii(s));
  const bad: [string, string, RegExp, number | null][] = [
    ["a pointer to itself", "c000", /point backward/, 0],
    ["a pointer back to its own name (a loop)", label("lab") + "c000", /point backward/, 4],
    ["a second name looping on itself", label("a") + "00" + label("b") + "c003", /point backward/, 5],
    ["a forward pointer", "c002" + label("a") + "00", /point backward/, 0],
    ["a pointer beyond the data", label("a") + "00" + "c0ff", /point backward/, 3],
    ["a truncated pointer", label("a") + "00" + "c0", /truncated compression pointer/, 3],
    ["a label over 63", "40" + "78".repeat(64) + "00", /label length 64 over 63/, 0],
    ["a name over 255", L63.repeat(4) + "00", /longer than 255/, null],
    ["a name over 255 through a pointer", L63.repeat(3) + "00" + L63 + "c000", /longer than 255/, null],
    ["an expansion bomb", L63.repeat(3) + "00" + "c000".repeat(120), /expand beyond 8 KiB/, null],
  ];
  test.each(bad)("%s: ignored, quickly", (_, hex, reason, offset) => {
    const t0 = performance.now();
    const { message, offer } = expectIgnored(payload({ options: withOption(119, bytes(hex)) }), 119, reason);
    expect(performance.now() - t0).toBeLessThan(1000);
    const r = decodeOption(119, message.options.get(119)!);
    if (offset !== null) expect(!r.ok && r.error.offset).toBe(offset);
    expect(offer.search).toEqual([]);
  });

  test("control: RFC 3397's example split over two option instances decodes", () => {
    // "eng.apple.com" then "marketing" + a pointer to "apple.com", split mid-label
    const all = bytes(label("eng") + label("apple") + label("com") + "00" + label("marketing") + "c004");
    const p = payload({ options: [...OFFER_OPTIONS, opt(119, all.subarray(0, 9)), opt(119, all.subarray(9))] });
    expect(collect(p).offer!.search).toEqual(["eng.apple.com", "marketing.apple.com"]);
  });
});

describe("HOSTILE 19: option 52 overload", () => {
  const MAIN = [opt(53, "02"), opt(54, ips("198.18.0.1")), opt(51, u32(3600))];

  test("file and sname carry options: both are read, file first; sname/file strings are empty", () => {
    const p = payload({ options: [...MAIN, opt(52, "03")] });
    p.set(bytes("03 04 c6120001 ff"), 108); // file: router, END
    p.set(bytes("06 04 08080808 0f 03 616263 ff"), 44); // sname: DNS, domain, END
    const { message, warnings } = decoded(p);
    expect(warnings).toEqual([]);
    expect(getIps(message, 3)).toEqual(["198.18.0.1"]);
    expect(getIps(message, 6)).toEqual(["8.8.8.8"]);
    expect(getString(message, 15)).toBe("abc");
    expect([message.sname, message.file]).toEqual(["", ""]);
    const { offer } = collect(p);
    expect([offer!.routers, offer!.dns, offer!.domain]).toEqual([["198.18.0.1"], ["8.8.8.8"], "abc"]);
  });

  test("a second 52 inside file is not followed and not joined to the first", () => {
    const p = payload({ options: [...MAIN, opt(52, "01")] });
    p.set(bytes("34 01 02 03 04 c6120001 ff"), 108); // file: 52 = sname, router, END
    p.set(bytes("06 04 08080808 ff"), 44); // options-looking bytes in sname
    const { message } = decoded(p);
    expect(toHex(message.options.get(52)!)).toBe("01");
    expect(getIps(message, 3)).toEqual(["198.18.0.1"]);
    expect(getIps(message, 6)).toEqual([]);
    expect(message.sname).toBe("\x06\x04\x08\x08\x08\x08\xff"); // sname stays a string
  });

  test("a 52 inside sname pointing back at file makes no loop", () => {
    const p = payload({ options: [...MAIN, opt(52, "02")] });
    p.set(bytes("34 01 01 03 04 c6120001 ff"), 44); // sname: 52 = file, router, END
    p.set(bytes("06 04 08080808 ff"), 108); // file must stay unread
    const { message, warnings } = decoded(p);
    expect(warnings).toEqual([]);
    expect(toHex(message.options.get(52)!)).toBe("02");
    expect(getIps(message, 3)).toEqual(["198.18.0.1"]);
    expect(getIps(message, 6)).toEqual([]);
  });

  test("52 repeated in the main field (1 then 2) is no valid overload: neither field is read", () => {
    const p = payload({ options: [...MAIN, opt(52, "01"), opt(52, "02")] });
    p.set(bytes("03 04 c6120001 ff"), 108);
    p.set(bytes("06 04 08080808 ff"), 44);
    const { message } = decoded(p);
    expect(decodeOption(52, message.options.get(52)!).ok).toBe(false);
    expect(getIps(message, 3)).toEqual([]);
    expect(getIps(message, 6)).toEqual([]);
  });

  // decodeOption(52) refuses values outside 1-3, so the message decoder must not act on them
  test.each([0, 4, 7])("52 with the invalid value %i is ignored: neither field is read", (value) => {
    const p = payload({ options: [...MAIN, opt(52, Uint8Array.of(value))] });
    p.set(bytes("03 04 c6120001 ff"), 108);
    p.set(bytes("06 04 08080808 ff"), 44);
    const { message } = decoded(p);
    expect(decodeOption(52, message.options.get(52)!).ok).toBe(false);
    expect(getIps(message, 3)).toEqual([]);
    expect(getIps(message, 6)).toEqual([]);
  });

  test("an encoder-made overload (maxLength 576) reads back whole", () => {
    const many = Array.from({ length: 40 }, (_, i) => opt(224 + (i % 30), new Uint8Array(8).fill(i)));
    const options = [...MAIN, ...many];
    const p = encodeMessage({ op: BOOTREPLY, xid: XID, chaddr: CLIENT_MAC, yiaddr: "198.18.0.100", options, maxLength: 576 });
    expect(p.length).toBeLessThanOrEqual(576);
    const { message, warnings } = decoded(p);
    expect(warnings).toEqual([]);
    expect(message.options.has(52)).toBe(true);
    const want = new Map<number, string>();
    for (const o of options) want.set(o.code, (want.get(o.code) ?? "") + toHex(o.data));
    for (const [code, hex] of want) expect(toHex(message.options.get(code)!)).toBe(hex);
  });
});

describe("HOSTILE 20: the same option repeated (RFC 3396)", () => {
  test("two DNS instances join into one list", () => {
    const p = payload({ options: [...withOption(6, ips("198.18.0.1")), opt(6, ips("198.18.0.2"))] });
    expect(getIps(decoded(p).message, 6)).toEqual(["198.18.0.1", "198.18.0.2"]);
  });

  test("a router split in the middle of its address joins before it is decoded", () => {
    const p = payload({ options: [...withOption(3, bytes("c612")), opt(3, "0001")] });
    expect(collect(p).offer!.routers).toEqual(["198.18.0.1"]);
  });

  test("a domain name split over two instances", () => {
    const p = payload({ options: [...withOption(15, ascii("lab.")), opt(15, ascii("example"))] });
    expect(collect(p).offer!.domain).toBe("lab.example");
  });

  test("a fixed-length option repeated is decoded once, joined, and so ignored (not first or last wins)", () => {
    const p = payload({ options: [...OFFER_OPTIONS, opt(51, u32(7200))] });
    const { message } = expectIgnored(p, 51, /length 8/);
    expect(getU32(message, 51)).toBeNull();
  });

  const huge = (n: number) => [opt(53, "02"), opt(54, ips("198.18.0.1")), ...Array.from({ length: n }, () => opt(43, new Uint8Array(255).fill(0x41)))];

  test("64 instances of 255 bytes (16,320) stay under the cap", () => {
    expect(decoded(payload({ options: huge(64) })).message.options.get(43)!.length).toBe(64 * 255);
  });

  test("a 65th instance passes the 16 KiB cap: the message is dropped", () => {
    expectDropped(payload({ options: huge(65) }), { kind: "option-too-long", code: 43, offset: 240 + 3 + 6 + 64 * 257 });
  });
});

describe("HOSTILE 21: option 61 and option 82 malformed", () => {
  test.each([
    ["type 1 with a 5-byte MAC", "01 0200000000"],
    ["type 1 with a 7-byte MAC", "01 02000000000102"],
    ["a type and nothing else", "01"],
    ["length 0", ""],
  ])("61: %s is ignored", (_, hex) => {
    expectIgnored(payload({ options: withOption(61, bytes(hex)) }), 61);
  });

  test("control: 61 of type 0 with an opaque id is read", () => {
    expect(getOption(decoded(payload({ options: withOption(61, bytes("00 6162")) })).message, 61)).toEqual({ type: 0, id: "6162" });
  });

  test.each([
    ["a sub-option overrunning the option", "01 05 0102", /sub-option 1 runs past the end/],
    ["the second sub-option overrunning", "01 01 aa 02 09 00", /sub-option 2 runs past/],
    ["a lone sub-option code", "01 01 aa 02", /header runs past/],
  ])("82: %s is ignored", (_, hex, reason) => {
    const { offer } = expectIgnored(payload({ options: withOption(82, bytes(hex)) }), 82, reason);
    expect(offer.relayAgentInfo).toBeNull();
  });

  test("control: a valid 82, given first, is read and sits last before END (RFC 3046 2.1)", () => {
    const p = payload({ options: [opt(82, "0104" + toHex(ascii("eth0"))), ...OFFER_OPTIONS] });
    const { message } = decoded(p);
    expect([...message.options.keys()].at(-1)).toBe(82);
    expect(collect(p).offer!.relayAgentInfo).toEqual([{ code: 1, hex: toHex(ascii("eth0")) }]);
  });
});

describe("HOSTILE 22: hostile names in 12, 15 and 81", () => {
  const HOSTILE_NAMES = [
    "$(touch /tmp/pwned)",
    "'; reboot #",
    "`reboot`",
    "\x1b]0;title\x07",
    "\x1b[2J",
    "a\0b",
    "line1\nline2",
    "\x9b31m",
    "a|b&c;d",
    "\"quoted\" 'too'",
    "tab\there",
    "del\x7f",
    "\r\x1b[1A overwrite",
    "\xff\xfe",
  ];
  /** Anything that can move a cursor, set a title or break a line: C0, DEL, C1, U+2028/9. */
  const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

  const withNames = (n: string) => [...withOption(15, ascii(n)), opt(12, ascii(n)), opt(81, Uint8Array.of(0, 0, 0, ...ascii(n)))];

  test.each(HOSTILE_NAMES.map((n) => [JSON.stringify(n), n]))("%s is stored raw and shown escaped", (_, n) => {
    const p = payload({ options: withNames(n) });
    const { message } = decoded(p);
    // stored raw: byte for byte, nothing trimmed or replaced
    expect(getString(message, 12)).toBe(n);
    expect(getString(message, 15)).toBe(n);
    expect(getOption(message, 81)).toEqual({ flags: 0, rcode1: 0, rcode2: 0, name: n });
    const { offer } = collect(p);
    expect(offer!.domain).toBe(n);
    // shown escaped: printable ASCII only, in text and in JSON
    expect(escapeText(n)).toMatch(/^[\x20-\x7e]*$/);
    expect(safeJson(n)).not.toMatch(CONTROL);
    const json = safeJson(offer);
    expect(json).not.toMatch(CONTROL);
    const back = JSON.parse(json) as Offer;
    expect(back.domain).toBe(n); // escaped, not lost
    expect(back.options.find((v) => v.code === 12)!.value).toBe(n);
  });

  test("escapeText keeps printable text and makes every other byte visible", () => {
    expect(escapeText("\x1b[2J")).toBe("\\x1b[2J");
    expect(escapeText("a\0b\n")).toBe("a\\x00b\\x0a");
    expect(escapeText("\x9b")).toBe("\\x9b");
    expect(escapeText("back\\slash")).toBe("back\\\\slash");
    expect(escapeText("$(touch /tmp/pwned)")).toBe("$(touch /tmp/pwned)");
  });

  test("a 300-byte domain name (split over two instances) is stored whole", () => {
    const n = "x".repeat(300);
    expect(collect(payload({ options: withOption(15, ascii(n)) })).offer!.domain).toBe(n);
  });

  test("non-DNS syntax in 15 is stored as it came", () => {
    const n = "exa mple..com.-_";
    expect(getString(decoded(payload({ options: withOption(15, ascii(n)) })).message, 15)).toBe(n);
  });

  test("81 in wire format with a label over 63 is ignored", () => {
    expectIgnored(payload({ options: withOption(81, bytes("050000 40" + "78".repeat(64) + "00")) }), 81, /over 63/);
  });
});

describe("HOSTILE 23: lease times", () => {
  test("108 of 1 s is raised to the 300 s floor (RFC 8925 3.4)", () => {
    const m = decoded(payload({ options: withOption(108, u32(1)) })).message;
    expect(ipv6OnlyWait(m, true)).toBe(MIN_V6ONLY_WAIT);
    expect(MIN_V6ONLY_WAIT).toBe(300);
  });

  test.each([
    [0, 300],
    [299, 300],
    [300, 300],
    [1800, 1800],
    [INFINITE, INFINITE],
  ])("108 = %i waits %i", (v, want) => {
    expect(ipv6OnlyWait(decoded(payload({ options: withOption(108, u32(v)) })).message, true)).toBe(want);
  });

  test("108 is honoured only when asked for, and a malformed 108 is none", () => {
    expect(ipv6OnlyWait(decoded(payload({ options: withOption(108, u32(1)) })).message, false)).toBeNull();
    expect(ipv6OnlyWait(decoded(payload({ options: withOption(108, bytes("0001")) })).message, true)).toBeNull();
    expect(ipv6OnlyWait(decoded(payload()).message, true)).toBeNull();
  });

  test("51 of 0 is rejected", () => {
    expect(leaseTimes(0, null, null)).toEqual({ error: "lease time 0" });
    expect(messageLeaseTimes(decoded(payload({ options: withOption(51, u32(0)) })).message)).toHaveProperty("error");
  });

  test("51 missing or malformed is no lease", () => {
    expect(messageLeaseTimes(decoded(payload({ options: withOption(51, null) })).message)).toHaveProperty("error");
    expect(messageLeaseTimes(decoded(payload({ options: withOption(51, bytes("0e10")) })).message)).toHaveProperty("error");
  });

  test.each([
    ["T1 = T2", 3600, 1800, 1800],
    ["T1 = 0 (renew at once, forever)", 3600, 0, 3150],
    ["T1 > T2", 3600, 3000, 2000],
    ["T2 = lease", 3600, 1800, 3600],
    ["T2 > lease", 3600, 1800, 5000],
    ["T1 > lease, T2 absent", 3600, 4000, null],
    ["T1 absent, T2 > lease", 3600, null, 4000],
  ])("%s: both reset to lease/2 and 7/8 lease, and the change is said", (_, lease, t1, t2) => {
    const r = leaseTimes(lease, t1, t2);
    expect(r).toMatchObject({ lease: 3600, t1: 1800, t2: 3150, infinite: false });
    expect("adjusted" in r && r.adjusted.length).toBe(1);
  });

  test("sane T1/T2 are kept; absent ones default without a complaint", () => {
    expect(leaseTimes(3600, 1000, 2000)).toEqual({ lease: 3600, t1: 1000, t2: 2000, infinite: false, adjusted: [] });
    expect(leaseTimes(3600, null, null)).toEqual({ lease: 3600, t1: 1800, t2: 3150, infinite: false, adjusted: [] });
  });

  test("lease 0xffffffff is infinite, whatever T1 and T2 say", () => {
    expect(leaseTimes(0xffffffff, 100, 50)).toEqual({ lease: INFINITE, t1: INFINITE, t2: INFINITE, infinite: true, adjusted: [] });
    const m = decoded(payload({ options: withOption(51, u32(0xffffffff)) })).message;
    expect(messageLeaseTimes(m)).toMatchObject({ infinite: true });
  });

  test("from a message: T1 >= T2 reset", () => {
    const m = decoded(payload({ options: withOption(58, u32(3200)) })).message; // T2 is 3150
    expect(messageLeaseTimes(m)).toMatchObject({ t1: 1800, t2: 3150 });
  });
});

describe("HOSTILE 24: subnet mask and yiaddr", () => {
  test.each(["ff00ff00", "00ffffff", "ffffff01", "fffeffff"])("non-contiguous mask %s is ignored", (hex) => {
    const { message, offer } = expectIgnored(payload({ options: withOption(1, bytes(hex)) }), 1, /contiguous/);
    expect(subnetMask(message)).toBeNull();
    expect(offer.subnetMask).toBeNull();
  });

  test.each(["0.0.0.0", "0.1.2.3", "255.255.255.255", "224.0.0.1", "239.255.255.250", "240.0.0.1", "127.0.0.1", "127.10.20.30"])(
    "yiaddr %s is dropped",
    (yiaddr) => {
      expect(isUsableAddress(yiaddr)).toBe(false);
      expectCollectorDrops(payload({ yiaddr }), "offer-bad-address"); // server id present
    },
  );

  test("yiaddr equal to the offered subnet's broadcast address is dropped", () => {
    // 198.18.0.255 with mask 255.255.255.0 (and option 28 saying the same)
    expectCollectorDrops(payload({ yiaddr: "198.18.0.255" }), "offer-bad-address");
  });

  test.each([
    ["198.18.0.254", "ffffff00"],
    ["198.18.0.3", "fffffffe"], // RFC 3021: both addresses of a /31 are hosts
    ["198.18.0.9", "ffffffff"],
  ])("control: yiaddr %s with mask %s is accepted", (yiaddr, mask) => {
    const { c, offer } = collect(payload({ yiaddr, options: withOption(28, null, withOption(1, bytes(mask))) }));
    expect(c.drops.total).toBe(0);
    expect(offer!.yiaddr).toBe(yiaddr);
  });

  test("isUsableAddress on garbage is false, on ordinary addresses true", () => {
    for (const s of ["", "1.2.3", "a.b.c.d", "300.1.1.1"]) expect(isUsableAddress(s)).toBe(false);
    for (const s of ["10.0.0.1", "192.0.2.1", "223.255.255.254", "1.0.0.0"]) expect(isUsableAddress(s)).toBe(true);
  });
});
