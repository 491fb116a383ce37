// scripts/check-layout.ts on small trees made for each rule: what it reports, and that a tree
// that keeps the rules passes in silence.

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const SCRIPT = join(import.meta.dir, "../../scripts/check-layout.ts");
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "dhcptool-layout-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root: string): { exitCode: number; lines: string[] } {
  const r = Bun.spawnSync([process.execPath, SCRIPT, root], { stdout: "pipe", stderr: "pipe" });
  return { exitCode: r.exitCode, lines: r.stderr.toString().split("\n").filter(Boolean) };
}

const lines = (n: number) => "// x\n".repeat(n);

test("a tree that keeps the rules passes in silence", () => {
  const root = tree({
    "core/a.ts": 'import { b } from "./b.ts";\nexport const a = b;\n',
    "core/b.ts": "export const b = 1;\n",
    "cli/main.ts": 'import { a } from "../core/a.ts";\nimport { readFileSync } from "node:fs";\nconst m = await import("./cmd.ts");\n',
    "cli/cmd.ts": '// import { x } from "./main.ts" (a comment, not an import)\nexport const s = \'import("./main.ts")\';\n',
    "native/n.ts": lines(450),
    "test/long.test.ts": lines(900),
    "cli/fixtures/big.ts": lines(900),
  });
  expect(check(root)).toEqual({ exitCode: 0, lines: [] });
});

test("cycles through static, type-only and dynamic imports are each reported once, with a path", () => {
  const root = tree({
    "cli/a.ts": 'import { b } from "./b.ts";\nexport const a = 1;\n',
    "cli/b.ts": 'export async function b() { return (await import("./a.ts")).a; }\n',
    "native/x.ts": 'import type { Y } from "./y.ts";\nexport type X = 1;\n',
    "native/y.ts": 'export { type X } from "./x.ts";\nexport type Y = 2;\n',
    "core/self.ts": 'import * as me from "./self.ts";\nexport const self = me;\n',
  });
  const r = check(root);
  expect(r.exitCode).toBe(1);
  expect(r.lines.sort()).toEqual([
    "layout: 3 problems",
    "layout: import cycle: cli/a.ts → cli/b.ts → (dynamic) cli/a.ts",
    "layout: import cycle: core/self.ts → core/self.ts",
    "layout: import cycle: native/x.ts → (type) native/y.ts → (type) native/x.ts",
  ]);
});

test("core/ importing cli/ or native/ is reported; cli/ importing native/ is not", () => {
  const root = tree({
    "core/engine.ts": 'import { log } from "../cli/log.ts";\nimport type { Raw } from "../native/raw.ts";\n',
    "cli/log.ts": 'import { raw } from "../native/raw.ts";\nexport const log = raw;\n',
    "native/raw.ts": "export const raw = 1;\nexport type Raw = 1;\n",
  });
  const r = check(root);
  expect(r.lines).toEqual([
    "layout: core/engine.ts imports cli/log.ts: core/ imports nothing from cli/ or native/",
    "layout: core/engine.ts imports native/raw.ts: core/ imports nothing from cli/ or native/",
    "layout: 2 problems",
  ]);
});

test("a source file over 450 lines outside test/ and fixtures is reported, whatever its language", () => {
  const root = tree({
    "core/long.ts": lines(451),
    "native/shim.c": lines(500),
    "scripts/run.sh": lines(460),
    "README.md": lines(1000),
  });
  expect(check(root).lines).toEqual([
    "layout: core/long.ts has 451 lines: at most 450 outside test/ and fixtures",
    "layout: native/shim.c has 500 lines: at most 450 outside test/ and fixtures",
    "layout: scripts/run.sh has 460 lines: at most 450 outside test/ and fixtures",
    "layout: 3 problems",
  ]);
});
