// BOOTP/DHCP message codec (RFC 951, RFC 2131 section 2, RFC 2132).
// Options are kept as raw bytes per code, repeats concatenated (RFC 3396), and read
// through typed getters that take a default and never throw.

import { ipFromBytes, latin1, writeIp } from "./bytes.ts";
import { decodeOptionAt, type OptionResult, type OptionValue } from "./options.ts";
import { OptionTable } from "./option-table.ts";

export { OptionTable };

export const BOOTP_HEADER_LEN = 236;
export const MAGIC_COOKIE = 0x63825363;
export const BOOTP_MIN_LEN = 300; // the seed pads every message to 300 bytes (RFC 951 size)
export const BOOTREQUEST = 1,
  BOOTREPLY = 2;
export const OPT_PAD = 0,
  OPT_END = 255;
const MAX_OPTION_TOTAL = 16384; // cap for one code's concatenated value (RFC 3396)

/**
 * A decoded message. It reads the bytes it was decoded from in place (options, addresses,
 * chaddr), so that buffer must stay as it is while the message is in use: the receive path
 * hands each frame its own copy; whoever decodes from a reused buffer reads what it needs first.
 */
export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  chaddr: Uint8Array; // 16 bytes as on the wire
  sname: string; // up to the first NUL; "" when the field carries options or lacks a NUL
  file: string;
  /**
   * Raw option values in first-seen order; repeated codes concatenated (RFC 3396). Reads as a
   * ReadonlyMap<number, Uint8Array>; typed values come from getOption / optionAt, which read
   * the bytes in place.
   */
  options: OptionTable;
}

export type DecodeErrorKind = "short" | "cookie" | "option-truncated" | "option-too-long";
export interface DecodeError {
  kind: DecodeErrorKind;
  code?: number;
  offset: number;
  reason: string;
}
/** Things wrong with a message that do not stop it being read; the receive path counts them. */
export type DecodeWarningKind = "no-end" | "data-after-end" | "sname-unterminated" | "file-unterminated" | "overload-invalid";
export interface DecodeWarning {
  kind: DecodeWarningKind;
  offset: number;
}

export type DecodeResult = { ok: true; message: DhcpMessage; warnings: DecodeWarning[] } | { ok: false; error: DecodeError };

/** The NUL-terminated text in buf[start, end), or null without a NUL. Scans in place. */
function cString(buf: Uint8Array, start: number, end: number): string | null {
  if (buf[start] === 0) return ""; // the usual case: an empty field
  for (let i = start; i < end; i++) if (buf[i] === 0) return latin1(buf, start, i);
  return null;
}

const u16at = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32at = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

export function decodeMessage(buf: Uint8Array): DecodeResult {
  if (buf.length < BOOTP_HEADER_LEN + 4) {
    return { ok: false, error: { kind: "short", offset: 0, reason: `${buf.length} bytes, a DHCP message needs at least 240` } };
  }
  if (u32at(buf, BOOTP_HEADER_LEN) !== MAGIC_COOKIE) {
    return { ok: false, error: { kind: "cookie", offset: BOOTP_HEADER_LEN, reason: "magic cookie missing or wrong" } };
  }
  const warnings: DecodeWarning[] = [];
  const options = new OptionTable(buf);
  const err = parseOptions(buf, BOOTP_HEADER_LEN + 4, buf.length, options, warnings, true);
  if (err) return { ok: false, error: err };

  // Option 52 (RFC 2132 9.3): 1 = file holds options, 2 = sname, 3 = both. Read once, in the
  // order the RFC gives (file, then sname); an overload inside them is not followed.
  const overload = options.lengthOf(52) === 1 ? options.byteOf(52) : options.has(52) ? -1 : 0;
  const ov = overload >= 1 && overload <= 3 ? overload : 0;
  if (options.has(52) && ov === 0) warnings.push({ kind: "overload-invalid", offset: BOOTP_HEADER_LEN + 4 });
  if (ov & 1) {
    const e = parseOptions(buf, 108, 236, options, warnings, false);
    if (e) return { ok: false, error: e };
  }
  if (ov & 2) {
    const e = parseOptions(buf, 44, 108, options, warnings, false);
    if (e) return { ok: false, error: e };
  }
  // sname and file, unless option 52 says they carry options
  const sname = ov & 2 ? "" : textField(buf, 44, 108, "sname-unterminated", warnings);
  const file = ov & 1 ? "" : textField(buf, 108, 236, "file-unterminated", warnings);
  return { ok: true, warnings, message: new DecodedMessage(buf, sname, file, options) };
}

/** The NUL-terminated text of buf[start, end); without a NUL, "" and a warning. */
function textField(buf: Uint8Array, start: number, end: number, kind: DecodeWarningKind, warnings: DecodeWarning[]): string {
  const s = cString(buf, start, end);
  if (s !== null) return s;
  warnings.push({ kind, offset: start });
  return "";
}

/**
 * A decoded message. The addresses and chaddr are read from the message's bytes when asked
 * for: most packets are looked at for their xid, type and a few options, and four address
 * strings and a copy of chaddr cost more than the rest of the decode. They read as fields
 * (getters), and toJSON gives every field as a plain object of them would.
 */
class DecodedMessage implements DhcpMessage {
  readonly op: number;
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  readonly flags: number;
  #buf: Uint8Array;
  #chaddr: Uint8Array | undefined;

  constructor(
    buf: Uint8Array,
    readonly sname: string,
    readonly file: string,
    readonly options: OptionTable,
  ) {
    this.#buf = buf;
    this.op = buf[0];
    this.htype = buf[1];
    this.hlen = buf[2];
    this.hops = buf[3];
    this.xid = u32at(buf, 4);
    this.secs = u16at(buf, 8);
    this.flags = u16at(buf, 10);
  }

  get ciaddr(): string {
    return ipFromBytes(this.#buf, 12);
  }
  get yiaddr(): string {
    return ipFromBytes(this.#buf, 16);
  }
  get siaddr(): string {
    return ipFromBytes(this.#buf, 20);
  }
  get giaddr(): string {
    return ipFromBytes(this.#buf, 24);
  }
  /** A copy, made once: the 16 bytes as on the wire. */
  get chaddr(): Uint8Array {
    return (this.#chaddr ??= this.#buf.slice(28, 44));
  }

  toJSON(): DhcpMessage {
    return {
      op: this.op,
      htype: this.htype,
      hlen: this.hlen,
      hops: this.hops,
      xid: this.xid,
      secs: this.secs,
      flags: this.flags,
      ciaddr: this.ciaddr,
      yiaddr: this.yiaddr,
      siaddr: this.siaddr,
      giaddr: this.giaddr,
      chaddr: this.chaddr,
      sname: this.sname,
      file: this.file,
      options: this.options,
    };
  }
}

/**
 * A BOOTP message (RFC 951): the fixed header with no DHCP magic cookie after it, the vend
 * area as raw bytes. For showing what a capture holds; a client never takes one (decodeMessage
 * refuses it), and null when the input is not even a header long or does carry the cookie.
 */
export function decodeBootp(buf: Uint8Array): { message: DhcpMessage; vend: Uint8Array; warnings: DecodeWarning[] } | null {
  if (buf.length < BOOTP_HEADER_LEN) return null;
  if (buf.length >= BOOTP_HEADER_LEN + 4 && u32at(buf, BOOTP_HEADER_LEN) === MAGIC_COOKIE) return null;
  const warnings: DecodeWarning[] = [];
  const sname = textField(buf, 44, 108, "sname-unterminated", warnings);
  const file = textField(buf, 108, 236, "file-unterminated", warnings);
  return { message: new DecodedMessage(buf, sname, file, new OptionTable(buf)), vend: buf.subarray(BOOTP_HEADER_LEN), warnings };
}

function parseOptions(buf: Uint8Array, start: number, end: number, into: OptionTable, warnings: DecodeWarning[], main: boolean): DecodeError | null {
  let p = start;
  while (p < end) {
    const code = buf[p];
    if (code === OPT_PAD) {
      p++;
      continue;
    }
    if (code === OPT_END) {
      for (let q = p + 1; q < end; q++) {
        if (buf[q] !== OPT_PAD) {
          warnings.push({ kind: "data-after-end", offset: q });
          break;
        }
      }
      return null;
    }
    if (p + 1 >= end) return { kind: "option-truncated", code, offset: p, reason: `option ${code} has no length byte` };
    const len = buf[p + 1];
    if (p + 2 + len > end) return { kind: "option-truncated", code, offset: p, reason: `option ${code} length ${len} runs past the end` };
    if (!main && code === 52) {
      p += 2 + len;
      continue;
    } // no second overload
    if (into.add(code, p + 2, len, MAX_OPTION_TOTAL) < 0) {
      return { kind: "option-too-long", code, offset: p, reason: `option ${code} concatenated over ${MAX_OPTION_TOTAL} bytes` };
    }
    p += 2 + len;
  }
  warnings.push({ kind: "no-end", offset: end });
  return null;
}

// ---- typed getters: a default instead of an exception ----

/** The typed value of the option in `slot` (first-seen order), read in place by its codec. */
export function optionAt(options: OptionTable, slot: number): OptionResult {
  return decodeOptionAt(options.codeAt(slot), options.bytesAt(slot), options.startAt(slot), options.lengthAt(slot));
}

export function getOption(msg: DhcpMessage, code: number): OptionValue | undefined {
  const slot = msg.options.slotOf(code);
  if (slot < 0) return undefined;
  const r = optionAt(msg.options, slot);
  return r.ok ? r.value : undefined;
}

export function getIp(msg: DhcpMessage, code: number, fallback: string | null = null): string | null {
  const v = getOption(msg, code);
  return typeof v === "string" ? v : fallback;
}

export function getIps(msg: DhcpMessage, code: number): string[] {
  const v = getOption(msg, code);
  if (!Array.isArray(v)) return [];
  for (const x of v) if (typeof x !== "string") return [];
  return v as string[];
}

export function getU32(msg: DhcpMessage, code: number, fallback: number | null = null): number | null {
  const v = getOption(msg, code);
  return typeof v === "number" ? v : fallback;
}

export function getString(msg: DhcpMessage, code: number, fallback: string | null = null): string | null {
  const v = getOption(msg, code);
  return typeof v === "string" ? v : fallback;
}

/** Option 53, or 0 when it is missing, the wrong length, or not a known type (HOSTILE 14). */
export function messageType(msg: DhcpMessage): number {
  const raw = msg.options.get(53);
  return raw && raw.length === 1 && raw[0] >= 1 && raw[0] <= 18 ? raw[0] : 0;
}

// ---- encoding ----

export interface OptionBytes {
  code: number;
  data: Uint8Array;
}

export interface MessageFields {
  op: number;
  xid: number;
  chaddr: Uint8Array; // 6 bytes for Ethernet
  secs?: number;
  flags?: number;
  hops?: number;
  ciaddr?: string;
  yiaddr?: string;
  siaddr?: string;
  giaddr?: string;
  sname?: string;
  file?: string;
  options: OptionBytes[]; // in wire order (82 is moved last); END is added
  minLength?: number; // pad to this (default 300)
  /**
   * The largest message the receiver takes (its option 57, or 576 - 28 by RFC 2131). When
   * the options do not fit, the rest go into `file`, then `sname`, announced by option 52
   * (RFC 2132 9.3). Without it the options area simply grows.
   */
  maxLength?: number;
}

const SNAME_OFF = 44,
  SNAME_LEN = 64,
  FILE_OFF = 108,
  FILE_LEN = 128;
const OPTIONS_OFF = BOOTP_HEADER_LEN + 4;

/** RFC 3046 2.1: the relay agent information option is the last before END. */
function wireOrder(options: OptionBytes[]): OptionBytes[] {
  return [...options.filter((o) => o.code !== 82), ...options.filter((o) => o.code === 82)];
}

function instance(code: number, chunk: Uint8Array): Uint8Array {
  const inst = new Uint8Array(2 + chunk.length);
  inst[0] = code;
  inst[1] = chunk.length;
  inst.set(chunk, 2);
  return inst;
}

interface Layout {
  main: Uint8Array[];
  file: Uint8Array[] | null;
  sname: Uint8Array[] | null;
}

/**
 * Places options: all in the options field, or, past maxLength, flowing on into file and
 * then sname. A value is cut into instances of at most 255 bytes, and also where an area
 * runs out of room (RFC 3396 concatenates instances across fields in that order).
 */
function layout(fields: MessageFields): Layout {
  const ordered = wireOrder(fields.options);
  let total = 0; // a loop, not reduce(): a builtin's first call costs a one-shot its compiling (core/bytes.ts)
  for (const o of ordered) total += o.data.length + 2 * Math.max(1, Math.ceil(o.data.length / 255));
  const fitsPlain = fields.maxLength === undefined || OPTIONS_OFF + total + 1 <= fields.maxLength;
  const areas: { room: number; list: Uint8Array[] }[] = [
    // room excludes END, and option 52 in the main area when overloading
    { room: fitsPlain ? Infinity : fields.maxLength! - OPTIONS_OFF - 3 - 1, list: [] },
    { room: fitsPlain || fields.file ? 0 : FILE_LEN - 1, list: [] },
    { room: fitsPlain || fields.sname ? 0 : SNAME_LEN - 1, list: [] },
  ];
  let a = 0;
  for (const o of ordered) {
    let rest = o.data;
    do {
      const need = rest.length === 0 ? 2 : 3; // an empty option is 2 bytes; otherwise at least one data byte
      while (a < areas.length && areas[a].room < need) a++;
      if (a === areas.length) throw new RangeError(`options do not fit in ${fields.maxLength} bytes, even using sname and file`);
      const chunk = rest.subarray(0, Math.min(255, areas[a].room - 2));
      areas[a].list.push(instance(o.code, chunk));
      areas[a].room -= 2 + chunk.length;
      rest = rest.subarray(chunk.length);
    } while (rest.length > 0);
  }
  return { main: areas[0].list, file: areas[1].list.length ? areas[1].list : null, sname: areas[2].list.length ? areas[2].list : null };
}

function measure(l: Layout): number {
  let main = 0;
  for (const i of l.main) main += i.length;
  return OPTIONS_OFF + (l.file || l.sname ? 3 : 0) + main + 1;
}

/** Bytes the encoded message takes: header, cookie, options (split at 255), END, padding. */
export function encodingLength(fields: MessageFields): number {
  return Math.max(measure(layout(fields)), fields.minLength ?? BOOTP_MIN_LEN);
}

function writeText(buf: Uint8Array, off: number, room: number, text: string): void {
  if (text.length >= room) throw new RangeError(`"${text.slice(0, 20)}…" does not fit in ${room - 1} bytes`);
  for (let i = 0; i < text.length; i++) buf[off + i] = text.charCodeAt(i) & 255;
}

function writeArea(buf: Uint8Array, off: number, list: Uint8Array[]): number {
  let p = off;
  for (const inst of list) {
    buf.set(inst, p);
    p += inst.length;
  }
  buf[p] = OPT_END;
  return p + 1;
}

/** Encodes a message, into `out` at `offset` when given (the rest of `out` is untouched). */
export function encodeMessage(fields: MessageFields, out?: Uint8Array, offset = 0): Uint8Array {
  const l = layout(fields);
  const len = Math.max(measure(l), fields.minLength ?? BOOTP_MIN_LEN);
  const buf = out ? out.subarray(offset, offset + len) : new Uint8Array(len);
  if (buf.length < len) throw new RangeError(`buffer too small: need ${len} bytes`);
  buf.fill(0);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  buf[0] = fields.op;
  buf[1] = 1; // htype Ethernet
  buf[2] = fields.chaddr.length;
  buf[3] = fields.hops ?? 0;
  dv.setUint32(4, fields.xid >>> 0);
  dv.setUint16(8, fields.secs ?? 0);
  dv.setUint16(10, fields.flags ?? 0);
  writeIp(buf, 12, fields.ciaddr ?? "0.0.0.0");
  writeIp(buf, 16, fields.yiaddr ?? "0.0.0.0");
  writeIp(buf, 20, fields.siaddr ?? "0.0.0.0");
  writeIp(buf, 24, fields.giaddr ?? "0.0.0.0");
  buf.set(fields.chaddr.subarray(0, 16), 28);
  if (fields.sname) writeText(buf, SNAME_OFF, SNAME_LEN, fields.sname);
  if (fields.file) writeText(buf, FILE_OFF, FILE_LEN, fields.file);
  dv.setUint32(BOOTP_HEADER_LEN, MAGIC_COOKIE);
  let main = l.main;
  if (l.file || l.sname) {
    main = [Uint8Array.of(52, 1, (l.file ? 1 : 0) | (l.sname ? 2 : 0)), ...l.main];
    if (l.file) writeArea(buf, FILE_OFF, l.file);
    if (l.sname) writeArea(buf, SNAME_OFF, l.sname);
  }
  writeArea(buf, OPTIONS_OFF, main);
  return buf;
}
