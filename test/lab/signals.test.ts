// Signals as ping, tcpdump and a shell expect them: Ctrl-C ends discover's listening window
// early (what was seen so far, the exit status by it); it ends a transaction with 130 after
// saying where it stopped (SIGTERM: 143); daemons make their clean stop (exit 0), their last
// line written before the process is gone.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { labDown, type LabState } from "../../cli/lab/index.ts";
import { daemonDirs, removeDirs, type DaemonDirs } from "./daemon-helpers.ts";
import { Running } from "./cli-helpers.ts";
import { startLab } from "./helpers.ts";

let lab: LabState;
let dirs: DaemonDirs;
const NOBODY = "198.18.0.77"; // no server has it: unicast to it is never answered

beforeAll(() => {
  lab = startLab("sig", { servers: 2 });
  dirs = daemonDirs();
});

afterAll(() => {
  labDown(lab.name);
  removeDirs(dirs);
});

describe("discover: Ctrl-C ends the window early", () => {
  test("the offers so far, exit 0, 'interrupted after N s'", async () => {
    const r = new Running(lab, ["discover", "lab0", "--wait", "30", "-v"]);
    await r.waitFor("err", /^offer of /, 15_000, 2);
    r.kill("SIGINT");
    expect(await r.exited).toBe(0);
    expect(r.out[0]).toMatch(/^SERVER\s+MAC/);
    expect(r.out.filter((l) => /^198\.18\.0\.[12] /.test(l))).toHaveLength(2);
    expect(r.err.join("\n")).toMatch(/interrupted after \d+\.\d s: 2 offer\(s\)/);
    expect(r.err.join("\n")).not.toContain("within 30 s");
  }, 30_000);

  test("nothing seen: exit 3, and it does not claim the whole window passed", async () => {
    const r = new Running(lab, ["discover", "lab0", "--wait", "30", "--server", NOBODY]);
    await r.listening();
    r.kill("SIGINT");
    expect(await r.exited).toBe(3);
    expect(r.out).toEqual([]);
    expect(r.err.join("\n")).toMatch(/interrupted after \d+\.\d s: 0 offer\(s\)/);
    expect(r.err.join("\n")).not.toMatch(/no DHCP offer .* within 30 s/);
  }, 30_000);

  test("a rogue among them: exit 5", async () => {
    const r = new Running(lab, ["discover", "lab0", "--wait", "30", "-v", "--allow-server", "198.18.0.1"]);
    await r.waitFor("err", /^offer of /, 15_000, 2);
    r.kill("SIGINT");
    expect(await r.exited).toBe(5);
  }, 30_000);

  test("SIGTERM: the result so far, then 143", async () => {
    const r = new Running(lab, ["discover", "lab0", "--wait", "30", "--json", "-v"]);
    await r.waitFor("err", /^offer of /, 15_000, 2);
    r.kill("SIGTERM");
    expect(await r.exited).toBe(143);
    const doc = JSON.parse(r.out.join("\n"));
    expect(doc.interrupted).toBe("SIGTERM");
    expect(doc.offers).toHaveLength(2);
  }, 30_000);
});

describe("a transaction interrupted", () => {
  test("request: Ctrl-C while waiting for an OFFER is 130, and says so", async () => {
    const r = new Running(lab, ["request", "lab0", "--server", NOBODY, "--timeout", "30"]);
    await r.listening();
    r.kill("SIGINT");
    expect(await r.exited).toBe(130);
    expect(r.err.at(-1)).toMatch(/^warning: interrupted after \d+\.\d s waiting for an OFFER \(1 DISCOVER\(s\), 0 REQUEST\(s\) sent; nothing was leased\)$/);
  }, 30_000);

  test("request --json: the document says interrupted, with the phase", async () => {
    const r = new Running(lab, ["request", "lab0", "--server", NOBODY, "--timeout", "30", "--json"]);
    await r.listening();
    r.kill("SIGINT");
    expect(await r.exited).toBe(130);
    expect(JSON.parse(r.out.join("\n"))).toMatchObject({ outcome: "interrupted", interrupted: { signal: "SIGINT", phase: "SELECTING" }, lease: null });
  }, 30_000);

  test("lease inform: SIGTERM while waiting for the ACK is 143", async () => {
    const r = new Running(lab, ["lease", "inform", "lab0", "--address", "198.18.0.9", "--server", NOBODY, "--timeout", "30"]);
    await r.listening();
    r.kill("SIGTERM");
    expect(await r.exited).toBe(143);
    expect(r.err.at(-1)).toMatch(/interrupted after \d+\.\d s waiting for a DHCPACK \(1 DHCPINFORM\(s\) sent for 198\.18\.0\.9 on lab0\)/);
  }, 30_000);
});

describe("daemons stop cleanly", () => {
  test("request --daemon: Ctrl-C is exit 0, 'stopped' its last line", async () => {
    const r = new Running(lab, ["request", "lab0", "--daemon", "--state-dir", dirs.state, "--run-dir", dirs.run]);
    await r.waitFor("err", /bound 198\.18\.0\./);
    r.kill("SIGINT");
    expect(await r.exited).toBe(0);
    expect(r.err.at(-1)).toMatch(/stopped on lab0 \(SIGINT\)$/);
  }, 30_000);

  test("discover --daemon: Ctrl-C is exit 0 after the summary", async () => {
    const r = new Running(lab, ["discover", "lab0", "--daemon", "--interval", "60"]);
    await r.waitFor("out", /server-new/, 15_000, 2);
    r.kill("SIGINT");
    expect(await r.exited).toBe(0);
    expect(r.out.some((l) => /summary\s+1 probe\(s\), 2 server\(s\) seen/.test(l))).toBe(true);
    expect(r.out.at(-1)).toMatch(/^198\.18\.0\.2\s+present/);
  }, 30_000);
});
