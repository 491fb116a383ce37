// Long waits show what is happening on a terminal (issue 13): lab up (each step, and the wait
// for Kea or dhcpd to be ready), lease inform (ARP for the router, then each INFORM and the
// wait for its ACK) and lease release (the daemon's answer, ARP for the router) draw a status
// line on a pty, erased before the result; on a pipe the output is exactly what it was. (decline
// sends one frame and waits for nothing. request's and discover's: test/lab/terminal.test.ts.)
// The one-shots run in a routed lab, where the server is beyond a router the client must ARP
// for first; its neighbour table is flushed before each run, so that wait is always there.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { blockUnicast, labDown, type LabState } from "../../cli/lab/index.ts";
import { runOnTerminal } from "./cli-helpers.ts";
import { Daemon, daemonDirs, removeDirs } from "./daemon-helpers.ts";
import { dhcptool, inNs, labName, startLab } from "./helpers.ts";

const KEA = "198.18.0.1";
/** The client's own address on its link; the servers' segment is through the router. */
const HOST = "198.18.1.60";

/** What a line drawn over the status line looks like, its text matching re. */
const drawn = (re: RegExp) => new RegExp(`\\r\\x1b\\[K${re.source}`);
/** Everything before `result` on the screen ends with the status line erased, and nothing of it follows. */
function erasedBefore(screen: string, result: string, statusWord: RegExp): void {
  const at = screen.indexOf(result);
  expect(at, screen).toBeGreaterThan(0);
  expect(screen.slice(0, at).endsWith("\r\x1b[K")).toBe(true);
  expect(screen.slice(at)).not.toMatch(statusWord);
}
/** Piped output carries no status line: no carriage return, no escape sequence. */
function plain(text: string): void {
  expect(text).not.toContain("\r");
  expect(text).not.toContain("\x1b");
}

describe("lab up", () => {
  const name = labName("wup");
  afterAll(() => {
    labDown(name);
  });

  test("on a terminal: each step and the wait for Kea and dhcpd, timed, erased before the lab's description", async () => {
    const { screen, code } = await runOnTerminal(null, ["lab", "up", "--name", name, "--servers", "2", "--kind", "kea,isc"]);
    expect(code, screen).toBe(0);
    expect(screen).toMatch(drawn(new RegExp(`lab ${name}: making the network \\(4 namespaces, bridges and veth pairs\\), 0\\.\\d s`)));
    expect(screen).toMatch(drawn(new RegExp(`lab ${name}: starting server 1 of 2, kea in ${name}-s1, \\d+\\.\\d s`)));
    expect(screen).toMatch(drawn(new RegExp(`lab ${name}: waiting for kea-dhcp4 in ${name}-s1 to be ready, \\d+\\.\\d s`)));
    expect(screen).toMatch(drawn(new RegExp(`lab ${name}: starting server 2 of 2, isc in ${name}-s2, \\d+\\.\\d s`)));
    expect(screen).toMatch(drawn(new RegExp(`lab ${name}: waiting for dhcpd in ${name}-s2 to be ready, \\d+\\.\\d s`)));
    erasedBefore(screen, `lab ${name}: flat`, /starting|waiting/);
  }, 30_000);

  test("piped: the description on stdout and the hint on stderr, as before", async () => {
    labDown(name);
    const r = await dhcptool(null, ["lab", "up", "--name", name, "--servers", "2", "--kind", "kea,isc"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(`lab ${name}: flat, client netns ${name}-c: lab0 198.18.0.0/24`);
    expect(r.stderr).toMatch(new RegExp(`^try: .* lab exec --name ${name} -- dhcptool discover lab0\n$`));
    plain(r.stdout + r.stderr);
  }, 30_000);
});

describe("lease inform and release beyond a router", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("wait", { topology: "routed", servers: 1, kinds: ["kea"] });
    inNs(lab.clientNs, ["ip", "addr", "replace", `${HOST}/24`, "dev", "lab0"]);
    inNs(lab.clientNs, ["ip", "route", "replace", "198.18.0.0/24", "via", lab.router!.down.ip]);
  }, 30_000);
  afterAll(() => {
    labDown(lab.name);
  });
  /** The router forgotten: the next one-shot must ARP for it. */
  const forgetRouter = () => inNs(lab.clientNs, ["ip", "neigh", "flush", "dev", "lab0"]);
  const arpWait = () => new RegExp(`waiting for ${lab.router!.down.ip.replace(/\./g, "\\.")}, the router to 198\\.18\\.0\\.1, to answer ARP, 0\\.\\d s`);

  test("inform on a terminal: ARP for the router, then the INFORM and its wait, erased before the ACK", async () => {
    forgetRouter();
    const { screen, code } = await runOnTerminal(lab, ["lease", "inform", "lab0", "--server", KEA, "--address", HOST]);
    expect(code, screen).toBe(0);
    expect(screen).toMatch(drawn(arpWait()));
    expect(screen).toMatch(drawn(/DHCPINFORM 1 of 3 sent for 198\.18\.1\.60, waiting for the DHCPACK, 0\.\d s/));
    erasedBefore(screen, `DHCPACK from ${KEA}`, /waiting for/);
  }, 20_000);

  /** Kea deaf to what the relay sends it (lab block), for the length of fn. */
  async function keaDeaf(fn: () => Promise<void>): Promise<void> {
    blockUnicast(lab, 1, true);
    try {
      await fn();
    } finally {
      blockUnicast(lab, 1, false);
    }
  }
  const unanswered = ["lease", "inform", "lab0", "--server", KEA, "--address", HOST, "--tries", "2", "--timeout", "0.3"];

  test("inform with no answer on a terminal: each INFORM said, erased before the warning", async () => {
    let screen = "",
      code = -1;
    await keaDeaf(async () => {
      ({ screen, code } = await runOnTerminal(lab, unanswered));
    });
    expect(code).toBe(3);
    expect(screen).toMatch(drawn(/DHCPINFORM 1 of 2 sent for 198\.18\.1\.60, waiting for the DHCPACK, 0\.\d s/));
    expect(screen).toMatch(drawn(/DHCPINFORM 2 of 2 sent for 198\.18\.1\.60, waiting for the DHCPACK, 0\.\d s/));
    erasedBefore(screen, "\x1b[33m⚠\x1b[39m no DHCPACK to 2 DHCPINFORM(s)", /waiting for/); // consola's warning
  }, 20_000);

  test("inform piped: the ACK alone on stdout, nothing on stderr; with no answer, the warning alone", async () => {
    forgetRouter();
    const ok = await dhcptool(lab, ["lease", "inform", "lab0", "--server", KEA, "--address", HOST]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toStartWith(`DHCPACK from ${KEA} in `);
    expect(ok.stderr).toBe("");
    plain(ok.stdout);
    let none = ok;
    await keaDeaf(async () => {
      none = await dhcptool(lab, unanswered);
    });
    expect(none.exitCode).toBe(3);
    expect(none.stdout).toBe("");
    expect(none.stderr).toBe("warning: no DHCPACK to 2 DHCPINFORM(s) for 198.18.1.60 on lab0\n");
  }, 20_000);

  test("release on a terminal: ARP for the router said, erased before the result; piped: the result alone", async () => {
    forgetRouter();
    const args = ["lease", "release", "lab0", "--address", HOST, "--server", KEA, "--state-dir", "/nonexistent"];
    const { screen, code } = await runOnTerminal(lab, args);
    expect(code, screen).toBe(0);
    expect(screen).toMatch(drawn(arpWait()));
    erasedBefore(screen, `released ${HOST} to ${KEA}`, /waiting for/);
    forgetRouter();
    const r = await dhcptool(lab, args);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toStartWith(`released ${HOST} to ${KEA} on lab0 (DHCPRELEASE sent; no answer is expected)`);
    plain(r.stdout);
  }, 20_000);

  test("release through the daemon on a terminal: the wait for its answer said, erased before it", async () => {
    const dirs = daemonDirs();
    const d = new Daemon(lab, dirs);
    try {
      await d.leased(15_000);
      const { screen, code } = await runOnTerminal(lab, ["lease", "release", "lab0", "--state-dir", dirs.state, "--run-dir", dirs.run]);
      expect(code, screen).toBe(0);
      expect(screen).toMatch(drawn(/asking the daemon on lab0 to release its lease, 0\.\d s/));
      erasedBefore(screen, "lab0: ", /asking/);
      expect(screen).toContain("(by its daemon)");
    } finally {
      await d.stop();
      removeDirs(dirs);
    }
  }, 30_000);
});
