// A dhcptool process in a lab's client namespace, followed line by line on stdout and stderr
// while it runs, for tests that act on what it says (a signal once it has seen an offer).

import { readFileSync } from "node:fs";
import { inClient, type LabState } from "../../cli/lab/index.ts";
import { MAIN, RUNS_AS } from "./helpers.ts";

/** Calls onLine with each line of stream as it comes, and with a last line that has no newline. */
export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) onLine(buf); // a last line without its newline: tests look for exactly this
}

/**
 * dhcptool ARGS run on a pty (util-linux's script), in the lab's client namespace (lab null:
 * where we are): everything it wrote, stdout and stderr, as the terminal got them.
 */
export async function runOnTerminal(lab: LabState | null, args: string[], env: Record<string, string> = {}): Promise<{ screen: string; code: number }> {
  const cmd = [process.execPath, MAIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const argv = ["script", "-qec", cmd, "/dev/null"];
  const p = Bun.spawn(lab ? inClient(lab, argv) : argv, {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    env: { ...process.env, TERM: "xterm", ...env },
  });
  const [screen, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { screen, code };
}

export class Running {
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly proc: ReturnType<typeof Bun.spawn>;
  readonly exited: Promise<number>;
  #changed: () => void = () => {};

  constructor(lab: LabState, args: string[], env: Record<string, string> = {}) {
    const proc = Bun.spawn(inClient(lab, [process.execPath, MAIN, ...args]), {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    this.proc = proc;
    const reading = Promise.all([
      readLines(proc.stdout, (l) => {
        this.out.push(l);
        this.#changed();
      }),
      readLines(proc.stderr, (l) => {
        this.err.push(l);
        this.#changed();
      }),
    ]);
    const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    this.exited = (async () => {
      const code = await proc.exited;
      await reading;
      clearTimeout(killer);
      return code;
    })();
  }

  /** Resolves once `count` lines of stream match `re` (rejects after timeoutMs, or when the process ends first). */
  async waitFor(stream: "out" | "err", re: RegExp, timeoutMs = 15_000, count = 1): Promise<void> {
    const lines = stream === "out" ? this.out : this.err;
    const until = Date.now() + timeoutMs;
    let done = false;
    void this.proc.exited.then(() => {
      done = true;
    });
    while (lines.filter((l) => re.test(l)).length < count) {
      if (done || Date.now() > until) {
        throw new Error(`waited for ${re} on std${stream}; stdout: ${this.out.join(" | ")}; stderr: ${this.err.join(" | ")}`);
      }
      await new Promise<void>((resolve) => {
        this.#changed = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  /** Resolves once the process runs as the default --user: its sockets are open and it is listening. */
  async listening(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    const uid = () => {
      try {
        return /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${this.proc.pid}/status`, "utf8"))?.[1];
      } catch {
        return undefined;
      }
    };
    while (uid() !== String(RUNS_AS.uid)) {
      if (Date.now() > until || this.proc.exitCode !== null) throw new Error(`never listening; stderr: ${this.err.join(" | ")}`);
      await Bun.sleep(20);
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }
}
