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
}

/** The kernel's view of a task, from a /proc/.../status text. */
export function parseStatus(text: string): ProcessPrivileges {
  const field = (name: string) => text.match(new RegExp(`^${name}:[ \\t]*(.*)$`, "m"))?.[1]?.trim() ?? "";
  const ids = (name: string) => field(name).split(/\s+/).filter(Boolean).map(Number);
  const caps = (name: string) => BigInt("0x" + (field(name) || "0"));
  return {
    uid: ids("Uid"), gid: ids("Gid"), groups: ids("Groups"),
    capEff: caps("CapEff"), capPrm: caps("CapPrm"), capInh: caps("CapInh"), capAmb: caps("CapAmb"), capBnd: caps("CapBnd"),
    noNewPrivs: field("NoNewPrivs") === "1",
  };
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
  const self = parseStatus(readFileSync("/proc/self/status", "utf8"));
  const wrong: string[] = [];
  // Every thread: the new ids, and no capability beyond the kept ones (the others have none).
  const check = (where: string, p: ProcessPrivileges) => {
    if (p.uid.some((x) => x !== uid)) wrong.push(`${where}: uid ${p.uid.join(" ")}`);
    if (p.gid.some((x) => x !== gid)) wrong.push(`${where}: gid ${p.gid.join(" ")}`);
    const allowed = BigInt(mask);
    if ((p.capEff & ~allowed) !== 0n || (p.capPrm & ~allowed) !== 0n) wrong.push(`${where}: capabilities ${p.capEff.toString(16)}`);
    if (p.capInh !== 0n || p.capAmb !== 0n) wrong.push(`${where}: inheritable/ambient capabilities`);
    // Per thread too (finding 3): the bounding set and no_new_privs of every thread.
    if ((p.capBnd & ~allowed) !== 0n) wrong.push(`${where}: bounding set ${p.capBnd.toString(16)}`);
    if (!p.noNewPrivs) wrong.push(`${where}: no_new_privs not set`);
  };
  check("process", self);
  if (self.capEff !== BigInt(mask)) wrong.push(`process: kept ${self.capEff.toString(16)}, wanted ${mask.toString(16)}`);
  if (!self.noNewPrivs) wrong.push("process: no_new_privs not set");
  if (uid !== 0 && self.groups.length > 0 && self.groups.some((g) => g !== gid)) wrong.push(`process: groups ${self.groups.join(" ")}`);
  let threads = 0;
  for (const tid of readdirSync("/proc/self/task")) {
    let text: string;
    try { text = readFileSync(`/proc/self/task/${tid}/status`, "utf8"); } catch { continue; } // a thread that just ended
    threads++;
    check(`thread ${tid}`, parseStatus(text));
  }
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
    const seccomp = text.match(/^Seccomp:\s*(\d+)/m)?.[1];
    if (seccomp !== "2" || !parseStatus(text).noNewPrivs) wrong.push(`thread ${tid}: Seccomp ${seccomp ?? "?"}`);
  }
  if (wrong.length) throw new NativeError("EPERM", `the seccomp filter is not on every thread: ${wrong.join("; ")}`, 1);
  return threads;
}
