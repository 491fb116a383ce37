// One log style for every daemon (the resident client, the prober, watch), as a supervisor
// reads it: under systemd (JOURNAL_STREAM names stderr) each line starts with a syslog
// priority; to a file or a pipe, with the time and a level word. One line per event, no
// glyph, no blank line; SIGUSR1's state as readable lines, not a JSON blob.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inClient, labDown, type LabState } from "../../cli/lab/index.ts";
import { Running } from "./cli-helpers.ts";
import { daemonDirs, removeDirs, type DaemonDirs } from "./daemon-helpers.ts";
import { dhcptool, eventually, MAIN, startLab } from "./helpers.ts";

let lab: LabState;
let dirs: DaemonDirs;
let tmp: string;

beforeAll(() => {
  lab = startLab("dlog", { servers: 1 });
  dirs = daemonDirs();
  tmp = mkdtempSync(join(tmpdir(), "dt-dlog-"));
});

afterAll(() => {
  labDown(lab.name);
  removeDirs(dirs);
  rmSync(tmp, { recursive: true, force: true });
});

const GLYPHS = /[ℹ⚠✖✔●◐◒]/u;
const DAEMON_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warning|error|debug) /;

function checkLines(lines: string[], shape: RegExp): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const l of lines) {
    expect(l).toMatch(shape);
    expect(l).not.toMatch(GLYPHS);
  }
}

describe("the resident client", () => {
  test("under systemd: <6>/<4>/<3> prefixes, one line per event; SIGUSR1 as lines", async () => {
    const log = join(tmp, "journal.log");
    await Bun.write(log, "");
    const st = statSync(log);
    const argv = [process.execPath, MAIN, "request", "lab0", "--daemon", "--state-dir", dirs.state, "--run-dir", dirs.run];
    const p = Bun.spawn(inClient(lab, argv), {
      stdout: "ignore",
      stderr: Bun.file(log),
      env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}`, NO_COLOR: "1" },
    });
    const text = () => readFileSync(log, "utf8");
    expect(await eventually(() => /bound 198\.18\.0\./.test(text()), 10_000)).toBe(true);
    p.kill("SIGUSR1");
    expect(await eventually(() => /\[lab0\] expires /.test(text()), 5000)).toBe(true);
    p.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    const lines = text().split("\n");
    expect(lines.pop()).toBe(""); // ends with a newline, and no blank line before it
    checkLines(lines, /^<[3-7]>\[lab0\] \S/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^<6>\[lab0\] bound 198\.18\.0\.1\d\d from 198\.18\.0\.1 \(lease 3600 s \(1h\), renew in 1800 s \(30m\)\)$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^<6>\[lab0\] lease +3600 s \(1h\), T1 1800 s \(30m\), T2 3150 s \(52m30s\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^<6>\[lab0\] packets +sent DISCOVER 1, REQUEST 1; received \d+; dropped /));
    expect(text()).not.toContain("{");
    expect(lines.at(-1)).toMatch(/^<6>\[lab0\] stopped on lab0 \(SIGTERM\)$/);
  }, 30_000);

  test("to a pipe: the time and a level word", async () => {
    const r = new Running(lab, ["request", "lab0", "--daemon", "--state-dir", dirs.state, "--run-dir", dirs.run]);
    await r.waitFor("err", /\] (bound|rebooted into|reboot)/);
    r.kill("SIGTERM");
    expect(await r.exited).toBe(0);
    checkLines(r.err, new RegExp(`${DAEMON_LINE.source}\\[lab0\\] `));
  }, 30_000);
});

describe("the prober and watch log the same way", () => {
  test("discover --daemon", async () => {
    const r = new Running(lab, ["discover", "lab0", "--daemon", "--interval", "60"]);
    await r.waitFor("out", /server-new/);
    r.kill("SIGTERM");
    expect(await r.exited).toBe(0);
    checkLines(r.err, DAEMON_LINE);
    expect(r.err[0]).toMatch(/ info probing lab0 every 60 s as /);
  }, 30_000);

  test("watch --daemon: a rogue alert", async () => {
    const r = new Running(lab, ["watch", "lab0", "--daemon", "--allow-server", "198.18.0.99"]);
    await r.waitFor("out", /"event":"start"/);
    expect((await dhcptool(lab, ["discover", "lab0", "--wait", "0.5"])).exitCode).toBe(0);
    await r.waitFor("err", /rogue DHCP server/);
    r.kill("SIGTERM");
    expect(await r.exited).toBe(5);
    checkLines(r.err, DAEMON_LINE);
    expect(r.err[0]).toMatch(/ warning rogue DHCP server: 198\.18\.0\.1 /);
  }, 30_000);
});
