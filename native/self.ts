/**
 * This program as the OS sees it: which form is running (the compiled binary,
 * the npm package's bundle, or the sources), how to start it again, and which
 * file a capability must be set on for it to open raw sockets.
 */

export type ProgramForm = "compiled" | "bundle" | "source";

/** Bun puts a compiled program's own modules under /$bunfs/. */
export function programForm(): ProgramForm {
  if (Bun.main.startsWith("/$bunfs/")) return "compiled";
  return Bun.main.endsWith(".ts") ? "source" : "bundle";
}

/** argv that runs this same program: the compiled binary alone, or the runtime and its main script. */
export function selfArgv(): string[] {
  return programForm() === "compiled" ? [process.execPath] : [process.execPath, Bun.main];
}

/**
 * The file to give cap_net_raw: the compiled binary, or the bun binary that runs
 * the script. Resolved: setcap refuses a symlink (npm's and bun's installs link bun).
 */
export function capabilityTarget(): string {
  const { realpathSync }: typeof import("node:fs") = require("node:fs");
  try {
    return realpathSync(process.execPath);
  } catch {
    return process.execPath;
  }
}

/** The advice for EPERM on a raw socket: one command that fixes it, with the right file in it. */
export function capabilityHint(): string {
  const target = capabilityTarget();
  const note = programForm() === "compiled" ? "" : " (every script that bun runs gets them; SECURITY.md has a safer copy)";
  return `run as root, or: sudo setcap cap_net_raw,cap_net_admin+ep ${target}${note}`;
}
