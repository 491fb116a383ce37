// tshark and editcap (Debian package tshark) as independent readers of captures, shared by
// the capture tests. A missing tool fails the test that needs it: it never skips.

import { expect } from "bun:test";

export function tool(name: string): string {
  const path = Bun.which(name);
  if (!path) throw new Error(`${name} is not installed: this test needs it and does not skip (apt-get install tshark, which brings editcap)`);
  return path;
}

export function run(argv: string[]) {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  // tshark warns when run as root; that says nothing about the file
  const stderr = p.stderr.toString().replace(/^Running as user .*\n?/m, "");
  return { exitCode: p.exitCode, stdout: p.stdout.toString(), stderr };
}

export const COMPLAINTS = /malformed|appears to have been cut short|isn't a capture file|appears to be damaged or corrupt/i;

/** tshark's fields of every frame in `file`, one row per frame. */
export function tsharkRead(file: string, fields: string[]): string[][] {
  const r = run([tool("tshark"), "-r", file, "-T", "fields", "-E", "separator=/t", ...fields.flatMap((f) => ["-e", f])]);
  expect(r.stderr).not.toMatch(COMPLAINTS);
  expect(r.exitCode).toBe(0);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t"));
}

/** tshark's frame.time_epoch ("1700000000.123456789") in whole µs. */
export function epochUs(text: string): number {
  const [sec, frac = ""] = text.split(".");
  return Number(sec) * 1e6 + Math.floor(Number(frac.padEnd(9, "0")) / 1000);
}
