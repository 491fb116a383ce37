// What the resident client's RSS is made of before any of its own code: small programs
// compiled as dist/dhcptool is (scripts/compile.sh's flags), each holding one facility the
// daemon cannot do without (the shim through bun:ffi with a threadsafe callback, a child
// process as the privileged helper is, a listening unix socket as the control socket is,
// node:fs as the lease store and output are), then all of them together. Each idles 2 s;
// its VmRSS, RssFile (pages mapped from the executable: Bun's code and data) and RssAnon
// follow. Prints a Markdown table. Needs no root.
//
//   bun bench/daemon-floor.ts

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = `${import.meta.dir}/..`;
const SHIM = `${root}/native/build/libdhcptool.so`;
const FLAGS = ["--compile", "--bytecode", "--format=esm", "--splitting", "--minify-syntax", "--minify-whitespace", "--compile-jit-policy=1000"];

const parts: Record<string, string> = {
  ffi: `import { native, readyCallback } from "${root}/native/shim.ts";\nnative();\nconst cb = readyCallback(() => {});\n`,
  spawn: `const child = Bun.spawn(["sleep", "60"], { stdin: "pipe", stdout: "pipe" });\nprocess.on("exit", () => child.kill());\n`,
  listen: `Bun.listen({ unix: process.env.SOCK!, socket: { data() {} } });\n`,
  fs: `import { readFileSync } from "node:fs";\nreadFileSync("/proc/self/stat");\n`,
};
const probes: [string, string[]][] = [
  ["idle (a timer)", []],
  ["+ the shim (bun:ffi, a threadsafe callback)", ["ffi"]],
  ["+ a child process (Bun.spawn)", ["spawn"]],
  ["+ a listening unix socket (Bun.listen)", ["listen"]],
  ["+ node:fs", ["fs"]],
  ["all of the above", ["ffi", "spawn", "listen", "fs"]],
];

function rss(pid: number): { rss: number; file: number; anon: number } {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  const kb = (f: string) => Number(status.match(new RegExp(`^${f}:\\s+(\\d+)`, "m"))?.[1] ?? Number.NaN) / 1024;
  return { rss: kb("VmRSS"), file: kb("RssFile"), anon: kb("RssAnon") };
}

const dir = mkdtempSync(join(tmpdir(), "dhcptool-floor-"));
try {
  const rows: string[] = [];
  let idle = 0;
  for (const [i, [label, use]] of probes.entries()) {
    const src = join(dir, `p${i}.ts`),
      exe = join(dir, `p${i}`);
    writeFileSync(src, `${use.map((u) => parts[u]).join("")}setInterval(() => {}, 1 << 30);\n`);
    const built = Bun.spawnSync(["bun", "build", ...FLAGS, src, "--outfile", exe], { stdout: "ignore", stderr: "pipe" });
    if (built.exitCode !== 0) throw new Error(`build of ${label} failed: ${built.stderr.toString()}`);
    const p = Bun.spawn([exe], { env: { ...process.env, DHCPTOOL_SHIM: SHIM, SOCK: join(dir, `p${i}.sock`) }, stdout: "ignore", stderr: "inherit" });
    await Bun.sleep(2000);
    const r = rss(p.pid);
    p.kill();
    await p.exited;
    if (i === 0) idle = r.rss;
    rows.push(
      `| ${label} | ${r.rss.toFixed(1)} MB | ${i === 0 ? "" : `+${(r.rss - idle).toFixed(1)} MB`} | ${r.file.toFixed(1)} MB | ${r.anon.toFixed(1)} MB |`,
    );
  }
  console.log("| compiled program, idle 2 s | RSS | over idle | mapped from files | anonymous |");
  console.log("|---|---:|---:|---:|---:|");
  for (const r of rows) console.log(r);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
