// The resident client's seccomp filter (native/seccomp.c) without Bun: test/native/seccomp-exec.c
// links the same C file, installs the filter with a second thread already running, and checks
// that execve, ptrace, unshare and new packet or netlink sockets fail with EPERM while the
// calls the daemon lives on still work. Run as root (whose capabilities the filter must
// override) and as nobody. The daemon's own threads are checked in test/lab/daemon.test.ts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
let dir: string;
let exe: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "dhcptool-seccomp-"));
  chmodSync(dir, 0o755);
  exe = join(dir, "seccomp-exec");
  const cc = Bun.spawnSync(["cc", "-O2", "-Wall", "-pthread", "-o", exe, join(root, "test/native/seccomp-exec.c"), join(root, "native/seccomp.c")]);
  if (cc.exitCode !== 0) throw new Error(`cc failed: ${cc.stderr.toString()}`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHECKS = [
  "install",
  "other thread Seccomp 2 NoNewPrivs 1",
  "execve is refused",
  "ptrace is refused",
  "unshare is refused",
  "a packet socket is refused",
  "a netlink socket is refused",
  "an AF_UNIX socket still opens",
  "write still works",
  "a new thread still starts",
];

describe("the daemon's seccomp filter, in C", () => {
  test.each([
    ["root", []],
    ["nobody", ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "--"]],
  ])("as %s", (_who, prefix) => {
    const r = Bun.spawnSync([...(prefix as string[]), exe]);
    const lines = r.stdout.toString().trim().split("\n");
    expect(r.exitCode).toBe(0);
    expect(lines.map((l) => l.replace(/ \(rc .*\)$/, ""))).toEqual(CHECKS.map((c) => `ok ${c}`));
  });
});
