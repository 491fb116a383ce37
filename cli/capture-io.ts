// Reading input a chunk at a time (a file, a pipe, stdin, /dev/zero alike) and writing the
// pcap that `watch --write` keeps. Reads are bounded: a 300 MB capture or an endless stream
// costs one chunk of memory, never the whole input.

import { closeSync, openSync, readSync } from "node:fs";
import { CaptureReader } from "../core/capture-reader.ts";
import type { PcapPacket } from "../core/capture-types.ts";
import { LinktypeCheck } from "../core/inspect.ts";
import { encodePcapHeader, encodePcapRecord } from "../core/pcap.ts";
import { UserError } from "./errors.ts";
import { flushOutput, log, queuedOutput } from "./log.ts";

/** What one read takes: large enough to amortise the call, small enough not to matter. */
export const CHUNK_BYTES = 256 * 1024;

function openError(path: string, err: unknown): UserError {
  const code = (err as { code?: string }).code;
  const what = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (err as Error).message;
  return new UserError(`${path}: ${what}`);
}

/**
 * A file or stdin ("-"), read in chunks into one reused buffer: a chunk is valid until the
 * next read. Reads are synchronous (a file, /dev/zero and a pipe all block the same way, and
 * the callers do nothing else meanwhile); a stdin left non-blocking by the parent is read
 * through Bun's stream instead.
 */
export class InputStream {
  private readonly buf = new Uint8Array(CHUNK_BYTES);
  private stream: AsyncIterator<Uint8Array> | null = null;
  private eof = false;

  private constructor(
    readonly path: string,
    private fd: number | null,
  ) {}

  /** Opens now, so the file is opened with the caller's rights even if privileges go next. */
  static open(path: string): InputStream {
    if (path === "-") return new InputStream(path, 0);
    try {
      return new InputStream(path, openSync(path, "r"));
    } catch (err) {
      throw openError(path, err);
    }
  }

  /** "stdin", or the path: for messages. */
  get name(): string {
    return this.path === "-" ? "stdin" : this.path;
  }

  /** The next chunk, or null at the end. */
  async read(): Promise<Uint8Array | null> {
    if (this.eof) return null;
    if (this.stream) {
      const { value, done } = await this.stream.next();
      if (done || !value) return this.finish();
      return value;
    }
    let n: number;
    try {
      n = readSync(this.fd!, this.buf, 0, this.buf.length, null);
    } catch (err) {
      if ((err as { code?: string }).code === "EAGAIN" && this.fd === 0) {
        this.stream = Bun.stdin.stream()[Symbol.asyncIterator]();
        return this.read();
      }
      throw openError(this.path, err);
    }
    return n === 0 ? this.finish() : this.buf.subarray(0, n);
  }

  /** Reads until at least `n` bytes are in hand or the input ends; a copy, so later reads cannot touch it. */
  async readAtLeast(n: number, limit: number): Promise<{ bytes: Uint8Array; ended: boolean }> {
    const parts: Uint8Array[] = [];
    let total = 0;
    while (total < n) {
      const c = await this.read();
      if (!c) break;
      parts.push(c.slice(0, Math.min(c.length, limit - total)));
      total += parts[parts.length - 1].length;
      if (total >= limit) break;
    }
    const bytes = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      bytes.set(p, off);
      off += p.length;
    }
    return { bytes, ended: this.eof };
  }

  private finish(): null {
    this.eof = true;
    this.close();
    return null;
  }

  close(): void {
    if (this.fd !== null && this.fd !== 0) closeSync(this.fd);
    this.fd = null;
    void this.stream?.return?.();
  }
}

/**
 * The pcap `watch --write` keeps. A pcap has one link type: live, Ethernet, written at once;
 * from a capture, the first packet's, and a packet of another link type is left out (counted).
 */
export class CaptureSink {
  private linktype: number | null = null;
  /** Packets not written: their link type is not the file's. */
  otherLinktype = 0;

  private constructor(
    readonly path: string,
    private readonly sink: import("bun").FileSink,
  ) {}

  /** Creates the file now, with the caller's rights (privileges may go next). */
  static open(path: string, linktype?: number): CaptureSink {
    let fd: number;
    try {
      fd = openSync(path, "w", 0o644);
    } catch (err) {
      throw new UserError(`cannot write ${path}: ${openError(path, err).message}`);
    }
    const s = new CaptureSink(path, Bun.file(fd).writer());
    if (linktype !== undefined) s.start(linktype);
    return s;
  }

  private start(linktype: number): void {
    this.linktype = linktype;
    this.sink.write(encodePcapHeader({ linktype }));
    this.sink.flush();
  }

  write(frame: Uint8Array, timestampUs: number, linktype: number): void {
    if (this.linktype === null) this.start(linktype);
    if (linktype !== this.linktype) {
      this.otherLinktype++;
      return;
    }
    this.sink.write(encodePcapRecord(frame, Math.floor(timestampUs)));
  }

  async end(): Promise<void> {
    if (this.linktype === null) this.start(1); // an empty capture is still one tcpdump reads
    await this.sink.end();
  }
}

/** Output waiting for stdout before more input is read: a capture is read no faster than it prints. */
const OUTPUT_BACKLOG = 1024 * 1024;

/**
 * Feeds every packet of a capture to `onPacket` as it streams in (starting with `first`, bytes
 * already read from it), until the end or until `stop()` says so. Damage after the start is a
 * warning (logged, and returned with the others); a start that is no capture, an error.
 */
export async function replayCapture(input: InputStream, first: Uint8Array | null, onPacket: (p: PcapPacket) => void, stop: () => boolean): Promise<string[]> {
  const reader = new CaptureReader();
  const linktypes = new LinktypeCheck();
  const warnings: string[] = [];
  const warn = (w: string) => {
    warnings.push(w);
    log.warn(`${input.name}: ${w}`);
  };
  const drain = () => {
    for (let pk = reader.next(); pk; pk = reader.next()) {
      const w = linktypes.check(pk.linktype);
      if (w) warn(w);
      onPacket(pk);
      if (stop()) return true;
    }
    return false;
  };
  for (let chunk = first ?? (await input.read()); chunk && !reader.done; chunk = await input.read()) {
    reader.push(chunk);
    if (drain()) return warnings;
    if (queuedOutput() > OUTPUT_BACKLOG) await flushOutput();
  }
  reader.end();
  drain();
  if (reader.error) {
    const why = reader.error.kind === "bad-magic" ? reader.error.reason : `not a readable capture: ${reader.error.reason}`;
    throw new UserError(`${input.name}: ${why}`);
  }
  for (const w of reader.warnings) warn(w.reason);
  if (reader.moreWarnings) warn(`${reader.moreWarnings} more warning(s) like these`);
  return warnings;
}
