// Which user to become after the sockets are open, and when. Every command that opens a
// packet socket as root calls dropAfterOpen() right after: from then on the process parses
// wire input as `--user` (default nobody) with at most the capability its mode still needs
// (CAP_NET_ADMIN for the daemon's --apply, CAP_NET_RAW for a prober that opens a socket per
// probe). Run by an ordinary user with file capabilities (setcap on a copy of bun), it keeps
// its uid and those capabilities (see dropAfterOpen). `--user root` keeps root, for a hook
// that needs it.

import { readFileSync } from "node:fs";
import { log } from "./log.ts";
import { UsageError, UserError } from "./errors.ts";
import type { Capability } from "../native/privilege.ts";

export const DEFAULT_USER = "nobody";

export const userArg = {
  user: { type: "string", description: `After opening its sockets, run as USER with no other privilege (default ${DEFAULT_USER}; root keeps root)`, valueHint: "USER" },
} as const;

export interface Account { name: string; uid: number; gid: number }

/** A user from /etc/passwd (name or numeric uid). */
export function lookupUser(name: string, passwd = "/etc/passwd"): Account {
  let text: string;
  try { text = readFileSync(passwd, "utf8"); } catch (err) { throw new UserError(`cannot read ${passwd} to find user "${name}": ${(err as Error).message}`); }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4) continue;
    if (f[0] === name || (/^\d+$/.test(name) && f[2] === name)) return { name: f[0], uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new UsageError(`--user ${name}: no such user in ${passwd}`);
}

export function accountFromArgs(args: Record<string, unknown>): Account | null {
  const name = typeof args.user === "string" && args.user !== "" ? args.user : DEFAULT_USER;
  if (name === "root" || name === "0") return null;
  return lookupUser(name);
}

/**
 * As root: drops to `account` keeping `keep`, and logs what it did (-v). Not root (an
 * unprivileged user running a copy of bun with file capabilities): keeps what it has.
 * Capabilities belong to threads, and only the uid change away from root clears them in every
 * thread at once (glibc applies setresuid to all of them); a capset() would reach only ours.
 */
export async function dropAfterOpen(account: Account | null, keep: readonly Capability[], what: string): Promise<void> {
  const euid = process.geteuid?.() ?? 0;
  if (euid !== 0) {
    log.verbose(`${what}: not root (uid ${euid}): keeping the file capabilities this process was started with`);
    return;
  }
  if (account === null) {
    log.verbose(`${what}: keeping root (--user root)`);
    return;
  }
  const { dropPrivileges } = await import("../native/privilege.ts");
  const r = dropPrivileges(account.uid, account.gid, keep);
  log.verbose(`${what}: now uid ${r.uid} gid ${r.gid} (${account.name}), capabilities kept: ${r.kept.length ? r.kept.map((c) => "cap_" + c).join(", ") : "none"} (checked in /proc/self/status, ${r.threads} threads)`);
}

/**
 * The resident client, once dropped: the seccomp filter on every thread (native/seccomp.c),
 * checked. Only as root (an ordinary user with file capabilities keeps what it has, and no
 * filter: it may need them).
 */
export async function confine(what: string): Promise<void> {
  const { installSeccomp } = await import("../native/privilege.ts");
  const threads = installSeccomp();
  log.verbose(`${what}: seccomp filter on every thread (${threads} threads checked): execve, ptrace, new packet sockets and the rest refused`);
}
