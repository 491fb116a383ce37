/**
 * A few of glibc's own functions through bun:ffi, for what a one-shot command does with
 * descriptors before and without the shim: write its results and logs (cli/output.ts), ask
 * whether a descriptor is a terminal (cli/term.ts), read the passwd file (cli/privilege.ts),
 * know the host's name (cli/args.ts: node:os would cost ~0.2 ms), and fill the memory file
 * the embedded shim is loaded from (native/shim.ts).
 *
 * Why not node:fs: importing it costs ~1.4 ms of an empty compiled program's start (measured
 * with interleaved runs against the same program without it), a tenth of a whole discover,
 * and a one-shot needs nothing else of it. This dlopen costs ~0.1 ms more than the one the
 * shim's memory file needed anyway.
 *
 * Where the C library is not glibc (musl), dlopen("libc.so.6") fails: every function here
 * then returns null and the caller does the same with node:fs. Daemons and live captures
 * still use node:fs for what a one-shot does not do (reopening a pipe non-blocking, files).
 */
import { dlopen, read } from "bun:ffi";

const SYMBOLS = {
  memfd_create: { args: ["ptr", "u32"], returns: "i32" },
  fcntl: { args: ["i32", "i32", "i32"], returns: "i32" },
  // ssize_t returned as i32: every count asked for is below 2^31 (see writeFd), and -1 stays -1
  write: { args: ["i32", "ptr", "u64"], returns: "i32" },
  read: { args: ["i32", "ptr", "u64"], returns: "i32" },
  open: { args: ["ptr", "i32"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
  isatty: { args: ["i32"], returns: "i32" },
  gethostname: { args: ["ptr", "u64"], returns: "i32" },
  __errno_location: { args: [], returns: "ptr" },
} as const;

export type Libc = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

let symbols: Libc | null | undefined;

/** glibc's functions, opened on first use; null where the C library is not glibc. */
export function libc(): Libc | null {
  if (symbols === undefined) {
    try {
      symbols = dlopen("libc.so.6", SYMBOLS).symbols;
    } catch {
      symbols = null;
    }
  }
  return symbols;
}

/** The errno the last failed call of `c` left (read at once: nothing runs in between on this thread). */
function errno(c: Libc): number {
  const at = c.__errno_location();
  return at === null ? 5 : read.i32(at, 0); // EIO: glibc always has one
}

// The errnos a write is told apart by (asm-generic numbering, as in native/shim.ts).
const ERRNO_NAMES: Record<number, string> = { 4: "EINTR", 5: "EIO", 9: "EBADF", 11: "EAGAIN", 28: "ENOSPC", 32: "EPIPE" };

/** The name node:fs would give an errno in an error's `code` ("EPIPE"). */
export function errnoName(n: number): string {
  return ERRNO_NAMES[n] ?? `E${n}`;
}

/** At most this much per write(2): a count the i32 return can carry. */
const MAX_WRITE = 1 << 30;

/**
 * write(2) of bytes[offset..]: the count written, or -errno; null where libc is not glibc's.
 * Nothing past bytes' end is written; an empty write returns 0 without a call.
 */
export function writeFd(fd: number, bytes: Uint8Array, offset = 0): number | null {
  const c = libc();
  if (c === null) return null;
  const length = Math.min(bytes.byteLength - offset, MAX_WRITE);
  if (length <= 0) return 0;
  const n = c.write(fd, offset ? bytes.subarray(offset) : bytes, length);
  return n >= 0 ? n : -errno(c);
}

/** close(2); false where libc is not glibc's. */
export function closeFd(fd: number): boolean {
  const c = libc();
  if (c === null) return false;
  c.close(fd);
  return true;
}

/** isatty(3): is fd a terminal (a TCGETS ioctl: no /proc, works after the privilege drop)? null where libc is not glibc's. */
export function isTerminal(fd: number): boolean | null {
  const c = libc();
  return c === null ? null : c.isatty(fd) === 1;
}

const O_RDONLY_CLOEXEC = 0o2000000;
const EINTR = 4;

/**
 * A small file's whole content, or null when libc is not glibc's or anything fails (the
 * caller reads it again with node:fs then, whose error says what went wrong in its words).
 */
export function readSmallFile(path: string, limit = 4 << 20): Uint8Array | null {
  const c = libc();
  if (c === null || path.includes("\0")) return null;
  const fd = c.open(new TextEncoder().encode(`${path}\0`), O_RDONLY_CLOEXEC);
  if (fd < 0) return null;
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(64 * 1024);
      const n = c.read(fd, buf, buf.length);
      if (n < 0) {
        if (errno(c) === EINTR) continue;
        return null;
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > limit) return null;
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    c.close(fd);
  }
}

/** gethostname(2), what node:os hostname() returns; null where libc is not glibc's or it fails. */
export function hostName(): string | null {
  const c = libc();
  if (c === null) return null;
  const buf = new Uint8Array(256); // HOST_NAME_MAX is 64; room for its NUL
  if (c.gethostname(buf, buf.length) !== 0) return null;
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}
