// `dhcptool --version [--json]`: what is running. The shim is actually loaded (dlopen, ~1 ms),
// so a version line that says "embedded" or names a path has been proven, not guessed.

import { native, NativeError, shimOrigin, type ShimOrigin } from "../../native/shim.ts";
import { capabilityTarget, programForm, type ProgramForm } from "../../native/self.ts";
import { EXIT } from "../errors.ts";
import { print, printJson } from "../log.ts";

export interface VersionReport {
  name: "dhcptool";
  version: string;
  bun: string;
  /** compiled: one self-contained binary; bundle: the npm package's JS; source: a clone */
  form: ProgramForm;
  /** the binary, or the bun that runs the script (resolved: the file setcap acts on) */
  executable: string;
  /** the script bun runs; null in the compiled binary */
  script: string | null;
  shim: ({ loaded: true } & ShimOrigin) | { loaded: false; error: string };
}

export function versionReport(version: string): VersionReport {
  let shim: VersionReport["shim"];
  try {
    native();
    const origin = shimOrigin();
    shim = origin ? { loaded: true, ...origin } : { loaded: false, error: "loaded, origin unknown" };
  } catch (err) {
    shim = { loaded: false, error: err instanceof NativeError || err instanceof Error ? err.message : String(err) };
  }
  const form = programForm();
  return {
    name: "dhcptool",
    version,
    bun: Bun.version,
    form,
    executable: capabilityTarget(),
    script: form === "compiled" ? null : Bun.main,
    shim,
  };
}

function shimLine(shim: VersionReport["shim"]): string {
  if (!shim.loaded) return `shim not loaded: ${shim.error}`;
  switch (shim.source) {
    case "embedded":
      return `shim embedded in the binary, loaded through ${shim.via === "memfd" ? "a memfd" : "a private copy"}`;
    case "override":
      return `shim ${shim.path} (from DHCPTOOL_SHIM)`;
    case "file":
      return `shim ${shim.path}`;
  }
}

export function versionText(r: VersionReport): string {
  const runtime = r.form === "compiled" ? `bun ${r.bun}, compiled into ${r.executable}` : `bun ${r.bun} (${r.executable}) running ${r.script} (${r.form})`;
  return `dhcptool ${r.version}\n${runtime}\n${shimLine(r.shim)}\n`;
}

/** Exit 0, or 1 when the shim does not load (a broken install should not pass for a good one). */
export function printVersion(version: string, json: boolean): number {
  const report = versionReport(version);
  if (json) printJson(report);
  else print(versionText(report));
  return report.shim.loaded ? EXIT.ok : EXIT.error;
}
