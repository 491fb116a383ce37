/**
 * The one module that imports bun:ffi. It loads native/build/libdhcptool.so
 * (built from shim.c and its siblings by native/build.sh) on first use and
 * hands out its symbol table through native(), with what every wrapper of it
 * shares: NativeError and its codes, strerror()/codeFor() for the negative
 * errno a call returns, and readyCallback() for a shim thread's wake-up.
 *
 * Only JS-owned buffers and integers cross the boundary; the shim checks
 * every length and never returns a pointer into its own memory.
 *
 * The wrappers: native/rawsocket.ts (interface facts, RawSocket),
 * native/netlink.ts (rtnetlink: address/route configuration, link events)
 * and native/privilege.ts (dropping root).
 */
import { dlopen, JSCallback } from "bun:ffi";

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

  constructor(code: NativeErrorCode, message: string, errno = 0) {
    super(message);
    this.name = "NativeError";
    this.code = code;
    this.errno = errno;
  }
}

/**
 * Where a file that native/build.sh makes is found (libdhcptool.so, dhcptool-priv): beside
 * this module when run from source, ../native/build when bundled into dist/. The one lookup
 * of native assets: a packaging that embeds them changes this function alone.
 */
export function nativeAssetPaths(name: "libdhcptool.so" | "dhcptool-priv"): string[] {
  return [`${import.meta.dir}/build/${name}`, `${import.meta.dir}/../native/build/${name}`];
}

const LIBRARY_PATHS = [
  ...(process.env.DHCPTOOL_SHIM ? [process.env.DHCPTOOL_SHIM] : []),
  ...nativeAssetPaths("libdhcptool.so"),
];

const SYMBOLS = {
  dt_ifinfo: { args: ["ptr", "ptr", "i32"], returns: "i32" },
  dt_open: { args: ["ptr", "i32"], returns: "i32" },
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
} as const;

export type Shim = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

let shim: Shim | undefined;

/**
 * dlopen once, on first use, so importing this module costs nothing (not
 * even node:fs, which alone adds ~2 ms to start-up: it is required only
 * when loading fails).
 */
export function native(): Shim {
  if (shim) return shim;
  for (const path of LIBRARY_PATHS) {
    try {
      shim = dlopen(path, SYMBOLS).symbols;
      return shim;
    } catch (err) {
      // A library that exists but does not load: say why rather than "not built".
      if (require("node:fs").existsSync(path)) {
        const why = err instanceof Error ? err.message : String(err);
        throw new NativeError("ENOSHIM", `native shim ${path} failed to load (${why}): run \`bun run build\``);
      }
    }
  }
  throw new NativeError("ENOSHIM", "native shim not built: run `bun run build`");
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
export const ENXIO = 6;
export const EACCES = 13;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENAMETOOLONG = 36;
export const EMSGSIZE = 90;
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
