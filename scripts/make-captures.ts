// Writes the captures in test/fixtures/captures/ from test/unit/capture-fixtures.ts.
// `bun scripts/make-captures.ts` rewrites them; `--check` only says whether they are current
// (test/unit/captures.test.ts does the same check).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { buildCaptures } from "../test/unit/capture-fixtures.ts";

const DIR = `${import.meta.dir}/../test/fixtures/captures`;
const check = process.argv.includes("--check");
let stale = 0;
for (const [name, bytes] of Object.entries(buildCaptures())) {
  const path = `${DIR}/${name}`;
  const same = existsSync(path) && readFileSync(path).equals(bytes);
  if (same) continue;
  stale++;
  if (check) console.error(`${name}: differs from what the builder makes`);
  else {
    writeFileSync(path, bytes);
    console.error(`wrote ${name} (${bytes.length} bytes)`);
  }
}
if (check && stale) process.exit(1);
