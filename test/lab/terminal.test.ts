// dhcptool as a person sees it in a terminal (a pty made by util-linux's script) and as a
// script sees it at the end of a pipe: live feedback on the terminal only, erased before the
// result; the pipe gets exactly the result.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { labDown, type LabState } from "../../cli/lab/index.ts";
import { runOnTerminal } from "./cli-helpers.ts";
import { dhcptool, startLab } from "./helpers.ts";

let lab: LabState;

beforeAll(() => {
  lab = startLab("term", { servers: 2 });
});
afterAll(() => {
  labDown(lab.name);
});

/** dhcptool on a pty in the client namespace. */
const onTerminal = (args: string[], env: Record<string, string> = {}) => runOnTerminal(lab, args, env);

describe("discover's live feedback", () => {
  test("on a terminal: a status line redrawn in place with the offers and the time left, erased before the table", async () => {
    const { screen, code } = await onTerminal(["discover", "lab0", "--wait", "1"]);
    expect(code).toBe(0);
    expect(screen).toMatch(/\r\x1b\[K0 offer\(s\), 1\.0 s left/);
    expect(screen).toMatch(/\r\x1b\[K2 offer\(s\) \(198\.18\.0\.[12], 198\.18\.0\.[12]\), 0\.\d s left/);
    // the last thing on stderr before the table is the erase
    const table = screen.indexOf("SERVER");
    expect(screen.slice(0, table).endsWith("\r\x1b[K")).toBe(true);
    expect(screen.slice(table)).not.toContain("s left");
  }, 20_000);

  test("piped: stdout is exactly the table, stderr nothing", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--wait", "1"]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")[0]).toMatch(/^SERVER\s+MAC/);
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(3);
  }, 20_000);

  test("request on a terminal says what it sent and what it waits for", async () => {
    const { screen, code } = await onTerminal(["request", "lab0", "--server", "198.18.0.77", "--tries", "2", "--timeout", "0.3"]);
    expect(code).toBe(3);
    expect(screen).toMatch(/\r\x1b\[KDISCOVER 2 of 2 sent, waiting for an OFFER, 0\.\d s/);
  }, 20_000);
});

describe("--first", () => {
  test("exactly one offer, though two servers answer (5 runs)", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await dhcptool(lab, ["discover", "lab0", "--first", "--json"]);
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout).offers).toHaveLength(1);
    }
  }, 30_000);
});

describe("colour", () => {
  const SGR = /\x1b\[\d+m/;

  test("on a terminal: ROGUE in red; a warning has consola's yellow glyph, and no line is red for being on stderr", async () => {
    const rogue = await onTerminal(["discover", "lab0", "--wait", "0.5", "--allow-server", "198.18.0.1"]);
    expect(rogue.code).toBe(5);
    expect(rogue.screen).toContain("\x1b[31mROGUE\x1b[39m");
    const warn = await onTerminal(["discover", "lab0", "--wait", "0.3", "--server", "198.18.0.9"]);
    expect(warn.screen).toMatch(/\x1b\[33m⚠\x1b\[39m no DHCP offer on lab0 within 0\.3 s/);
    expect(warn.screen).not.toContain("\x1b[31m");
  }, 20_000);

  test("an error on a terminal: red glyph, one line", async () => {
    const r = await onTerminal(["discover", "nosuch0"]);
    expect(r.code).toBe(1);
    expect(r.screen).toMatch(/^\x1b\[31m✖\x1b\[39m .*nosuch0.*\r\n$/);
  }, 20_000);

  test("NO_COLOR on a terminal: none at all", async () => {
    const r = await onTerminal(["discover", "lab0", "--wait", "0.3", "--allow-server", "198.18.0.1"], { NO_COLOR: "1" });
    expect(r.screen).toContain("ROGUE");
    expect(r.screen).not.toMatch(SGR);
  }, 20_000);

  test("a pipe: none; FORCE_COLOR: colour all the same", async () => {
    const plain = await dhcptool(lab, ["discover", "lab0", "--wait", "0.3", "--allow-server", "198.18.0.1"]);
    expect(plain.stdout + plain.stderr).not.toMatch(SGR);
    const forced = await dhcptool(lab, ["discover", "lab0", "--wait", "0.3", "--allow-server", "198.18.0.1"], 30_000, { FORCE_COLOR: "1", NO_COLOR: "" });
    expect(forced.stdout).toContain("\x1b[31mROGUE\x1b[39m");
  }, 20_000);
});

describe("width", () => {
  test("the table fits COLUMNS=60: columns left out, said on stderr; -w shows them all", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--wait", "0.3"], 30_000, { COLUMNS: "60" });
    const lines = r.stdout.trimEnd().split("\n");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    expect(lines[0]).not.toContain("MAC");
    expect(r.stderr).toContain("left out to fit the terminal: -w (--wide) shows all");
    const wide = await dhcptool(lab, ["discover", "lab0", "--wait", "0.3", "-w"], 30_000, { COLUMNS: "60" });
    expect(wide.stdout.split("\n")[0]).toMatch(/^SERVER\s+MAC\s+OFFERED\s+MASK\s+ROUTER\s+DNS\s+LEASE\s+MS$/);
    expect(wide.stderr).toBe("");
  }, 20_000);

  test("a terminal without COLUMNS: its width (80 here)", async () => {
    const r = await onTerminal(["discover", "lab0", "--wait", "0.3"]);
    const table = r.screen
      .slice(r.screen.indexOf("SERVER"))
      .split("\r\n")
      .filter((l) => !l.includes("left out"));
    for (const l of table) expect(l.length).toBeLessThanOrEqual(80);
  }, 20_000);

  test("a pipe without COLUMNS: no limit", async () => {
    const r = await dhcptool(lab, ["discover", "lab0", "--wait", "0.3"], 30_000, { COLUMNS: "" });
    expect(r.stdout.split("\n")[0]).toContain("MAC");
    expect(r.stderr).toBe("");
  }, 20_000);
});

describe("input", () => {
  test("lease decode with nothing named on a terminal: the usage at once, not a wait for typing", async () => {
    const t0 = performance.now();
    const r = await onTerminal(["lease", "decode"]);
    expect(r.code).toBe(2);
    expect(r.screen).toContain("no input: dhcptool lease decode FILE, or pipe one in: … | dhcptool lease decode -");
    expect(performance.now() - t0).toBeLessThan(5000);
  }, 20_000);
});
