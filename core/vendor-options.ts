// Sub-options as a person reads them and a user types them: `1=text,2=hex:0a0b`, the syntax
// `--option 82=` and `--option 43=` parse (core/codecs/suboptions.ts), so what dhcptool shows
// can be pasted back. And the names of 43's sub-options where the message says whose they are:
// PXE (option 60 "PXEClient…", Intel PXE 2.1 / RFC 4578).

import { fromHex } from "./bytes.ts";
import type { SubOption } from "./codecs/suboptions.ts";

/** A sub-option of 43, named when its vendor's table knows its code. */
export type NamedSubOption = SubOption & { name?: string };

/** PXE's sub-options of option 43 (PXE 2.1 specification, table 2-1). */
const PXE_SUBOPTIONS: Record<number, string> = {
  1: "mtftp-ip",
  2: "mtftp-client-port",
  3: "mtftp-server-port",
  4: "mtftp-timeout",
  5: "mtftp-delay",
  6: "discovery-control",
  7: "discovery-multicast-address",
  8: "boot-servers",
  9: "boot-menu",
  10: "menu-prompt",
  11: "multicast-address-allocation",
  12: "credential-types",
  71: "boot-item",
};

const isSubOption = (x: unknown): x is SubOption =>
  typeof x === "object" && x !== null && typeof (x as SubOption).code === "number" && typeof (x as SubOption).hex === "string";

/** A decoded value is a list of sub-options (82, or 43 when it is sub-options). */
export function isSubOptionList(v: unknown): v is NamedSubOption[] {
  return Array.isArray(v) && v.length > 0 && v.every(isSubOption);
}

/** One value as --option types it: text when every byte is printable and unambiguous, else hex:… */
function valueText(hex: string): string {
  const b = fromHex(hex) ?? new Uint8Array(0);
  const text = String.fromCharCode(...b);
  // no spaces or commas (the list separators), no "hex:" look-alike, nothing unprintable
  return b.length > 0 && b.every((c) => c > 0x20 && c < 0x7f && c !== 0x2c) && !text.startsWith("hex:") ? text : `hex:${hex}`;
}

/** `1=eth0,2=hex:0a0b`; a named sub-option shows its name too: `6(discovery-control)=hex:08`. */
export function subOptionsText(subs: readonly NamedSubOption[]): string {
  return subs.map((s) => `${s.code}${s.name ? `(${s.name})` : ""}=${valueText(s.hex)}`).join(",");
}

/**
 * Names 43's sub-options in a message whose vendor class (60) is PXEClient. Takes the decoded
 * options of one message ({code, value}); returns them with 43's items named (new objects).
 */
export function nameVendorSubOptions<T extends { code: number; value?: unknown }>(options: T[]): T[] {
  let vendorClass: unknown; // a loop, not find(): a builtin's first call costs a one-shot its compiling
  for (const o of options) {
    if (o.code === 60) {
      vendorClass = o.value;
      break;
    }
  }
  if (typeof vendorClass !== "string" || !vendorClass.startsWith("PXEClient")) return options;
  return options.map((o) =>
    o.code === 43 && isSubOptionList(o.value) ? { ...o, value: o.value.map((s) => (PXE_SUBOPTIONS[s.code] ? { ...s, name: PXE_SUBOPTIONS[s.code] } : s)) } : o,
  );
}
