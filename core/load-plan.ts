// What a load run (request --clients) plans before anything is sent: who each simulated client
// is (a MAC from a prefix and a seed, distinct for every index), the randomness each client's
// engine draws its xids from (seeded, so a run can be repeated), and when each DORA starts (open
// loop: client k starts at k/rate seconds, whatever the server does meanwhile).

/** Locally administered, unicast ("dt" in ASCII): what --mac-prefix defaults to. */
export const DEFAULT_MAC_PREFIX = Uint8Array.of(0x02, 0x64, 0x74);
/** Three bytes of MAC after the prefix: at most this many distinct clients. */
export const MAX_CLIENTS = 1 << 24;

const MASK24 = 0xffffff;

/**
 * A bijection on 24-bit numbers keyed by the seed (odd multipliers and xor-shifts are each
 * invertible mod 2^24): distinct indexes always give distinct MAC tails, and the tails look
 * scattered rather than counting up, as a real boot storm's would.
 */
export function mixIndex(index: number, seed: number): number {
  let x = (index ^ seed) & MASK24;
  x = Math.imul(x, 0x9e3779 | 1) & MASK24;
  x ^= x >>> 12;
  x = (x + ((seed >>> 8) & MASK24)) & MASK24;
  x = Math.imul(x, 0x6d2b79 | 1) & MASK24;
  x ^= x >>> 11;
  return x;
}

/** Client `index`'s MAC: the three prefix bytes, then the index mixed with the seed. */
export function clientMac(prefix: Uint8Array, seed: number, index: number): Uint8Array {
  if (prefix.length !== 3) throw new RangeError("a MAC prefix is 3 bytes");
  if (!Number.isInteger(index) || index < 0 || index >= MAX_CLIENTS) throw new RangeError(`client index ${index} out of range`);
  const tail = mixIndex(index, seed >>> 0);
  return Uint8Array.of(prefix[0], prefix[1], prefix[2], tail >>> 16, (tail >>> 8) & 255, tail & 255);
}

/** The MAC as one number (48 bits fit a double exactly): a Map key for the demultiplexer. */
export function macKey(b: Uint8Array, off = 0): number {
  return ((b[off] << 8) | b[off + 1]) * 0x100000000 + (((b[off + 2] << 24) | (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5]) >>> 0);
}

/** Whether a MAC (as macKey gives it) starts with `prefix`: one of a run's clients. */
export function hasPrefix(key: number, prefix: Uint8Array): boolean {
  return Math.floor(key / 0x1000000) === ((prefix[0] << 16) | (prefix[1] << 8) | prefix[2]);
}

/** mulberry32: a small, fast PRNG; uniform in [0, 1). Not for secrets: xids of a test run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}

/** Client `index`'s own random stream: its xids do not depend on when the others ran. */
export function clientRandom(seed: number, index: number): () => number {
  return seededRandom((Math.imul(index + 1, 0x85ebca6b) ^ seed) >>> 0);
}

/** The open-loop schedule: `total` starts at `rate` per second from the run's start. */
export interface Pace {
  rate: number;
  total: number;
}

/** How many DORAs should have started `elapsedMs` into the run (the first at 0). */
export function startsDue(p: Pace, elapsedMs: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(p.total, Math.floor((elapsedMs * p.rate) / 1000 + 1e-9) + 1);
}

/** When start number `k` (0-based) is due, ms after the run's start. */
export function startAt(p: Pace, k: number): number {
  return (k * 1000) / p.rate;
}

/** How many clients a run starts: all of them, or as many as fit the --duration window. */
export function plannedStarts(clients: number, rate: number, durationSec: number | null): number {
  if (durationSec === null) return clients;
  return Math.min(clients, Math.max(1, Math.ceil(durationSec * rate - 1e-9)));
}
