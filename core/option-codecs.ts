// Every option codec, one family per file in core/codecs/ (numbers, addresses, text and raw
// bytes, DNS names with 119/81/120, 121 routes, identifiers 61/94/97, sub-options 82/124/125),
// all with the same four functions (core/codecs/codec.ts). The registry that maps an option
// code to its name and codec is core/options.ts.

export type { Codec, Decoded } from "./codecs/codec.ts";
export * from "./codecs/numbers.ts";
export * from "./codecs/addresses.ts";
export * from "./codecs/text.ts";
export * from "./codecs/names.ts";
export * from "./codecs/routes.ts";
export * from "./codecs/identifiers.ts";
export * from "./codecs/suboptions.ts";
