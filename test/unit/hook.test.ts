// cli/daemon/hook.ts: the hook program. Its environment exactly (nothing inherited), the
// event as JSON on stdin, hostile wire strings that reach it byte for byte without anything
// running (HOSTILE 22), a hook that hangs, ignores SIGTERM, prints too much, is missing or is
// not executable (HOSTILE 34), and the queue: one at a time, in order, bounded.

import { afterAll, describe, expect, spyOn, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookEnv, HookQueue, HOOK_PATH, runHook, type HookEvent, type HookResult } from "../../cli/daemon/hook.ts";
import { log } from "../../cli/log.ts";
import { leaseRecord, type LeaseRecord } from "../../core/lease-record.ts";
import { parseMac } from "../../core/bytes.ts";
import type { Lease } from "../../core/engine.ts";

const dir = fs.mkdtempSync(join(tmpdir(), "dhcptool-hook-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let scripts = 0;
/** An executable /bin/sh script in the temp dir. */
function script(body: string): string {
  const p = join(dir, `hook-${scripts++}`);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

function record(over: Partial<Lease> = {}): LeaseRecord {
  const lease: Lease = {
    address: "198.18.0.100",
    serverId: "198.18.0.1",
    serverMac: parseMac("02:00:00:00:00:fe")!,
    subnetMask: "255.255.255.0",
    routers: ["198.18.0.1"],
    routes: [],
    dns: ["198.18.0.1"],
    domain: "lab.example",
    search: ["lab.example"],
    leaseTime: 3600,
    t1: 1800,
    t2: 3150,
    infinite: false,
    ipv6OnlyWait: null,
    adjusted: [],
    acquiredAt: 0,
    renewAt: 1800_000,
    rebindAt: 3150_000,
    expiresAt: 3600_000,
    options: [{ code: 53, hex: "05" }],
    ...over,
  };
  return leaseRecord(lease, Date.parse("2030-01-01T00:00:00.000Z"));
}

const EVENT: HookEvent = {
  reason: "RENEW",
  interface: "eth0",
  lease: record({ address: "198.18.0.101" }),
  oldLease: record(),
  extra: { medium: "ethernet" },
};

/** The environment a process started with, as the kernel keeps it: NUL-separated k=v. */
function parseEnviron(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of text.split("\0").filter(Boolean)) {
    const eq = entry.indexOf("=");
    out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

const PRINT_ENVIRON = script(`cat /proc/$$/environ`);

describe("hookEnv", () => {
  test("exactly: extras, new_*, old_*, PATH, reason, interface, and nothing else", () => {
    const env = hookEnv(EVENT);
    expect(env).toEqual({
      medium: "ethernet",
      new_ip_address: "198.18.0.101",
      new_subnet_mask: "255.255.255.0",
      new_broadcast_address: "198.18.0.255",
      new_prefix_length: "24",
      new_routers: "198.18.0.1",
      new_classless_static_routes: "",
      new_domain_name_servers: "198.18.0.1",
      new_domain_name: "lab.example",
      new_domain_search: "lab.example",
      new_host_name: "",
      new_lease_time: "3600",
      new_renewal_time: "1800",
      new_rebinding_time: "3150",
      new_expiry: "2030-01-01T01:00:00.000Z",
      new_dhcp_server_identifier: "198.18.0.1",
      new_dhcp_server_mac: "02:00:00:00:00:fe",
      new_vendor_encapsulated_options: "",
      new_relay_agent_information: "",
      old_ip_address: "198.18.0.100",
      old_subnet_mask: "255.255.255.0",
      old_broadcast_address: "198.18.0.255",
      old_prefix_length: "24",
      old_routers: "198.18.0.1",
      old_classless_static_routes: "",
      old_domain_name_servers: "198.18.0.1",
      old_domain_name: "lab.example",
      old_domain_search: "lab.example",
      old_host_name: "",
      old_lease_time: "3600",
      old_renewal_time: "1800",
      old_rebinding_time: "3150",
      old_expiry: "2030-01-01T01:00:00.000Z",
      old_dhcp_server_identifier: "198.18.0.1",
      old_dhcp_server_mac: "02:00:00:00:00:fe",
      old_vendor_encapsulated_options: "",
      old_relay_agent_information: "",
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      reason: "RENEW",
      interface: "eth0",
    });
  });

  test("no lease, no old lease: only PATH, reason, interface", () => {
    expect(hookEnv({ reason: "PREINIT", interface: "eth0", lease: null, oldLease: null })).toEqual({ PATH: HOOK_PATH, reason: "PREINIT", interface: "eth0" });
  });

  test("extras cannot replace PATH, reason, interface or a lease variable", () => {
    const env = hookEnv({ ...EVENT, extra: { PATH: "/tmp/evil", reason: "X", interface: "Y", new_ip_address: "1.2.3.4" } });
    expect([env.PATH, env.reason, env.interface, env.new_ip_address]).toEqual([HOOK_PATH, "RENEW", "eth0", "198.18.0.101"]);
  });

  test("an extra whose name is not shell-style is a bug, and says so", () => {
    for (const name of ["", "A=B", "1x", "a b", "a\0"]) {
      expect(() => hookEnv({ ...EVENT, extra: { [name]: "v" } })).toThrow(RangeError);
    }
  });

  test("a NUL (execve cannot carry one) is escaped like every byte outside printable ASCII", () => {
    const env = hookEnv({ ...EVENT, reason: "BOUND\0x", extra: { note: "a\0b\x9b" } });
    expect([env.reason, env.note]).toEqual(["BOUND\\x00x", "a\\x00b\\x9b"]);
  });
});

describe("runHook", () => {
  test("the hook's environment is exactly hookEnv: the daemon's own is not inherited", async () => {
    process.env.DHCPTOOL_TEST_SECRET = "must-not-leak";
    try {
      const r = await runHook(PRINT_ENVIRON, EVENT);
      expect(r).toMatchObject({ exitCode: 0, signal: null, timedOut: false, stderr: "" });
      expect(r.error).toBeUndefined();
      expect(parseEnviron(r.stdout)).toEqual(hookEnv(EVENT));
    } finally {
      delete process.env.DHCPTOOL_TEST_SECRET;
    }
  });

  test("stdin carries the event as one JSON document, then EOF", async () => {
    const r = await runHook(script("exec cat"), EVENT);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.endsWith("}\n")).toBe(true);
    expect(JSON.parse(r.stdout)).toMatchObject(EVENT);
  });

  test("hostile names reach the hook byte for byte, and nothing runs", async () => {
    const marker = join(dir, `pwned-${crypto.randomUUID()}`);
    const hostile = [
      `$(touch ${marker})`,
      `'; touch ${marker}; reboot #`,
      `\`touch ${marker}\``,
      "\x1b]0;title\x07",
      `"; touch ${marker} #\n&& touch ${marker} | touch ${marker} & `,
    ];
    const hex = (s: string) => Array.from(s, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
    const lease = record({ domain: hostile[0], search: hostile.slice(1, 3), options: [{ code: 12, hex: hex(hostile[3]) }] });
    const event: HookEvent = { reason: hostile[4], interface: "eth0", lease, oldLease: null, extra: { note: hostile.join("|") } };
    // A hook that uses the values as hooks do, even unquoted: expansion is not evaluation.
    const hook = script(
      [
        `cat /proc/$$/environ > "${dir}/environ-$$"`,
        `echo "$$"`,
        `: $new_domain_name $new_domain_search $new_host_name $reason $note`,
        `printf '%s' "$new_domain_name" > /dev/null`,
        `cat > "${dir}/stdin-$$"`,
      ].join("\n"),
    );
    const r = await runHook(hook, event);
    expect(r.exitCode).toBe(0);
    const pid = r.stdout.trim();
    const environ = fs.readFileSync(join(dir, `environ-${pid}`));
    // Byte for byte: the raw environ block equals what we meant to pass, entry by entry.
    const expected = hookEnv(event);
    const entries = environ.toString("latin1").split("\0").filter(Boolean).sort();
    expect(entries).toEqual(
      Object.entries(expected)
        .map(([k, v]) => `${k}=${v}`)
        .sort(),
    );
    expect(parseEnviron(environ.toString("latin1"))).toMatchObject({
      new_domain_name: hostile[0],
      new_domain_search: `${hostile[1]} ${hostile[2]}`,
      new_host_name: "\\x1b]0;title\\x07",
      reason: '"; touch ' + marker + " #\\x0a&& touch " + marker + " | touch " + marker + " & ",
    });
    const stdin = fs.readFileSync(join(dir, `stdin-${pid}`));
    expect(stdin.every((b) => b < 0x80)).toBe(true); // pure ASCII: no byte re-encoded
    expect(JSON.parse(stdin.toString("latin1"))).toMatchObject(event);
    expect(fs.existsSync(marker)).toBe(false);
    // The control: the same value put into a shell command line (what runHook never does)
    // does run, so the marker above would have caught it.
    Bun.spawnSync(["/bin/sh", "-c", `: ${hostile[0]}`]);
    expect(fs.existsSync(marker)).toBe(true);
  });

  test("a hang is ended: SIGTERM at the timeout, to the hook and what it started", async () => {
    const hook = script("sleep 100 &\necho $!\nwait");
    const t0 = performance.now();
    const r = await runHook(hook, EVENT, { timeoutMs: 300 });
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGTERM" });
    expect(r.ms).toBeGreaterThanOrEqual(290);
    expect(performance.now() - t0).toBeLessThan(1500);
    const child = Number(r.stdout.trim());
    expect(child).toBeGreaterThan(0);
    expect(await goneWithin(child, 2000)).toBe(true);
  });

  test("a hook that ignores SIGTERM is killed 1 s later", async () => {
    const hook = script("trap '' TERM\nsleep 100 &\necho $!\nwait\nwait\nsleep 100");
    const r = await runHook(hook, EVENT, { timeoutMs: 200 });
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGKILL" });
    expect(r.ms).toBeGreaterThanOrEqual(1150);
    expect(r.ms).toBeLessThan(3000);
    expect(await goneWithin(Number(r.stdout.trim()), 2000)).toBe(true);
  });

  test("output past the cap is read, thrown away and counted (per stream)", async () => {
    const hook = script("head -c 200000 /dev/zero | tr '\\0' a\nhead -c 5000 /dev/zero | tr '\\0' b >&2\nexit 7");
    const r = await runHook(hook, EVENT, { maxOutputBytes: 1000 });
    expect(r).toMatchObject({ exitCode: 7, timedOut: false, stdoutDiscarded: 199000, stderrDiscarded: 4000 });
    expect(r.stdout).toBe("a".repeat(1000));
    expect(r.stderr).toBe("b".repeat(1000));
  });

  test("the default cap is 64 KiB", async () => {
    const r = await runHook(script("head -c 100000 /dev/zero"), EVENT);
    expect(r.stdout.length).toBe(65536);
    expect(r.stdoutDiscarded).toBe(100000 - 65536);
  });

  test("exit status and stderr come back", async () => {
    const r = await runHook(script("echo oops >&2\nexit 3"), EVENT);
    expect(r).toMatchObject({ exitCode: 3, signal: null, timedOut: false, stdout: "", stderr: "oops\n" });
  });

  test("a hook that does not read stdin and exits is fine (EPIPE is not our error)", async () => {
    const big: HookEvent = { ...EVENT, lease: record({ domain: "d".repeat(100_000) }) };
    const r = await runHook(script("exit 0"), big);
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    expect(r.error).toBeUndefined();
  });

  test("a child left running in the background does not hold the result hostage", async () => {
    const hook = script("(sleep 5; echo late) &\necho $$\nexit 0");
    const t0 = performance.now();
    const r = await runHook(hook, EVENT, { timeoutMs: 10_000 });
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    const pgid = Number(r.stdout.trim());
    expect(pgid).toBeGreaterThan(0);
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      /* already gone */
    }
  });

  test.each([
    ["missing", () => join(dir, "no-such-hook"), "no such file or directory (ENOENT)"],
    [
      "not executable",
      () => {
        const p = join(dir, "not-exec");
        fs.writeFileSync(p, "#!/bin/sh\n", { mode: 0o644 });
        return p;
      },
      "permission denied (EACCES)",
    ],
    ["a directory", () => dir, "permission denied (EACCES)"],
    [
      "no #! line",
      () => {
        const p = join(dir, "no-shebang");
        fs.writeFileSync(p, "echo hi\n", { mode: 0o755 });
        return p;
      },
      "(ENOEXEC)",
    ],
  ] as [string, () => string, string][])("%s: an error in the result, never a throw", async (_what, make, text) => {
    const prog = make();
    const r = await runHook(prog, EVENT);
    expect(r).toMatchObject({ exitCode: null, signal: null, timedOut: false, stdout: "", stderr: "" });
    expect(r.error).toStartWith(`cannot run the hook ${prog}: `);
    expect(r.error).toContain(text);
  });
});

describe("HookQueue", () => {
  const ev = (reason: string): HookEvent => ({ reason, interface: "eth0", lease: null, oldLease: null });
  const ok = (): HookResult => ({ exitCode: 0, signal: null, timedOut: false, stdout: "", stderr: "", stdoutDiscarded: 0, stderrDiscarded: 0, ms: 1 });

  test("real hooks run one at a time, in event order", async () => {
    const log = join(dir, "order.log");
    // Each run notes its start and end: an overlap would show as two starts in a row.
    const hook = script(`echo "start $reason" >> "${log}"\nsleep 0.05\necho "end $reason" >> "${log}"`);
    const results: string[] = [];
    const q = new HookQueue(hook, { onResult: (e, r) => results.push(`${e.reason}:${r.exitCode}`) });
    for (const r of ["PREINIT", "BOUND", "RENEW", "REBIND", "EXPIRE"]) q.push(ev(r));
    expect(q.busy).toBe(true);
    await q.idle();
    expect(fs.readFileSync(log, "utf8")).toBe(["PREINIT", "BOUND", "RENEW", "REBIND", "EXPIRE"].map((r) => `start ${r}\nend ${r}\n`).join(""));
    expect(results).toEqual(["PREINIT:0", "BOUND:0", "RENEW:0", "REBIND:0", "EXPIRE:0"]);
    expect([q.ran, q.dropped, q.pending, q.busy]).toEqual([5, 0, 0, false]);
  });

  test("bounded: when full, the oldest waiting event is dropped and counted", async () => {
    const release: (() => void)[] = [];
    const started: string[] = [];
    const run = (_prog: string, e: HookEvent) =>
      new Promise<HookResult>((resolve) => {
        started.push(e.reason);
        release.push(() => resolve(ok()));
      });
    const dropped: string[] = [];
    const done: string[] = [];
    const q = new HookQueue("/unused", { maxPending: 3, run, onDrop: (e) => dropped.push(e.reason), onResult: (e) => done.push(e.reason) });
    for (let i = 1; i <= 6; i++) q.push(ev(`e${i}`));
    // e1 runs; e2..e6 wanted to wait in 3 places: e2 and e3 (the oldest) made way.
    expect(started).toEqual(["e1"]);
    expect([q.pending, q.dropped]).toEqual([3, 2]);
    expect(dropped).toEqual(["e2", "e3"]);
    let idle = false;
    const idleP = q.idle().then(() => {
      idle = true;
    });
    while (release.length || q.busy) {
      await Bun.sleep(1);
      release.shift()?.();
    }
    await idleP;
    expect(idle).toBe(true);
    expect(started).toEqual(["e1", "e4", "e5", "e6"]);
    expect(done).toEqual(["e1", "e4", "e5", "e6"]);
    expect([q.ran, q.dropped, q.pending]).toEqual([4, 2, 0]);
  });

  test("idle() on a queue with nothing to do resolves at once; after idle the queue runs again", async () => {
    const q = new HookQueue("/unused", { run: async () => ok() });
    await q.idle();
    q.push(ev("A"));
    await q.idle();
    q.push(ev("B"));
    await q.idle();
    expect(q.ran).toBe(2);
  });

  test("a runner that throws becomes an error result; a callback that throws is logged; the queue goes on", async () => {
    const errors = spyOn(log, "error").mockImplementation(() => {});
    try {
      const results: HookResult[] = [];
      let calls = 0;
      const q = new HookQueue("/unused", {
        run: async () => {
          if (++calls === 1) throw new Error("boom");
          return ok();
        },
        onResult: (e, r) => {
          results.push(r);
          if (e.reason === "B") throw new Error("callback bug");
        },
      });
      q.push(ev("A"));
      q.push(ev("B"));
      q.push(ev("C"));
      await q.idle();
      expect(results.map((r) => r.error ?? "ok")).toEqual(["the hook /unused failed: boom", "ok", "ok"]);
      expect(errors).toHaveBeenCalledTimes(1);
      expect(String(errors.mock.calls[0][0])).toContain("callback bug");
    } finally {
      errors.mockRestore();
    }
  });

  test("a missing hook program in the queue gives error results, in order", async () => {
    const results: string[] = [];
    const q = new HookQueue(join(dir, "gone"), { onResult: (e, r) => results.push(`${e.reason} ${r.error ? "error" : "ran"}`) });
    q.push(ev("A"));
    q.push(ev("B"));
    await q.idle();
    expect(results).toEqual(["A error", "B error"]);
  });
});

/** Whether `pid` has ended (gone, or a zombie waiting for its parent) within `ms`. */
async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    let state: string | null = null;
    try {
      state = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] ?? null;
    } catch {
      return true;
    }
    if (state === "Z" || state === "X") return true;
    if (performance.now() > until) return false;
    await Bun.sleep(20);
  }
}
