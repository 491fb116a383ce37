/**
 * The messages to and from the privileged helper (native/privsep.h, whose sizes are pinned
 * there with _Static_assert): encoded and decoded here, with no IO, so both directions are
 * unit-tested. Every decode checks the version, the type, the datagram's exact length for
 * its type, and each length field against its buffer, and says what is wrong instead of
 * throwing: a message that does not fit is refused, never half-read.
 */

export const PRIV_VERSION = 1;
export const HDR = 16;
export const MAX_ROUTES = 32;
export const MAX_BLOB = 64 * 1024;
export const MAX_TEXT = 2048;
export const MAX_STDERR = 1024;
export const MAX_HOOK_ENV = 96;
const LEASE_SIZE = 12 + 12 * MAX_ROUTES;
const RESULT_SIZE = 8 + MAX_TEXT;
const READY_SIZE = 16 + 512;
const HOOK_DONE_SIZE = 28 + MAX_STDERR;
/** The largest datagram: a header and a full blob. */
export const MAX_MSG = HDR + 8 + MAX_BLOB;

export const T = {
  APPLY: 1,
  ADOPT: 2,
  REMOVE: 3,
  SAVE: 4,
  UNSAVE: 5,
  CONFIG: 6,
  HOOK: 7,
  STOP: 8,
  READY: 100,
  RESULT: 101,
  CONFIG_DATA: 102,
  HOOK_DONE: 103,
} as const;

export interface PrivRoute {
  destination: string;
  prefix: number;
  gateway: string | null;
}
export interface PrivLease {
  address: string;
  prefix: number;
  validSec: number | null;
  routes: PrivRoute[];
}

export type Reply =
  | { type: "ready"; seq: number; status: number; ifindex: number; metric: number; text: string }
  | { type: "result"; seq: number; status: number; done: string[]; failed: string[] }
  | { type: "config"; seq: number; status: number; data: Uint8Array }
  | {
      type: "hook-done";
      seq: number;
      status: number;
      exitCode: number | null;
      signal: number;
      timedOut: boolean;
      ms: number;
      stderr: Uint8Array;
      stderrDiscarded: number;
    };

function header(type: number, seq: number, bodyLength: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(HDR + bodyLength);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, PRIV_VERSION, true);
  view.setUint16(2, type, true);
  view.setUint32(4, bytes.length, true);
  view.setUint32(8, seq >>> 0, true);
  return { bytes, view };
}

function putIp(bytes: Uint8Array, at: number, ip: string): void {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`not an IPv4 address: ${ip}`);
  bytes.set(parts, at);
}

/** APPLY or ADOPT: the lease's address, prefix, lifetime and routes (at most MAX_ROUTES: the rest are not sent). */
export function encodeLease(type: typeof T.APPLY | typeof T.ADOPT, seq: number, l: PrivLease): Uint8Array {
  const { bytes, view } = header(type, seq, LEASE_SIZE);
  if (!Number.isInteger(l.prefix) || l.prefix < 0 || l.prefix > 32) throw new RangeError(`prefix ${l.prefix}`);
  const routes = l.routes.slice(0, MAX_ROUTES);
  putIp(bytes, HDR, l.address);
  bytes[HDR + 4] = l.prefix;
  bytes[HDR + 5] = routes.length;
  view.setUint32(HDR + 8, l.validSec === null ? 0xffffffff : Math.min(Math.max(0, Math.floor(l.validSec)), 0xfffffffe), true);
  routes.forEach((r, i) => {
    const at = HDR + 12 + i * 12;
    putIp(bytes, at, r.destination);
    putIp(bytes, at + 4, r.gateway ?? "0.0.0.0");
    if (!Number.isInteger(r.prefix) || r.prefix < 0 || r.prefix > 32) throw new RangeError(`route prefix ${r.prefix}`);
    bytes[at + 8] = r.prefix;
  });
  return bytes;
}

/** REMOVE, UNSAVE, CONFIG, STOP: a header alone. */
export function encodeEmpty(type: number, seq: number): Uint8Array {
  return header(type, seq, 0).bytes;
}

/** SAVE (a lease file's bytes) or HOOK (records from encodeHookRecords). */
export function encodeBlob(type: typeof T.SAVE | typeof T.HOOK, seq: number, data: Uint8Array): Uint8Array {
  if (data.length > MAX_BLOB) throw new RangeError(`${data.length} bytes is more than a message carries (${MAX_BLOB})`);
  const { bytes, view } = header(type, seq, 8 + data.length);
  view.setUint32(HDR + 4, data.length, true);
  bytes.set(data, HDR + 8);
  return bytes;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A hook's environment and stdin as PRIV_HOOK records: [kind][u16 length][bytes], 'E' for
 * NAME=VALUE, 'I' for stdin (in pieces of at most 65535 bytes). Values are bytes already
 * (escaped text is ASCII); a NUL or a bad name is refused here, and again by the helper.
 */
export function encodeHookRecords(env: Record<string, string>, stdin: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const record = (kind: string, data: Uint8Array) => {
    const r = new Uint8Array(3 + data.length);
    r[0] = kind.charCodeAt(0);
    new DataView(r.buffer).setUint16(1, data.length, true);
    r.set(data, 3);
    parts.push(r);
  };
  const entries = Object.entries(env);
  if (entries.length > MAX_HOOK_ENV) throw new RangeError(`${entries.length} hook variables (at most ${MAX_HOOK_ENV})`);
  for (const [name, value] of entries) {
    if (!ENV_NAME.test(name) || value.includes("\0")) throw new RangeError(`hook variable ${JSON.stringify(name)} is not NAME=VALUE without NUL`);
    const bytes = latin1(`${name}=${value}`);
    if (bytes.length > 0xffff) throw new RangeError(`hook variable ${name} is too long`);
    record("E", bytes);
  }
  for (let at = 0; at < stdin.length; at += 0xffff) record("I", stdin.subarray(at, at + 0xffff));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One char per byte (escaped hook text is ASCII; a char past 0xff would be a bug: refused). */
function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError("a hook variable holds a character beyond one byte");
    out[i] = c;
  }
  return out;
}

/** Printable ASCII lines from the helper; anything else is refused. */
function text(bytes: Uint8Array): string | null {
  for (const b of bytes) if (b !== 10 && (b < 0x20 || b > 0x7e)) return null;
  return new TextDecoder().decode(bytes);
}

/** A datagram from the helper, checked whole; a string says why it is refused. */
export function decodeReply(bytes: Uint8Array): Reply | string {
  if (bytes.length < HDR) return `a message of ${bytes.length} bytes is shorter than a header`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(0, true),
    type = view.getUint16(2, true),
    length = view.getUint32(4, true);
  const seq = view.getUint32(8, true),
    reserved = view.getUint32(12, true);
  if (version !== PRIV_VERSION) return `version ${version} (this dhcptool speaks ${PRIV_VERSION})`;
  if (length !== bytes.length) return `the header says ${length} bytes, the datagram has ${bytes.length}`;
  if (reserved !== 0) return "reserved header bits set";
  const body = bytes.length - HDR;
  const u32 = (at: number) => view.getUint32(HDR + at, true);
  const i32 = (at: number) => view.getInt32(HDR + at, true);
  const sized = (size: number) => (body === size ? null : `type ${type} has ${body} bytes, not ${size}`);
  switch (type) {
    case T.READY: {
      const bad = sized(READY_SIZE);
      if (bad) return bad;
      const len = u32(12);
      if (len > 512) return `text length ${len} past its buffer`;
      const t = text(bytes.subarray(HDR + 16, HDR + 16 + len));
      if (t === null) return "text that is not printable ASCII";
      return { type: "ready", seq, status: i32(0), ifindex: u32(4), metric: u32(8), text: t };
    }
    case T.RESULT: {
      const bad = sized(RESULT_SIZE);
      if (bad) return bad;
      const len = u32(4);
      if (len > MAX_TEXT) return `text length ${len} past its buffer`;
      const t = text(bytes.subarray(HDR + 8, HDR + 8 + len));
      if (t === null) return "text that is not printable ASCII";
      const lines = t.split("\n").filter(Boolean);
      if (lines.some((l) => !/^[+-] /.test(l))) return "a result line that is neither done (+) nor failed (-)";
      return {
        type: "result",
        seq,
        status: i32(0),
        done: lines.filter((l) => l.startsWith("+")).map((l) => l.slice(2)),
        failed: lines.filter((l) => l.startsWith("-")).map((l) => l.slice(2)),
      };
    }
    case T.CONFIG_DATA: {
      if (body < 8) return "a blob shorter than its length fields";
      const len = u32(4);
      if (len > MAX_BLOB || body !== 8 + len) return `blob length ${len} does not match the message`;
      return { type: "config", seq, status: i32(0), data: bytes.slice(HDR + 8, HDR + 8 + len) };
    }
    case T.HOOK_DONE: {
      const bad = sized(HOOK_DONE_SIZE);
      if (bad) return bad;
      const len = u32(24);
      if (len > MAX_STDERR) return `stderr length ${len} past its buffer`;
      const exit = i32(4);
      return {
        type: "hook-done",
        seq,
        status: i32(0),
        exitCode: exit < 0 ? null : exit,
        signal: i32(8),
        timedOut: u32(12) !== 0,
        ms: u32(16),
        stderrDiscarded: u32(20),
        stderr: bytes.slice(HDR + 28, HDR + 28 + len),
      };
    }
    default:
      return `unknown message type ${type}`;
  }
}
