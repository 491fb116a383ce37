/**
 * Dropping privileges (native/privdrop.c), then checking that it happened: the kernel's own
 * account in /proc/self/status (and every thread's in /proc/self/task/N/status) must show
 * the new uid and gid everywhere, no capabilities beyond the ones kept, none inheritable or
 * ambient, and no_new_privs. Anything else throws: a process that believes it dropped
 * privileges and did not is worse than one that stops.
 */
import { readdirSync, readFileSync } from "node:fs";
import { codeFor, native, NativeError, strerror } from "./shim.ts";

export const CAPABILITIES = { net_admin: 12, net_raw: 13 } as const;
export type Capability = keyof typeof CAPABILITIES;

export interface ProcessPrivileges {
  uid: number[];
  gid: number[];
  groups: number[];
  capEff: bigint;
  capPrm: bigint;
  capInh: bigint;
  capAmb: bigint;
  capBnd: bigint;
  noNewPrivs: boolean;
  /** 0 none, 1 strict, 2 filter; -1 when the kernel does not say. */
  seccomp: number;
}

const idList = (v: string) => v.split(/\s+/).filter(Boolean).map(Number);
const capMask = (v: string) => BigInt("0x" + (v || "0"));

/**
 * The kernel's view of a task, from a /proc/.../status text: one pass over its lines (a
 * one-shot checks a dozen threads on its way to the first packet: no pattern per field).
 */
export function parseStatus(text: string): ProcessPrivileges {
  const p: ProcessPrivileges = {
    uid: [], gid: [], groups: [], capEff: 0n, capPrm: 0n, capInh: 0n, capAmb: 0n, capBnd: 0n, noNewPrivs: false, seccomp: -1,
  };
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const value = line.slice(colon + 1).trim();
    switch (line.slice(0, colon)) {
      case "Uid": p.uid = idList(value); break;
      case "Gid": p.gid = idList(value); break;
      case "Groups": p.groups = idList(value); break;
      case "CapInh": p.capInh = capMask(value); break;
      case "CapPrm": p.capPrm = capMask(value); break;
      case "CapEff": p.capEff = capMask(value); break;
      case "CapBnd": p.capBnd = capMask(value); break;
      case "CapAmb": p.capAmb = capMask(value); break;
      case "NoNewPrivs": p.noNewPrivs = value === "1"; break;
      case "Seccomp": p.seccomp = Number(value); break;
    }
  }
  return p;
}

export function maskOf(keep: readonly Capability[]): number {
  return keep.reduce((m, c) => m | (1 << CAPABILITIES[c]), 0);
}

export interface DropReport { uid: number; gid: number; kept: Capability[]; threads: number; status: ProcessPrivileges }

/**
 * Becomes uid/gid keeping only `keep` (in the calling thread, the JS thread) and verifies it.
 * Throws NativeError (EPERM) when the kernel's account does not match.
 */
export function dropPrivileges(uid: number, gid: number, keep: readonly Capability[]): DropReport {
  const mask = maskOf(keep);
  const rc = native().dt_drop_privileges(uid, gid, mask);
  if (rc < 0) throw new NativeError(codeFor(-rc), `cannot drop privileges to uid ${uid}: ${strerror(-rc)}`, -rc);
  const wrong: string[] = [];
  const allowed = BigInt(mask);
  // Every thread: the new ids, and no capability beyond the kept ones (the others have none).
  const check = (where: string, p: ProcessPrivileges) => {
    if (p.uid.some((x) => x !== uid)) wrong.push(`${where}: uid ${p.uid.join(" ")}`);
    if (p.gid.some((x) => x !== gid)) wrong.push(`${where}: gid ${p.gid.join(" ")}`);
    if ((p.capEff & ~allowed) !== 0n || (p.capPrm & ~allowed) !== 0n) wrong.push(`${where}: capabilities ${p.capEff.toString(16)}`);
    if (p.capInh !== 0n || p.capAmb !== 0n) wrong.push(`${where}: inheritable/ambient capabilities`);
    // Per thread too (finding 3): the bounding set and no_new_privs of every thread.
    if ((p.capBnd & ~allowed) !== 0n) wrong.push(`${where}: bounding set ${p.capBnd.toString(16)}`);
    if (!p.noNewPrivs) wrong.push(`${where}: no_new_privs not set`);
  };
  // Each thread's status is read once; the process's own (the JS thread, whose id is the
  // process id: /proc/self/status) is one of them.
  const pid = String(process.pid);
  let self: ProcessPrivileges | null = null;
  let threads = 0;
  for (const tid of readdirSync("/proc/self/task")) {
    let text: string;
    try { text = readFileSync(`/proc/self/task/${tid}/status`, "utf8"); } catch { continue; } // a thread that just ended
    threads++;
    const status = parseStatus(text);
    if (tid === pid) self = status;
    check(`thread ${tid}`, status);
  }
  self ??= parseStatus(readFileSync("/proc/self/status", "utf8"));
  if (self.capEff !== allowed) wrong.push(`process: kept ${self.capEff.toString(16)}, wanted ${mask.toString(16)}`);
  if (uid !== 0 && self.groups.length > 0 && self.groups.some((g) => g !== gid)) wrong.push(`process: groups ${self.groups.join(" ")}`);
  if (wrong.length) throw new NativeError("EPERM", `privileges were not dropped as asked: ${wrong.join("; ")}`, 1);
  return { uid, gid, kept: [...keep], threads, status: self };
}

/**
 * Installs the resident client's seccomp filter on every thread (native/seccomp.c) and checks
 * the kernel's account of each: Seccomp 2 (filter) and NoNewPrivs 1. Throws when a thread
 * is without it. Returns the number of threads checked.
 */
export function installSeccomp(): number {
  const rc = native().dt_seccomp_install();
  if (rc < 0) throw new NativeError(codeFor(-rc), `cannot install the seccomp filter: ${strerror(-rc)}`, -rc);
  if (rc > 0) throw new NativeError("EPERM", `cannot install the seccomp filter: thread ${rc} could not be synchronised`, 1);
  const wrong: string[] = [];
  let threads = 0;
  for (const tid of readdirSync("/proc/self/task")) {
    let text: string;
    try { text = readFileSync(`/proc/self/task/${tid}/status`, "utf8"); } catch { continue; }
    threads++;
    const status = parseStatus(text);
    if (status.seccomp !== 2 || !status.noNewPrivs) wrong.push(`thread ${tid}: Seccomp ${status.seccomp < 0 ? "?" : status.seccomp}`);
  }
  if (wrong.length) throw new NativeError("EPERM", `the seccomp filter is not on every thread: ${wrong.join("; ")}`, 1);
  return threads;
}
