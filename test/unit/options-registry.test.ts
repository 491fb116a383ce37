// The options registry (core/options.ts): every registered option carries at least one valid
// value through the shared round trip and through decodeOption/encodeOption; the table itself
// is well formed; and what a user types with --option is turned into the right wire bytes.

import { describe, expect, test } from "bun:test";
import { fromHex, toHex } from "../../core/bytes.ts";
import { decodeOption, encodeOption, optionName, OPTIONS, OPTIONS_BY_NAME, parseOptionArg } from "../../core/options.ts";
import { roundTrip } from "./roundtrip.ts";

const a = (s: string) => toHex(Uint8Array.from(s, (c) => c.charCodeAt(0)));
const label = (s: string) => (s.length < 16 ? "0" : "") + s.length.toString(16) + a(s);
const name = (dotted: string) => dotted.split(".").map(label).join("") + "00";

/**
 * Hand-picked valid option data, one or more per codec kind. Every registered option must
 * decode at least one of them; every one it decodes must round-trip. (A sample that means
 * nothing to an option, such as a name for a u8, simply fails to decode and is skipped.)
 */
const SAMPLES: string[] = [
  "", // flag; empty hex, sub-options, allowEmpty lists
  "00",
  "01",
  "02",
  "03", // u8, bool, message type, overload, u8 lists
  "05dc",
  "05dc0240", // u16, u16 lists
  "00000e10",
  "ffffffff", // u32, seconds, i32 (ffffffff: infinite / -1)
  "ffffff00", // mask
  "c0000201",
  "c0000201c0000202", // ip, ip lists
  "c0000200ffffff00", // ip pairs
  a("lab.example"), // text
  "0102ff", // hex
  name("lab.example") + name("b.example"), // domain lists
  "18c00002c0000201" + "00c0000201", // classless routes
  "01020000000001", // client id
  label("test") + label("abc"), // length-prefixed list
  "0104" + a("eth0") + "02020a0b", // sub-options
  "050000" + name("host.example"), // client FQDN
  "00000de9030a0b0c", // vendor blocks
  "00" + name("sip.example"),
  "01c0000201", // SIP servers, both encodings
  "00" + "00112233445566778899aabbccddeeff", // UUID
  "010201", // NDI
];

const specs = [...OPTIONS.values()];

describe("every registered option round-trips a valid value", () => {
  test.each(specs.map((s) => [s.code, s.name, s] as const))("%i %s", (code, _name, spec) => {
    let tried = 0;
    for (const hex of SAMPLES) {
      const data = fromHex(hex)!;
      const d = spec.codec.decode(data);
      if (!d.ok) continue;
      tried++;
      roundTrip(spec.codec, d.value);
      const wire = encodeOption(code, d.value);
      expect(wire.length).toBe(spec.codec.encodingLength(d.value));
      expect(decodeOption(code, wire)).toEqual({ ok: true, value: d.value });
      // and decodeOption agrees with the codec it names, on the sample itself
      expect(decodeOption(code, data)).toEqual({ ok: true, value: d.value });
    }
    expect(tried).toBeGreaterThan(0);
  });
});

describe("the registry itself", () => {
  test("codes are 1-254 and each entry sits under its own code", () => {
    for (const [code, spec] of OPTIONS) {
      expect(spec.code).toBe(code);
      expect(code).toBeGreaterThanOrEqual(1);
      expect(code).toBeLessThanOrEqual(254);
    }
  });

  test("names are unique, kebab-case, and each name leads back to its entry", () => {
    const names = specs.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(OPTIONS_BY_NAME.size).toBe(OPTIONS.size);
    for (const s of specs) {
      expect(s.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(OPTIONS_BY_NAME.get(s.name)).toBe(s);
      expect(optionName(s.code)).toBe(s.name);
    }
  });

  test("every RFC 2132 option is present (1-61, 64-76; 62 and 63 are RFC 2242's)", () => {
    const missing: number[] = [];
    for (let code = 1; code <= 76; code++) {
      if (code === 62 || code === 63) continue;
      const spec = OPTIONS.get(code);
      if (!spec) missing.push(code);
      else expect(spec.rfc).toBe("2132");
    }
    expect(missing).toEqual([]);
  });

  test("every entry names its RFC (or its origin) and has a codec with all four functions", () => {
    for (const s of specs) {
      expect(s.rfc.length).toBeGreaterThan(0);
      for (const f of ["decode", "encodingLength", "encode", "parse"] as const) expect(typeof s.codec[f]).toBe("function");
    }
  });

  test("an unknown code stays raw: decodes to hex, encodes from hex, is named option-N", () => {
    expect(OPTIONS.has(224)).toBe(false);
    expect(decodeOption(224, Uint8Array.of(1, 2, 0xff))).toEqual({ ok: true, value: "0102ff" });
    expect(toHex(encodeOption(224, "0102ff"))).toBe("0102ff");
    expect(optionName(224)).toBe("option-224");
  });

  test("a decode error names the option and the offset inside its data", () => {
    expect(decodeOption(121, fromHex("00c0000201" + "21")!)).toEqual({
      ok: false,
      error: { kind: "option", code: 121, offset: 5, reason: "prefix length 33 over 32" },
    });
  });
});

describe("parseOptionArg: what a user types with --option", () => {
  const good: [string, number, string][] = [
    ["121=192.0.2.0/24,10.0.0.1", 121, "18c00002" + "0a000001"],
    ["domain-search=a.example,b.example", 119, name("a.example") + name("b.example")],
    ["43=hex:0102ff", 43, "0102ff"],
    ["lease-time=12h", 51, "0000a8c0"],
    ["61=aa:bb:cc:dd:ee:ff", 61, "01aabbccddeeff"],
    ["classless-routes=0.0.0.0/0,10.0.0.1", 121, "00" + "0a000001"],
    ["routers=192.0.2.1,192.0.2.2", 3, "c0000201c0000202"],
    ["HOSTNAME=probe", 12, a("probe")], // names are case-insensitive
    ["rapid-commit", 80, ""], // a flag takes no value
    ["224=hex:01", 224, "01"], // unknown codes take raw bytes
    ["12=hex:", 12, ""], // raw bytes bypass the codec on purpose
    ["message-type=offer", 53, "02"],
    ["subnet-mask=/24", 1, "ffffff00"],
    ["client-fqdn=host.example", 81, "050000" + name("host.example")],
    ["82=1=hex:0a0b,2=eth0", 82, "01020a0b" + "0204" + a("eth0")],
  ];
  test.each(good)("%s", (arg, code, hex) => {
    const r = parseOptionArg(arg);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.code).toBe(code);
    expect(toHex(r.data)).toBe(hex);
  });

  const bad: [string, RegExp][] = [
    ["no-such-option=1", /unknown option "no-such-option"/],
    ["0=hex:01", /option code 0 is outside 1-254/],
    ["255=hex:01", /option code 255 is outside 1-254/],
    ["300=1", /option code 300 is outside 1-254/],
    ["=5", /unknown option ""/],
    ["lease-time=soon", /option 51 \(lease-time\): "soon" is not a duration/],
    ["routers=192.0.2", /option 3 \(routers\): "192.0.2" is not an IPv4 address/],
    ["121=192.0.2.1/24,10.0.0.1", /option 121 \(classless-routes\): .*host bits/],
    ["43=hex:zz", /option 43: "hex:zz" is not hex/],
    ["224=abc", /option 224 is not one we know how to type: give its bytes as 224=hex:/],
    ["hostname", /option hostname needs a value: hostname=VALUE/],
    ["hostname=", /option 12 \(hostname\): empty text/],
    ["message-type=bogus", /option 53 \(message-type\): "bogus" is not a message type/],
  ];
  test.each(bad)("refuses %s", (arg, reason) => {
    const r = parseOptionArg(arg);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  test("every registered option accepts raw bytes by code and by name", () => {
    for (const s of specs) {
      for (const key of [String(s.code), s.name]) {
        const r = parseOptionArg(`${key}=hex:0a0b`);
        expect(r.ok && r.code === s.code && toHex(r.data) === "0a0b").toBe(true);
      }
    }
  });
});
