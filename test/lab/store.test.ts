// cli/daemon/store.ts where only root can make the case: a lease file of another owner
// (HOSTILE 31), and a real full and a real read-only file system (HOSTILE 32) on a 16 KiB tmpfs
// this file mounts and unmounts. The rest of the store is in test/unit/store.test.ts.

import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLease, saveLease, StoreError } from "../../cli/daemon/store.ts";
import { read, stored, tempFiles } from "../unit/store-leases.ts";

const root = fs.mkdtempSync(join(tmpdir(), "dhcptool-store-root-"));
const mnt = join(root, "tmpfs");
fs.mkdirSync(mnt);
const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", mnt], { stderr: "pipe" });
const mounted = mount.exitCode === 0;
afterAll(() => {
  if (mounted) Bun.spawnSync(["umount", mnt]);
  fs.rmSync(root, { recursive: true, force: true });
});

test("a file owned by another user is not trusted", () => {
  const dir = join(root, "owned");
  fs.mkdirSync(dir);
  const p = join(dir, "eth0.json");
  fs.writeFileSync(p, JSON.stringify(stored()), { mode: 0o600 });
  fs.chownSync(p, 4242, 4242);
  expect(loadLease(dir, "eth0")).toEqual({ ok: false, reason: "unreadable", detail: `${p} belongs to uid 4242, not to us (not trusted)` });
});

describe("a real 16 KiB tmpfs", () => {
  test("it is mounted", () => {
    expect(mount.stderr.toString()).toBe("");
    expect(mounted).toBe(true);
  });

  test("disk full: the old lease survives, the error says ENOSPC, no temp file is left", () => {
    const leases = join(mnt, "leases");
    saveLease(leases, stored());
    const path = join(leases, "eth0.json");
    const before = read(path);
    // Fill what is left, a page at a time, until the file system says no.
    const fd = fs.openSync(join(mnt, "filler"), "w");
    const page = new Uint8Array(4096);
    try {
      for (;;) fs.writeSync(fd, page);
    } catch (e) {
      expect((e as { code?: string }).code).toBe("ENOSPC");
    } finally {
      fs.closeSync(fd);
    }

    let e: unknown;
    try {
      saveLease(leases, stored("eth0", { address: "198.18.0.199" }));
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(StoreError);
    expect((e as Error).message).toBe(`cannot store the lease in ${path}: no space left on device (ENOSPC)`);
    expect((e as StoreError).code).toBe("ENOSPC");
    expect(read(path)).toBe(before);
    expect(tempFiles(leases)).toEqual([]);
    expect(loadLease(leases, "eth0")).toMatchObject({ ok: true, stored: { lease: { address: "198.18.0.100" } } });
    fs.rmSync(join(mnt, "filler"));
  });

  test("read-only file system: the old lease survives, the error says EROFS", () => {
    const leases = join(mnt, "ro");
    saveLease(leases, stored());
    const path = join(leases, "eth0.json");
    const before = read(path);
    expect(Bun.spawnSync(["mount", "-o", "remount,ro", mnt]).exitCode).toBe(0);
    try {
      expect(() => saveLease(leases, stored("eth0", { address: "198.18.0.199" }))).toThrow(`cannot store the lease in ${path}: read-only file system (EROFS)`);
      expect(() => saveLease(join(mnt, "new-dir"), stored())).toThrow("read-only file system (EROFS)");
      expect(read(path)).toBe(before);
      expect(loadLease(leases, "eth0")).toMatchObject({ ok: true });
    } finally {
      Bun.spawnSync(["mount", "-o", "remount,rw", mnt]);
    }
  });
});
