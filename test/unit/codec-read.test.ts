// Every codec reads a value in place, from (buffer, offset, length), so the decoder hands it
// the message itself instead of a view per option. Reading in place must give what decoding a
// copy of exactly those bytes gives (value, or refusal with the same reason and offset), and
// must not look at a byte outside the range: the bytes around it here are random, and a read
// that strayed would see them differ between runs of the property.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fromHex } from "../../core/bytes.ts";
import { CodecError } from "../../core/codecs/codec.ts";
import { decodeOption, decodeOptionAt, OPTIONS } from "../../core/options.ts";

const CODES = [...OPTIONS.keys()];

/** Wire values that random bytes rarely hit: names with pointers, FQDNs, routes, blocks. */
const SHAPED: [number, string][] = [
  [119, "03656e67056170706c6503636f6d00" + "096d61726b6574696e67c004"], // eng.apple.com, marketing.apple.com
  [119, "03616263c000"], // a pointer to itself: refused
  [81, "050000" + "04686f7374076578616d706c6500"],
  [81, "050000" + "04686f7374"], // partial name
  [120, "00" + "03736970016500c004"],
  [120, "01" + "c0000201c0000202"],
  [121, "00c0a80001" + "18c0a802c0a80001" + "20c0a80203c0a80001"],
  [82, "0104000000010206aabbccddeeff"],
  [124, "0000000d" + "03010203"],
  [125, "00000de9" + "050102aabb"],
  [77, "04616263640268" + "3a" + "03ff0001"],
  [61, "01525400123456"],
  [97, "00" + "00112233445566778899aabbccddeeff"],
  [1, "fffff000"],
  [1, "ff00ff00"],
  [3, "c0a80001c0a80002"],
  [3, "c0a8000100000000"],
  [52, "04"],
  [43, "0104c0a80001" + "00" + "0603010203" + "ff" + "0000"], // PXE-style sub-options, PAD, END, PAD
  [43, "0104c0a80001" + "ff" + "01"], // data after END: opaque hex
];

function placed(data: Uint8Array, before: Uint8Array, after: Uint8Array): Uint8Array {
  const buf = new Uint8Array(before.length + data.length + after.length);
  buf.set(before, 0);
  buf.set(data, before.length);
  buf.set(after, before.length + data.length);
  return buf;
}

describe("codecs read in place", () => {
  test("every registered option: read at an offset inside random bytes equals decoding a copy", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CODES),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 24 }),
        fc.uint8Array({ maxLength: 24 }),
        (code, data, before, after) => {
          const buf = placed(data, before, after);
          expect(decodeOptionAt(code, buf, before.length, data.length)).toEqual(decodeOption(code, data.slice()));
        },
      ),
      { numRuns: 4000 },
    );
  });

  test("shaped values (names with pointers, FQDNs, routes, sub-options) read in place as from a copy", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SHAPED), fc.uint8Array({ maxLength: 24 }), fc.uint8Array({ maxLength: 24 }), ([code, hex], before, after) => {
        const data = fromHex(hex)!;
        const buf = placed(data, before, after);
        expect(decodeOptionAt(code, buf, before.length, data.length)).toEqual(decodeOption(code, data.slice()));
      }),
      { numRuns: 2000 },
    );
  });

  test("a shaped value decodes as the registry says (the vectors above are meaningful)", () => {
    const value = (code: number, hex: string) => {
      const r = decodeOption(code, fromHex(hex)!);
      return r.ok ? r.value : r.error.reason;
    };
    expect(value(119, SHAPED[0][1])).toEqual(["eng.apple.com", "marketing.apple.com"]);
    expect(value(119, SHAPED[1][1])).toMatch(/does not point backward/);
    expect(value(81, SHAPED[3][1])).toEqual({ flags: 5, rcode1: 0, rcode2: 0, name: "host" });
    expect(value(120, SHAPED[4][1])).toEqual({ names: ["sip.e", "e"] });
    expect(value(121, SHAPED[6][1])).toEqual([
      { destination: "0.0.0.0", prefix: 0, router: "192.168.0.1" },
      { destination: "192.168.2.0", prefix: 24, router: "192.168.0.1" },
      { destination: "192.168.2.3", prefix: 32, router: "192.168.0.1" },
    ]);
    expect(value(1, SHAPED[14][1])).toMatch(/not a contiguous mask/);
    expect(value(3, SHAPED[16][1])).toMatch(/0\.0\.0\.0 in an address list/);
    expect(value(52, SHAPED[17][1])).toMatch(/not 1, 2 or 3/);
    expect(value(43, SHAPED[18][1])).toEqual([
      { code: 1, hex: "c0a80001" },
      { code: 6, hex: "010203" },
    ]);
    expect(value(43, SHAPED[19][1])).toBe("0104c0a80001ff01");
  });

  test("a refusal is a CodecError with the offset from the start of the value", () => {
    const c = OPTIONS.get(119)!.codec;
    const buf = placed(fromHex("03616263c000")!, Uint8Array.of(9, 9, 9), Uint8Array.of(7));
    const v = c.read(buf, 3, 6);
    expect(v).toBeInstanceOf(CodecError);
    expect(v).toMatchObject({ offset: 4 });
  });
});
