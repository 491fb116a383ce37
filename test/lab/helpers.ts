// Lab test helpers: each test file makes its own lab (unique name), runs dhcptool inside the
// client namespace as a user would, and removes everything afterwards.

import { inClient, labDown, labUp, type LabOptions, type LabState } from "../../cli/lab.ts";

export const MAIN = `${import.meta.dir}/../../cli/main.ts`;

let counter = 0;
/** A short, unique lab name for this process (names end up in namespace names). */
export function labName(tag: string): string {
  return `t${tag}${(process.pid % 10000).toString(36)}${(counter++).toString(36)}`.slice(0, 10);
}

export function startLab(tag: string, opts: Omit<LabOptions, "name"> = {}): LabState {
  const name = labName(tag);
  labDown(name); // a leftover from an interrupted run
  return labUp({ ...opts, name });
}

export interface RunResult { exitCode: number; stdout: string; stderr: string; ms: number }

export async function dhcptool(lab: LabState | null, args: string[], timeoutMs = 30000): Promise<RunResult> {
  const argv = [process.execPath, MAIN, ...args];
  const t0 = performance.now();
  const p = Bun.spawn(lab ? inClient(lab, argv) : argv, {
    stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" },
  });
  const killer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited,
  ]);
  clearTimeout(killer);
  return { exitCode, stdout, stderr, ms: performance.now() - t0 };
}

export function inNs(ns: string, argv: string[]): string {
  const p = Bun.spawnSync(["ip", "netns", "exec", ns, ...argv], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} in ${ns}: ${p.stderr.toString()}`);
  return p.stdout.toString();
}
