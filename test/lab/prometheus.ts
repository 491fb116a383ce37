// A real Prometheus server (Debian's `prometheus`) inside a lab's client namespace, with its own
// config and storage in a temporary directory, listening on 127.0.0.1 there; and HTTP GETs
// from inside that namespace (the endpoints it and dhcptool serve are reachable only there).

import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inClient, type LabState } from "../../cli/lab/index.ts";
import { systemBinary } from "../../cli/lab/proc.ts";

export interface HttpAnswer {
  status: number;
  contentType: string | null;
  body: string;
}

const GET_SCRIPT = `
const r = await fetch(process.env.DT_URL, { method: process.env.DT_METHOD ?? "GET", signal: AbortSignal.timeout(5000) });
process.stdout.write(JSON.stringify({ status: r.status, contentType: r.headers.get("content-type"), body: await r.text() }));
`;

/** An HTTP request made from the lab's client namespace. */
export async function httpInClient(lab: LabState, url: string, method = "GET"): Promise<HttpAnswer> {
  const p = Bun.spawn(inClient(lab, [process.execPath, "-e", GET_SCRIPT]), {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, DT_URL: url, DT_METHOD: method },
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${method} ${url} in ${lab.clientNs}: ${err.trim()}`);
  return JSON.parse(out) as HttpAnswer;
}

const HOSTILE_SCRIPT = `
const url = new URL(process.env.DT_URL);
const open = (onData, onClose) => Bun.connect({ hostname: url.hostname, port: Number(url.port),
  socket: { data: (_s, d) => onData(new TextDecoder().decode(d)), close: onClose, error: onClose } });
/** Sends text on a connection of its own; the status line that came back ("" if none within 3 s). */
async function raw(text) {
  let got = "", done;
  const closed = new Promise((r) => { done = r; });
  const s = await open((d) => { got += d; }, () => done());
  s.write(text);
  const t = setTimeout(() => s.end(), 3000);
  await closed;
  clearTimeout(t);
  return got.split("\\r\\n")[0];
}
const idle = await open(() => {}, () => {}); // connects, sends nothing, held open throughout
const garbage = await raw("GARBAGE\\x00\\x1b[31m\\r\\n\\r\\n");
const hugeHeader = await raw("GET /metrics HTTP/1.1\\r\\nHost: x\\r\\nX: " + "a".repeat(200000) + "\\r\\n\\r\\n");
let hugeBody;
try { hugeBody = (await fetch(url, { method: "POST", body: "x".repeat(1 << 20) })).status; } catch { hugeBody = "closed"; }
const afterwards = (await fetch(url)).status;
idle.end();
process.stdout.write(JSON.stringify({ garbage, hugeHeader, hugeBody, afterwards }));
`;

/** From the lab's client namespace: garbage, a huge header, a huge body, and a GET while an idle connection is held. */
export async function hostileHttpClients(lab: LabState, url: string): Promise<Record<string, string | number>> {
  const p = Bun.spawn(inClient(lab, [process.execPath, "-e", HOSTILE_SCRIPT]), { stdout: "pipe", stderr: "pipe", env: { ...process.env, DT_URL: url } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`hostile HTTP clients: exit ${code}: ${err.trim()}`);
  return JSON.parse(out) as Record<string, string | number>;
}

/** Prometheus's own listening port: below the kernel's ephemeral range, so a daemon given port 0 never takes it. */
function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 10000);
}

export interface ScrapeJob {
  name: string;
  /** Fixed targets ("127.0.0.1:999"); or none, and targets set later with setTargets(). */
  targets?: string[];
}

interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}
export interface PromAlert {
  labels: Record<string, string>;
  state: string;
}
export interface PromTarget {
  labels: Record<string, string>;
  health: string;
  lastError: string;
  scrapeUrl: string;
}

export class Prometheus {
  readonly dir: string;
  readonly url: string;
  readonly proc: ReturnType<typeof Bun.spawn>;
  readonly #lab: LabState;

  private constructor(lab: LabState, dir: string, port: number, proc: ReturnType<typeof Bun.spawn>) {
    this.#lab = lab;
    this.dir = dir;
    this.url = `http://127.0.0.1:${port}`;
    this.proc = proc;
  }

  /** Starts prometheus scraping every second (rules evaluated every second) and waits until it is ready. */
  static async start(lab: LabState, jobs: ScrapeJob[], ruleFiles: string[]): Promise<Prometheus> {
    const binary = systemBinary("prometheus");
    if (!binary) throw new Error("prometheus is not installed (bash scripts/setup.sh --dev installs it)");
    const dir = mkdtempSync(join(tmpdir(), "dhcptool-prometheus-"));
    // JSON is YAML: the config needs no YAML writer
    const config = {
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
      rule_files: ruleFiles,
      scrape_configs: jobs.map((j) =>
        j.targets
          ? { job_name: j.name, static_configs: [{ targets: j.targets }] }
          : { job_name: j.name, file_sd_configs: [{ files: [join(dir, `${j.name}.json`)], refresh_interval: "1s" }] },
      ),
    };
    for (const j of jobs) if (!j.targets) writeFileSync(join(dir, `${j.name}.json`), "[]");
    writeFileSync(join(dir, "prometheus.yml"), JSON.stringify(config, null, 2));
    const port = randomPort();
    const proc = Bun.spawn(
      inClient(lab, [
        binary,
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ]),
      {
        stdout: "ignore",
        stderr: Bun.file(join(dir, "prometheus.log")),
      },
    );
    const p = new Prometheus(lab, dir, port, proc);
    const until = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}: ${p.log()}`);
      const r = await httpInClient(lab, `${p.url}/-/ready`).catch(() => null);
      if (r?.status === 200) return p;
      if (Date.now() > until) {
        await p.stop();
        throw new Error(`prometheus not ready within 20 s: ${p.log()}`);
      }
      await Bun.sleep(200);
    }
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, "prometheus.log"), "utf8").slice(-2000);
    } catch {
      return "";
    }
  }

  /** Points a file_sd job at these targets (written whole, then renamed into place). */
  setTargets(job: string, targets: string[]): void {
    const tmp = join(this.dir, `${job}.json.tmp`);
    writeFileSync(tmp, JSON.stringify([{ targets }]));
    renameSync(tmp, join(this.dir, `${job}.json`));
  }

  async #api<T>(path: string): Promise<T> {
    const r = await httpInClient(this.#lab, `${this.url}${path}`);
    const j = JSON.parse(r.body) as { status: string; data: T; error?: string };
    if (j.status !== "success") throw new Error(`prometheus ${path}: ${j.error ?? r.body}`);
    return j.data;
  }

  /** An instant query: each series's labels and value. */
  async query(q: string): Promise<{ labels: Record<string, string>; value: number }[]> {
    const d = await this.#api<{ resultType: string; result: PromVector[] }>(`/api/v1/query?query=${encodeURIComponent(q)}`);
    return d.result.map((v) => ({ labels: v.metric, value: Number(v.value[1]) }));
  }

  async targets(): Promise<PromTarget[]> {
    return (await this.#api<{ activeTargets: PromTarget[] }>("/api/v1/targets")).activeTargets;
  }

  async alerts(): Promise<PromAlert[]> {
    return (await this.#api<{ alerts: PromAlert[] }>("/api/v1/alerts")).alerts;
  }

  /** SIGTERM to its PID (SIGKILL after 5 s), then its directory goes. Idempotent. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill("SIGTERM");
      const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
      await this.proc.exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls fn (async) every 250 ms until it returns a value that is not undefined, or throws the last failure. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await Bun.sleep(250);
  }
}
