// The lease store of the resident client: one JSON file per interface, `${dir}/${iface}.json`.
// A lease written here must survive a crash, a full disk and a hand edit (HOSTILE 31, 32):
// writes are atomic (temp file, fsync, rename, fsync the directory) so the old lease stays
// until the new one is whole, and reads check every field, so a broken file is reported as
// "corrupt" and the daemon starts afresh instead of trusting or throwing.

import * as fs from "node:fs";
import { dirname } from "node:path";
import { getSystemErrorMessage } from "node:util";
import { parseIp } from "../../core/bytes.ts";
import { escapeText } from "../../core/escape.ts";
import type { LeaseRecord } from "../../core/lease-record.ts";
import { UserError } from "../errors.ts";
import { interfaceNameProblem } from "./paths.ts";

export interface StoredLease {
  version: 1;
  interface: string;
  mac: string;
  savedAt: string;
  lease: LeaseRecord;
  /** --apply: the lease is (to be) on the interface, its routes at this metric; absent otherwise. */
  applied?: { metric: number; routes: boolean };
}

export type LoadResult = { ok: true; stored: StoredLease; expired: boolean } | { ok: false; reason: "missing" | "corrupt" | "unreadable"; detail: string };

export class StoreError extends UserError {
  constructor(
    message: string,
    readonly path: string,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

/** A lease file bigger than this is not one of ours (a real one is a few KiB). */
export const MAX_LEASE_FILE = 64 * 1024;

// ---------------------------------------------------------------- names and paths

export function leasePath(dir: string, iface: string): string {
  const problem = interfaceNameProblem(iface);
  if (problem !== null) throw new StoreError(`"${escapeText(iface)}" is not an interface name: it ${problem}`, dir);
  return `${dir}/${iface}.json`;
}

// ---------------------------------------------------------------- save

/** The file system calls saveLease makes, so a test can make any one of them fail. */
export interface StoreIo {
  mkdirSync: typeof fs.mkdirSync;
  openSync: typeof fs.openSync;
  writeSync: (fd: number, data: Uint8Array, offset: number, length: number) => number;
  fsyncSync: typeof fs.fsyncSync;
  closeSync: typeof fs.closeSync;
  renameSync: typeof fs.renameSync;
  unlinkSync: typeof fs.unlinkSync;
}

export const nodeIo: StoreIo = {
  mkdirSync: fs.mkdirSync,
  openSync: fs.openSync,
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
  unlinkSync: fs.unlinkSync,
  writeSync: (fd, data, offset, length) => fs.writeSync(fd, data, offset, length),
};

const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = fs.constants;

/**
 * Writes the lease so that a reader sees the old file or the new one, never half of either:
 * a temp file in the same directory (O_EXCL: never someone else's file or symlink), every
 * byte written, fsync, rename over the target, fsync the directory so the rename itself is
 * durable. Any failure before the rename leaves the old file as it was and removes the temp
 * file; the StoreError names the path and the errno ("no space left on device (ENOSPC)").
 * Creates `dir` (0700) when it is missing. Synchronous: a few KiB and two fsyncs, once per
 * renewal, and callers get the outcome before they act on it.
 */
export function saveLease(dir: string, stored: StoredLease, io: StoreIo = nodeIo): void {
  const path = leasePath(dir, stored.interface);
  const fail = (e: unknown): never => {
    throw storeError(`cannot store the lease in ${path}`, path, e);
  };
  const data = leaseFileBytes(stored, path);
  try {
    io.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    fail(e);
  }
  const tmp = `${dir}/.${stored.interface}.json.${process.pid}-${randomTag()}.tmp`;
  let fd: number | null = null;
  let created = false;
  try {
    fd = io.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    created = true;
    // write(2) may take less than asked (a signal, a nearly full disk): loop until all is down.
    for (let done = 0; done < data.length; ) {
      const n = io.writeSync(fd, data, done, data.length - done);
      if (n <= 0) throw Object.assign(new Error("short write"), { code: "EIO", errno: -5 });
      done += n;
    }
    io.fsyncSync(fd);
    const f = fd;
    fd = null;
    io.closeSync(f); // close can report a deferred write error (NFS): it counts as a failure
    io.renameSync(tmp, path);
  } catch (e) {
    if (fd !== null)
      try {
        io.closeSync(fd);
      } catch {
        /* already failing */
      }
    // Only our own temp file: after EEXIST the name is someone else's.
    if (created)
      try {
        io.unlinkSync(tmp);
      } catch {
        /* already gone */
      }
    fail(e);
  }
  syncDirectory(dir, path, io);
}

/**
 * The lease file's bytes (pretty JSON). What is written must load back: a lease that would
 * read as corrupt is a bug here, not later (StoreError naming `path`).
 */
export function leaseFileBytes(stored: StoredLease, path: string): Uint8Array {
  const text = JSON.stringify(stored, null, 2) + "\n";
  const problem = checkStored(JSON.parse(text), stored.interface);
  if (typeof problem === "string") throw new StoreError(`refusing to store a lease that would not load back: ${escapeText(path)} ${problem}`, path);
  return new TextEncoder().encode(text);
}

/**
 * After the rename the new lease is in place; fsync of the directory makes the rename
 * survive a power cut. Some file systems cannot fsync a directory (EINVAL): the lease is
 * still written, so only a real I/O error is reported.
 */
function syncDirectory(dir: string, path: string, io: StoreIo): void {
  let fd: number | null = null;
  try {
    fd = io.openSync(dir, O_RDONLY | O_DIRECTORY);
    io.fsyncSync(fd);
  } catch (e) {
    if (errnoCode(e) === "EIO") throw storeError(`the lease in ${path} may not survive a power cut`, path, e);
  } finally {
    if (fd !== null)
      try {
        io.closeSync(fd);
      } catch {
        /* nothing left to lose */
      }
  }
}

function randomTag(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------- load

/**
 * The stored lease for `iface`, checked field by field. Never throws for what is on disk: a
 * missing file is "missing", a symlink, FIFO, world-writable or foreign-owned file, or one
 * that cannot be read, is "unreadable" (not followed, not trusted), and anything truncated,
 * oversized, of another version or of the wrong shape is "corrupt". `expired` compares the
 * lease end with `now` (wall clock, ms).
 */
export function loadLease(dir: string, iface: string, now: number = Date.now()): LoadResult {
  const problem = interfaceNameProblem(iface);
  if (problem !== null) return { ok: false, reason: "unreadable", detail: `"${escapeText(iface)}" is not an interface name: it ${problem}` };
  const path = `${dir}/${iface}.json`;
  const read = readSmallFile(path);
  if (!read.ok) return read;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(read.bytes);
  } catch {
    return corrupt(path, "is not UTF-8 text");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return corrupt(path, `is not JSON (${(e as Error).message})`);
  }
  const checked = checkStored(json, iface);
  if (typeof checked === "string") return corrupt(path, checked);
  const end = checked.lease.expiresAt === null ? null : Date.parse(checked.lease.expiresAt);
  return { ok: true, stored: checked, expired: end !== null && end <= now };
}

type LoadFailure = Extract<LoadResult, { ok: false }>;

function corrupt(path: string, why: string): LoadFailure {
  return { ok: false, reason: "corrupt", detail: `${escapeText(path)} ${why}` };
}

function readSmallFile(path: string): { ok: true; bytes: Uint8Array } | LoadFailure {
  const shown = escapeText(path);
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted here is refused, not followed (HOSTILE 31).
    // O_NONBLOCK: a FIFO planted here must not hang the daemon in open().
    fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT") return { ok: false, reason: "missing", detail: `${shown} does not exist` };
    if (code === "ELOOP") return { ok: false, reason: "unreadable", detail: `${shown} is a symbolic link (not followed)` };
    return { ok: false, reason: "unreadable", detail: `cannot open ${shown}: ${errnoText(e)}` };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { ok: false, reason: "unreadable", detail: `${shown} is not a regular file` };
    if (st.mode & 0o002) return { ok: false, reason: "unreadable", detail: `${shown} is writable by anyone (not trusted)` };
    // Written by us, by root, or by the user the state directory belongs to (a daemon that
    // dropped to it wrote the file); otherwise a lease someone else could have planted.
    const euid = process.geteuid?.() ?? 0;
    let dirOwner = -1;
    try {
      dirOwner = fs.statSync(dirname(path)).uid;
    } catch {
      /* gone meanwhile: no third owner */
    }
    if (st.uid !== euid && st.uid !== 0 && st.uid !== dirOwner)
      return { ok: false, reason: "unreadable", detail: `${shown} belongs to uid ${st.uid}, not to us (not trusted)` };
    if (st.size > MAX_LEASE_FILE) return corrupt(path, `is ${st.size} bytes, larger than a lease file can be (${MAX_LEASE_FILE})`);
    // Read one byte past the cap: a file that grew after fstat is still caught.
    const buf = new Uint8Array(MAX_LEASE_FILE + 1);
    let got = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > MAX_LEASE_FILE) return corrupt(path, `is larger than a lease file can be (${MAX_LEASE_FILE} bytes)`);
    }
    return { ok: true, bytes: buf.subarray(0, got) };
  } catch (e) {
    return { ok: false, reason: "unreadable", detail: `cannot read ${shown}: ${errnoText(e)}` };
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------- the shape check

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isIp = (v: unknown): v is string => typeof v === "string" && parseIp(v) !== null;
const isMac = (v: unknown): v is string => typeof v === "string" && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(v);
const isU32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
const isIso = (v: unknown): v is string => typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v));
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
const isIps = (v: unknown): v is string[] => Array.isArray(v) && v.every(isIp);

/**
 * The StoredLease in `json`, rebuilt from checked fields only (unknown keys are dropped, so
 * nothing unchecked reaches the daemon), or what is wrong with it.
 */
function checkStored(json: unknown, iface: string): StoredLease | string {
  if (!isObj(json)) return "is not a JSON object";
  if (json.version !== 1) return `has version ${escapeText(JSON.stringify(json.version) ?? "none")} (this dhcptool reads version 1)`;
  if (json.interface !== iface) return `is for interface ${escapeText(JSON.stringify(json.interface) ?? "none")}, not ${escapeText(iface)}`;
  if (!isMac(json.mac)) return "has no valid mac";
  if (!isIso(json.savedAt)) return "has no valid savedAt";
  const lease = checkLease(json.lease);
  if (typeof lease === "string") return `lease.${lease}`;
  const a = json.applied;
  if (a === undefined) return { version: 1, interface: iface, mac: json.mac, savedAt: json.savedAt, lease };
  if (!isObj(a) || !isU32(a.metric) || a.metric === 0 || typeof a.routes !== "boolean") return "has an applied that is not { metric, routes }";
  return { version: 1, interface: iface, mac: json.mac, savedAt: json.savedAt, lease, applied: { metric: a.metric, routes: a.routes } };
}

function checkLease(l: unknown): LeaseRecord | string {
  if (!isObj(l)) return " is missing";
  const bad = (key: string) => `${key} is missing or of the wrong type`;
  if (!isIp(l.address)) return bad("address");
  if (!isIp(l.serverId)) return bad("serverId");
  if (!isMac(l.serverMac)) return bad("serverMac");
  if (l.subnetMask !== null && !isIp(l.subnetMask)) return bad("subnetMask");
  if (!isIps(l.routers)) return bad("routers");
  if (
    !Array.isArray(l.routes) ||
    !l.routes.every(
      (r) => isObj(r) && isIp(r.destination) && isIp(r.router) && Number.isInteger(r.prefix) && (r.prefix as number) >= 0 && (r.prefix as number) <= 32,
    )
  )
    return bad("routes");
  if (!isIps(l.dns)) return bad("dns");
  if (l.domain !== null && typeof l.domain !== "string") return bad("domain");
  if (!isStrings(l.search)) return bad("search");
  for (const k of ["leaseTime", "t1", "t2"] as const) if (!isU32(l[k])) return bad(k);
  if (typeof l.infinite !== "boolean") return bad("infinite");
  if (l.ipv6OnlyWait !== null && !isU32(l.ipv6OnlyWait)) return bad("ipv6OnlyWait");
  if (!isStrings(l.adjusted)) return bad("adjusted");
  if (!isIso(l.acquiredAt)) return bad("acquiredAt");
  for (const k of ["renewAt", "rebindAt", "expiresAt"] as const) {
    if (l[k] !== null && !isIso(l[k])) return bad(k);
    // An infinite lease has no deadlines; a finite one has all three (engine.ts onAck).
    if ((l[k] === null) !== l.infinite) return `${k} does not match infinite: ${l.infinite}`;
  }
  if (
    !Array.isArray(l.options) ||
    !l.options.every(
      (o) =>
        isObj(o) &&
        Number.isInteger(o.code) &&
        (o.code as number) >= 0 &&
        (o.code as number) <= 255 &&
        typeof o.hex === "string" &&
        /^([0-9a-f]{2})*$/.test(o.hex),
    )
  )
    return bad("options");
  return {
    address: l.address,
    serverId: l.serverId,
    serverMac: l.serverMac,
    subnetMask: l.subnetMask as string | null,
    routers: [...l.routers],
    routes: (l.routes as Obj[]).map((r) => ({ destination: r.destination as string, prefix: r.prefix as number, router: r.router as string })),
    dns: [...l.dns],
    domain: l.domain as string | null,
    search: [...l.search],
    leaseTime: l.leaseTime as number,
    t1: l.t1 as number,
    t2: l.t2 as number,
    infinite: l.infinite,
    ipv6OnlyWait: l.ipv6OnlyWait as number | null,
    adjusted: [...l.adjusted],
    acquiredAt: l.acquiredAt,
    renewAt: l.renewAt as string | null,
    rebindAt: l.rebindAt as string | null,
    expiresAt: l.expiresAt as string | null,
    options: (l.options as Obj[]).map((o) => ({ code: o.code as number, hex: o.hex as string })),
  };
}

// ---------------------------------------------------------------- remove, list

/** Forgets the lease (after a RELEASE or NAK). Removing what is not there is fine. */
export function removeLease(dir: string, iface: string): void {
  const path = leasePath(dir, iface);
  try {
    fs.unlinkSync(path);
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return;
    throw storeError(`cannot remove the lease ${path}`, path, e);
  }
  syncDirectory(dir, path, nodeIo); // a released lease must not come back after a power cut
}

/** Interfaces with a lease file in `dir`, sorted; none when `dir` does not exist yet. */
export function listStored(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return [];
    throw storeError(`cannot list the leases in ${dir}`, dir, e);
  }
  // Symlinks and other odd entries are listed too: loadLease then says why it refuses them.
  return entries
    .filter((e) => !e.isDirectory() && e.name.endsWith(".json"))
    .map((e) => e.name.slice(0, -".json".length))
    .filter((name) => interfaceNameProblem(name) === null)
    .sort();
}

// ---------------------------------------------------------------- errno

function errnoCode(e: unknown): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}

/** "no space left on device (ENOSPC)": the system's words and the code to search for. */
export function errnoText(e: unknown): string {
  const code = errnoCode(e);
  const errno = (e as { errno?: unknown } | null)?.errno;
  if (code !== null && typeof errno === "number") {
    try {
      return `${getSystemErrorMessage(errno)} (${code})`;
    } catch {
      /* not a system errno */
    }
  }
  if (code !== null) return code;
  return e instanceof Error ? e.message : String(e);
}

/** `what` names the path; it is escaped here, since the directory comes from the user and the name from the kernel. */
function storeError(what: string, path: string, e: unknown): StoreError {
  return new StoreError(`${escapeText(what)}: ${errnoText(e)}`, path, errnoCode(e));
}
