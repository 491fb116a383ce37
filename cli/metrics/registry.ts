// Metrics kept in memory and written out in the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): counters, gauges and
// histograms with labels, each with its HELP and TYPE lines. No IO here: the endpoint
// (serve.ts) asks expose() for the text.
//
// Label values can come off the wire (server ids, MACs): they are escaped as the format
// requires (backslash, double quote, line feed) and cut to MAX_LABEL_VALUE characters, and
// every metric holds at most maxSeries label sets. An update that would make one more is
// refused and counted in dhcptool_metrics_overflow_total{metric}, so a flood of fake server
// ids costs a counter, not memory.

export type Labels<L extends string> = { readonly [K in L]: string };

/** Label sets a metric keeps at most unless told otherwise (the trackers remember 256 servers). */
export const DEFAULT_MAX_SERIES = 256;
/** Longer label values are cut: nothing legitimate (an IP, a MAC, an interface) comes close. */
export const MAX_LABEL_VALUE = 128;
export const OVERFLOW_METRIC = "dhcptool_metrics_overflow_total";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value as the text format needs it inside double quotes. */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : "\\" + c));
}

/** HELP text: backslash and line feed escaped (a double quote stays as it is). */
export function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** A sample value as Go's ParseFloat (Prometheus's parser) reads it. */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

type MetricType = "counter" | "gauge" | "histogram";

export interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labels?: readonly L[];
  /** Label sets kept at most (default DEFAULT_MAX_SERIES). */
  maxSeries?: number;
}

interface Series<V> {
  labelText: string;
  value: V;
}

abstract class Metric<L extends string, V> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly maxSeries: number;
  abstract readonly type: MetricType;
  protected readonly series = new Map<string, Series<V>>();

  constructor(
    o: MetricOptions<L>,
    private readonly onOverflow: (metric: string) => void,
  ) {
    if (!METRIC_NAME.test(o.name)) throw new Error(`metric name "${o.name}" is not valid`);
    for (const l of o.labels ?? []) {
      if (!LABEL_NAME.test(l) || l.startsWith("__")) throw new Error(`label name "${l}" of ${o.name} is not valid`);
    }
    if (new Set(o.labels ?? []).size !== (o.labels ?? []).length) throw new Error(`${o.name}: a label name is repeated`);
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labels ?? [];
    this.maxSeries = o.maxSeries ?? DEFAULT_MAX_SERIES;
  }

  protected abstract initial(): V;

  /** The values in label-name order; a JSON array is an unambiguous key for any strings. */
  private values(labels: Labels<L>): string[] {
    return this.labelNames.map((n) => {
      const v = labels[n];
      if (typeof v !== "string") throw new Error(`${this.name}: label "${n}" has no value`);
      return v.length > MAX_LABEL_VALUE ? v.slice(0, MAX_LABEL_VALUE) : v;
    });
  }

  /** The series for these labels, made if there is room; null (and counted) when there is none. */
  protected get(labels: Labels<L>): Series<V> | null {
    const values = this.values(labels);
    const key = JSON.stringify(values);
    let s = this.series.get(key);
    if (s) return s;
    if (this.series.size >= this.maxSeries) {
      this.onOverflow(this.name);
      return null;
    }
    const labelText = values.map((v, i) => `${this.labelNames[i]}="${escapeLabelValue(v)}"`).join(",");
    s = { labelText, value: this.initial() };
    this.series.set(key, s);
    return s;
  }

  protected find(labels: Labels<L>): Series<V> | undefined {
    return this.series.get(JSON.stringify(this.values(labels)));
  }

  /** Forgets one label set (a server the tracker forgot). */
  remove(labels: Labels<L>): void {
    this.series.delete(JSON.stringify(this.values(labels)));
  }

  /** Forgets every label set (a gauge rebuilt from a snapshot at each scrape). */
  clear(): void {
    this.series.clear();
  }

  get size(): number {
    return this.series.size;
  }

  /** Writes HELP, TYPE and every sample line to out. */
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`);
    // an unlabelled metric always has its one sample, 0 until something happens
    if (this.labelNames.length === 0 && this.series.size === 0) this.get({} as Labels<L>);
    for (const s of this.series.values()) this.renderSeries(s, out);
  }

  protected abstract renderSeries(s: Series<V>, out: string[]): void;

  protected sample(out: string[], name: string, labelText: string, value: number): void {
    out.push(labelText ? `${name}{${labelText}} ${formatValue(value)}\n` : `${name} ${formatValue(value)}\n`);
  }
}

/** A metric with one number per label set: counters and gauges. */
abstract class Scalar<L extends string> extends Metric<L, number> {
  protected initial(): number {
    return 0;
  }

  value(labels: Labels<L>): number | undefined {
    return this.find(labels)?.value;
  }

  protected renderSeries(s: Series<number>, out: string[]): void {
    this.sample(out, this.name, s.labelText, s.value);
  }
}

export class Counter<L extends string = never> extends Scalar<L> {
  readonly type = "counter";

  inc(labels: Labels<L>, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (inc by ${by})`);
    const s = this.get(labels);
    if (s) s.value += by;
  }

  /**
   * Mirrors a count kept elsewhere (the kernel's drops, a client's own counters). A value
   * lower than before is the source starting over, which Prometheus reads as a counter reset.
   */
  setTotal(labels: Labels<L>, total: number): void {
    if (!(total >= 0)) throw new Error(`${this.name}: a counter total must be 0 or more (${total})`);
    const s = this.get(labels);
    if (s) s.value = total;
  }
}

export class Gauge<L extends string = never> extends Scalar<L> {
  readonly type = "gauge";

  set(labels: Labels<L>, v: number): void {
    const s = this.get(labels);
    if (s) s.value = v;
  }

  inc(labels: Labels<L>, by = 1): void {
    const s = this.get(labels);
    if (s) s.value += by;
  }
}

interface HistogramValue {
  counts: Float64Array;
  sum: number;
  count: number;
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds, ascending; +Inf is added. */
  buckets: readonly number[];
}

export class Histogram<L extends string = never> extends Metric<L, HistogramValue> {
  readonly type = "histogram";
  readonly buckets: readonly number[];

  constructor(o: HistogramOptions<L>, onOverflow: (metric: string) => void) {
    super(o, onOverflow);
    if ((o.labels as readonly string[] | undefined)?.includes("le")) throw new Error(`${o.name}: "le" is the bucket label`);
    const b = o.buckets;
    if (!b.length || b.some((x, i) => !Number.isFinite(x) || (i > 0 && x <= b[i - 1]))) {
      throw new Error(`${o.name}: buckets must be finite and strictly ascending`);
    }
    this.buckets = [...b];
  }

  protected initial(): HistogramValue {
    return { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
  }

  observe(labels: Labels<L>, v: number): void {
    if (Number.isNaN(v)) throw new Error(`${this.name}: observed NaN`);
    const s = this.get(labels);
    if (!s) return;
    let i = 0;
    while (i < this.buckets.length && v > this.buckets[i]) i++;
    s.value.counts[i]++;
    s.value.sum += v;
    s.value.count++;
  }

  protected renderSeries(s: Series<HistogramValue>, out: string[]): void {
    const sep = s.labelText ? "," : "";
    let cumulative = 0;
    for (let i = 0; i <= this.buckets.length; i++) {
      cumulative += s.value.counts[i];
      const le = i < this.buckets.length ? formatValue(this.buckets[i]) : "+Inf";
      this.sample(out, `${this.name}_bucket`, `${s.labelText}${sep}le="${le}"`, cumulative);
    }
    this.sample(out, `${this.name}_sum`, s.labelText, s.value.sum);
    this.sample(out, `${this.name}_count`, s.labelText, s.value.count);
  }
}

/** The metrics of one process, in the order they were made; expose() writes them all. */
export class Registry {
  readonly #metrics: Metric<string, unknown>[] = [];
  readonly #names = new Set<string>();
  readonly #collectors: (() => void)[] = [];
  readonly #overflow: Counter<"metric">;

  constructor() {
    // its own label set is bounded by the number of metrics, so it has no cap of its own
    this.#overflow = this.#add(
      new Counter<"metric">(
        {
          name: OVERFLOW_METRIC,
          labels: ["metric"],
          maxSeries: Infinity,
          help: "Updates refused because the metric already held its maximum number of label sets (e.g. a flood of new server ids).",
        },
        () => {},
      ),
    );
  }

  #add<M extends Metric<string, unknown>>(m: M): M {
    if (this.#names.has(m.name)) throw new Error(`metric ${m.name} is registered twice`);
    this.#names.add(m.name);
    this.#metrics.push(m);
    return m;
  }

  readonly #countOverflow = (metric: string): void => this.#overflow.inc({ metric });

  counter<L extends string = never>(o: MetricOptions<L>): Counter<L> {
    return this.#add(new Counter<L>(o, this.#countOverflow));
  }

  gauge<L extends string = never>(o: MetricOptions<L>): Gauge<L> {
    return this.#add(new Gauge<L>(o, this.#countOverflow));
  }

  histogram<L extends string = never>(o: HistogramOptions<L>): Histogram<L> {
    return this.#add(new Histogram<L>(o, this.#countOverflow));
  }

  /** fn runs before each exposition: it sets gauges read from elsewhere (a tracker, a socket). */
  onCollect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  /** The whole exposition. A collector that throws makes the scrape fail (a bug shows, not stale data). */
  expose(): string {
    for (const fn of this.#collectors) fn();
    const out: string[] = [];
    for (const m of this.#metrics) {
      if (m === this.#overflow) continue;
      m.render(out);
    }
    this.#overflow.render(out); // last: it counts what the others refused
    return out.join("");
  }
}
