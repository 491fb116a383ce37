/**
 * native/libc.ts: the descriptors a one-shot writes and reads through glibc instead of node:fs
 * (cli/output.ts, cli/term.ts, cli/privilege.ts). A reader that goes away (EPIPE, exit 141) is
 * tested end to end in test/lab/pipes.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { errnoName, hostName, isTerminal, readSmallFile, writeFd } from "../../native/libc.ts";

const dir = mkdtempSync(join(tmpdir(), "dt-libc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("writeFd", () => {
  test("writes bytes from the offset on, and says how many", () => {
    const path = join(dir, "out");
    const fd = openSync(path, "w");
    try {
      expect(writeFd(fd, new TextEncoder().encode("skip:kept\n"), 5)).toBe(5);
      expect(writeFd(fd, new Uint8Array(0))).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path, "utf8")).toBe("kept\n");
  });

  test("a closed descriptor is -EBADF, named as node:fs names it", () => {
    const fd = openSync(join(dir, "closed"), "w");
    closeSync(fd);
    const n = writeFd(fd, new Uint8Array([1]));
    expect(n).toBe(-9);
    expect(errnoName(9)).toBe("EBADF");
    expect(errnoName(32)).toBe("EPIPE");
    expect(errnoName(11)).toBe("EAGAIN");
  });
});

describe("readSmallFile", () => {
  test("the whole file, across several reads", () => {
    const path = join(dir, "big");
    const bytes = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff);
    writeFileSync(path, bytes);
    expect(readSmallFile(path)).toEqual(new Uint8Array(readFileSync(path)));
  });

  test("null for a missing file, a file past the limit, or a name with a NUL (node:fs says why)", () => {
    writeFileSync(join(dir, "small"), "x".repeat(100));
    expect(readSmallFile(join(dir, "missing"))).toBeNull();
    expect(readSmallFile(join(dir, "small"), 10)).toBeNull();
    expect(readSmallFile(`${join(dir, "small")}\0x`)).toBeNull();
  });
});

test("a file is not a terminal", () => {
  const fd = openSync(join(dir, "tty"), "w");
  try {
    expect(isTerminal(fd)).toBe(false);
  } finally {
    closeSync(fd);
  }
});

test("the host's name, as node:os gives it", () => {
  expect(hostName()).toBe(hostname());
});
