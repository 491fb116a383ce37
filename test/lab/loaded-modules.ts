// Preloaded (bun --preload) into a dhcptool run by test/lab/modules.test.ts: at exit it says
// which of the human renderers' packages were loaded (require.cache holds ES modules too).

import { writeSync } from "node:fs";

process.on("exit", () => {
  const loaded = Object.keys(require.cache)
    .map((k) => /node_modules\/(table|consola|ajv)\//.exec(k)?.[1])
    .filter((x) => x !== undefined);
  writeSync(2, `loaded: ${JSON.stringify([...new Set(loaded)].sort())}\n`);
});
