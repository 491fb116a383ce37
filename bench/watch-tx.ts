/**
 * The paced sender of bench/watch.sh, run in the sending namespace:
 *   bun bench/watch-tx.ts IFNAME RATE SECONDS [CLIENTS] [fresh|repeat]
 * Sends the DHCP traffic of bench/watch-frames.ts (CLIENTS whole DORA exchanges, fresh
 * xids every pass) through a RawSocket at RATE frames per second for SECONDS, then prints
 * one JSON line on stdout: frames sent, send errors, elapsed time, the rate achieved, the
 * bursts it took.
 *
 * Pacing: against the clock, in small bursts. Every tick (TICK_US, 200 µs asked, ~300 µs
 * got: the sleep is Atomics.wait, which unlike Bun.sleepSync takes fractions of a ms) it
 * sends what the clock says is due. It never spins, so the other core stays the receiver's.
 * A sender that falls behind (descheduled) catches up by at most CATCH_UP_MS of frames;
 * older debt is written off, so no burst is much larger than a tick's worth. Frames are
 * built before the clock starts; in the loop only the xids of a new pass are patched.
 */
import { RawSocket } from "../native/rawsocket.ts";
import { buildPool } from "./watch-frames.ts";

const [ifname = "v1", rateText = "100000", secondsText = "10", clientsText = "1024", mode = "fresh"] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const clients = Number(clientsText);
if (!(rate > 0) || !(seconds > 0) || !Number.isInteger(clients) || clients <= 0 || (mode !== "fresh" && mode !== "repeat")) {
  console.error("usage: bun bench/watch-tx.ts IFNAME RATE SECONDS [CLIENTS] [fresh|repeat]");
  process.exit(2);
}
const TICK_MS = Number(process.env.TICK_US ?? 200) / 1000;
const CATCH_UP_MS = 5;

const pool = buildPool(clients, mode === "repeat");
const frames = pool.frames;
const socket = RawSocket.open(ifname, { filter: "client", onFrame: () => {} });
const sleeper = new Int32Array(new SharedArrayBuffer(4));

let sent = 0;
let errors = 0;
let firstError = "";
let bursts = 0;
let maxBurst = 0;
let writtenOff = 0; // frames never sent because the sender was too far behind
let k = 0;
let pass = 0;
const perMs = rate / 1000;
const maxDebt = Math.max(1, Math.ceil(perMs * CATCH_UP_MS));
const endMs = seconds * 1000;
const t0 = performance.now();
for (;;) {
  const elapsed = performance.now() - t0;
  if (elapsed >= endMs) break;
  let due = Math.floor(elapsed * perMs) - sent - writtenOff;
  if (due > maxDebt) {
    writtenOff += due - maxDebt;
    due = maxDebt;
  }
  if (due <= 0) {
    Atomics.wait(sleeper, 0, 0, TICK_MS);
    continue;
  }
  for (let i = 0; i < due; i++) {
    try {
      socket.send(frames[k]!);
    } catch (err) {
      if (errors++ === 0) firstError = err instanceof Error ? err.message : String(err);
    }
    if (++k === frames.length) {
      k = 0;
      pool.setPass(++pass);
    }
  }
  sent += due;
  bursts++;
  if (due > maxBurst) maxBurst = due;
}
const elapsedMs = performance.now() - t0;
socket.close();
process.stdout.write(
  `${JSON.stringify({
    event: "result",
    sent: sent - errors,
    errors,
    firstError,
    elapsedMs,
    rate: (sent - errors) / (elapsedMs / 1000),
    asked: rate,
    bursts,
    meanBurst: bursts ? sent / bursts : 0,
    maxBurst,
    writtenOff,
    passes: pass,
    poolFrames: frames.length,
  })}\n`,
);
