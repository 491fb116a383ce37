// Why received packets were dropped, counted by reason: every receive path keeps one, shows
// it with --verbose and in JSON (HOSTILE.md: a bad packet is dropped, counted and logged).

/** Counters of what was dropped and why; shown with --verbose and in JSON. */
export class DropCounters {
  readonly counts = new Map<string, number>();
  add(reason: string, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }
  get total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {}; // not Object.fromEntries: its first call costs a one-shot its compiling
    for (const [k, v] of this.counts) out[k] = v;
    return out;
  }
}
