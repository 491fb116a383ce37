/**
 * Two network namespaces joined by a veth pair, for the tests of RawSocket against the real
 * kernel (rawsocket*.test.ts): the pair made before a describe's tests and deleted after them
 * with the fixture children it started (test/lab/fixtures/native-*.ts), frames built byte by
 * byte, and the children's JSON lines collected.
 */
import { afterAll, beforeAll } from "bun:test";
import { join } from "node:path";

export const fixtures = join(import.meta.dir, "fixtures");

/** Internet checksum (RFC 1071) over an IPv4 header whose checksum field is 0. */
export function ipv4HeaderChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i]! << 8) | header[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface UdpFrameSpec {
  sourcePort: number;
  destinationPort: number;
  payload: string;
  moreFragments?: boolean;
  fragmentOffset?: number; // in 8-byte units
  etherType?: number; // default IPv4
  protocol?: number; // default UDP
  optionWords?: number; // 4-byte IPv4 option words (NOPs), moving the UDP header
  sourceHost?: number; // last byte of the source address, default 2
}

/** Ethernet broadcast / IPv4 198.18.0.2 (or .sourceHost) → 198.19.255.255 / UDP, built byte by byte. */
export function udpFrame(spec: UdpFrameSpec): Uint8Array {
  const payload = new TextEncoder().encode(spec.payload);
  const ipHeaderLength = 20 + 4 * (spec.optionWords ?? 0);
  const ipLength = ipHeaderLength + 8 + payload.length;
  const frame = new Uint8Array(14 + ipLength);
  const view = new DataView(frame.buffer);
  frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0); // destination MAC: broadcast
  frame.set([0x02, 0x00, 0x5e, 0x12, 0x34, 0x56], 6); // source MAC: locally administered
  view.setUint16(12, spec.etherType ?? 0x0800); // ethertype
  const ip = 14;
  frame[ip] = 0x40 | (ipHeaderLength / 4); // version 4, IHL in words
  frame[ip + 1] = 0x10; // TOS: low delay
  view.setUint16(ip + 2, ipLength); // total length
  view.setUint16(ip + 4, 0x1234); // identification
  view.setUint16(ip + 6, (spec.moreFragments ? 0x2000 : 0) | (spec.fragmentOffset ?? 0)); // MF + offset
  frame[ip + 8] = 64; // TTL
  frame[ip + 9] = spec.protocol ?? 17; // protocol
  frame.set([198, 18, 0, spec.sourceHost ?? 2], ip + 12); // source address
  frame.set([198, 19, 255, 255], ip + 16); // destination: broadcast of 198.18.0.0/15
  frame.fill(0x01, ip + 20, ip + ipHeaderLength); // options: NOP
  view.setUint16(ip + 10, ipv4HeaderChecksum(frame.subarray(ip, ip + ipHeaderLength)));
  const udp = ip + ipHeaderLength;
  view.setUint16(udp, spec.sourcePort);
  view.setUint16(udp + 2, spec.destinationPort);
  view.setUint16(udp + 4, 8 + payload.length); // UDP length
  view.setUint16(udp + 6, 0); // checksum 0: none (allowed for UDP over IPv4)
  frame.set(payload, udp + 8);
  return frame;
}

export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

export type Event = Record<string, any>;

/** Collects a child's stdout as JSON lines. */
export function collectLines(stream: ReadableStream<Uint8Array>): { events: Event[]; done: Promise<void> } {
  const events: Event[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line) events.push(JSON.parse(line));
      }
    }
  })();
  return { events, done };
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

export function run(argv: string[]): void {
  const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`${argv.join(" ")} failed (${result.exitCode}): ${result.stderr.toString().trim()}`);
  }
}

/**
 * Two namespaces nsA and nsB joined by a veth pair (v0 in A, v1 in B), made before the
 * describe's tests and deleted after them, with the fixture children it started.
 */
export function vethPair(tag: string, mtu?: number) {
  const nsA = `dtn-${process.pid}-${tag}a`;
  const nsB = `dtn-${process.pid}-${tag}b`;
  const children: Bun.Subprocess<"pipe", "pipe", "pipe">[] = [];

  const spawnIn = (ns: string, fixture: string, args: string[]) => {
    const child = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, join(fixtures, fixture), ...args], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    children.push(child);
    return child;
  };

  beforeAll(() => {
    run(["ip", "netns", "add", nsA]);
    run(["ip", "netns", "add", nsB]);
    run(["ip", "link", "add", "v0", "netns", nsA, "type", "veth", "peer", "name", "v1", "netns", nsB]);
    for (const [ns, dev] of [
      [nsA, "v0"],
      [nsB, "v1"],
    ] as const) {
      if (mtu) run(["ip", "-n", ns, "link", "set", dev, "mtu", String(mtu)]);
      run(["ip", "-n", ns, "link", "set", dev, "up"]);
    }
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await Promise.allSettled(children.map((child) => child.exited));
    // Deleting a namespace takes its end of the veth pair, and so the pair, with it.
    for (const ns of [nsA, nsB]) Bun.spawnSync(["ip", "netns", "del", ns], { stdout: "ignore", stderr: "ignore" });
  });

  return { nsA, nsB, spawnIn };
}
