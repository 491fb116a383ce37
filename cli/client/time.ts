// The client's time, from outside: a Clock (monotonic now, for the engine and its timers;
// wall-clock now, for what is stored and shown) and Timers (named, at a monotonic time). The
// real ones are performance.now(), Date.now() and setTimeout; tests turn a fake one by hand
// (test/unit/fake-time.ts), as systemd's test-dhcp-client.c does.

export interface Clock {
  /** Monotonic milliseconds: never steps, only for durations and deadlines. */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for times a person or a file will read. */
  wallNow(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
};

/**
 * Wall minus monotonic, as the clocks say now: a monotonic time plus this is wall-clock time.
 * Taken again at each conversion, never once at start, so a stepped wall clock (NTP, a
 * suspended laptop) moves what is written from then on.
 */
export function wallOffset(clock: Clock): number {
  return clock.wallNow() - clock.now();
}

export interface Timers {
  /** Calls fire() once the monotonic clock reaches `at` (never, when `at` is not finite); arming a name again replaces it. */
  arm(name: string, at: number, fire: () => void): void;
  disarm(name: string): void;
  /** Disarms them all. */
  clear(): void;
}

/** setTimeout holds at most 2^31-1 ms (~24.8 days); a longer delay fires at once, with a warning. */
export const MAX_TIMEOUT_MS = 0x7fffffff;

type Handle = ReturnType<typeof setTimeout>;

export interface TimeoutHost {
  setTimeout(fn: () => void, ms: number): Handle;
  clearTimeout(handle: Handle): void;
}

const globalHost: TimeoutHost = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h),
};

/**
 * Timers on setTimeout, in parts of at most MAX_TIMEOUT_MS: a 30-day lease's T1 is armed as
 * two or more timeouts, each checking the clock when it fires, so a long (or infinite) lease
 * neither fires early nor prints TimeoutOverflowWarning.
 */
export class RealTimers implements Timers {
  readonly #clock: Clock;
  readonly #host: TimeoutHost;
  readonly #handles = new Map<string, Handle>();

  constructor(clock: Clock = systemClock, host: TimeoutHost = globalHost) {
    this.#clock = clock;
    this.#host = host;
  }

  arm(name: string, at: number, fire: () => void): void {
    this.disarm(name);
    if (!Number.isFinite(at)) return;
    const wait = () => {
      const left = at - this.#clock.now();
      // A timeout may fire a little before the monotonic clock agrees: 1 ms is "now".
      if (left > 1) {
        this.#handles.set(name, this.#host.setTimeout(wait, Math.min(left, MAX_TIMEOUT_MS)));
        return;
      }
      this.#handles.delete(name);
      fire();
    };
    this.#handles.set(name, this.#host.setTimeout(wait, Math.min(Math.max(0, at - this.#clock.now()), MAX_TIMEOUT_MS)));
  }

  disarm(name: string): void {
    const h = this.#handles.get(name);
    if (h === undefined) return;
    this.#host.clearTimeout(h);
    this.#handles.delete(name);
  }

  clear(): void {
    for (const h of this.#handles.values()) this.#host.clearTimeout(h);
    this.#handles.clear();
  }
}
