// dhcptool at either end of a pipe, as shell users put it there: a reader that goes away
// (head) ends it quietly and at once; a reader that stalls (a full pipe nobody reads) never
// stalls the protocol: the resident client keeps renewing against Kea, watch keeps capturing
// and counts the lines it could not print.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inClient, labDown, SERVER_IFACE, type LabState } from "../../cli/lab/index.ts";
import { buildDiscover, frameClientMessage } from "../../core/client.ts";
import { encodePcapHeader, encodePcapRecord } from "../../core/pcap.ts";
import { daemonDirs, removeDirs, type DaemonDirs } from "./daemon-helpers.ts";
import { captureOn, eventually, idLine, MAIN, RUNS_AS, startLab } from "./helpers.ts";

let lab: LabState;
let tmp: string;
let dirs: DaemonDirs;

beforeAll(() => {
  lab = startLab("pipe", { servers: 1, kinds: ["kea"], leaseTime: 8, renewTime: 2, rebindTime: 5 });
  tmp = mkdtempSync(join(tmpdir(), "dt-pipes-"));
  dirs = daemonDirs();
});

afterAll(() => {
  labDown(lab.name);
  rmSync(tmp, { recursive: true, force: true });
  removeDirs(dirs);
});

/** bash -c script in the client namespace; its stdout, stderr and status. */
async function shell(script: string, timeoutMs = 20_000): Promise<{ out: string; err: string; code: number; ms: number }> {
  const t0 = performance.now();
  const p = Bun.spawn(inClient(lab, ["bash", "-c", script]), {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, DT: `${process.execPath} ${MAIN}`, NO_COLOR: "1" },
  });
  const killer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(killer);
  return { out, err, code, ms: performance.now() - t0 };
}

/**
 * A FIFO nobody reads, already full, and a blocking descriptor on it for a child's stdout
 * (blocking, as a shell's pipe is: the child must make its own writes non-blocking).
 */
function stalledPipe(name: string): { writeFd: number; readFd: number } {
  const path = join(tmp, name);
  if (Bun.spawnSync(["mkfifo", path]).exitCode !== 0) throw new Error("mkfifo failed");
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const fill = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  for (const size of [65536, 4096, 1]) {
    try {
      for (;;) writeSync(fill, Buffer.alloc(size, 0x23));
    } catch {
      /* EAGAIN: full at this size */
    }
  }
  const writeFd = openSync(path, constants.O_WRONLY);
  closeSync(fill);
  return { writeFd, readFd };
}

function procStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return "";
  }
}

/** A DISCOVER as a client broadcasts it. */
function discoverFrame(): Uint8Array {
  const mac = Uint8Array.of(2, 0, 0, 0, 0x77, 1);
  return frameClientMessage(mac, buildDiscover({ mac, hostname: "flood" }, { xid: 0x1234 }));
}

/** Everything in the pipe now (nothing when it is empty or its writers are gone). */
function drain(fd: number): string {
  const buf = Buffer.alloc(1 << 16);
  let text = "";
  for (;;) {
    let n = 0;
    try {
      n = readSync(fd, buf);
    } catch {
      break;
    } // EAGAIN: empty for now
    if (n === 0) break;
    text += buf.subarray(0, n).toString("latin1");
  }
  return text;
}

describe("a reader that goes away", () => {
  test("watch | head -2 ends at the next packet, quietly, 141 like cat", async () => {
    const run = shell(`$DT watch lab0 2>"${tmp}/watch.err" | head -2; echo "status \${PIPESTATUS[0]}"`);
    // Traffic until watch has gone: it notices the closed pipe when it writes the next line.
    const gone = (async () => {
      for (let i = 0; i < 20; i++) {
        const s = await shell(`pgrep -f "cli/main.ts watch lab0" >/dev/null || exit 7; $DT discover lab0 --wait 0.3 >/dev/null 2>&1; true`);
        if (s.code === 7) return;
      }
    })();
    const r = await run;
    await gone;
    const lines = r.out.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain("DISCOVER");
    expect(lines[2]).toBe("status 141");
    const err = await Bun.file(`${tmp}/watch.err`).text();
    expect(err).not.toMatch(/EPIPE|Bun v|error/i);
  }, 30_000);

  test("lease decode | head -c1: the rest is not written, nothing said, 141", async () => {
    // A capture big enough that it cannot all sit in the pipe before head is gone.
    const frame = discoverFrame();
    const records = Array.from({ length: 3000 }, (_, i) => encodePcapRecord(frame, 1_700_000_000_000_000 + i));
    await Bun.write(`${tmp}/big.pcap`, new Blob([encodePcapHeader(), ...records]));
    const r = await shell(`$DT lease decode "${tmp}/big.pcap" 2>"${tmp}/decode.err" | head -c1; echo " status \${PIPESTATUS[0]}"`);
    expect(r.out).toMatch(/^# status 141\n$/);
    expect(await Bun.file(`${tmp}/decode.err`).text()).toBe("");
  }, 20_000);

  test("discover --json | head -c1: quiet, 0 or 141", async () => {
    const r = await shell(`$DT discover lab0 --json --wait 1 2>"${tmp}/disc.err" | head -c1; echo " status \${PIPESTATUS[0]}"`);
    expect(r.out).toMatch(/^\{ status (0|141)\n$/);
    expect(await Bun.file(`${tmp}/disc.err`).text()).toBe("");
  }, 20_000);
});

describe("a reader that stalls", () => {
  test("the resident client keeps renewing against Kea (8 s lease) with its --json stdout full", async () => {
    const { writeFd, readFd } = stalledPipe("daemon");
    const cap = await captureOn(lab.servers[0].ns, SERVER_IFACE, "udp and dst port 67 and not src host 0.0.0.0", { settleMs: 100 });
    const argv = [process.execPath, MAIN, "request", "lab0", "--daemon", "--json", "-v", "--state-dir", dirs.state, "--run-dir", dirs.run];
    const p = Bun.spawn(inClient(lab, argv), { stdout: writeFd, stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    closeSync(writeFd);
    try {
      // Bound, then renewed at each T1 (2 s): every ACK is stored, each with its own time.
      const acquired = new Set<string>();
      const renewedThrice = await eventually(() => {
        try {
          acquired.add(JSON.parse(readFileSync(join(dirs.state, "lab0.json"), "utf8")).lease.acquiredAt);
        } catch {
          /* not yet */
        }
        return acquired.size >= 4;
      }, 15_000);
      expect(renewedThrice).toBe(true);
      // …by unicast from the leased address, as seen on the server's side.
      const renewals = await cap.stop();
      expect(renewals.length).toBeGreaterThanOrEqual(3);
      // The control socket answers too: the event loop is not stuck in a write.
      const show = Bun.spawnSync(inClient(lab, [process.execPath, MAIN, "lease", "show", "lab0", "--json", "--run-dir", dirs.run, "--state-dir", dirs.state]), {
        stdout: "pipe",
      });
      const shown = JSON.parse(show.stdout.toString());
      expect(shown.source).toBe("daemon");
      expect(shown.phase).toMatch(/BOUND|RENEWING/);
    } finally {
      p.kill("SIGTERM");
      // It stops within its time for last lines (2 s) although nobody reads what it says.
      const t0 = performance.now();
      const code = await p.exited;
      expect(code).toBe(0);
      expect(performance.now() - t0).toBeLessThan(5000);
      closeSync(readFd);
    }
  }, 30_000);

  test("watch --json with stdout full keeps capturing and reports outputDropped", async () => {
    const { writeFd, readFd } = stalledPipe("watch");
    const p = Bun.spawn(inClient(lab, [process.execPath, MAIN, "watch", "lab0", "--json", "-v"]), {
      stdout: writeFd,
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    closeSync(writeFd);
    // A flood of DISCOVERs from the server's side: far more lines (~900 bytes each with -v)
    // than stdout's queue (8 MiB) holds, paced so that the kernel keeps most of them for watch.
    const frame = Buffer.from(discoverFrame()).toString("hex");
    const script = `import { RawSocket } from "${import.meta.dir}/../../native/rawsocket.ts";
      const f = Uint8Array.from(Buffer.from("${frame}", "hex"));
      const s = RawSocket.open("${SERVER_IFACE}", { filter: "client", onFrame() {} });
      for (let i = 0; i < 30000; i++) { s.send(f); if (i % 500 === 499) await Bun.sleep(10); }
      s.close();`;
    // Its socket is open once it runs as --user (its start line sits in the full pipe).
    expect(await eventually(() => idLine("Uid", RUNS_AS.uid).test(procStatus(p.pid)), 10_000)).toBe(true);
    const flood = Bun.spawnSync(["ip", "netns", "exec", lab.servers[0].ns, process.execPath, "-e", script], { stderr: "pipe" });
    expect(flood.exitCode).toBe(0);
    // Now read: what was queued drains, then the summary says how many lines were dropped.
    let out = drain(readFd);
    p.kill("SIGTERM");
    const exited = p.exited;
    while (!(await Promise.race([exited.then(() => true), Bun.sleep(20).then(() => false)]))) out += drain(readFd);
    out += drain(readFd);
    closeSync(readFd);
    expect(await exited).toBe(0);
    const summary = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(summary.event).toBe("summary");
    expect(summary.outputDropped).toBeGreaterThan(0);
    expect(summary.packets).toBeGreaterThan(summary.outputDropped / 2);
    const err = await new Response(p.stderr as ReadableStream).text();
    expect(err).toContain(`${summary.outputDropped} line(s) not printed`);
  }, 30_000);
});
