// A clock and timers turned by hand (systemd's test-dhcp-client.c style): nothing fires until
// the test advances time, and then every timer due fires in time order, at its own time.

import type { Clock, Timers } from "../../cli/client/time.ts";

interface Armed {
  at: number;
  fire: () => void;
  seq: number;
}

export class ManualClock implements Clock, Timers {
  #now: number;
  #seq = 0;
  #armed = new Map<string, Armed>();
  /** Wall clock minus monotonic; a test steps the wall clock by changing it. */
  wallOffsetMs: number;
  /** Runs after each timer fired (the fake wire delivers what it sent). */
  afterFire: () => void = () => {};

  constructor(start = 1_000, wallAtStart = Date.parse("2030-01-01T00:00:00.000Z")) {
    this.#now = start;
    this.wallOffsetMs = wallAtStart - start;
  }

  now(): number {
    return this.#now;
  }
  wallNow(): number {
    return this.#now + this.wallOffsetMs;
  }

  arm(name: string, at: number, fire: () => void): void {
    this.#armed.delete(name);
    if (Number.isFinite(at)) this.#armed.set(name, { at, fire, seq: this.#seq++ });
  }
  disarm(name: string): void {
    this.#armed.delete(name);
  }
  clear(): void {
    this.#armed.clear();
  }

  /** When the timer `name` fires, or undefined when it is not armed. */
  armedAt(name: string): number | undefined {
    return this.#armed.get(name)?.at;
  }
  get armedNames(): string[] {
    return [...this.#armed.keys()].sort();
  }

  /** Moves to `t`, firing each timer due on the way at its own time; returns their names in order. */
  advanceTo(t: number): string[] {
    const fired: string[] = [];
    for (;;) {
      let next: [string, Armed] | null = null;
      for (const e of this.#armed) if (e[1].at <= t && (next === null || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq))) next = e;
      if (next === null) break;
      this.#armed.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      fired.push(next[0]);
      next[1].fire();
      this.afterFire();
      if (fired.length > 10_000) throw new Error("timers keep firing: a loop");
    }
    this.#now = Math.max(this.#now, t);
    return fired;
  }

  advance(ms: number): string[] {
    return this.advanceTo(this.#now + ms);
  }

  /** Fires the next timer (and whatever is due at the same time); returns its name. */
  fireNext(): string {
    let next: Armed | null = null;
    let name = "";
    for (const [n, a] of this.#armed)
      if (next === null || a.at < next.at) {
        next = a;
        name = n;
      }
    if (next === null) throw new Error("no timer is armed");
    this.advanceTo(next.at);
    return name;
  }
}
