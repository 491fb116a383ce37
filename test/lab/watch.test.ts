// watch against real traffic: busybox udhcpc does a DORA with dnsmasq while watch listens
// on the same link; then the same with a second ("rogue") server; then --write/--read.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { labDown, type LabState } from "../../cli/lab/index.ts";
import { buildClientMessage, frameClientMessage } from "../../core/client.ts";
import { eventually, MAIN, startLab } from "./helpers.ts";
import { injectFromServer } from "./inject.ts";

interface Watch {
  lines: () => any[];
  done: Promise<number>;
  proc: ReturnType<typeof Bun.spawn>;
}

/** Starts watch in the client namespace and resolves once its socket is open. */
async function startWatch(lab: LabState, args: string[]): Promise<Watch> {
  const proc = Bun.spawn(["ip", "netns", "exec", lab.clientNs, process.execPath, MAIN, "watch", "lab0", "--json", ...args], { stdout: "pipe", stderr: "pipe" });
  const out: string[] = [];
  let buffered = "";
  let started!: () => void;
  const ready = new Promise<void>((r) => {
    started = r;
  });
  const reading = (async () => {
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buffered += new TextDecoder().decode(chunk);
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        out.push(line);
        if (line.includes('"event":"start"')) started();
      }
    }
  })();
  const timeout = setTimeout(() => proc.kill("SIGKILL"), 20000);
  await Promise.race([ready, proc.exited]);
  const done = (async () => {
    const code = await proc.exited;
    await reading;
    clearTimeout(timeout);
    return code;
  })();
  return { lines: () => out.map((l) => JSON.parse(l)), done, proc };
}

async function udhcpc(lab: LabState): Promise<void> {
  const script = `${lab.dir}/udhcpc-script`;
  await Bun.write(script, "#!/bin/sh\nexit 0\n");
  Bun.spawnSync(["chmod", "+x", script]);
  const p = Bun.spawnSync(["ip", "netns", "exec", lab.clientNs, "busybox", "udhcpc", "-i", "lab0", "-f", "-q", "-n", "-t", "3", "-T", "1", "-s", script], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (p.exitCode !== 0) throw new Error(`udhcpc failed: ${p.stderr.toString()}`);
}

describe("one server", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("wone", { servers: 1 });
  });
  afterAll(() => {
    if (lab) labDown(lab.name);
  });

  test("a DORA is four packets, one exchange, with the server's latencies", async () => {
    const w = await startWatch(lab, ["--count", "4"]);
    await udhcpc(lab);
    expect(await w.done).toBe(0);
    const events = w.lines();
    const packets = events.filter((e) => e.event === "packet");
    expect(packets.map((p) => p.message.messageType)).toEqual(["DISCOVER", "OFFER", "REQUEST", "ACK"]);
    expect(new Set(packets.map((p) => p.conversation)).size).toBe(1);
    expect(packets[1].latencyMs).toBeGreaterThan(0);
    expect(packets[3].latencyMs).toBeGreaterThan(0);
    expect(packets[1].server).toBe("198.18.0.1");
    const summary = events.find((e) => e.event === "summary");
    expect(summary.conversations).toMatchObject({ total: 1, acked: 1 });
    expect(summary.servers).toHaveLength(1);
    expect(summary.servers[0]).toMatchObject({ server: "198.18.0.1", offers: 1, acks: 1 });
    expect(summary.servers[0].latency.n).toBe(2);
    expect(summary.kernelDrops).toBe(0);
  });

  test("--write then --read gives the same packets, and tshark reads the file cleanly", async () => {
    const pcap = `${lab.dir}/watch.pcap`;
    const w = await startWatch(lab, ["--count", "4", "--write", pcap]);
    await udhcpc(lab);
    expect(await w.done).toBe(0);
    const live = w.lines().filter((e) => e.event === "packet");
    const r = Bun.spawnSync([process.execPath, MAIN, "watch", "--read", pcap, "--json"], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(0);
    const read = r.stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === "packet");
    expect(read).toEqual(live);
    const t = Bun.spawnSync(["tshark", "-r", pcap, "-T", "fields", "-e", "dhcp.option.dhcp", "-e", "_ws.malformed"], { stdout: "pipe", stderr: "pipe" });
    expect(t.exitCode).toBe(0);
    expect(t.stderr.toString().replace(/Running as user.*\n/, "")).toBe("");
    expect(
      t.stdout
        .toString()
        .trim()
        .split("\n")
        .map((l) => l.trim()),
    ).toEqual(["1", "2", "3", "5"]);
  });
});

describe("--count", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("wcnt", { servers: 1 });
  });
  afterAll(() => {
    if (lab) labDown(lab.name);
  });

  test("--count 1 prints one packet even when a burst arrives in one receive batch", async () => {
    const w = await startWatch(lab, ["--count", "1"]);
    const mac = Uint8Array.of(2, 0, 0, 0, 0x7c, 1);
    const burst = Array.from({ length: 20 }, (_, xid) =>
      frameClientMessage(mac, buildClientMessage({ mac, hostname: null }, { messageType: 1, xid: xid + 1 })),
    );
    await injectFromServer(lab, 1, burst);
    expect(await w.done).toBe(0);
    const packets = w.lines().filter((e) => e.event === "packet");
    expect(packets.map((p) => p.message.xid)).toEqual(["0x00000001"]);
    expect(w.lines().find((e) => e.event === "summary").packets).toBe(1);
  });
});

describe("two servers, one allowed", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("wtwo", { servers: 2 });
  });
  afterAll(() => {
    if (lab) labDown(lab.name);
  });

  test("the other server's OFFER raises an alert and watch exits 5", async () => {
    const w = await startWatch(lab, ["--duration", "3", "--allow-server", "198.18.0.1"]);
    await udhcpc(lab);
    expect(await w.done).toBe(5);
    const events = w.lines();
    const alerts = events.filter((e) => e.event === "alert");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: "rogue-server", server: "198.18.0.2", messageType: "OFFER" });
    expect(events.find((e) => e.event === "summary").rogueServers).toEqual(["198.18.0.2"]);
  });

  test("SIGTERM ends a resident watch with its summary", async () => {
    const w = await startWatch(lab, ["--daemon", "--stats-interval", "1", "--allow-server", "198.18.0.1,198.18.0.2"]);
    await udhcpc(lab);
    expect(await eventually(() => w.lines().some((e) => e.event === "stats"), 5000)).toBe(true);
    w.proc.kill("SIGTERM");
    expect(await w.done).toBe(0);
    const events = w.lines();
    expect(events.some((e) => e.event === "stats")).toBe(true);
    expect(events[events.length - 1].event).toBe("summary");
    expect(events[events.length - 1].packets).toBeGreaterThanOrEqual(4);
  });
});
