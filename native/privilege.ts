/**
 * Dropping privileges (native/privdrop.c), then checking that it happened: the kernel's own
 * account of every thread (each one in /proc/self/task, its /proc/TID/status read once by
 * native/taskstatus.c) must show the new uid and gid everywhere, no capabilities beyond the
 * ones kept, none inheritable or ambient, and no_new_privs. Anything else throws: a process that believes it
 * dropped privileges and did not is worse than one that stops.
 */
import { codeFor, native, NativeError, strerror } from "./shim.ts";

export const CAPABILITIES = { net_admin: 12, net_raw: 13 } as const;
export type Capability = keyof typeof CAPABILITIES;

export interface ProcessPrivileges {
  uid: number[];
  gid: number[];
  /** Supplementary groups (-1 for any past the eighth: native/taskstatus.c reads eight). */
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

/** int32s per thread in dt_task_status's answer; the layout is documented in native/taskstatus.c. */
const TASK_ROW = 30;
const TASK_GROUPS = 8;
const MAX_THREADS = 512;

/** Every thread of this process with the kernel's account of its privileges, each status read once. */
export function taskPrivileges(): { tid: number; status: ProcessPrivileges }[] {
  const rows = new Int32Array(TASK_ROW * MAX_THREADS);
  const n = native().dt_task_status(rows, rows.length);
  if (n < 0) throw new NativeError(codeFor(-n), `cannot read the threads' status in /proc/self/task: ${strerror(-n)}`, -n);
  // Plain loops: this runs once, cold, on a one-shot's way to its first packet.
  const cap = (at: number) => (rows[at + 1] === 0 ? BigInt(rows[at] >>> 0) : (BigInt(rows[at + 1] >>> 0) << 32n) | BigInt(rows[at] >>> 0));
  const ids = (from: number, count: number, known = count) => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(i < known ? rows[from + i] : -1);
    return out;
  };
  const out: { tid: number; status: ProcessPrivileges }[] = [];
  for (let o = 0; o < n * TASK_ROW; o += TASK_ROW) {
    out.push({
      tid: rows[o],
      status: {
        uid: ids(o + 1, 4),
        gid: ids(o + 5, 4),
        groups: ids(o + 10, rows[o + 9], TASK_GROUPS),
        capInh: cap(o + 18),
        capPrm: cap(o + 20),
        capEff: cap(o + 22),
        capBnd: cap(o + 24),
        capAmb: cap(o + 26),
        noNewPrivs: rows[o + 28] === 1,
        seccomp: rows[o + 29],
      },
    });
  }
  return out;
}

export function maskOf(keep: readonly Capability[]): number {
  let mask = 0;
  for (const c of keep) mask |= 1 << CAPABILITIES[c];
  return mask;
}

export interface DropReport {
  uid: number;
  gid: number;
  kept: Capability[];
  threads: number;
  status: ProcessPrivileges;
}

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
  // The process's own account is its JS thread's, whose id is the process id.
  let self: ProcessPrivileges | null = null;
  let threads = 0;
  for (const { tid, status } of taskPrivileges()) {
    threads++;
    if (tid === process.pid) self = status;
    check(`thread ${tid}`, status);
  }
  if (self === null) throw new NativeError("EPERM", `privileges were not dropped as asked: thread ${process.pid} is not in /proc/self/task`, 1);
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
  for (const { tid, status } of taskPrivileges()) {
    threads++;
    if (status.seccomp !== 2 || !status.noNewPrivs) wrong.push(`thread ${tid}: Seccomp ${status.seccomp < 0 ? "?" : status.seccomp}`);
  }
  if (wrong.length) throw new NativeError("EPERM", `the seccomp filter is not on every thread: ${wrong.join("; ")}`, 1);
  return threads;
}
