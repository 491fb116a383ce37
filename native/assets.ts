/**
 * The native asset table: files a compiled dhcptool carries inside itself.
 *
 * `bun build --compile` embeds a file imported `with { type: "file" }` and hands
 * the program a path under /$bunfs/ that only Bun's own file APIs can read: the
 * kernel (dlopen's mmap, execve) cannot. So an embedded file is registered here
 * by name, and whoever needs it on the kernel's side asks native/shim.ts's
 * materializeAsset() for a real path: an anonymous memory file (memfd_create,
 * reached as /proc/PID/fd/N: no directory, nothing left behind, indifferent to a
 * noexec TMPDIR), or, where memfd is refused, a copy in a fresh 0700 directory.
 *
 * Only the compiled binary's entry point (cli/ship/embed.ts) registers anything;
 * from source and from the npm bundle the table is empty and files are found on
 * disk. Today the table holds the shim, "libdhcptool.so"; the privileged helper
 * (issue 11) joins it with one more import line in cli/ship/embed.ts.
 *
 * No bun:ffi here (native/shim.ts and native/libc.ts stay its importers): this
 * module only keeps the table and does the plain-file fallback.
 */

// node:fs and node:os are required where used: importing this module (which native/shim.ts
// does on every start) must cost nothing.
const fs = (): typeof import("node:fs") => require("node:fs");

/** The resident client's privileged helper: its name on disk (native/build/) and in the table. */
export const HELPER_ASSET = "dhcptool-priv";

const embedded = new Map<string, string>();
/** Bytes read ahead by readAsset(), taken by assetBytes(). */
const read = new Map<string, Uint8Array>();

/** Called once by the compiled entry point: asset name → the path Bun gave its import. */
export function embedAssets(table: Readonly<Record<string, string>>): void {
  for (const [name, path] of Object.entries(table)) {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`asset name "${name}" is not a plain file name`);
    embedded.set(name, path);
  }
}

/** The embedded path of an asset, or undefined when this program carries none by that name. */
export function embeddedAsset(name: string): string | undefined {
  return embedded.get(name);
}

export function embeddedAssetNames(): string[] {
  return [...embedded.keys()];
}

/**
 * The asset's bytes. Synchronous, for dlopen on first use (native() is synchronous);
 * node:fs reads /$bunfs/ paths inside a compiled binary, and real paths elsewhere.
 */
export function assetBytes(name: string): Uint8Array {
  const path = embedded.get(name);
  if (path === undefined) throw new Error(`no embedded asset "${name}"`);
  const ahead = read.get(name);
  if (ahead !== undefined) {
    read.delete(name); // read once: loaded once
    return ahead;
  }
  return new Uint8Array(fs().readFileSync(path));
}

/**
 * Reads an embedded asset ahead with Bun's own file API, for a caller that can wait: the
 * assetBytes() that follows needs no node:fs then (its import costs ~1.3 ms of a one-shot).
 */
export async function readAsset(name: string): Promise<void> {
  const path = embedded.get(name);
  if (path === undefined || read.has(name)) return;
  read.set(name, await Bun.file(path).bytes());
}

export interface PrivateCopy {
  path: string;
  /** Removes the copy and its directory; idempotent. */
  remove(): void;
}

/**
 * The fallback when memfd_create is refused: a copy in a directory only we can
 * enter (mkdtemp makes it 0700), mode 0500 so nothing rewrites it. The caller
 * removes it as soon as it is loaded or started; the directory holds nothing else.
 */
export function privateCopy(name: string, bytes: Uint8Array, base?: string): PrivateCopy {
  const { mkdtempSync, writeFileSync, rmSync } = fs();
  const dir = mkdtempSync(`${base ?? (require("node:os") as typeof import("node:os")).tmpdir()}/dhcptool-`);
  const path = `${dir}/${name}`;
  writeFileSync(path, bytes, { mode: 0o500, flag: "wx" });
  let removed = false;
  return {
    path,
    remove() {
      if (removed) return;
      removed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
