/**
 * One of the two modules that import bun:ffi (native/libc.ts, a few of glibc's own functions,
 * is the other). It loads native/build/libdhcptool.so (built from shim.c and its siblings by
 * native/build.sh) on first use and hands out its symbol table through native(), with what
 * every wrapper of it shares: NativeError and its codes, strerror()/codeFor() for the
 * negative errno a call returns, and readyCallback() for a shim thread's wake-up.
 *
 * Only JS-owned buffers and integers cross the boundary; the shim checks
 * every length and never returns a pointer into its own memory.
 *
 * The wrappers: native/rawsocket.ts (interface facts, RawSocket),
 * native/netlink.ts (rtnetlink: address/route configuration, link events)
 * and native/privilege.ts (dropping root).
 */
import { dlopen, JSCallback } from "bun:ffi";
import { assetBytes, embeddedAsset, privateCopy, readAsset } from "./assets.ts";
import { closeFd, libc, writeFd } from "./libc.ts";

export type NativeErrorCode =
  | "ENODEV"
  | "EPERM"
  | "ENETDOWN"
  | "ENOSHIM"
  | "EINVAL"
  | "EMSGSIZE"
  | "EIO"
  // rtnetlink (native/netlink.ts): the address or route is already there, or is not.
  | "EEXIST"
  | "ESRCH"
  | "ENOENT"
  | "EADDRNOTAVAIL"
  // the link monitor lost events (its receive queue overflowed)
  | "ENOBUFS";

export class NativeError extends Error {
  readonly code: NativeErrorCode;
  readonly errno: number;
  /** A socket that could not be opened: the link's flags (IFF_*) when the kernel gave them first. */
  linkFlags?: number;

  constructor(code: NativeErrorCode, message: string, errno = 0) {
    super(message);
    this.name = "NativeError";
    this.code = code;
    this.errno = errno;
  }
}

// The shim's name in the native asset table (native/assets.ts) of a compiled binary.
export const SHIM_ASSET = "libdhcptool.so";

/**
 * Where a file that native/build.sh makes is found on disk (libdhcptool.so, dhcptool-priv):
 * beside this module when run from source, ../native/build when bundled into dist/. A compiled
 * binary carries them in its asset table instead (materializeAsset below).
 */
export function nativeAssetPaths(name: "libdhcptool.so" | "dhcptool-priv"): string[] {
  return [`${import.meta.dir}/build/${name}`, `${import.meta.dir}/../native/build/${name}`];
}

const LIBRARY_PATHS = nativeAssetPaths(SHIM_ASSET);

const SYMBOLS = {
  dt_ifinfo: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  dt_open: { args: ["ptr", "i32", "i32", "ptr", "i32"], returns: "i32" },
  dt_start: { args: ["i32", "ptr"], returns: "i32" },
  dt_recv_batch: { args: ["i32", "ptr", "i32", "ptr", "i32", "i32"], returns: "i32" },
  dt_rearm: { args: ["i32"], returns: "i32" },
  dt_send: { args: ["i32", "ptr", "i32"], returns: "i32" },
  dt_stats: { args: ["i32", "ptr", "i32"], returns: "i32" },
  dt_close: { args: ["i32"], returns: "i32" },
  dt_strerror: { args: ["i32", "ptr", "i32"], returns: "i32" },
  // rtnetlink, native/netlink.c; wrapped by native/netlink.ts
  dt_nl_route_open: { args: [], returns: "i32" },
  dt_nl_transact: { args: ["i32", "ptr", "i32", "ptr", "i32", "ptr", "i32"], returns: "i32" },
  dt_nl_monitor_open: { args: ["i32"], returns: "i32" },
  dt_nl_start: { args: ["i32", "ptr"], returns: "i32" },
  dt_nl_recv: { args: ["i32", "ptr", "i32"], returns: "i32" },
  dt_nl_rearm: { args: ["i32"], returns: "i32" },
  dt_nl_send: { args: ["i32", "ptr", "i32"], returns: "i32" },
  dt_nl_close: { args: ["i32"], returns: "i32" },
  // native/privdrop.c; wrapped by native/privilege.ts
  dt_drop_privileges: { args: ["i32", "i32", "i32"], returns: "i32" },
  // the privileged helper's socket pair, native/privchan.c; wrapped by native/privsep.ts
  dt_priv_spawn: { args: ["ptr", "i32"], returns: "i32" },
  dt_priv_start: { args: ["ptr"], returns: "i32" },
  dt_priv_rearm: { args: [], returns: "i32" },
  dt_priv_call: { args: ["ptr", "i32", "ptr", "i32", "i32"], returns: "i32" },
  dt_priv_next: { args: ["ptr", "i32"], returns: "i32" },
  dt_priv_close: { args: ["i32"], returns: "i32" },
  // native/seccomp.c; wrapped by native/privilege.ts
  dt_seccomp_install: { args: [], returns: "i32" },
  // native/taskstatus.c; wrapped by native/privilege.ts
  dt_task_status: { args: ["ptr", "i32"], returns: "i32" },
} as const;

export type Shim = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

let shim: Shim | undefined;

/** Where the loaded shim came from, for `dhcptool --version`. */
export interface ShimOrigin {
  /** override: $DHCPTOOL_SHIM; embedded: inside this compiled binary; file: found on disk */
  source: "override" | "embedded" | "file";
  path: string;
  /** for an embedded shim: how it reached dlopen (see materializeAsset) */
  via?: MaterializedAsset["via"];
}
let origin: ShimOrigin | undefined;

export function shimOrigin(): ShimOrigin | undefined {
  return origin;
}

/**
 * dlopen once, on first use, so importing this module costs nothing (not
 * even node:fs, which alone adds ~2 ms to start-up: it is required only
 * when loading fails). $DHCPTOOL_SHIM wins (and must load: it was asked
 * for), then the copy embedded in a compiled binary, then the built file.
 */
export function native(): Shim {
  if (shim) return shim;
  const override = process.env.DHCPTOOL_SHIM;
  if (override) return loadFrom({ source: "override", path: override });
  const embedded = embeddedAsset(SHIM_ASSET);
  if (embedded !== undefined) {
    const asset = materializeAsset(SHIM_ASSET, "load");
    try {
      return loadFrom({ source: "embedded", path: embedded, via: asset.via }, asset.path);
    } finally {
      asset.release(); // the mapping outlives the fd or the file
    }
  }
  for (const path of LIBRARY_PATHS) {
    // A library that exists but does not load: say why rather than "not built".
    if (require("node:fs").existsSync(path)) return loadFrom({ source: "file", path: require("node:path").resolve(path) });
  }
  throw new NativeError("ENOSHIM", `native shim not built: run \`bun run build\` in ${packageRoot()}`);
}

/**
 * native(), for a caller that can wait (the one-shots' transport): a compiled binary's
 * embedded shim is read with Bun's own file API first, so that loading it needs no node:fs
 * (whose import alone costs ~1.3 ms of a one-shot's start).
 */
export async function loadNative(): Promise<Shim> {
  if (shim) return shim;
  if (embeddedAsset(SHIM_ASSET) !== undefined && !process.env.DHCPTOOL_SHIM) await readAsset(SHIM_ASSET);
  return native();
}

function loadFrom(from: ShimOrigin, dlopenPath = from.path): Shim {
  try {
    shim = dlopen(dlopenPath, SYMBOLS).symbols;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const fix = from.source === "override" ? "unset DHCPTOOL_SHIM or point it at a built libdhcptool.so" : `run \`bun run build\` in ${packageRoot()}`;
    throw new NativeError("ENOSHIM", `native shim ${from.path} failed to load (${why}): ${fix}`);
  }
  origin = from;
  return shim;
}

/** The directory holding native/: the clone, or the installed npm package (whose dist/ is beside it). */
function packageRoot(): string {
  return require("node:path").resolve(import.meta.dir, "..");
}

/** An embedded asset where the kernel can reach it; release() once it is loaded or started. */
export interface MaterializedAsset {
  path: string;
  /** memfd: an anonymous memory file as /proc/PID/fd/N; private-dir: a 0500 copy in a fresh 0700 directory */
  via: "memfd" | "private-dir";
  release(): void;
}

// <linux/memfd.h>, <linux/fcntl.h>
const MFD_CLOEXEC = 0x1,
  MFD_ALLOW_SEALING = 0x2,
  MFD_EXEC = 0x10;
const F_ADD_SEALS = 1033,
  F_SEAL_SEAL = 0x1,
  F_SEAL_SHRINK = 0x2,
  F_SEAL_GROW = 0x4,
  F_SEAL_WRITE = 0x8;

/**
 * Puts the embedded asset `name` (native/assets.ts) where dlopen ('load') or
 * execve ('exec') can reach it. First a sealed memfd: no file on any disk, so
 * neither a noexec TMPDIR nor a predictable name in /tmp matters (Bun's own
 * dlopen of a /$bunfs/ path writes /tmp/.bun-UID-HASH.so and leaves it there).
 * The path names our pid, not "self", so a child we spawn can execve it. Where
 * memfd_create is refused, a private copy (native/assets.ts privateCopy()).
 */
export function materializeAsset(name: string, use: "load" | "exec"): MaterializedAsset {
  const bytes = assetBytes(name);
  const fd = sealedMemfd(name, bytes, use === "exec");
  if (fd >= 0) {
    let open = true;
    const release = () => {
      if (open) closeFd(fd);
      open = false;
    };
    return { path: `/proc/${process.pid}/fd/${fd}`, via: "memfd", release };
  }
  const copy = privateCopy(name, bytes);
  return { path: copy.path, via: "private-dir", release: copy.remove };
}

function sealedMemfd(name: string, bytes: Uint8Array, exec: boolean): number {
  const c = libc();
  if (c === null) return -1; // not glibc: the private copy will do
  const label = new TextEncoder().encode(`dhcptool:${name}\0`);
  const flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
  // MFD_EXEC keeps the x bits where vm.memfd_noexec would seal them off; kernels before 6.3 refuse it
  let fd = exec ? c.memfd_create(label, flags | MFD_EXEC) : -1;
  if (fd < 0) fd = c.memfd_create(label, flags);
  if (fd < 0) return -1;
  for (let done = 0; done < bytes.length; ) {
    const n = writeFd(fd, bytes, done) ?? -1;
    if (n === -EINTR) continue;
    if (n <= 0) {
      c.close(fd);
      return -1;
    }
    done += n;
  }
  // Nothing may change it from now on, not even through our own fd.
  if (c.fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    c.close(fd);
    return -1;
  }
  return fd;
}

/** A callback a shim thread may call from off the JS thread; see readyCallback(). */
export type ReadyCallback = JSCallback;

/**
 * A threadsafe callback for a shim thread that announces "handle h is
 * ready" (a RawSocket's receive thread, the link monitor's). Close it only
 * after the thread has been stopped.
 */
export function readyCallback(onReady: (handle: number) => void): ReadyCallback {
  return new JSCallback(onReady, { args: ["i32"], returns: "void", threadsafe: true });
}

// Linux errno values (asm-generic, the same on every architecture Bun runs on).
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const ENXIO = 6;
export const EACCES = 13;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENAMETOOLONG = 36;
export const EMSGSIZE = 90;
export const EPFNOSUPPORT = 96;
export const EADDRNOTAVAIL = 99;
export const ENETDOWN = 100;
export const ENOBUFS = 105;

/** The C library's text for an errno ("File exists"), without the number. */
export function strerror(errno: number): string {
  const out = new Uint8Array(128);
  const n = native().dt_strerror(errno, out, out.length);
  return n > 0 ? new TextDecoder().decode(out.subarray(0, n)) : "Unknown error";
}

/** strerror() with the number: "File exists (errno 17)". */
export function errnoText(errno: number): string {
  return `${strerror(errno)} (errno ${errno})`;
}

export function codeFor(errno: number): NativeErrorCode {
  switch (errno) {
    case ENODEV:
    case ENXIO:
      return "ENODEV";
    case EPERM:
    case EACCES:
      return "EPERM";
    case ENETDOWN:
      return "ENETDOWN";
    case EINVAL:
    case ENAMETOOLONG:
      return "EINVAL";
    case EMSGSIZE:
      return "EMSGSIZE";
    case EEXIST:
      return "EEXIST";
    case ESRCH:
      return "ESRCH";
    case ENOENT:
      return "ENOENT";
    case EADDRNOTAVAIL:
      return "EADDRNOTAVAIL";
    case ENOBUFS:
      return "ENOBUFS";
    default:
      return "EIO";
  }
}
