// A fuzz worker: runs one range of cases (runner.ts runRange) and reports to the main
// thread, which watches `shared` (the index of the case under way) for hangs.

import { loadTable } from "../../cli/render-table.ts";
import { runRange, type RangeJob, type WorkerMessage } from "./runner.ts";

declare const self: Worker;

// The frame target renders offer tables, with the table package, which is loaded on demand.
const ready = loadTable();

self.onmessage = (e: MessageEvent<{ job: RangeJob; shared: SharedArrayBuffer }>) => {
  const current = new Int32Array(e.data.shared);
  void ready.then(() => runRange(e.data.job, (m: WorkerMessage) => self.postMessage(m), current));
};
