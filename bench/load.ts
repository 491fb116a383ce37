// request --clients beside Kea's perfdhcp, against the same Kea in the same lab (DESIGN.md:
// dhcptool sustains at least perfdhcp's rate). One lab, one Kea with a pool of 57343
// addresses, restarted with an empty lease file before every run so each run starts alike.
// Both tools speak as a relay agent at 198.18.0.250 (perfdhcp always does: giaddr is its
// address), one copy of each message, a drop after 1 s, fresh clients every exchange.
//
//   sudo bun bench/load.ts                      the fixed rates, then the ramps
//   RATES="500 2000" RAMP="1000 2000 4000" SECONDS_PER_RUN=10 TRIES=2 sudo bun bench/load.ts
//
// Prints Markdown tables on stdout (progress on stderr). The lab is removed on exit.

import { rmSync } from "node:fs";
import { join } from "node:path";
import { inClient, labDown, labUp, serverMac, startServer, stopServer, type LabState } from "../cli/lab/index.ts";
import { systemBinary } from "../cli/lab/proc.ts";
import { maxPool } from "../cli/lab/state.ts";

const RATES = (process.env.RATES ?? "500 2000").split(/\s+/).filter(Boolean).map(Number);
const RAMP = (process.env.RAMP ?? "1000 1500 2000 2500 3000 4000 5000 6000 8000").split(/\s+/).filter(Boolean).map(Number);
/** Seconds per run (less at rates whose run would take more addresses than 90 % of the pool). */
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 10);
const POOL = maxPool(1);
const secondsAt = (rate: number) => Math.min(SECONDS, Math.floor((POOL * 0.9) / rate));
/** Runs per tool and ramp rate before the rate counts as not sustained (other load on the machine comes and goes). */
const TRIES = Number(process.env.TRIES ?? 2);
const GIADDR = "198.18.0.250";
const MAIN = `${import.meta.dir}/../cli/main.ts`;
/** Under 1 % of exchanges lost: the rate is sustained. */
const SUSTAINED_DROP_PCT = 1;

interface Result {
  tool: "perfdhcp" | "dhcptool";
  target: number;
  /** DISCOVERs sent per second, exchanges completed (ACKs) per second. */
  sentRate: number;
  ackRate: number;
  /** Exchanges lost (no OFFER or no ACK), % of DISCOVERs sent. */
  dropPct: number;
  offer: { min: number; avg: number; max: number; p99: number | null };
  ack: { min: number; avg: number; max: number; p99: number | null };
  /** CPU the tool used (user + system), % of one core over the run. */
  cpuPct: number;
}

async function spawnIn(lab: LabState, argv: string[]): Promise<{ stdout: string; stderr: string; cpuS: number; wallS: number }> {
  const t0 = performance.now();
  const p = Bun.spawn(inClient(lab, argv), { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const wallS = (performance.now() - t0) / 1000;
  const u = p.resourceUsage();
  const cpuS = u ? Number(u.cpuTime.user + u.cpuTime.system) / 1e6 : Number.NaN;
  return { stdout, stderr, cpuS, wallS };
}

/** perfdhcp's report: "Rate: …", then per exchange "sent packets", "drops", "min/avg/max delay". */
function parsePerfdhcp(text: string, target: number, cpuS: number, wallS: number): Result {
  const seconds = secondsAt(target);
  // "***Statistics for: DISCOVER-OFFER***" and its lines, up to the next "***" heading
  const section = (name: string) => text.split(`Statistics for: ${name}***`)[1]?.split("***")[0] ?? "";
  const num = (s: string, label: string) => Number(s.match(new RegExp(`${label}:\\s*([\\d.]+)`))?.[1] ?? Number.NaN);
  const lat = (s: string) => ({ min: num(s, "min delay"), avg: num(s, "avg delay"), max: num(s, "max delay"), p99: null });
  const doS = section("DISCOVER-OFFER"),
    raS = section("REQUEST-ACK");
  // Its own "Rate" divides by the whole run, exit wait included: ACKs over the sending period
  // here, as for dhcptool.
  const sent = num(doS, "sent packets");
  return {
    tool: "perfdhcp",
    target,
    sentRate: round(sent / seconds),
    ackRate: round(num(raS, "received packets") / seconds),
    dropPct: round(((num(doS, "drops") + num(raS, "drops")) * 100) / Math.max(1, sent)),
    offer: lat(doS),
    ack: lat(raS),
    cpuPct: round((cpuS / wallS) * 100),
  };
}

async function perfdhcp(lab: LabState, rate: number): Promise<Result> {
  // -R: clients drawn at random from a million, so few exchanges repeat a client (Kea's pool
  // holds every distinct one); -W: a second after the end for the last answers.
  const argv = [
    systemBinary("perfdhcp") ?? "perfdhcp",
    "-4",
    "-l",
    "lab0",
    "-r",
    String(rate),
    "-R",
    "1000000",
    "-p",
    String(secondsAt(rate)),
    "-W",
    "1000000",
    lab.servers[0].ip,
  ];
  const r = await spawnIn(lab, argv);
  if (!r.stdout.includes("Statistics for: DISCOVER-OFFER")) throw new Error(`perfdhcp said: ${r.stdout}${r.stderr}`);
  return parsePerfdhcp(r.stdout, rate, r.cpuS, r.wallS);
}

async function dhcptool(lab: LabState, rate: number, kea: string): Promise<Result> {
  const argv = [
    process.execPath,
    MAIN,
    "request",
    "lab0",
    "--clients",
    String(Math.round(rate * secondsAt(rate))),
    "--rate",
    String(rate),
    "--giaddr",
    GIADDR,
    "--server",
    lab.servers[0].ip,
    "--server-mac",
    kea,
    "--json",
    "-q",
  ];
  const r = await spawnIn(lab, argv);
  let rep;
  try {
    rep = JSON.parse(r.stdout);
  } catch {
    throw new Error(`dhcptool said: ${r.stdout}${r.stderr}`);
  }
  const windowS = rep.startWindowMs / 1000 + 1 / rate;
  const lat = (l: { min: number; avg: number; max: number; p99: number } | null) =>
    l ? { min: l.min, avg: l.avg, max: l.max, p99: l.p99 } : { min: Number.NaN, avg: Number.NaN, max: Number.NaN, p99: null };
  return {
    tool: "dhcptool",
    target: rate,
    sentRate: rep.rate.achieved ?? rate,
    ackRate: round(rep.counts.acks / windowS),
    dropPct: round(((rep.counts.noOffer + rep.counts.noAck) * 100) / Math.max(1, rep.started)),
    offer: lat(rep.latencyMs.offer),
    ack: lat(rep.latencyMs.ack),
    cpuPct: round((r.cpuS / r.wallS) * 100),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Sustained: under 1 % of exchanges lost, and the rate sent is the rate asked for (within 2 %). */
function sustains(r: Result): boolean {
  return r.dropPct < SUSTAINED_DROP_PCT && r.sentRate >= r.target * 0.98;
}
const f = (x: number | null) => (x === null || Number.isNaN(x) ? "-" : x < 10 ? x.toFixed(3) : x.toFixed(1));

/** Kea again with an empty lease file: every run finds the pool as the first did. */
function freshKea(lab: LabState): void {
  stopServer(lab, 1);
  rmSync(join(lab.servers[0].dir, "leases.csv"), { force: true });
  startServer(lab, 1);
}

async function run(lab: LabState, kea: string, tool: Result["tool"], rate: number): Promise<Result> {
  freshKea(lab);
  console.error(`bench: ${tool} at ${rate}/s for ${secondsAt(rate)} s…`);
  const r = tool === "perfdhcp" ? await perfdhcp(lab, rate) : await dhcptool(lab, rate, kea);
  console.error(`bench:   sent ${r.sentRate}/s, ACKs ${r.ackRate}/s, drops ${r.dropPct} %, CPU ${r.cpuPct} %`);
  return r;
}

function table(rows: Result[]): string {
  const head =
    "| tool | target /s | sent /s | ACKs /s | drops % | D→O min / avg / max ms | D→O p99 | R→A min / avg / max ms | R→A p99 | tool CPU % |\n" +
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  return (
    head +
    rows
      .map(
        (r) =>
          `| ${r.tool} | ${r.target} | ${r.sentRate} | ${r.ackRate} | ${r.dropPct} | ` +
          `${f(r.offer.min)} / ${f(r.offer.avg)} / ${f(r.offer.max)} | ${f(r.offer.p99)} | ${f(r.ack.min)} / ${f(r.ack.avg)} / ${f(r.ack.max)} | ` +
          `${f(r.ack.p99)} | ${r.cpuPct} |`,
      )
      .join("\n") +
    "\n"
  );
}

if (process.getuid?.() !== 0) throw new Error("bench: needs root (network namespaces, raw sockets)");
for (const bin of ["perfdhcp", "kea-dhcp4"]) if (!systemBinary(bin)) throw new Error(`bench: ${bin} is missing (bash scripts/setup.sh --dev)`);
const loadBefore = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
const name = `dtbl${process.pid % 1000}`;
labDown(name);
const lab = labUp({ name, kinds: ["kea"], pool: POOL });
const cleanup = () => {
  labDown(name);
  process.exit(130);
};
process.once("SIGINT", cleanup);
process.once("SIGTERM", cleanup);
try {
  Bun.spawnSync(["ip", "-n", lab.clientNs, "addr", "add", `${GIADDR}/16`, "dev", "lab0"]);
  const kea = serverMac(lab, 1);
  const fixed: Result[] = [];
  for (const rate of RATES) for (const tool of ["perfdhcp", "dhcptool"] as const) fixed.push(await run(lab, kea, tool, rate));
  // The ramp: at each rate both tools, one after the other (the first of them alternating),
  // so both see the machine as it is at that moment; up to TRIES runs each until one passes.
  // A tool's ramp ends at its first rate that no try passes.
  const sustained: Record<Result["tool"], number | null> = { perfdhcp: null, dhcptool: null };
  const going = new Set<Result["tool"]>(["perfdhcp", "dhcptool"]);
  const ramp: Result[] = [];
  for (const [i, rate] of RAMP.entries()) {
    const order = (i % 2 ? ["dhcptool", "perfdhcp"] : ["perfdhcp", "dhcptool"]) as Result["tool"][];
    for (const tool of order.filter((t) => going.has(t))) {
      let passed = false;
      for (let t = 0; t < TRIES && !passed; t++) {
        const r = await run(lab, kea, tool, rate);
        ramp.push(r);
        passed = sustains(r);
      }
      if (passed) sustained[tool] = rate;
      else going.delete(tool);
    }
    if (!going.size) break;
  }
  const loadAfter = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  const commit =
    Bun.spawnSync(["git", "-C", import.meta.dir, "rev-parse", "--short", "HEAD"])
      .stdout.toString()
      .trim() || "unknown";
  console.log(
    `${new Date().toISOString()}, commit ${commit}; Kea ${lab.servers[0].ip}, pool ${POOL}, relay ${GIADDR}; ` +
      `${SECONDS} s per run (fewer where the pool would not last); load average ${loadBefore} before, ${loadAfter} after (${navigator.hardwareConcurrency} cores)\n`,
  );
  console.log("Fixed rates:\n");
  console.log(table(fixed));
  console.log(
    `Ramp (${RAMP.join(", ")} /s, both tools at each rate, up to ${TRIES} tries; a tool's ramp stops at its first rate ` +
      `where no try has < ${SUSTAINED_DROP_PCT} % drops while sending at least 98 % of the rate):\n`,
  );
  console.log(table(ramp));
  const p = sustained.perfdhcp,
    d = sustained.dhcptool;
  const verdict =
    p === null && d === null
      ? "not measured: neither tool sustained the ramp's first rate (a server or a machine too busy for it)"
      : d !== null && (p === null || d >= p)
        ? "met"
        : "not met";
  console.log(
    `Highest rate sustained with < ${SUSTAINED_DROP_PCT} % drops: perfdhcp ${p ?? "none"}/s, dhcptool ${d ?? "none"}/s. ` +
      `Goal (dhcptool ≥ perfdhcp): ${verdict}.`,
  );
} finally {
  labDown(name);
}
