// --metrics with the real thing: watch, the prober and the resident client serve /metrics
// inside a lab with two dnsmasq servers (the second outside --allow-server: rogue); Debian's
// prometheus, in the same namespace with its own config, scrapes them every second and
// evaluates packaging/prometheus/dhcptool-alerts.yml; promtool checks our output and the rules.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { labDown, stopServer, type LabState } from "../../cli/lab/index.ts";
import { systemBinary } from "../../cli/lab/proc.ts";
import { metricSamples } from "../unit/helpers.ts";
import { Daemon, daemonDirs, lease, privileges, removeDirs, Resident, type DaemonDirs } from "./daemon-helpers.ts";
import { dhcptool, RUNS_AS, startLab } from "./helpers.ts";
import { hostileHttpClients, httpInClient, Prometheus, until } from "./prometheus.ts";

const RULES = join(import.meta.dir, "../../packaging/prometheus/dhcptool-alerts.yml");
const RULE_TESTS = join(import.meta.dir, "../../packaging/prometheus/dhcptool-alerts.test.yml");
const ALLOWED = "198.18.0.1",
  ROGUE = "198.18.0.2";
/** Below 1024: only root may listen there, and the daemon has dropped to --user by the time it is scraped. */
const WATCH_ADDRESS = "127.0.0.1:999";

function promtool(args: string[], stdin?: string): { exitCode: number; output: string } {
  const bin = systemBinary("promtool");
  if (!bin) throw new Error("promtool is not installed (bash scripts/setup.sh --dev installs prometheus, which brings it)");
  const p = Bun.spawnSync([bin, ...args], { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  return { exitCode: p.exitCode, output: p.stdout.toString() + p.stderr.toString() };
}

async function scrape(lab: LabState, url: string): Promise<string> {
  const r = await httpInClient(lab, url);
  expect(r.status).toBe(200);
  expect(r.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
  return r.body;
}

async function firingAlert(prom: Prometheus, name: string, labels: Record<string, string>): Promise<Record<string, string>> {
  return until(
    `alert ${name} firing`,
    async () => {
      const a = (await prom.alerts()).find(
        (x) => x.labels.alertname === name && x.state === "firing" && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
      );
      return a?.labels;
    },
    20_000,
  );
}

describe("metrics scraped by a real Prometheus", () => {
  let lab: LabState;
  let prom: Prometheus | null = null;
  let dirs: DaemonDirs;
  const residents: Resident[] = [];
  let watch: Resident;

  beforeAll(() => {
    lab = startLab("met", { servers: 2 });
    dirs = daemonDirs();
  });
  afterAll(async () => {
    await Promise.all(residents.map((r) => r.stop()));
    await prom?.stop();
    if (dirs) removeDirs(dirs);
    if (lab) labDown(lab.name);
  }, 30_000);

  test("promtool: the alert rules load, and their own tests pass", () => {
    const check = promtool(["check", "rules", RULES]);
    expect(check.output).toContain("SUCCESS");
    expect(check.exitCode).toBe(0);
    const t = promtool(["test", "rules", RULE_TESTS]);
    expect(t.output).toContain("SUCCESS");
    expect(t.exitCode).toBe(0);
  });

  test("watch --daemon --metrics on port 999: served after the drop to --user; GET and HEAD only; promtool check metrics passes", async () => {
    watch = new Resident(lab, ["watch", "lab0", "--daemon", "--allow-server", ALLOWED, "--metrics", WATCH_ADDRESS, "-v"]);
    residents.push(watch);
    const start = await watch.event("start", 15_000);
    expect(start.metrics).toBe(`http://${WATCH_ADDRESS}/metrics`);
    const p = privileges(watch.proc.pid);
    expect(p.uid.split(/\s+/)).toEqual(Array(4).fill(String(RUNS_AS.uid)));
    expect(p.threads.every((t) => t.capEff === "0000000000000000")).toBe(true);
    const text = await scrape(lab, `http://${WATCH_ADDRESS}/metrics`);
    const s = metricSamples(text);
    expect(s.get('dhcptool_rogue_servers{interface="lab0"}')).toBe(0);
    expect(s.get('dhcptool_kernel_dropped_packets_total{interface="lab0"}')).toBe(0);
    const check = promtool(["check", "metrics"], text);
    expect(check.output).toBe("");
    expect(check.exitCode).toBe(0);
    expect((await httpInClient(lab, `http://${WATCH_ADDRESS}/`)).status).toBe(404);
    expect((await httpInClient(lab, `http://${WATCH_ADDRESS}/metrics`, "POST")).status).toBe(405);
    const head = await httpInClient(lab, `http://${WATCH_ADDRESS}/metrics`, "HEAD");
    expect([head.status, head.body]).toEqual([200, ""]);
  }, 30_000);

  test("hostile HTTP clients get an error or a closed connection; the endpoint keeps serving", async () => {
    const r = await hostileHttpClients(lab, `http://${WATCH_ADDRESS}/metrics`);
    expect(r.garbage).toMatch(/^HTTP\/1\.1 [45]\d\d /);
    expect(r.hugeHeader).toMatch(/^HTTP\/1\.1 431 /);
    expect(r.hugeBody).toBe(413);
    expect(r.afterwards).toBe(200);
    expect(watch.proc.exitCode).toBeNull();
  }, 30_000);

  test("Prometheus scrapes watch; after a rogue server answers, dhcptool_rogue_servers is 1 and DHCPRogueServer fires", async () => {
    prom = await Prometheus.start(
      lab,
      [{ name: "dhcptool-watch", targets: [WATCH_ADDRESS] }, { name: "dhcptool-discover" }, { name: "dhcptool-client" }],
      [RULES],
    );
    expect(
      Bun.spawnSync(["cat", `/proc/${prom.proc.pid}/comm`])
        .stdout.toString()
        .trim(),
    ).toBe("prometheus");
    await until(
      "a successful scrape of watch",
      async () => (await prom!.targets()).find((t) => t.labels.job === "dhcptool-watch" && t.health === "up"),
      20_000,
    );
    const before = await prom.query('dhcptool_rogue_servers{job="dhcptool-watch"}');
    expect(before.map((v) => [v.labels.interface, v.value])).toEqual([["lab0", 0]]);
    expect((await prom.alerts()).filter((a) => a.labels.alertname === "DHCPRogueServer")).toEqual([]);

    const d = await dhcptool(lab, ["discover", "lab0", "--wait", "1", "--json"]); // both servers offer; watch sees it
    expect(d.exitCode).toBe(0);
    expect(
      JSON.parse(d.stdout)
        .offers.map((o: { serverId: string }) => o.serverId)
        .sort(),
    ).toEqual([ALLOWED, ROGUE]);
    const after = await until(
      "dhcptool_rogue_servers = 1",
      async () => {
        const v = await prom!.query('dhcptool_rogue_servers{job="dhcptool-watch"}');
        return v[0]?.value === 1 ? v : undefined;
      },
      15_000,
    );
    expect(after[0].labels).toMatchObject({ job: "dhcptool-watch", instance: WATCH_ADDRESS, interface: "lab0" });
    const rogue = await prom.query('dhcptool_server_last_seen_timestamp_seconds{job="dhcptool-watch",status="rogue"}');
    expect(rogue.map((v) => v.labels.server)).toEqual([ROGUE]);
    expect(await firingAlert(prom, "DHCPRogueServer", { job: "dhcptool-watch" })).toMatchObject({ interface: "lab0", severity: "critical" });
    const latency = await prom.query('dhcptool_offer_latency_seconds_count{job="dhcptool-watch"}');
    expect(latency.map((v) => v.labels.server).sort()).toEqual([ALLOWED, ROGUE]);
  }, 60_000);

  test("the resident client: Prometheus reads BOUND and the lease's timers; a renewal is counted; promtool check metrics passes", async () => {
    const client = new Daemon(lab, dirs, ["--metrics", "127.0.0.1:0", "--mac", "02:00:00:00:5e:10"]);
    residents.push(client);
    const url = String((await client.event("metrics", 15_000)).url);
    await client.leased(20_000);
    prom!.setTargets("dhcptool-client", [new URL(url).host]);
    const bound = await until(
      "dhcptool_client_bound = 1 in Prometheus",
      async () => {
        const v = await prom!.query('dhcptool_client_bound{job="dhcptool-client"}');
        return v[0]?.value === 1 ? v : undefined;
      },
      20_000,
    );
    expect(bound[0].labels.interface).toBe("lab0");
    const phase = await prom!.query('dhcptool_client_phase{job="dhcptool-client"} == 1');
    expect(phase.map((v) => v.labels.phase)).toEqual(["BOUND"]);
    const remaining = await prom!.query('dhcptool_client_lease_remaining_seconds{job="dhcptool-client"}');
    const byUntil = Object.fromEntries(remaining.map((v) => [v.labels.until, v.value]));
    expect(byUntil.renew).toBeGreaterThan(1700); // dnsmasq's lease is an hour: T1 at 1800 s, T2 at 3150 s
    expect(byUntil.rebind).toBeGreaterThan(byUntil.renew);
    expect(byUntil.expiry).toBeGreaterThan(byUntil.rebind);

    const from = client.events.length;
    expect((await lease(lab, dirs, ["renew", "lab0"])).exitCode).toBe(0);
    await client.event("renew", 15_000, from);
    const text = await scrape(lab, url);
    const s = metricSamples(text);
    expect(s.get('dhcptool_client_renewals_total{interface="lab0"}')).toBe(1);
    expect(s.get('dhcptool_client_packets_sent_total{interface="lab0",type="REQUEST"}')).toBe(2);
    const check = promtool(["check", "metrics"], text);
    expect([check.exitCode, check.output]).toEqual([0, ""]);
  }, 60_000);

  test("the prober on [::1]: Prometheus sees both servers up, one rogue; the allowed one stopped: DHCPServerVanished fires", async () => {
    const prober = new Resident(lab, [
      "discover",
      "lab0",
      "--daemon",
      "--json",
      "--interval",
      "2",
      "--vanish-after",
      "1",
      "--allow-server",
      ALLOWED,
      "--metrics",
      "[::1]:0",
    ]);
    residents.push(prober);
    const url = String((await prober.event("start", 15_000)).metrics);
    expect(url).toMatch(/^http:\/\/\[::1\]:\d+\/metrics$/);
    prom!.setTargets("dhcptool-discover", [new URL(url).host]);
    const up = await until(
      "both servers up in Prometheus",
      async () => {
        const v = await prom!.query('dhcptool_server_up{job="dhcptool-discover"} == 1');
        return v.length === 2 ? v : undefined;
      },
      20_000,
    );
    expect(Object.fromEntries(up.map((v) => [v.labels.server, v.labels.status]))).toEqual({ [ALLOWED]: "allowed", [ROGUE]: "rogue" });
    const rogue = await prom!.query('dhcptool_rogue_servers{job="dhcptool-discover"}');
    expect(rogue.map((v) => v.value)).toEqual([1]);
    const offers = await prom!.query('sum by (server) (dhcptool_offer_latency_seconds_count{job="dhcptool-discover"})');
    expect(offers.length).toBe(2);
    expect(offers.every((v) => v.value >= 1)).toBe(true);
    expect(promtool(["check", "metrics"], await scrape(lab, url))).toEqual({ exitCode: 0, output: "" });

    stopServer(lab, 1);
    const vanished = await firingAlert(prom!, "DHCPServerVanished", { job: "dhcptool-discover", server: ALLOWED });
    expect(vanished).toMatchObject({ status: "allowed", interface: "lab0" });
    await firingAlert(prom!, "DHCPNoServerAnswering", { interface: "lab0" });
    const still = await prom!.query('dhcptool_server_up{job="dhcptool-discover",server="198.18.0.2"}');
    expect(still.map((v) => v.value)).toEqual([1]);
  }, 60_000);
});
