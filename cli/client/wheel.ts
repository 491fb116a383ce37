// Many engines' timers on one: a load run has thousands of clients, each with its own named
// timers (the engine's retransmit, renew, rebind, expire), and one setTimeout for them all.
// TimerWheel keeps every armed timer in a binary heap by due time and arms a single timer of
// the Timers it is built on (RealTimers, or a test's hand-turned clock) for the earliest one;
// view() gives each client a Timers of its own, so the one engine driver runs unchanged on it.

import type { Clock, Timers } from "./time.ts";

interface Entry {
  at: number;
  seq: number;
  fire: () => void;
  live: boolean;
}

export class TimerWheel {
  readonly #base: Timers;
  readonly #clock: Clock;
  readonly #name: string;
  #heap: Entry[] = [];
  #seq = 0;
  #live = 0;
  /** When the base timer is armed for, or Infinity when it is not. */
  #armedAt = Infinity;
  #running = false;

  constructor(base: Timers, clock: Clock, name = "wheel") {
    this.#base = base;
    this.#clock = clock;
    this.#name = name;
  }

  /** Timers armed and not yet fired or disarmed. */
  get size(): number {
    return this.#live;
  }

  /** A Timers of its own: its names are its own, clear() disarms only its timers. */
  view(): Timers {
    const mine = new Map<string, Entry>();
    return {
      arm: (name, at, fire) => {
        this.#cancel(mine.get(name));
        mine.delete(name);
        if (!Number.isFinite(at)) return;
        const e: Entry = {
          at,
          seq: this.#seq++,
          fire: () => {
            mine.delete(name);
            fire();
          },
          live: true,
        };
        mine.set(name, e);
        this.#push(e);
      },
      disarm: (name) => {
        this.#cancel(mine.get(name));
        mine.delete(name);
      },
      clear: () => {
        for (const e of mine.values()) this.#cancel(e);
        mine.clear();
      },
    };
  }

  /** Disarms every timer of every view. */
  clear(): void {
    for (const e of this.#heap) e.live = false;
    this.#heap = [];
    this.#live = 0;
    this.#armedAt = Infinity;
    this.#base.disarm(this.#name);
  }

  #cancel(e: Entry | undefined): void {
    if (!e?.live) return;
    e.live = false;
    this.#live--;
    // The base timer stays armed for a disarmed head (it finds nothing due and re-arms): moving
    // it costs a clearTimeout and a setTimeout, and at a load run's rate the head is disarmed
    // every fraction of a millisecond. With nothing left it goes, so the process can end.
    if (this.#live === 0) this.#schedule();
    // Disarmed entries stay in the heap until they reach its top; when they outnumber the
    // live ones (a finished client leaves its T1, T2 and expiry behind), rebuild without them.
    if (this.#heap.length > 64 && this.#heap.length > 2 * this.#live) this.#compact();
  }

  #push(e: Entry): void {
    this.#live++;
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
    this.#schedule();
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      siftDown(h, 0);
    }
    return top;
  }

  #compact(): void {
    const h = this.#heap.filter((e) => e.live);
    for (let i = (h.length >> 1) - 1; i >= 0; i--) siftDown(h, i);
    this.#heap = h;
  }

  /**
   * Arms the base timer for the earliest live entry, unless it is armed for that or earlier
   * already (then it fires, finds nothing due yet, and comes here again). Not while run() is
   * firing: it does so after.
   */
  #schedule(): void {
    if (this.#running) return;
    while (this.#heap.length > 0 && !this.#heap[0].live) this.#pop();
    const next = this.#heap.length > 0 ? this.#heap[0].at : Infinity;
    if (next === this.#armedAt || (next !== Infinity && next > this.#armedAt)) return;
    this.#armedAt = next;
    if (next === Infinity) this.#base.disarm(this.#name);
    else this.#base.arm(this.#name, next, () => this.#run());
  }

  /** Fires everything due, in time order (then arming order); what they arm that is due fires too. */
  #run(): void {
    this.#armedAt = Infinity;
    this.#running = true;
    try {
      const now = this.#clock.now();
      // What is not due yet (the base may fire a little early) arms the base again below.
      while (this.#heap.length > 0 && this.#heap[0].at <= now) {
        const e = this.#pop();
        if (!e.live) continue;
        e.live = false;
        this.#live--;
        e.fire();
      }
    } finally {
      this.#running = false;
      this.#schedule();
    }
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function siftDown(h: Entry[], i: number): void {
  for (;;) {
    const l = 2 * i + 1,
      r = l + 1;
    let m = i;
    if (l < h.length && before(h[l], h[m])) m = l;
    if (r < h.length && before(h[r], h[m])) m = r;
    if (m === i) return;
    [h[i], h[m]] = [h[m], h[i]];
    i = m;
  }
}
