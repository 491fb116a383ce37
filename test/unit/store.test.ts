// cli/daemon/store.ts: the lease store. Round trips, atomic replacement (the old lease
// survives any failure before the rename, proven by making each step fail), files that are
// truncated, oversized, hand-edited, symlinked or planted (HOSTILE 31). What needs root (a
// file of another owner, a real full or read-only file system) is in test/lab/store.test.ts.

import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { leaseFromRecord, leaseRecord } from "../../core/lease-record.ts";
import { leasePath, listStored, loadLease, nodeIo, removeLease, saveLease, StoreError, MAX_LEASE_FILE, type StoreIo } from "../../cli/daemon/store.ts";
import { ACQUIRED, engineLease, read, stored, tempFiles } from "./store-leases.ts";

const root = fs.mkdtempSync(join(tmpdir(), "dhcptool-store-"));
let dir = "";
let n = 0;
beforeEach(() => {
  dir = join(root, `case-${n++}`);
});

describe("leaseRecord", () => {
  test("the four times become wall-clock ISO strings, the server's MAC text; everything else is the engine's", () => {
    const r = leaseRecord(engineLease(), ACQUIRED - 1000);
    expect(r.acquiredAt).toBe("2030-01-01T00:00:00.000Z");
    expect(r.renewAt).toBe("2030-01-01T00:30:00.000Z");
    expect(r.rebindAt).toBe("2030-01-01T00:52:30.000Z");
    expect(r.expiresAt).toBe("2030-01-01T01:00:00.000Z");
    expect(r.serverMac).toBe("02:00:00:00:00:fe");
    const { acquiredAt: _a, renewAt: _r, rebindAt: _b, expiresAt: _e, serverMac: _m, ...rest } = r;
    const { acquiredAt: _a2, renewAt: _r2, rebindAt: _b2, expiresAt: _e2, serverMac: _m2, ...engineRest } = engineLease();
    expect(rest).toEqual(engineRest);
  });
  test("leaseFromRecord gives the engine's lease back (times on the clock of the offset given, MAC as bytes)", () => {
    const lease = engineLease();
    expect(leaseFromRecord(leaseRecord(lease, ACQUIRED - 1000), ACQUIRED - 1000)).toEqual(lease);
    // Read back after the wall clock moved 5 s further than the monotonic one: every time moves with it.
    const later = leaseFromRecord(leaseRecord(lease, ACQUIRED - 1000), ACQUIRED + 4000)!;
    expect([later.acquiredAt, later.expiresAt]).toEqual([lease.acquiredAt - 5000, lease.expiresAt! - 5000]);
    expect(leaseFromRecord({ ...leaseRecord(lease, 0), serverMac: "nonsense" }, 0)).toBeNull();
  });
  test("an infinite lease has no deadlines", () => {
    const r = leaseRecord(
      engineLease({ infinite: true, leaseTime: 0xffffffff, t1: 0xffffffff, t2: 0xffffffff, renewAt: null, rebindAt: null, expiresAt: null }),
      0,
    );
    expect([r.renewAt, r.rebindAt, r.expiresAt]).toEqual([null, null, null]);
    expect(r.acquiredAt).toBe(new Date(1000).toISOString());
  });
});

describe("leasePath", () => {
  test("dir/iface.json for kernel-valid names", () => {
    expect(leasePath("/var/db/dhcptool", "eth0")).toBe("/var/db/dhcptool/eth0.json");
    expect(leasePath("/d", "eth0.100")).toBe("/d/eth0.100.json");
    expect(leasePath("/d", "a".repeat(15))).toBe(`/d/${"a".repeat(15)}.json`);
  });
  test.each([
    ["", "is empty"],
    ["a".repeat(16), "is longer than 15 bytes"],
    ["ééééééééé", "is longer than 15 bytes"], // 18 bytes in UTF-8
    [".", "is . or .."],
    ["..", "is . or .."],
    ["../etc", "contains '/', ':', NUL or whitespace"],
    ["a/b", "contains '/', ':', NUL or whitespace"],
    ["eth\0", "contains '/', ':', NUL or whitespace"],
    ["eth 0", "contains '/', ':', NUL or whitespace"],
    ["eth\t0", "contains '/', ':', NUL or whitespace"],
    ["eth0\n", "contains '/', ':', NUL or whitespace"],
    ["eth0:1", "contains '/', ':', NUL or whitespace"],
  ])("%p is refused: it %s", (name, why) => {
    expect(() => leasePath("/d", name)).toThrow(StoreError);
    expect(() => leasePath("/d", name)).toThrow(`is not an interface name: it ${why}`);
  });
  test("the refused name is shown escaped", () => {
    expect(() => leasePath("/d", "\x1b[2J/")).toThrow('"\\x1b[2J/" is not an interface name');
  });
});

describe("save and load", () => {
  test("round trip: what is saved loads back equal, with a 0600 file in a 0700 directory it made", () => {
    const nested = join(dir, "var", "db");
    const s = stored();
    saveLease(nested, s);
    const r = loadLease(nested, "eth0", ACQUIRED + 1000);
    expect(r).toEqual({ ok: true, stored: s, expired: false });
    expect(fs.statSync(join(nested, "eth0.json")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(nested).mode & 0o777).toBe(0o700);
    expect(tempFiles(nested)).toEqual([]);
  });

  test("expired is judged against now, at the lease end", () => {
    saveLease(dir, stored());
    const end = Date.parse("2030-01-01T01:00:00.000Z");
    expect(loadLease(dir, "eth0", end - 1)).toMatchObject({ ok: true, expired: false });
    expect(loadLease(dir, "eth0", end)).toMatchObject({ ok: true, expired: true });
  });

  test("an infinite lease never expires", () => {
    saveLease(dir, stored("eth0", { infinite: true, leaseTime: 0xffffffff, t1: 0xffffffff, t2: 0xffffffff, renewAt: null, rebindAt: null, expiresAt: null }));
    expect(loadLease(dir, "eth0", Date.parse("2999-01-01T00:00:00Z"))).toMatchObject({ ok: true, expired: false });
  });

  test("a second save replaces the first", () => {
    saveLease(dir, stored());
    saveLease(dir, stored("eth0", { address: "198.18.0.101" }));
    const r = loadLease(dir, "eth0");
    expect(r.ok && r.stored.lease.address).toBe("198.18.0.101");
    expect(tempFiles(dir)).toEqual([]);
  });

  test("wire strings survive byte for byte (they are escaped only when shown)", () => {
    const hostile = "$(touch /tmp/x)`id`;'\"\x1b]0;t\x07\n\u00e9\u00ff";
    saveLease(dir, stored("eth0", { domain: hostile, search: [hostile] }));
    const r = loadLease(dir, "eth0");
    expect(r.ok && r.stored.lease.domain).toBe(hostile);
    expect(r.ok && r.stored.lease.search).toEqual([hostile]);
  });

  test("a lease that would not load back is refused before anything is written", () => {
    saveLease(dir, stored());
    const before = read(join(dir, "eth0.json"));
    expect(() => saveLease(dir, stored("eth0", { address: "not-an-ip" }))).toThrow(
      `refusing to store a lease that would not load back: ${dir}/eth0.json lease.address is missing or of the wrong type`,
    );
    expect(read(join(dir, "eth0.json"))).toBe(before);
    expect(() => saveLease(join(dir, "new"), stored("eth0", { leaseTime: -1 }))).toThrow("lease.leaseTime");
    expect(fs.existsSync(join(dir, "new"))).toBe(false);
  });

  test("a bad interface name in the record is refused", () => {
    expect(() => saveLease(dir, stored("../x"))).toThrow(StoreError);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test("unknown keys in a file are dropped, not passed on", () => {
    saveLease(dir, stored());
    const p = join(dir, "eth0.json");
    const json = JSON.parse(read(p));
    json.extra = "x";
    json.lease.sneaky = { a: 1 };
    fs.writeFileSync(p, JSON.stringify(json));
    const r = loadLease(dir, "eth0");
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect("extra" in r.stored).toBe(false);
      expect("sneaky" in r.stored.lease).toBe(false);
    }
  });
});

describe("atomicity: any failure before the rename leaves the old lease and no temp file", () => {
  const err = (code: string, errno: number) => Object.assign(new Error(code), { code, errno });
  function failing(over: Partial<StoreIo>): StoreIo {
    return { ...nodeIo, ...over };
  }

  test.each([
    [
      "rename (a crash between write and rename)",
      {
        renameSync: () => {
          throw err("EIO", -5);
        },
      },
      "i/o error (EIO)",
    ],
    [
      "write (disk full)",
      {
        writeSync: () => {
          throw err("ENOSPC", -28);
        },
      },
      "no space left on device (ENOSPC)",
    ],
    [
      "fsync",
      {
        fsyncSync: () => {
          throw err("EIO", -5);
        },
      },
      "i/o error (EIO)",
    ],
    [
      "close",
      {
        closeSync: () => {
          throw err("EDQUOT", -122);
        },
      },
      "(EDQUOT)",
    ],
    [
      "open of the temp file",
      {
        openSync: () => {
          throw err("EACCES", -13);
        },
      },
      "permission denied (EACCES)",
    ],
    ["write that takes nothing", { writeSync: () => 0 }, "(EIO)"],
  ] as [string, Partial<StoreIo>, string][])("%s", (_what, over, text) => {
    saveLease(dir, stored());
    const path = join(dir, "eth0.json");
    const before = read(path);
    let e: unknown;
    try {
      saveLease(dir, stored("eth0", { address: "198.18.0.199" }), failing(over));
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(StoreError);
    expect((e as Error).message).toStartWith(`cannot store the lease in ${path}: `);
    expect((e as Error).message).toContain(text);
    expect(read(path)).toBe(before);
    expect(tempFiles(dir)).toEqual([]);
    expect(loadLease(dir, "eth0")).toMatchObject({ ok: true, stored: { lease: { address: "198.18.0.100" } } });
  });

  test("a temp name already taken (EEXIST) is not ours to remove", () => {
    const unlinked: string[] = [];
    const io: StoreIo = {
      ...nodeIo,
      openSync: () => {
        throw err("EEXIST", -17);
      },
      unlinkSync: (p) => {
        unlinked.push(String(p));
      },
    };
    expect(() => saveLease(dir, stored(), io)).toThrow(`cannot store the lease in ${dir}/eth0.json: file already exists (EEXIST)`);
    expect(unlinked).toEqual([]);
  });

  test("short writes are carried on until the whole file is down", () => {
    const oneByte: StoreIo = { ...nodeIo, writeSync: (fd, data, off) => nodeIo.writeSync(fd, data, off, 1) };
    saveLease(dir, stored(), oneByte);
    expect(loadLease(dir, "eth0")).toMatchObject({ ok: true });
  });

  test("a directory that cannot be made (a file is in the way): error names the path and errno", () => {
    const file = join(root, `plain-file-${n}`);
    fs.writeFileSync(file, "x");
    expect(() => saveLease(join(file, "sub"), stored())).toThrow(`cannot store the lease in ${file}/sub/eth0.json: not a directory (ENOTDIR)`);
  });

  // Root may write anywhere: the test run runs test/unit as user nobody (scripts/test.sh), so
  // this case runs there; as root it is the injected EACCES above.
  test.skipIf(process.geteuid?.() === 0)("a directory we may not write (not root): EACCES, the old lease survives", () => {
    saveLease(dir, stored());
    const path = join(dir, "eth0.json");
    const before = read(path);
    fs.chmodSync(dir, 0o500);
    try {
      expect(() => saveLease(dir, stored("eth0", { address: "198.18.0.199" }))).toThrow(`cannot store the lease in ${path}: permission denied (EACCES)`);
      expect(read(path)).toBe(before);
    } finally {
      fs.chmodSync(dir, 0o700);
    }
  });

  test("a failing directory fsync after the rename is not a lost lease (EINVAL ignored)", () => {
    let calls = 0;
    const io: StoreIo = {
      ...nodeIo,
      fsyncSync: (fd) => {
        if (++calls === 2) throw err("EINVAL", -22);
        nodeIo.fsyncSync(fd);
      },
    };
    saveLease(dir, stored(), io);
    expect(calls).toBe(2);
    expect(loadLease(dir, "eth0")).toMatchObject({ ok: true });
  });
});

describe("what is on disk is never trusted", () => {
  function plant(content: string | Uint8Array, name = "eth0.json"): string {
    fs.mkdirSync(dir, { recursive: true });
    const p = join(dir, name);
    fs.writeFileSync(p, content, { mode: 0o600 });
    return p;
  }
  const good = () => JSON.stringify(stored());
  const mutate = (f: (j: any) => void) => {
    const j = JSON.parse(good());
    f(j);
    return JSON.stringify(j);
  };

  test("missing", () => {
    expect(loadLease(dir, "eth0")).toEqual({ ok: false, reason: "missing", detail: `${dir}/eth0.json does not exist` });
  });

  const corruptCases: [string, () => string | Uint8Array, string][] = [
    ["empty file", () => "", "is not JSON"],
    ["truncated in the middle", () => good().slice(0, good().length / 2), "is not JSON"],
    ["truncated by one byte", () => good().slice(0, -1), "is not JSON"],
    ["not JSON", () => "address=1.2.3.4", "is not JSON"],
    ["invalid UTF-8", () => Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d), "is not UTF-8 text"],
    ["a JSON array", () => "[]", "is not a JSON object"],
    ["JSON null", () => "null", "is not a JSON object"],
    [
      "a future version",
      () =>
        mutate((j) => {
          j.version = 2;
        }),
      "has version 2 (this dhcptool reads version 1)",
    ],
    [
      "no version",
      () =>
        mutate((j) => {
          delete j.version;
        }),
      "has version none",
    ],
    [
      "another interface's lease",
      () =>
        mutate((j) => {
          j.interface = "eth1";
        }),
      'is for interface "eth1", not eth0',
    ],
    [
      "a bad mac",
      () =>
        mutate((j) => {
          j.mac = "02:00:00:00:00";
        }),
      "has no valid mac",
    ],
    [
      "a bad savedAt",
      () =>
        mutate((j) => {
          j.savedAt = "yesterday";
        }),
      "has no valid savedAt",
    ],
    [
      "no lease",
      () =>
        mutate((j) => {
          delete j.lease;
        }),
      "lease. is missing",
    ],
    [
      "lease is a string",
      () =>
        mutate((j) => {
          j.lease = "x";
        }),
      "lease. is missing",
    ],
    [
      "address out of range",
      () =>
        mutate((j) => {
          j.lease.address = "300.1.1.1";
        }),
      "lease.address is missing",
    ],
    [
      "route prefix 33",
      () =>
        mutate((j) => {
          j.lease.routes[0].prefix = 33;
        }),
      "lease.routes is missing",
    ],
    [
      "route without router",
      () =>
        mutate((j) => {
          delete j.lease.routes[0].router;
        }),
      "lease.routes is missing",
    ],
    [
      "dns holds a number",
      () =>
        mutate((j) => {
          j.lease.dns = [1];
        }),
      "lease.dns is missing",
    ],
    [
      "leaseTime negative",
      () =>
        mutate((j) => {
          j.lease.leaseTime = -1;
        }),
      "lease.leaseTime is missing",
    ],
    [
      "t1 fractional",
      () =>
        mutate((j) => {
          j.lease.t1 = 1.5;
        }),
      "lease.t1 is missing",
    ],
    [
      "t2 as a string",
      () =>
        mutate((j) => {
          j.lease.t2 = "3150";
        }),
      "lease.t2 is missing",
    ],
    [
      "infinite as a string",
      () =>
        mutate((j) => {
          j.lease.infinite = "false";
        }),
      "lease.infinite is missing",
    ],
    [
      "expiresAt not a date",
      () =>
        mutate((j) => {
          j.lease.expiresAt = "soon";
        }),
      "lease.expiresAt is missing",
    ],
    [
      "a finite lease without expiresAt",
      () =>
        mutate((j) => {
          j.lease.expiresAt = null;
        }),
      "lease.expiresAt does not match infinite: false",
    ],
    [
      "options hex odd",
      () =>
        mutate((j) => {
          j.lease.options[0].hex = "0";
        }),
      "lease.options is missing",
    ],
    [
      "option code 256",
      () =>
        mutate((j) => {
          j.lease.options[0].code = 256;
        }),
      "lease.options is missing",
    ],
    [
      "oversized (64 KiB + 1, valid JSON)",
      () => good() + " ".repeat(MAX_LEASE_FILE + 1 - good().length),
      `larger than a lease file can be (${MAX_LEASE_FILE})`,
    ],
  ];
  test.each(corruptCases)("%s → corrupt, not a throw", (_what, content, detail) => {
    const p = plant(content());
    const r = loadLease(dir, "eth0");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe("corrupt");
      expect(r.detail).toStartWith(p + " ");
      expect(r.detail).toContain(detail);
    }
  });

  test("every lease field, given a value of the wrong type, makes the file corrupt", () => {
    const keys = Object.keys(stored().lease);
    expect(keys.length).toBe(20); // every field of core/engine.ts Lease
    for (const key of keys) {
      plant(
        mutate((j) => {
          j.lease[key] = { wrong: true };
        }),
      );
      const r = loadLease(dir, "eth0");
      expect({ key, ok: r.ok, reason: r.ok ? null : r.reason }).toEqual({ key, ok: false, reason: "corrupt" });
    }
  });

  test("exactly 64 KiB is still read", () => {
    plant(good() + " ".repeat(MAX_LEASE_FILE - good().length));
    expect(loadLease(dir, "eth0")).toMatchObject({ ok: true });
  });

  test("a symlink is refused, not followed", () => {
    const target = plant(good(), "elsewhere");
    fs.symlinkSync(target, join(dir, "eth0.json"));
    expect(loadLease(dir, "eth0")).toEqual({ ok: false, reason: "unreadable", detail: `${dir}/eth0.json is a symbolic link (not followed)` });
  });

  test("a directory in its place is unreadable", () => {
    fs.mkdirSync(join(dir, "eth0.json"), { recursive: true });
    expect(loadLease(dir, "eth0")).toMatchObject({ ok: false, reason: "unreadable", detail: `${dir}/eth0.json is not a regular file` });
  });

  test("a FIFO in its place neither hangs nor loads", () => {
    fs.mkdirSync(dir, { recursive: true });
    const r = Bun.spawnSync(["mkfifo", join(dir, "eth0.json")]);
    expect(r.exitCode).toBe(0);
    expect(loadLease(dir, "eth0")).toMatchObject({ ok: false, reason: "unreadable", detail: `${dir}/eth0.json is not a regular file` });
  });

  test("a world-writable file is not trusted", () => {
    const p = plant(good());
    fs.chmodSync(p, 0o666);
    expect(loadLease(dir, "eth0")).toEqual({ ok: false, reason: "unreadable", detail: `${p} is writable by anyone (not trusted)` });
  });

  test("a bad interface name asks for nothing on disk", () => {
    expect(loadLease(dir, "../../etc/passwd")).toMatchObject({ ok: false, reason: "unreadable" });
  });
});

describe("remove and list", () => {
  test("removeLease removes, and removing again is fine", () => {
    saveLease(dir, stored());
    removeLease(dir, "eth0");
    expect(fs.existsSync(join(dir, "eth0.json"))).toBe(false);
    removeLease(dir, "eth0");
    removeLease(join(dir, "never-made"), "eth0");
    expect(() => removeLease(dir, "a/b")).toThrow(StoreError);
  });

  test("listStored: interface names only, sorted; temp files, directories and odd names are not leases", () => {
    expect(listStored(join(dir, "not-there"))).toEqual([]);
    saveLease(dir, stored("wlan0"));
    saveLease(dir, stored("eth0"));
    saveLease(dir, stored("eth0.100"));
    fs.writeFileSync(join(dir, ".eth0.json.1-abc.tmp"), "half");
    fs.writeFileSync(join(dir, "notes.txt"), "");
    fs.writeFileSync(join(dir, `${"x".repeat(16)}.json`), "");
    fs.mkdirSync(join(dir, "dir.json"));
    expect(listStored(dir)).toEqual(["eth0", "eth0.100", "wlan0"]);
  });

  test("listStored on a file is an error that says so", () => {
    const file = join(root, `list-file-${n}`);
    fs.writeFileSync(file, "");
    expect(() => listStored(file)).toThrow(`cannot list the leases in ${file}: not a directory (ENOTDIR)`);
  });
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
