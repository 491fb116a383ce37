// The load generator's hot path stays at JSC's DFG tier. Its FTL compiles cost ~0.8 s of CPU
// per run (BUN_JSC_reportFTLCompileTimes=1), more than the faster code gives back over a run
// of seconds to minutes (docs/BENCHMARKS.md, load). noFTL reaches what a module exports and
// its classes' methods; what a module keeps to itself may still climb to FTL.

import { noFTL } from "bun:jsc";
import * as bytes from "../../core/bytes.ts";
import * as checksum from "../../core/checksum.ts";
import * as client from "../../core/client.ts";
import * as engine from "../../core/engine.ts";
import * as engineLease from "../../core/engine-lease.ts";
import * as engineMessages from "../../core/engine-messages.ts";
import * as frame from "../../core/frame.ts";
import * as leaseTimes from "../../core/lease-times.ts";
import * as loadStats from "../../core/load-stats.ts";
import * as message from "../../core/message.ts";
import * as options from "../../core/options.ts";
import * as optionTable from "../../core/option-table.ts";
import * as reply from "../../core/reply.ts";
import * as replySanity from "../../core/reply-sanity.ts";
import * as driver from "./driver.ts";
import * as mux from "./mux.ts";
import * as wheel from "./wheel.ts";

const HOT: readonly object[] = [
  bytes,
  checksum,
  client,
  engine,
  engineLease,
  engineMessages,
  frame,
  leaseTimes,
  loadStats,
  message,
  options,
  optionTable,
  reply,
  replySanity,
  driver,
  mux,
  wheel,
];

/** Once, before the run gets hot. */
export function keepHotPathFromFtl(): void {
  for (const m of HOT) {
    for (const v of Object.values(m)) {
      if (typeof v !== "function") continue;
      noFTL(v);
      const proto: unknown = v.prototype;
      if (typeof proto !== "object" || proto === null) continue;
      for (const key of Object.getOwnPropertyNames(proto)) {
        const method = Object.getOwnPropertyDescriptor(proto, key)?.value;
        if (typeof method === "function" && key !== "constructor") noFTL(method);
      }
    }
  }
}
