// Which user to become after the sockets are open, and when. Every command that opens a
// packet socket as root calls dropAfterOpen() right after: from then on the process parses
// wire input as `--user` (by default dhcptool's own account, see defaultAccount) with at most the capability its mode still needs
// (CAP_NET_ADMIN for the daemon's --apply, CAP_NET_RAW for a prober that opens a socket per
// probe). Run by an ordinary user with file capabilities (setcap on a copy of bun), it keeps
// its uid and those capabilities (see dropAfterOpen). `--user root` keeps root, for a hook
// that needs it.

import { log } from "./log.ts";
import { UsageError, UserError } from "./errors.ts";
import type { Capability } from "../native/privilege.ts";
import { readSmallFile } from "../native/libc.ts";

/**
 * The default `--user`: an account of dhcptool's own, as dhcpcd has `dhcpcd` and dhcpleased
 * `_dhcp` (scripts/install.sh creates it: a system account with no home and no shell). Every
 * other service that runs as nobody shares nobody's uid, and with it the right to signal our
 * daemons (and ptrace them, were they dumpable); a uid of our own shares it with no one.
 * Where the account does not exist (dhcptool run from a clone that setup.sh never installed),
 * nobody.
 */
export const DEDICATED_USER = "dhcptool";
export const FALLBACK_USER = "nobody";

export const userArg = {
  user: {
    type: "string",
    description: `After opening its sockets, run as USER with no other privilege (default ${DEDICATED_USER}, its own account, or ${FALLBACK_USER} where that does not exist; root keeps root)`,
    valueHint: "USER",
  },
} as const;

/** A user to become; `why` says how it was chosen when no --user named it (for -v). */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  why?: string;
}

/** A user from passwd (name or numeric uid), or null when it has none. */
export function findUser(name: string, passwd = "/etc/passwd"): Account | null {
  let text: string;
  try {
    // through libc: every one-shot reads it, and importing node:fs would cost ~1.3 ms; node:fs
    // reads it where libc cannot (not glibc) or says why it cannot be read
    const bytes = readSmallFile(passwd);
    text = bytes ? new TextDecoder().decode(bytes) : (require("node:fs") as typeof import("node:fs")).readFileSync(passwd, "utf8");
  } catch (err) {
    throw new UserError(`cannot read ${passwd} to find user "${name}": ${(err as Error).message}`);
  }
  for (const line of text.split("\n")) {
    const f = line.split(":"); // name:password:uid:gid:gecos:home:shell
    if (f.length !== 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue;
    if (f[0] === name || (/^\d+$/.test(name) && f[2] === name)) return { name: f[0], uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

/** A user from passwd that must exist (`--user NAME`). */
export function lookupUser(name: string, passwd = "/etc/passwd"): Account {
  const account = findUser(name, passwd);
  if (account === null) throw new UsageError(`--user ${name}: no such user in ${passwd}`);
  return account;
}

/** Who to become when no --user is given: dhcptool's own account, else nobody. */
export function defaultAccount(passwd = "/etc/passwd"): Account {
  const own = findUser(DEDICATED_USER, passwd);
  if (own !== null) return { ...own, why: `the default --user: this tool's own account` };
  const fallback = findUser(FALLBACK_USER, passwd);
  if (fallback === null) throw new UserError(`neither ${DEDICATED_USER} nor ${FALLBACK_USER} is in ${passwd}: name a user to run as with --user USER`);
  return { ...fallback, why: `the default --user: no ${DEDICATED_USER} account here (scripts/setup.sh creates it)` };
}

/** Who `--user` names (null: stay root). */
export function accountFromArgs(args: Record<string, unknown>, passwd = "/etc/passwd"): Account | null {
  if (typeof args.user !== "string" || args.user === "") return defaultAccount(passwd);
  if (args.user === "root" || args.user === "0") return null;
  return lookupUser(args.user, passwd);
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
  log.verbose(
    `${what}: now uid ${r.uid} gid ${r.gid} (${account.why ? `${account.name}, ${account.why}` : account.name}), capabilities kept: ${r.kept.length ? r.kept.map((c) => "cap_" + c).join(", ") : "none"} (checked in /proc/self/status, ${r.threads} threads)`,
  );
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
