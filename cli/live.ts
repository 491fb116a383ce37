// What a person at a terminal sees while a command waits: one status line on stderr, redrawn
// in place ("2 offers, 3.1 s left") and erased when the wait is over, so that what stays on
// the screen is the result alone. Only on a terminal, only on the human path: a pipe or a
// file gets exactly the result.

import { stderr } from "./output.ts";
import { isTty, outputWidth } from "./term.ts";

const REDRAW_MS = 100;

/** The line on screen now, if any: a log line takes its place first (cli/log.ts). */
let onScreen: StatusLine | null = null;

/** Erases the status line (it comes back at its next redraw) so that a log line starts clean. */
export function clearStatusLine(): void {
  onScreen?.erase();
}

export class StatusLine {
  #timer: Timer | null = null;
  #shown = false;
  #drawnAt = -Infinity;

  /** render() gives the line's text; it is drawn now and every 100 ms until stop(). */
  constructor(private readonly render: () => string) {}

  /** A status line where it may be shown (stderr a terminal, a human reading it), else null. */
  static forTerminal(human: boolean, render: () => string): StatusLine | null {
    return human && isTty(2) ? new StatusLine(render) : null;
  }

  start(): this {
    if (this.#timer) return this;
    this.draw();
    this.#timer = setInterval(() => this.draw(), REDRAW_MS);
    this.#timer.unref(); // the wait itself keeps the process alive, not its status line
    return this;
  }

  draw(): void {
    // A line longer than the terminal would wrap, and \r could not take it back.
    const width = (outputWidth(2) ?? 80) - 1;
    let text = this.render();
    if (text.length > width) text = `${text.slice(0, width - 1)}…`;
    stderr.write(`\r\x1b[K${text}`);
    this.#drawnAt = performance.now();
    this.#shown = true;
    onScreen = this;
  }

  /** Draws if the last drawing is 100 ms old: for a caller in a synchronous wait, where the timer cannot fire. */
  tick(): void {
    if (performance.now() - this.#drawnAt >= REDRAW_MS) this.draw();
  }

  erase(): void {
    if (this.#shown) stderr.write("\r\x1b[K");
    this.#shown = false;
    if (onScreen === this) onScreen = null;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.erase();
  }
}

/**
 * A status line of the step a command is at and how long it has lasted ("DHCPINFORM 2 of 3
 * sent, waiting for the DHCPACK, 1.2 s"; "lab dtlab: waiting for kea-dhcp4 in dtlab-s2 to be
 * ready, 0.3 s"), for waits that go by steps.
 */
export class StepStatus {
  #step = "";
  #since = 0;
  #started = false;
  readonly #line = new StatusLine(() => `${this.#step}, ${((performance.now() - this.#since) / 1000).toFixed(1)} s`);

  /** One where it may be shown (stderr a terminal, a human reading it), else null. */
  static forTerminal(human: boolean): StepStatus | null {
    return human && isTty(2) ? new StepStatus() : null;
  }

  /** A new step, shown now and timed from now (the same step again is only redrawn when due). */
  step(text: string): void {
    if (text === this.#step) return this.#line.tick();
    this.#step = text;
    this.#since = performance.now();
    if (this.#started) this.#line.draw();
    else this.#line.start(); // drawn now, then every 100 ms
    this.#started = true;
  }

  /** Erases the line: call before the result is printed. */
  stop(): void {
    this.#line.stop();
    this.#started = false;
    this.#step = "";
  }
}

/** "3.1 s left" for a deadline. */
export function timeLeft(deadline: number, now = performance.now()): string {
  return `${Math.max(0, (deadline - now) / 1000).toFixed(1)} s left`;
}
