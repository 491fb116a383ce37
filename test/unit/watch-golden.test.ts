// watch's output is a contract (docs/json.md, docs/watch.md): scripts parse its JSON lines and
// people grep its text. Its packet path is tuned for floods, so this holds it to the bytes an
// earlier, plainer build printed for the same captures (test/fixtures/watch/: every option
// code, hostile strings and frames, seeded mutations; --json, text, --verbose, --allow-server,
// every link type). A run that threw out of the receive path would lose its summary and exit 1.

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { buildWatchGolden, GOLDEN_DIR, GOLDEN_RUNS, goldenOutput } from "./watch-golden-capture.ts";

const MAIN = `${import.meta.dir}/../../cli/main.ts`;

test("the committed capture is exactly what watch-golden-capture.ts builds", () => {
  expect(Buffer.from(readFileSync(`${GOLDEN_DIR}/varied.pcap`)).equals(buildWatchGolden())).toBe(true);
});

for (const run of GOLDEN_RUNS) {
  test(`watch --read ${run.flags.join(" ") || "(text)"}: ${run.name}, byte for byte`, async () => {
    const want = Buffer.from(Bun.gunzipSync(readFileSync(`${GOLDEN_DIR}/${run.name}.out.gz`))).toString();
    const got = await goldenOutput(MAIN, run);
    if (got === want) return;
    // the first line that differs, whole, rather than two 400 KB strings
    const [g, w] = [got.split("\n"), want.split("\n")];
    const at = g.findIndex((line, i) => line !== w[i]);
    expect({ line: at + 1, got: g[at] }).toEqual({ line: at + 1, got: w[at] });
    expect(g.length).toBe(w.length);
  }, 30_000);
}
