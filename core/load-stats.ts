// What a load run measures, as numbers only (no IO, no clock: times come in as the caller's
// milliseconds): latency samples and their percentiles, a per-second series of what was sent
// and received, and the signs that the pool ran out (the server went silent, or NAKed, after it
// had handed out K leases).

/** Latency in ms: min, mean (perfdhcp's "avg"), p50, p90, p99, max (null when nothing was measured). */
export interface LatencySummary {
  count: number;
  min: number;
  avg: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Samples in a growing Float64Array: a million of them is 8 MB, not a million boxed numbers. */
export class Samples {
  #data = new Float64Array(1024);
  #n = 0;

  get count(): number {
    return this.#n;
  }

  add(ms: number): void {
    if (this.#n === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#n++] = ms;
  }

  /** Nearest-rank percentiles (the value at rank ceil(p·n)): each one a latency that was seen. */
  summary(): LatencySummary | null {
    if (this.#n === 0) return null;
    const sorted = this.#data.slice(0, this.#n).sort();
    const rank = (p: number) => sorted[Math.min(this.#n, Math.max(1, Math.ceil(p * this.#n))) - 1];
    const r = (x: number) => Math.round(x * 1000) / 1000;
    let sum = 0;
    for (const x of sorted) sum += x;
    return {
      count: this.#n,
      min: r(sorted[0]),
      avg: r(sum / this.#n),
      p50: r(rank(0.5)),
      p90: r(rank(0.9)),
      p99: r(rank(0.99)),
      max: r(sorted[this.#n - 1]),
    };
  }
}

/** The counters of one second of the run (and of the whole run). */
export interface Counts {
  discovers: number;
  offers: number;
  requests: number;
  acks: number;
  naks: number;
  /** Exchanges given up: no OFFER to any DISCOVER, no ACK (nor NAK) to any REQUEST. */
  noOffer: number;
  noAck: number;
  renews: number;
  renewAcks: number;
  renewNaks: number;
  renewNoAck: number;
  releases: number;
}

export const COUNT_NAMES: readonly (keyof Counts)[] = [
  "discovers",
  "offers",
  "requests",
  "acks",
  "naks",
  "noOffer",
  "noAck",
  "renews",
  "renewAcks",
  "renewNaks",
  "renewNoAck",
  "releases",
];

export function zeroCounts(): Counts {
  return { discovers: 0, offers: 0, requests: 0, acks: 0, naks: 0, noOffer: 0, noAck: 0, renews: 0, renewAcks: 0, renewNaks: 0, renewNoAck: 0, releases: 0 };
}

export interface SecondRow extends Counts {
  /** Seconds since the run started: this row covers [second, second + 1). */
  second: number;
  /** DISCOVER→OFFER and REQUEST→ACK medians and 99th percentiles of this second's replies. */
  offerP50: number | null;
  offerP99: number | null;
  ackP50: number | null;
  ackP99: number | null;
}

/** Counts by second of the run, and the run's totals. */
export class Series {
  readonly total = zeroCounts();
  readonly #rows: { counts: Counts; offer: Samples; ack: Samples }[] = [];
  readonly #start: number;

  constructor(startMs: number) {
    this.#start = startMs;
  }

  #row(at: number) {
    const i = Math.max(0, Math.floor((at - this.#start) / 1000));
    while (this.#rows.length <= i) this.#rows.push({ counts: zeroCounts(), offer: new Samples(), ack: new Samples() });
    return this.#rows[i];
  }

  count(what: keyof Counts, at: number): void {
    this.total[what]++;
    this.#row(at).counts[what]++;
  }

  /** An OFFER or ACK `ms` after its DISCOVER or REQUEST, received at `at`: counted and timed. */
  reply(what: "offers" | "acks", at: number, ms: number): void {
    this.count(what, at);
    const row = this.#row(at);
    (what === "offers" ? row.offer : row.ack).add(ms);
  }

  /** Seconds so far (the current one included). */
  get seconds(): number {
    return this.#rows.length;
  }

  rows(): SecondRow[] {
    return this.#rows.map((_, second) => this.row(second)!);
  }

  /** The row of second i as it stands (a live status line shows the last one). */
  row(second: number): SecondRow | null {
    const r = this.#rows[second];
    if (!r) return null;
    const o = r.offer.summary(),
      a = r.ack.summary();
    return { second, ...r.counts, offerP50: o?.p50 ?? null, offerP99: o?.p99 ?? null, ackP50: a?.p50 ?? null, ackP99: a?.p99 ?? null };
  }
}

/** How one client's DORA ended, in the order the clients started. */
export type DoraOutcome = "bound" | "nak" | "no-offer" | "no-ack" | "interrupted";

export interface Exhaustion {
  /** Leases the server handed out before it stopped. */
  leases: number;
  /** What the clients after them got: NAKs, or no answer at all. */
  how: "nak" | "silence";
  /** How many clients in a row, to the end of the run, got nothing. */
  refused: number;
}

/**
 * The pool ran out (or the server stopped): after K ≥ 1 leases, every client from some point
 * to the end of the run was refused (NAK) or not answered, and that run of refusals is long
 * enough not to be chance: at least `minRun` clients (default 5) and 1 % of all. Clients cut
 * short by Ctrl-C are left out. Null when the run does not end that way.
 */
export function detectExhaustion(outcomes: readonly DoraOutcome[], minRun = 5): Exhaustion | null {
  const ended = outcomes.filter((o) => o !== "interrupted");
  let i = ended.length;
  while (i > 0 && ended[i - 1] !== "bound") i--;
  const refused = ended.length - i;
  const leases = ended.slice(0, i).filter((o) => o === "bound").length;
  if (leases === 0 || refused < Math.max(minRun, Math.ceil(ended.length * 0.01))) return null;
  const tail = ended.slice(i);
  const naks = tail.filter((o) => o === "nak").length;
  return { leases, how: naks * 2 >= tail.length ? "nak" : "silence", refused };
}

/**
 * Achieved start rate, per second: `count` starts from `first` to `last` (ms) are count-1
 * intervals. One start says nothing about a rate: null.
 */
export function achievedRate(count: number, first: number | null, last: number | null): number | null {
  if (count < 2 || first === null || last === null || last <= first) return null;
  return Math.round(((count - 1) * 1000 * 10) / (last - first)) / 10;
}
