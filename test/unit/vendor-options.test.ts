// core/vendor-options.ts: sub-options shown in the syntax --option parses (so what is shown can
// be pasted back), and 43's sub-options named for PXE; through the renderers that print them.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { toHex } from "../../core/bytes.ts";
import { subOptions } from "../../core/codecs/suboptions.ts";
import { viewMessage } from "../../core/inspect.ts";
import { encodeMessage, BOOTREPLY } from "../../core/message.ts";
import { optionViews } from "../../core/offers.ts";
import { decodeMessage } from "../../core/message.ts";
import { nameVendorSubOptions, subOptionsText } from "../../core/vendor-options.ts";
import { renderValue } from "../../cli/render.ts";

const text = (s: string) => new TextEncoder().encode(s);

describe("subOptionsText", () => {
  test("printable values as text, the rest (spaces, commas, a hex: look-alike, control bytes, empty) as hex:", () => {
    const subs = [
      { code: 1, hex: toHex(text("eth0/1:100")) },
      { code: 2, hex: "0a0b" },
      { code: 3, hex: toHex(text("a b")) },
      { code: 4, hex: toHex(text("a,b")) },
      { code: 5, hex: toHex(text("hex:01")) },
      { code: 6, hex: "" },
    ];
    expect(subOptionsText(subs)).toBe("1=eth0/1:100,2=hex:0a0b,3=hex:612062,4=hex:612c62,5=hex:6865783a3031,6=hex:");
  });

  test("what it prints, --option 82= parses back to the same sub-options", () => {
    const sub = fc.record({ code: fc.integer({ min: 0, max: 255 }), hex: fc.uint8Array({ maxLength: 40 }).map(toHex) });
    fc.assert(
      fc.property(fc.array(sub, { minLength: 1, maxLength: 8 }), (subs) => {
        expect(subOptions.parse(subOptionsText(subs))).toEqual({ ok: true, value: subs });
      }),
    );
  });
});

/** A reply carrying 43 (PXE discovery-control 8 and a boot menu item), 60, and 82. */
function reply(vendorClass: string): Uint8Array {
  return encodeMessage({
    op: BOOTREPLY,
    xid: 1,
    chaddr: new Uint8Array(6),
    yiaddr: "198.18.0.100",
    options: [
      { code: 53, data: Uint8Array.of(2) },
      { code: 60, data: text(vendorClass) },
      { code: 43, data: Uint8Array.of(6, 1, 8, 9, 4, 0x80, 0, 1, 0x41, 255) },
      { code: 82, data: Uint8Array.of(1, 4, ...text("eth0"), 2, 2, 0x0a, 0x0b) },
    ],
  });
}

describe("43 and 82 as decode, watch and discover show them", () => {
  test("PXEClient: 43's sub-options named; 82 in --option syntax", () => {
    const v = viewMessage(reply("PXEClient:Arch:00000"));
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    const o43 = v.message.options.find((o) => o.code === 43)!;
    expect(o43.value).toEqual([
      { code: 6, hex: "08", name: "discovery-control" },
      { code: 9, hex: "80000141", name: "boot-menu" },
    ]);
    expect(renderValue(o43)).toBe("6(discovery-control)=hex:08,9(boot-menu)=hex:80000141");
    expect(renderValue(v.message.options.find((o) => o.code === 82)!)).toBe("1=eth0,2=hex:0a0b");
  });

  test("another vendor: the generic view, sub-options without names; offers show the same", () => {
    const d = decodeMessage(reply("MSFT 5.0"));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const o43 = optionViews(d.message).find((o) => o.code === 43)!;
    expect(renderValue(o43)).toBe("6=hex:08,9=hex:80000141");
    expect(
      nameVendorSubOptions([
        { code: 43, value: "0102ff" },
        { code: 60, value: "PXEClient" },
      ])[0]!.value,
    ).toBe("0102ff");
  });
});
