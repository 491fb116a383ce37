// request --clients from the command line (usage errors need no socket, so no root) and the
// report rendered: text, the CSV series, the live status line.

import { beforeAll, describe, expect, test } from "bun:test";
import type { LoadReport } from "../../cli/client/load.ts";
import { renderLoadCsv, renderLoadStatus, renderLoadText } from "../../cli/render-load.ts";
import { loadTable } from "../../cli/render-table.ts";
import { zeroCounts, type SecondRow } from "../../core/load-stats.ts";

const MAIN = `${import.meta.dir}/../../cli/main.ts`;

function request(...args: string[]) {
  const p = Bun.spawnSync([process.execPath, MAIN, "request", "eth0", ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  return { exitCode: p.exitCode, stderr: p.stderr.toString(), stdout: p.stdout.toString() };
}

describe("request --clients: usage", () => {
  test.each([
    [["--rate", "5"], "--rate goes with --clients N"],
    [["--renew"], "--renew goes with --clients N"],
    [["--seed", "1"], "--seed goes with --clients N"],
    [["--clients"], "--clients needs a value: --clients N"],
    [["--clients", "0"], "--clients must be at least 1"],
    [["--clients", "2.5"], "--clients takes a whole number"],
    [["--clients", "10", "--rate", "0"], "--rate must be at least 0.01"],
    [["--clients", "10", "--mac", "02:00:00:00:00:01"], "--mac does not go with --clients"],
    [["--clients", "10", "--client-id", "01aa"], "--client-id does not go with --clients"],
    [["--clients", "10", "--address", "192.0.2.1"], "--address does not go with --clients"],
    [["--clients", "10", "--daemon"], "--daemon does not go with --clients"],
    [["--clients", "10", "--format", "env"], "--format with --clients takes text, json or csv"],
    [["--clients", "10", "--mac-prefix", "02:00"], `--mac-prefix "02:00" is not 3 bytes of MAC`],
    [["--clients", "10", "--mac-prefix", "01:00:5e"], "is a multicast prefix"],
    [["--clients", "10", "--giaddr", "198.18.0.5"], "--giaddr needs --server IP"],
  ])("%j: exit 2, %s", (args, message) => {
    const r = request(...args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe("");
  });
});

const row = (second: number, over: Partial<SecondRow> = {}): SecondRow => ({
  second,
  ...zeroCounts(),
  offerP50: null,
  offerP99: null,
  ackP50: null,
  ackP99: null,
  ...over,
});

const report: LoadReport = {
  interface: "lab0\u001b[31m",
  seed: 7,
  macPrefix: "02:64:74",
  server: "198.18.0.1",
  giaddr: "198.18.0.250",
  clients: 60,
  planned: 60,
  started: 60,
  rate: { target: 100, achieved: 99.9, leasesPerSecond: 24.8 },
  startWindowMs: 590,
  elapsedMs: 1600,
  counts: { ...zeroCounts(), discovers: 60, offers: 25, requests: 25, acks: 25, noOffer: 35 },
  outcomes: { bound: 25, nak: 0, "no-offer": 35, "no-ack": 0, interrupted: 0 },
  dropPercent: { offer: 58.33, ack: 0 },
  latencyMs: { offer: { count: 25, min: 0.2, avg: 0.4, p50: 0.3, p90: 0.9, p99: 1.5, max: 1.5 }, ack: null, renew: null },
  duplicateAddresses: 0,
  exhaustion: { leases: 25, how: "silence", refused: 35 },
  dropped: { late: 2 },
  kernelDrops: 0,
  series: [row(0, { discovers: 60, offers: 25, acks: 25, offerP50: 0.3 }), row(1, { noOffer: 35 })],
};

describe("rendering", () => {
  beforeAll(loadTable);
  test("text: rate, leases, messages, drops, latency, exhaustion, the series; the interface name escaped", () => {
    const t = renderLoadText(report);
    expect(t).not.toContain("\u001b");
    expect(t).toContain("as relay 198.18.0.250 to 198.18.0.1: 60 of 60 clients started (MACs 02:64:74:…, seed 7)");
    expect(t).toContain("target 100/s, achieved 99.9/s, leases 24.8/s");
    expect(t).toContain("25 bound, 0 NAK, 35 no OFFER, 0 no ACK");
    expect(t).toContain("no OFFER 35 (58.33 %), no ACK 0 (0 %)");
    expect(t).toMatch(/DISCOVER→OFFER +0\.200 +0\.400 +0\.300 +0\.900 +1\.500 +1\.500 +25/);
    expect(t).toMatch(/REQUEST→ACK +- +- +- +- +- +- +0/);
    expect(t).toContain("exhausted (or the server stalled): after 25 leases, no answer to the last 35 clients in a row");
    expect(t).toContain("late 2");
    expect(t).toMatch(/\n1 +0 +0 +0 +0 +0 +35 +0 +- +- +- +-\n$/);
    expect(renderLoadText({ ...report, exhaustion: { leases: 25, how: "nak", refused: 35 } })).toContain("exhausted: after 25 leases, NAKs to the last 35");
  });

  test("CSV: a header and a row per second, empty cells where nothing was timed", () => {
    expect(renderLoadCsv(report.series).split("\n")).toEqual([
      "second,discovers,offers,requests,acks,naks,no_offer,no_ack,renews,renew_acks,renew_naks,renew_no_ack,releases,offer_p50_ms,offer_p99_ms,ack_p50_ms,ack_p99_ms",
      "0,60,25,0,25,0,0,0,0,0,0,0,0,0.3,,,",
      "1,0,0,0,0,0,35,0,0,0,0,0,0,,,,",
      "",
    ]);
  });

  test("the live line: the second, starts, totals, that second's medians", () => {
    expect(renderLoadStatus(report.series[0], report.counts, 60, 60)).toBe(
      "1 s: started 60/60 (60 DISCOVER/s), OFFER 25, ACK 25, NAK 0, drops 35, D→O p50 0.300 ms, R→A p50 - ms",
    );
  });
});
