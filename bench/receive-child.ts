/**
 * Child process for bench/receive-run.ts, run inside one of the benchmark's
 * network namespaces by `ip netns exec NS bun bench/receive-child.ts MODE ...`.
 * Prints one JSON line per event on stdout (ready, result); errors go to stderr.
 *
 *   latency-rx IFNAME           RawSocket 'client'; stamps each frame's arrival in onFrame.
 *                               Reports when stdin ends.
 *   latency-tx IFNAME N MS      sends N frames, one every MS ms, each carrying its
 *                               sequence number and its wall-clock send time.
 *   idle-raw IFNAME SECONDS     RawSocket 'client' open plus a 1 s interval timer, for SECONDS.
 *   idle-bare SECONDS           the same timer and nothing else (never loads the shim).
 *   count-rx IFNAME N [ring]    RawSocket 'client' (through its TPACKET_V3 ring with `ring`);
 *                               counts frames (and wake-ups of JS) in onFrame, says so when
 *                               N have come, reports when stdin ends.
 *   flood-tx IFNAME N           sends N frames back to back.
 *
 * The shared clock is wall time as each process sees it,
 * performance.timeOrigin + performance.now(): both children run on the same
 * host, so a send stamp from one and an arrival stamp from the other compare.
 */

const [mode = "", ...args] = process.argv.slice(2);
export {};

const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const wallNow = () => performance.timeOrigin + performance.now();

// ---- the frame ---------------------------------------------------------------

/** Frame length of a minimal DHCP message: 14 Ethernet + 20 IPv4 + 8 UDP + 300 BOOTP. */
const FRAME_LENGTH = 342;
const BOOTP = 42; // offset of the BOOTP message in the frame
const SEQ_OFFSET = BOOTP + 4; // xid: the sequence number
const STAMP_OFFSET = BOOTP + 44; // start of sname: the send time, float64
const COOKIE_OFFSET = BOOTP + 236;

/** Internet checksum (RFC 1071) over an IPv4 header whose checksum field is 0. */
function ipv4HeaderChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i]! << 8) | header[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * A DHCPOFFER-shaped broadcast, byte by byte: Ethernet broadcast,
 * IPv4 198.18.0.1 -> 198.19.255.255 (the broadcast of 198.18.0.0/15),
 * UDP 67 -> 68 without checksum, a 300-byte BOOTP message.
 */
function dhcpFrame(): Uint8Array {
  const frame = new Uint8Array(FRAME_LENGTH);
  const view = new DataView(frame.buffer);
  frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0); // destination MAC: broadcast
  frame.set([0x02, 0x00, 0x5e, 0x12, 0x34, 0x57], 6); // source MAC: locally administered
  view.setUint16(12, 0x0800); // IPv4
  const ip = 14;
  frame[ip] = 0x45; // version 4, 5 words of header
  frame[ip + 1] = 0x10; // TOS: low delay
  view.setUint16(ip + 2, FRAME_LENGTH - 14); // total length
  view.setUint16(ip + 4, 0x4242); // identification
  frame[ip + 8] = 64; // TTL
  frame[ip + 9] = 17; // UDP
  frame.set([198, 18, 0, 1], ip + 12); // source
  frame.set([198, 19, 255, 255], ip + 16); // destination
  view.setUint16(ip + 10, ipv4HeaderChecksum(frame.subarray(ip, ip + 20)));
  const udp = ip + 20;
  view.setUint16(udp, 67);
  view.setUint16(udp + 2, 68);
  view.setUint16(udp + 4, FRAME_LENGTH - udp); // UDP length: 308
  view.setUint16(udp + 6, 0); // no checksum: the payload changes per frame
  frame[BOOTP] = 2; // op: BOOTREPLY
  frame[BOOTP + 1] = 1; // htype: Ethernet
  frame[BOOTP + 2] = 6; // hlen
  view.setUint16(BOOTP + 10, 0x8000); // flags: broadcast
  frame.set([198, 18, 0, 100], BOOTP + 16); // yiaddr
  frame.set([198, 18, 0, 1], BOOTP + 20); // siaddr
  frame.set([0x02, 0x00, 0x5e, 0xaa, 0xbb, 0xcc], BOOTP + 28); // chaddr
  frame.set([99, 130, 83, 99], COOKIE_OFFSET); // magic cookie
  // options: 53 DHCPOFFER, 54 server identifier, end
  frame.set([53, 1, 2, 54, 4, 198, 18, 0, 1, 255], COOKIE_OFFSET + 4);
  return frame;
}

function isOurs(bytes: Uint8Array): boolean {
  return (
    bytes.length >= FRAME_LENGTH &&
    bytes[BOOTP] === 2 &&
    bytes[COOKIE_OFFSET] === 99 &&
    bytes[COOKIE_OFFSET + 1] === 130 &&
    bytes[COOKIE_OFFSET + 2] === 83 &&
    bytes[COOKIE_OFFSET + 3] === 99
  );
}

function positiveInt(text: string | undefined, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`receive-child ${mode}: ${what} must be a positive integer, not ${text}`);
  return n;
}

const rawsocket = () => import("../native/rawsocket.ts");

/** Resolves when stdin ends (the parent's "stop"), and keeps the process alive till then. */
function stdinEnded(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.on("end", () => resolve());
    process.stdin.resume();
  });
}

// ---- modes -------------------------------------------------------------------

async function latencyRx(ifname: string): Promise<void> {
  const { RawSocket } = await rawsocket();
  const seqs: number[] = [];
  const sent: number[] = [];
  const arrived: number[] = [];
  let foreign = 0;
  const socket = RawSocket.open(ifname, {
    filter: "client",
    onFrame: (frame) => {
      const at = wallNow();
      const bytes = frame.bytes;
      if (!isOurs(bytes)) {
        foreign++;
        return;
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      seqs.push(view.getUint32(SEQ_OFFSET));
      sent.push(view.getFloat64(STAMP_OFFSET));
      arrived.push(at);
    },
    onError: (err) => process.stderr.write(`latency-rx: ${err instanceof Error ? err.message : String(err)}\n`),
  });
  emit({ event: "ready", pid: process.pid });
  await stdinEnded();
  const stats = socket.stats();
  socket.close();
  emit({ event: "result", seqs, sent, arrived, foreign, stats });
}

async function latencyTx(ifname: string, count: number, intervalMs: number): Promise<void> {
  const { RawSocket } = await rawsocket();
  const socket = RawSocket.open(ifname, { filter: "client", onFrame: () => {} });
  const frame = dhcpFrame();
  const view = new DataView(frame.buffer);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    // Absolute targets: a late wake-up does not push every later frame back.
    const wait = start + i * intervalMs - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    view.setUint32(SEQ_OFFSET, i);
    view.setFloat64(STAMP_OFFSET, wallNow());
    socket.send(frame);
  }
  const elapsed = performance.now() - start;
  socket.close();
  emit({ event: "result", sent: count, elapsedMs: elapsed, meanIntervalMs: count > 1 ? elapsed / (count - 1) : 0 });
}

async function idle(ifname: string | null, seconds: number): Promise<void> {
  let frames = 0;
  let socket: { close(): void } | null = null;
  if (ifname !== null) {
    const { RawSocket } = await rawsocket();
    socket = RawSocket.open(ifname, { filter: "client", onFrame: () => void frames++ });
  }
  let ticks = 0;
  // The timer is the only thing holding the event loop (the receive thread does not).
  const timer = setInterval(() => {
    if (++ticks < seconds) return;
    clearInterval(timer);
    socket?.close();
    emit({ event: "result", ticks, frames });
  }, 1000);
  emit({ event: "ready", pid: process.pid });
}

async function countRx(ifname: string, expected: number, ring: boolean): Promise<void> {
  const { RawSocket } = await rawsocket();
  let count = 0;
  let ours = 0;
  let first = 0;
  let last = 0;
  // A wake-up of JS is one drain: onFrame runs for each of its frames in one task, and
  // the microtask queue is only worked through once that task is done.
  let callbacks = 0;
  let inCallback = false;
  const callbackDone = () => {
    inCallback = false;
  };
  const socket = RawSocket.open(ifname, {
    filter: "client",
    ring,
    onFrame: (frame) => {
      if (!inCallback) {
        inCallback = true;
        callbacks++;
        queueMicrotask(callbackDone);
      }
      last = performance.now();
      if (count++ === 0) first = last;
      if (frame.bytes[BOOTP] === 2) ours++;
      if (count === expected) emit({ event: "all", count });
    },
    onError: (err) => process.stderr.write(`count-rx: ${err instanceof Error ? err.message : String(err)}\n`),
  });
  emit({ event: "ready", pid: process.pid });
  await stdinEnded();
  const stats = socket.stats();
  socket.close();
  emit({ event: "result", count, ours, firstMs: first, lastMs: last, stats, callbacks });
}

async function floodTx(ifname: string, count: number): Promise<void> {
  const { RawSocket } = await rawsocket();
  const socket = RawSocket.open(ifname, { filter: "client", onFrame: () => {} });
  const frame = dhcpFrame();
  const view = new DataView(frame.buffer);
  let errors = 0;
  let firstError = "";
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    view.setUint32(SEQ_OFFSET, i);
    try {
      socket.send(frame);
    } catch (err) {
      if (errors++ === 0) firstError = err instanceof Error ? err.message : String(err);
    }
  }
  const elapsed = performance.now() - start;
  socket.close();
  emit({ event: "result", sent: count - errors, errors, firstError, elapsedMs: elapsed });
}

switch (mode) {
  case "latency-rx":
    await latencyRx(args[0] ?? "v0");
    break;
  case "latency-tx":
    await latencyTx(args[0] ?? "v1", positiveInt(args[1], "N"), Number(args[2] ?? 2));
    break;
  case "idle-raw":
    await idle(args[0] ?? "v0", positiveInt(args[1], "SECONDS"));
    break;
  case "idle-bare":
    await idle(null, positiveInt(args[0], "SECONDS"));
    break;
  case "count-rx":
    await countRx(args[0] ?? "v0", positiveInt(args[1], "N"), args[2] === "ring");
    break;
  case "flood-tx":
    await floodTx(args[0] ?? "v1", positiveInt(args[1], "N"));
    break;
  default:
    process.stderr.write(`receive-child: unknown mode ${JSON.stringify(mode)}\n`);
    process.exit(2);
}
