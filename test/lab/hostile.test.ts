// HOSTILE.md items 1–30 on the wire: the scripted hostile server (./hostile-server.ts) plays
// the lab's server 1 (its dnsmasq stopped) and answers every DISCOVER and REQUEST with crafted
// frames, usually followed by a good reply. For each scenario, discover, request and watch run
// in the client namespace as a user would run them, and each must: exit as expected (never an
// uncaught exception), in time, with the junk counted under the right reason, still find or
// bind to the good server, print no raw control character, and let a shell source its
// `--format env` output without running anything.
//
// COMMANDS is the table of runs; the resident client (`request --daemon`) joins it as one
// more entry that reads `expect.request` and the `request` fates, as request does.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inClient, labDown, serverMac, stopServer, type LabState } from "../../cli/lab/index.ts";
import { escapeText } from "../../core/escape.ts";
import { envValue } from "../../core/lease-env.ts";
import { MAIN, startLab } from "./helpers.ts";
import { GOOD_IP, KERNEL, LATE, OFFERED, OK, startHostileServer, watchFate, type HostileServer, type SentLine } from "./hostile-helpers.ts";
import { hostileNames, hostileSearch, SCENARIOS, type Scenario } from "./hostile-server.ts";

/** Any C0 control but newline, DEL, and the C1 controls (0x9b is a one-byte CSI). */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
const STACK = /^\s+at /m;

// ---------------------------------------------------------------- running a command

/** cpuMs is the command's own CPU time. (No memory figure: a spawned child's max RSS counts the
 * test runner's pages from before the exec, so it would measure the runner, not dhcptool.) */
interface Run {
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
  cpuMs: number;
}

async function dhcptool(lab: LabState, args: string[], timeoutMs = 15_000): Promise<Run> {
  const t0 = performance.now();
  const p = Bun.spawn(inClient(lab, [process.execPath, MAIN, ...args]), { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const killer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(killer);
  const usage = p.resourceUsage();
  return {
    args,
    exitCode,
    stdout,
    stderr,
    ms: performance.now() - t0,
    cpuMs: usage ? Number(usage.cpuTime.total) / 1000 : 0,
  };
}

interface Watch {
  proc: ReturnType<typeof Bun.spawn>;
  stdout: () => string;
  stderr: () => string;
  done: Promise<number>;
}

/** watch in the client namespace; resolves once its socket is open (JSON: the start event; text: its stderr line). */
async function startWatch(lab: LabState, args: string[]): Promise<Watch> {
  const proc = Bun.spawn(inClient(lab, [process.execPath, MAIN, "watch", "lab0", ...args]), {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "",
    err = "";
  let started!: () => void;
  const ready = new Promise<void>((r) => {
    started = r;
  });
  const json = args.includes("--json");
  const drain = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) add(dec.decode(chunk, { stream: true }));
  };
  const reading = Promise.all([
    drain(proc.stdout as ReadableStream<Uint8Array>, (s) => {
      out += s;
      if (json && out.includes('"event":"start"')) started();
    }),
    drain(proc.stderr as ReadableStream<Uint8Array>, (s) => {
      err += s;
      if (!json && err.includes("watching DHCP")) started();
    }),
  ]);
  const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  await Promise.race([ready, proc.exited]);
  const done = (async () => {
    const code = await proc.exited;
    await reading;
    clearTimeout(killer);
    return code;
  })();
  return { proc, stdout: () => out, stderr: () => err, done };
}

async function stopWatch(w: Watch): Promise<number> {
  w.proc.kill("SIGTERM");
  return w.done;
}

// ---------------------------------------------------------------- what the frames should add up to

/** The commands the fates name; the resident client reads the request fates. */
type Command = "discover" | "request";

interface Tally {
  dropped: Record<string, number>;
  lossy: Record<string, number>;
  warnings: Record<string, number>;
}

/** The drop counters (and discover's warnings) a command should report for the frames sent to it. */
function tally(lines: SentLine[], command: Command): Tally {
  const t: Tally = { dropped: {}, lossy: {}, warnings: {} };
  const add = (m: Record<string, number>, k: string, n: number) => {
    m[k] = (m[k] ?? 0) + n;
  };
  for (const l of lines) {
    const fate = l.fates[command];
    if (fate === undefined || fate === KERNEL || fate === LATE) continue;
    if (fate !== OK) add(l.fates.lossy ? t.lossy : t.dropped, fate, l.count);
    if (command === "discover") for (const w of l.fates.warnings ?? []) add(t.warnings, w, l.count);
  }
  return t;
}

/** dropped matches the tally exactly; a flood's reason (lossy) counts at least one and at most what was sent. */
function expectDrops(dropped: Record<string, number>, t: Tally, what: string): void {
  const plain = Object.fromEntries(Object.entries(dropped).filter(([k]) => !(k in t.lossy)));
  expect(plain, `${what}: dropped`).toEqual(t.dropped);
  for (const [k, n] of Object.entries(t.lossy)) {
    expect(dropped[k] ?? 0, `${what}: dropped[${k}]`).toBeGreaterThan(0);
    expect(dropped[k], `${what}: dropped[${k}]`).toBeLessThanOrEqual(n);
  }
}

function expectClean(r: Run, what: string): void {
  expect(r.stderr, `${what}: a stack trace on stderr`).not.toMatch(STACK);
  expect(r.stderr, `${what}: an error on stderr`).not.toContain("error:");
  expect(r.stdout, `${what}: raw control character on stdout`).not.toMatch(RAW_CONTROL);
  expect(r.stderr, `${what}: raw control character on stderr`).not.toMatch(RAW_CONTROL);
  // ~40 ms is start-up; a flood of 2000 frames, the worst case here, costs ~100 ms more
  expect(r.cpuMs, `${what}: CPU ms`).toBeLessThan(2000);
}

function seconds(args: string[], flag: string, fallback: number): number {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function discoverArgs(s: Scenario): string[] {
  if (s.args?.discover) return s.args.discover;
  // one offer: stop at it (it comes last); more or none: listen through a short window
  return s.expect.discover.length === 1 ? ["--first", "--wait", "3", "--timeout", "10"] : ["--wait", "0.5", "--timeout", "10"];
}

function requestArgs(s: Scenario): string[] {
  const timing = s.args?.request?.some((a) => a === "--timeout" || a === "--tries") ? [] : ["--timeout", "1", "--tries", "2"];
  return [...timing, ...(s.args?.request ?? [])];
}

/** Start-up and slack for a loaded machine, on top of a command's own window or retransmissions. */
const SLACK_MS = 2500;
const discoverLimitMs = (args: string[]) => (args.includes("--first") ? 1 : seconds(args, "--wait", 5)) * 1000 + SLACK_MS;
const requestLimitMs = (args: string[]) => seconds(args, "--timeout", 2) * seconds(args, "--tries", 3) * 1000 + SLACK_MS;

const REQUEST_EXIT = { bound: 0, nak: 4, "no-offer": 3, "no-ack": 3, "ipv6-only": 0 } as const;
const discoverExit = (s: Scenario) => (s.expect.discover.length ? 0 : 3);
const requestExit = (s: Scenario) => REQUEST_EXIT[s.expect.request.outcome];

// ---------------------------------------------------------------- the commands

interface Context {
  lab: LabState;
  scenario: Scenario;
  server: HostileServer;
  markerDir: string;
  tmp: string;
  /** The MAC this run uses; the harness's lines for it are this run's. */
  mac: string;
}

interface CommandRun {
  name: string;
  applies(s: Scenario): boolean;
  args(s: Scenario): string[];
  /** The exit status the scenario should end it with. */
  exit(s: Scenario): number;
  /** Longest it may take, ms. */
  limitMs(args: string[]): number;
  /** How to run it; default: to its own exit (a resident command needs stopping). */
  run?(lab: LabState, args: string[]): Promise<Run>;
  check(c: Context, r: Run): void;
}

function checkDiscoverJson(c: Context, r: Run): void {
  const s = c.scenario,
    what = `${s.name}: discover --json`;
  const out = JSON.parse(r.stdout);
  const t = tally(c.server.sent(c.mac), "discover");
  expect(out.offers.map((o: { serverId: string | null; sourceIp: string }) => o.serverId ?? o.sourceIp).sort(), `${what}: offers`).toEqual(
    [...s.expect.discover].sort(),
  );
  for (const [server, fields] of Object.entries(s.expect.offers ?? {})) {
    expect(
      out.offers.find((o: { serverId: string | null; sourceIp: string }) => (o.serverId ?? o.sourceIp) === server),
      `${what}: offer of ${server}`,
    ).toMatchObject(fields);
  }
  const goodOffer = out.offers.find((o: { serverId: string }) => o.serverId === GOOD_IP);
  if (s.expect.discover.includes(GOOD_IP)) expect(goodOffer, what).toMatchObject({ yiaddr: OFFERED, sourceMac: serverMac(c.lab, 1) });
  expectDrops(out.dropped, t, what);
  expect(out.warnings, `${what}: warnings`).toEqual(t.warnings);
  if (!Object.keys(t.lossy).length) expect(out.kernelDrops, `${what}: kernel drops`).toBe(0);
  if (s.name === "hostile-names") {
    const n = hostileNames(c.markerDir);
    expect(goodOffer.domain).toBe(n.domain); // JSON carries the bytes as they came, escaped
    expect(goodOffer.search).toEqual([hostileSearch(c.markerDir)]);
    const value = (code: number) => goodOffer.options.find((o: { code: number }) => o.code === code)?.value;
    expect(value(12)).toBe(n.hostname);
    expect(value(81)).toMatchObject({ flags: 0, name: n.fqdn });
    expect(value(56)).toBe(n.message);
    expect(r.stdout).toContain("\\u001b]0;owned\\u0007");
    expect(r.stdout).toContain("\\u009b31m");
  }
}

function checkRequestJson(c: Context, r: Run): void {
  const s = c.scenario,
    e = s.expect.request,
    what = `${s.name}: request --json`;
  const out = JSON.parse(r.stdout);
  expect(out.outcome, `${what}: outcome`).toBe(e.outcome);
  if (e.outcome === "bound") {
    expect(out.lease, `${what}: lease`).toMatchObject({ address: OFFERED, serverId: GOOD_IP, serverMac: serverMac(c.lab, 1), ...e.lease });
  } else {
    expect(out.lease, `${what}: lease`).toBeNull();
  }
  if (e.result) expect(out, what).toMatchObject(e.result);
  if (e.totalMs) {
    expect(out.timing.totalMs, `${what}: timing.totalMs`).toBeGreaterThanOrEqual(e.totalMs[0]);
    expect(out.timing.totalMs, `${what}: timing.totalMs`).toBeLessThanOrEqual(e.totalMs[1]);
  }
  expectDrops(out.dropped, tally(c.server.sent(c.mac), "request"), what);
  if (s.name === "hostile-names") {
    expect(out.lease.domain).toBe(hostileNames(c.markerDir).domain);
    expect(out.lease.search).toEqual([hostileSearch(c.markerDir)]);
  }
  if (s.name === "nak-message") {
    expect(out.nak.message).toBe(hostileNames(c.markerDir).nak);
    expect(r.stderr).toContain(`NAK from ${GOOD_IP}: ${escapeText(hostileNames(c.markerDir).nak)}`);
  }
}

/** Sources the env output in sh from its own directory, as a script would, and prints some variables. */
function checkRequestEnv(c: Context, r: Run): void {
  const s = c.scenario,
    what = `${s.name}: request --format env`;
  if (s.expect.request.outcome !== "bound") {
    expect(r.stdout, what).toBe("");
    return;
  }
  const dir = mkdtempSync(join(c.tmp, "env-"));
  writeFileSync(join(dir, "lease.env"), r.stdout);
  const vars = ["new_ip_address", "new_dhcp_server_identifier", "new_domain_name", "new_host_name", "new_domain_search"];
  const sh = Bun.spawnSync(["sh", "-c", `. ./lease.env; printf '%s\\n' ${vars.map((v) => `"$${v}"`).join(" ")}`], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  expect(sh.stderr.toString(), `${what}: sh said`).toBe("");
  expect(sh.exitCode, what).toBe(0);
  const got = Object.fromEntries(
    sh.stdout
      .toString()
      .split("\n")
      .slice(0, vars.length)
      .map((v, i) => [vars[i], v]),
  );
  expect(got.new_ip_address, what).toBe(OFFERED);
  expect(got.new_dhcp_server_identifier, what).toBe(GOOD_IP);
  if (s.name === "hostile-names") {
    const n = hostileNames(c.markerDir);
    expect(got.new_domain_name).toBe(envValue(n.domain)); // escaped once, NUL included (\\x00)
    expect(got.new_host_name).toBe(escapeText(n.hostname));
    expect(got.new_domain_search).toBe(escapeText(hostileSearch(c.markerDir)));
  }
}

/** stderr of request: quiet when bound (replies that are not ours are dropped quietly: HOSTILE 9). */
function checkRequestStderr(c: Context, r: Run): void {
  const outcome = c.scenario.expect.request.outcome;
  if (outcome === "bound" || outcome === "ipv6-only") expect(r.stderr, "request: stderr").toBe("");
  if (outcome === "nak") expect(r.stderr).toStartWith(`warning: NAK from ${GOOD_IP}: `);
  if (outcome === "no-offer") expect(r.stderr).toStartWith("warning: no DHCP offer on lab0");
  // the server that offered is named: the one that did not ACK
  if (outcome === "no-ack") expect(r.stderr).toStartWith(`warning: no answer to 3 REQUEST(s) on lab0 for ${OFFERED}, which ${GOOD_IP} offered`);
}

/** The runs each scenario gets, in this order; each uses a MAC of its own. */
const COMMANDS: CommandRun[] = [
  {
    name: "discover --json",
    applies: () => true,
    args: (s) => ["discover", "lab0", "--json", ...discoverArgs(s)],
    exit: discoverExit,
    limitMs: discoverLimitMs,
    check(c, r) {
      expect(r.stderr, "discover --json: stderr").toBe(""); // --json says it all on stdout
      checkDiscoverJson(c, r);
    },
  },
  {
    name: "discover --verbose (text)",
    applies: (s) => !s.jsonOnly,
    args: (s) => ["discover", "lab0", "--verbose", ...discoverArgs(s)],
    exit: discoverExit,
    limitMs: discoverLimitMs,
    check(c, r) {
      if (c.scenario.expect.discover.length) expect(r.stdout).toMatch(/^SERVER\s+MAC\s+OFFERED/);
      else expect(r.stderr).toContain("warning: no DHCP offer on lab0");
      if (c.scenario.name === "hostile-names") expect(r.stdout).toContain(escapeText(hostileNames(c.markerDir).domain));
      if (c.scenario.name === "lease-infinite") expect(r.stdout).toMatch(/ infinite /);
    },
  },
  {
    name: "request --json",
    applies: () => true,
    args: (s) => ["request", "lab0", "--json", ...requestArgs(s)],
    exit: requestExit,
    limitMs: requestLimitMs,
    check(c, r) {
      checkRequestStderr(c, r);
      checkRequestJson(c, r);
    },
  },
  {
    name: "request --format env",
    applies: (s) => !s.jsonOnly,
    args: (s) => ["request", "lab0", "--format", "env", ...requestArgs(s)],
    exit: requestExit,
    limitMs: requestLimitMs,
    check(c, r) {
      checkRequestStderr(c, r);
      checkRequestEnv(c, r);
    },
  },
  {
    name: "request (text)",
    applies: (s) => !s.jsonOnly,
    args: (s) => ["request", "lab0", ...requestArgs(s)],
    exit: requestExit,
    limitMs: requestLimitMs,
    check(c, r) {
      checkRequestStderr(c, r);
      if (c.scenario.expect.request.outcome === "bound") expect(r.stdout).toStartWith(`bound ${OFFERED} from ${GOOD_IP} `);
      if (c.scenario.name === "hostile-names") expect(r.stdout).toContain(`domain    ${escapeText(hostileNames(c.markerDir).domain)}`);
    },
  },
  {
    // The resident client, as its default --user, with a hook that uses the values the way
    // careless scripts do (unquoted): it must get them verbatim and nothing may run.
    name: "request --daemon --json --hook",
    applies: (s) => !s.jsonOnly,
    args: (s) => ["request", "lab0", "--daemon", "--json", ...(s.args?.request ?? []).filter((a) => a === "--prefer-ipv6")],
    exit: () => 0,
    limitMs: () => DAEMON_WINDOW_MS + SLACK_MS + 2000,
    run: runDaemon,
    check(c, r) {
      const events = r.stdout
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: string; address?: string; server?: string; counters?: { received: number; dropped: Record<string, number> } });
      // Its last word: what it received and dropped; nothing may have thrown in the receive path.
      const stop = events.find((e) => e.event === "stop");
      expect(stop?.counters, `${c.scenario.name}: daemon stop event`).toBeDefined();
      expect(stop!.counters!.dropped.exception, `${c.scenario.name}: daemon receive-path exceptions`).toBeUndefined();
      const bound = events.filter((e) => ["bound", "reboot", "renew", "rebind"].includes(e.event));
      for (const b of bound)
        expect({ address: b.address, server: b.server }, `${c.scenario.name}: daemon bound`).toEqual({ address: OFFERED, server: GOOD_IP });
      const outcome = c.scenario.expect.request.outcome;
      if (outcome === "bound") expect(bound.length, `${c.scenario.name}: daemon bound`).toBeGreaterThan(0);
      if (outcome === "nak") expect(events.map((e) => e.event)).toContain("nak");
      if (outcome === "ipv6-only") expect(events.map((e) => e.event)).toContain("ipv6-only");
      if (outcome === "no-ack") expect(bound, `${c.scenario.name}: daemon must not bind`).toEqual([]);
      const hookOut = DAEMON_HOOK_OUT.get(c.mac)!;
      if (bound.length) {
        const seen = readFileSync(hookOut, "latin1");
        expect(seen, `${c.scenario.name}: hook ran for BOUND`).toContain("reason=BOUND\n");
        if (c.scenario.name === "hostile-names") {
          // Verbatim, as far as an environment can carry it (cut at NUL).
          expect(seen).toContain(`domain=${envValue(hostileNames(c.markerDir).domain)}\n`);
        }
      }
    },
  },
];

/** How long the resident client gets per scenario before SIGTERM (it never exits by itself). */
const DAEMON_WINDOW_MS = 3500;
/** Per run (its --mac): the file its hook writes. */
const DAEMON_HOOK_OUT = new Map<string, string>();

/** `request --daemon` until it binds (or the window ends), then SIGTERM; its exit and output. */
async function runDaemon(lab: LabState, args: string[]): Promise<Run> {
  const mac = args[args.indexOf("--mac") + 1];
  const dir = mkdtempSync(join(tmp, "d-"));
  chmodSync(dir, 0o755); // the daemon works as --user once its sockets are open
  const out = join(dir, "hook.out");
  writeFileSync(out, "");
  chmodSync(out, 0o666);
  const hook = join(dir, "hook");
  // Unquoted on purpose, as careless scripts do: expansion results are never parsed again.
  writeFileSync(
    hook,
    `#!/bin/sh\nprintf 'reason=%s\\n' $reason >> ${out}\nprintf 'domain=%s\\n' "$new_domain_name" >> ${out}\necho $new_host_name $new_domain_name $new_domain_search > /dev/null\n`,
  );
  chmodSync(hook, 0o755);
  DAEMON_HOOK_OUT.set(mac, out);
  const t0 = performance.now();
  const p = Bun.spawn(inClient(lab, [process.execPath, MAIN, ...args, "--state-dir", join(dir, "state"), "--run-dir", join(dir, "run"), "--hook", hook]), {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stdout = "";
  const reading = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of p.stdout as ReadableStream<Uint8Array>) {
      stdout += dec.decode(chunk, { stream: true });
      if (/"event":"(bound|ipv6-only)"/.test(stdout)) setTimeout(() => p.kill("SIGTERM"), 300); // let its hook run
    }
  })();
  const stderrText = new Response(p.stderr).text();
  const window = setTimeout(() => p.kill("SIGTERM"), DAEMON_WINDOW_MS);
  const killer = setTimeout(() => p.kill("SIGKILL"), DAEMON_WINDOW_MS + 15_000);
  const exitCode = await p.exited;
  clearTimeout(window);
  clearTimeout(killer);
  await reading;
  const usage = p.resourceUsage();
  return { args, exitCode, stdout, stderr: await stderrText, ms: performance.now() - t0, cpuMs: usage ? Number(usage.cpuTime.total) / 1000 : 0 };
}

// ---------------------------------------------------------------- the tests

let lab: LabState;
const tmp = mkdtempSync("/tmp/dth-");
// short, and without dots: hostile strings carry it, and one becomes a single DNS label
const markerDir = mkdtempSync("/tmp/dth-");
// The daemon and its hook run as --user: were a hostile string executed there, it must be able
// to leave its marker, or the check below would pass for the wrong reason.
chmodSync(markerDir, 0o1777);
chmodSync(tmp, 0o755);

beforeAll(() => {
  lab = startLab("hos", { servers: 1 });
  stopServer(lab, 1); // only the harness answers as 198.18.0.1
});
afterAll(() => {
  if (lab) labDown(lab.name);
  rmSync(tmp, { recursive: true, force: true });
  rmSync(markerDir, { recursive: true, force: true });
});

describe("a hostile server on the wire", () => {
  SCENARIOS.forEach((scenario, si) => {
    test(`HOSTILE ${scenario.items.join(", ")}: ${scenario.title}`, async () => {
      const server = await startHostileServer(lab, scenario.name, { markerDir });
      const watches: Watch[] = [];
      try {
        watches.push(await startWatch(lab, ["--json"]));
        if (!scenario.jsonOnly) watches.push(await startWatch(lab, ["--verbose"]));
        const runs = COMMANDS.filter((cmd) => cmd.applies(scenario));
        for (const [ri, cmd] of runs.entries()) {
          const mac = `02:00:5c:${si.toString(16).padStart(2, "0")}:${ri.toString(16).padStart(2, "0")}:01`;
          const args = [...cmd.args(scenario), "--mac", mac];
          const r = await (cmd.run ?? dhcptool)(lab, args);
          // HOSTILE_TRACE=1: each run's exit, time and CPU on stderr, to calibrate the bounds
          if (process.env.HOSTILE_TRACE)
            console.error(`${scenario.name}: ${cmd.name}: exit ${r.exitCode}, ${r.ms.toFixed(0)} ms, cpu ${r.cpuMs.toFixed(0)} ms`);
          const what = `${scenario.name}: ${cmd.name} (${args.join(" ")})`;
          expectClean(r, what);
          expect(r.exitCode, `${what}: exit code; stderr: ${r.stderr}`).toBe(cmd.exit(scenario));
          expect(r.ms, `${what}: ms`).toBeLessThan(cmd.limitMs(args));
          cmd.check({ lab, scenario, server, markerDir, tmp, mac }, r);
          // late replies to this run must not land in the next one
          await server.settled();
        }
        await Bun.sleep(150); // the last frames reach the watchers
        const sent = server.sent();
        // only frames meant never to arrive may fail to go out (13 bytes: not even an Ethernet header)
        for (const l of sent) if (l.event === "send-failed") expect(l.fates.request, `${l.label}: ${l.error}`).toBe(KERNEL);
        const [jsonWatch, textWatch] = watches;
        expect(await stopWatch(jsonWatch), "watch --json exit").toBe(0);
        checkWatchJson(jsonWatch, server, sent, scenario);
        if (textWatch) {
          expect(await stopWatch(textWatch), "watch --verbose exit").toBe(0);
          expect(textWatch.stdout(), "watch text: raw control character").not.toMatch(RAW_CONTROL);
          expect(textWatch.stderr(), "watch text: raw control character on stderr").not.toMatch(RAW_CONTROL);
          expect(textWatch.stderr()).not.toMatch(STACK);
          if (scenario.name === "hostile-names") expect(textWatch.stdout()).toContain(escapeText(hostileNames(markerDir).domain));
        }
        // nothing the server sent ran a command
        expect(readdirSync(markerDir), "marker files: a hostile string was executed").toEqual([]);
      } finally {
        for (const w of watches) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
        await server.stop();
      }
    }, 60_000);
  });
});

/** NDJSON that parses line by line, every packet and decode error accounted for, strings escaped. */
function checkWatchJson(w: Watch, server: HostileServer, sent: SentLine[], s: Scenario): void {
  expect(w.stderr(), "watch --json stderr").toBe("");
  const text = w.stdout();
  expect(text, "watch --json: raw control character").not.toMatch(RAW_CONTROL);
  const events = text
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(events[0].event).toBe("start");
  const summary = events[events.length - 1];
  expect(summary.event).toBe("summary");
  const packets = events.filter((e) => e.event === "packet");
  let shown = server.heard().length,
    errors = 0,
    lossy = 0;
  for (const l of sent) {
    const f = watchFate(l.fates);
    if (l.fates.lossy) lossy += l.count;
    else if (f === "packet") shown += l.count;
    else if (f === "error") errors += l.count;
  }
  if (lossy === 0) {
    expect(packets.length, "watch: packets").toBe(shown);
    expect(summary.decodeErrors, "watch: decode errors").toBe(errors);
    expect(summary.kernelDrops, "watch: kernel drops").toBe(0);
  } else {
    expect(packets.length + summary.kernelDrops, "watch: packets under a flood").toBeLessThanOrEqual(shown + lossy);
    expect(packets.length, "watch: packets under a flood").toBeGreaterThanOrEqual(shown);
  }
  expect(summary.packets, "watch: summary.packets").toBe(packets.length);
  if (s.name === "hostile-names") {
    const n = hostileNames(markerDir);
    const offer = packets.find((p) => p.message.messageType === "OFFER");
    expect(offer.message.options.find((o: { code: number }) => o.code === 15).value).toBe(n.domain);
    expect(offer.message.sname).toBe(n.sname);
    expect(offer.message.file).toBe(n.file);
    expect(text).toContain("\\u001b[2J");
  }
}
