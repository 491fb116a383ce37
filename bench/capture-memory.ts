// Peak memory of reading captures: `lease decode` and `watch --read` of a capture of 50,000
// DHCP packets (~18 MB) and of a ~300 MB one, and of input that is no capture (/dev/zero as a
// file and on a pipe). Targets (issues 11 and 12): RSS under 100 MB for the first, under
// 150 MB for the second, and a quick, clear error for /dev/zero. A measurement, not a test:
// it prints what it saw and asserts nothing.
//
//   bun bench/capture-memory.ts [--big-mb N]      (or BIG_MB=N; default 300; the files go in a temp dir)

import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePcapHeader, encodePcapRecord } from "../core/pcap.ts";
import { doraMessages, ethernet, ipPacket } from "../test/unit/capture-fixtures.ts";

const MAIN = `${import.meta.dir}/../cli/main.ts`;
const bigMb = Number(process.argv[process.argv.indexOf("--big-mb") + 1]) || Number(process.env.BIG_MB) || 300;

/** A capture of DORA exchanges (each its own xid), written a record at a time. */
function writeCapture(path: string, stopAt: (packets: number, bytes: number) => boolean): number {
  const fd = openSync(path, "w");
  let bytes = 0,
    packets = 0,
    t = 1_700_000_000_000_000;
  const put = (b: Uint8Array) => {
    writeSync(fd, b);
    bytes += b.length;
  };
  put(encodePcapHeader());
  for (let xid = 1; !stopAt(packets, bytes); xid++) {
    for (const m of doraMessages(xid)) {
      put(encodePcapRecord(ethernet(ipPacket(m)), (t += 500)));
      packets++;
    }
  }
  closeSync(fd);
  return packets;
}

interface Row {
  what: string;
  input: string;
  rssMb: number;
  seconds: number;
  exit: number;
  target: string;
  said: string;
}

function measure(what: string, input: string, argv: string[], target: string): Row {
  const t0 = performance.now();
  const p = Bun.spawnSync(argv, { stdout: "ignore", stderr: "pipe" });
  const said = p.stderr
    .toString()
    .split("\n")
    .filter((l) => l && !l.includes("now uid"))
    .slice(0, 1)
    .join("");
  return { what, input, rssMb: p.resourceUsage.maxRSS / 2 ** 20, seconds: (performance.now() - t0) / 1000, exit: p.exitCode ?? -1, target, said };
}

const dir = mkdtempSync(join(tmpdir(), "dhcptool-capmem-"));
try {
  const small = join(dir, "50k.pcap"),
    big = join(dir, "big.pcap");
  const n = writeCapture(small, (packets) => packets >= 50_000);
  const m = writeCapture(big, (_, bytes) => bytes >= bigMb * 1e6);
  const mb = (f: string) => `${(statSync(f).size / 1e6).toFixed(1)} MB`;
  const smallIn = `${n} pkts, ${mb(small)}`,
    bigIn = `${m} pkts, ${mb(big)}`;
  const dt = (args: string[]) => [process.execPath, MAIN, ...args];
  const piped = (cmd: string) => ["bash", "-c", `cat /dev/zero | exec ${process.execPath} ${MAIN} ${cmd}`];
  const rows = [
    measure("lease decode --json", smallIn, dt(["lease", "decode", small, "--json"]), "< 100 MB"),
    measure("lease decode", smallIn, dt(["lease", "decode", small]), "< 100 MB"),
    measure("watch --read --json", smallIn, dt(["watch", "--read", small, "--json"]), "< 100 MB"),
    measure("lease decode --json", bigIn, dt(["lease", "decode", big, "--json"]), "< 150 MB"),
    measure("lease decode - --json (stdin)", bigIn, ["bash", "-c", `exec ${process.execPath} ${MAIN} lease decode - --json < ${big}`], "< 150 MB"),
    measure("watch --read --json", bigIn, dt(["watch", "--read", big, "--json"]), "< 150 MB"),
    measure("watch --read --verbose", bigIn, dt(["watch", "--read", big, "--verbose"]), "< 150 MB"),
    measure("watch --read /dev/zero", "/dev/zero", dt(["watch", "--read", "/dev/zero"]), "quick error"),
    measure("lease decode /dev/zero", "/dev/zero", dt(["lease", "decode", "/dev/zero"]), "quick error"),
    measure("cat /dev/zero | lease decode -", "pipe", piped("lease decode -"), "quick error"),
  ];
  // A Markdown table (docs/BENCHMARKS.md takes it as it is), each row judged against its target.
  const met = (r: Row) => {
    const bound = /^< (\d+) MB$/.exec(r.target);
    if (bound) return r.rssMb < Number(bound[1]) && r.exit === 0 ? "met" : "**not met**";
    return r.exit !== 0 && r.seconds < 1 && r.said !== "" ? "met" : "**not met**"; // a quick error, said in one line
  };
  const cell = (t: string) => t.replaceAll("|", "\\|");
  console.log("| command | input | peak RSS | time | exit | target | | what it said |");
  console.log("|---|---|---:|---:|---:|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${cell(r.what)} | ${r.input} | ${r.rssMb.toFixed(1)} MB | ${r.seconds.toFixed(2)} s | ${r.exit} | ${r.target} | ${met(r)} | ${cell(r.said.slice(0, 70))} |`,
    );
  }
  const missed = rows.filter((r) => met(r) !== "met").length;
  console.log(`\nGoal (every row within its target): ${missed ? `**not met** (${missed} row(s))` : "**met**"}.`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
