// The metrics registry: the text exposition format byte for byte, escaping of hostile label
// values, histogram buckets, and the caps that keep a flood of label sets bounded.

import { describe, expect, test } from "bun:test";
import { escapeHelp, escapeLabelValue, formatValue, MAX_LABEL_VALUE, OVERFLOW_METRIC, Registry } from "../../cli/metrics/registry.ts";
import { metricSamples as samples } from "./helpers.ts";

describe("exposition format 0.0.4", () => {
  test("a fixture registry, byte for byte", () => {
    const r = new Registry();
    const packets = r.counter({ name: "dhcptool_test_packets_total", help: "Packets seen.", labels: ["interface", "type"] });
    const up = r.gauge({ name: "dhcptool_test_up", help: 'A \\ backslash\nand a "quoted" newline.' });
    const latency = r.histogram({
      name: "dhcptool_test_latency_seconds",
      help: "Latency.",
      labels: ["server"],
      buckets: [0.01, 0.1, 1],
    });
    r.gauge({ name: "dhcptool_test_empty", help: "No label set yet.", labels: ["server"] });
    packets.inc({ interface: "eth0", type: "DISCOVER" });
    packets.inc({ type: "OFFER", interface: "eth0" }, 2);
    packets.inc({ interface: "eth0", type: "DISCOVER" });
    up.set({}, 1);
    for (const v of [0.005, 0.05, 0.1, 2]) latency.observe({ server: "198.18.0.1" }, v);
    expect(r.expose()).toBe(
      "# HELP dhcptool_test_packets_total Packets seen.\n" +
        "# TYPE dhcptool_test_packets_total counter\n" +
        'dhcptool_test_packets_total{interface="eth0",type="DISCOVER"} 2\n' +
        'dhcptool_test_packets_total{interface="eth0",type="OFFER"} 2\n' +
        '# HELP dhcptool_test_up A \\\\ backslash\\nand a "quoted" newline.\n' +
        "# TYPE dhcptool_test_up gauge\n" +
        "dhcptool_test_up 1\n" +
        "# HELP dhcptool_test_latency_seconds Latency.\n" +
        "# TYPE dhcptool_test_latency_seconds histogram\n" +
        'dhcptool_test_latency_seconds_bucket{server="198.18.0.1",le="0.01"} 1\n' +
        'dhcptool_test_latency_seconds_bucket{server="198.18.0.1",le="0.1"} 3\n' +
        'dhcptool_test_latency_seconds_bucket{server="198.18.0.1",le="1"} 3\n' +
        'dhcptool_test_latency_seconds_bucket{server="198.18.0.1",le="+Inf"} 4\n' +
        'dhcptool_test_latency_seconds_sum{server="198.18.0.1"} 2.155\n' +
        'dhcptool_test_latency_seconds_count{server="198.18.0.1"} 4\n' +
        "# HELP dhcptool_test_empty No label set yet.\n" +
        "# TYPE dhcptool_test_empty gauge\n" +
        `# HELP ${OVERFLOW_METRIC} Updates refused because the metric already held its maximum number of label sets (e.g. a flood of new server ids).\n` +
        `# TYPE ${OVERFLOW_METRIC} counter\n`,
    );
  });

  test("an unlabelled metric shows 0 before anything happens; a labelled one shows no sample", () => {
    const r = new Registry();
    r.counter({ name: "a_total", help: "a" });
    r.counter({ name: "b_total", help: "b", labels: ["x"] });
    const s = samples(r.expose());
    expect(s.get("a_total")).toBe(0);
    expect([...s.keys()].some((k) => k.startsWith("b_total"))).toBe(false);
  });

  test("values as Prometheus's parser reads them: +Inf, -Inf, NaN, exponents", () => {
    expect(formatValue(Infinity)).toBe("+Inf");
    expect(formatValue(-Infinity)).toBe("-Inf");
    expect(formatValue(NaN)).toBe("NaN");
    expect(formatValue(1e21)).toBe("1e+21");
    expect(formatValue(-0.25)).toBe("-0.25");
    expect(formatValue(3)).toBe("3");
  });

  test("collectors run before each exposition", () => {
    const r = new Registry();
    const g = r.gauge({ name: "seen", help: "h", labels: ["server"] });
    let servers = ["198.18.0.1", "198.18.0.2"];
    r.onCollect(() => {
      g.clear();
      for (const s of servers) g.set({ server: s }, 1);
    });
    expect([...samples(r.expose()).keys()]).toEqual(['seen{server="198.18.0.1"}', 'seen{server="198.18.0.2"}']);
    servers = ["198.18.0.2"];
    expect([...samples(r.expose()).keys()]).toEqual(['seen{server="198.18.0.2"}']);
  });

  test("a collector that throws fails the exposition", () => {
    const r = new Registry();
    r.onCollect(() => {
      throw new Error("bug");
    });
    expect(() => r.expose()).toThrow("bug");
  });
});

describe("escaping", () => {
  test("label values: backslash, double quote and line feed, nothing else", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue("tab\there\r{}=,")).toBe("tab\there\r{}=,");
    expect(escapeLabelValue("\\n")).toBe("\\\\n"); // a literal backslash-n is not a newline
  });

  test("help: backslash and line feed; a double quote stays", () => {
    expect(escapeHelp('a\\b\n"c"')).toBe('a\\\\b\\n"c"');
  });

  test("a hostile label value cannot end the sample line or add a label", () => {
    const r = new Registry();
    const c = r.counter({ name: "x_total", help: "h", labels: ["server"] });
    c.inc({ server: '1.2.3.4"} 99\nx_total{server="evil' });
    const lines = r
      .expose()
      .split("\n")
      .filter((l) => l.startsWith("x_total"));
    expect(lines).toEqual(['x_total{server="1.2.3.4\\"} 99\\nx_total{server=\\"evil"} 1']);
  });

  test("label values longer than MAX_LABEL_VALUE are cut (and count as the cut value)", () => {
    const r = new Registry();
    const c = r.counter({ name: "x_total", help: "h", labels: ["server"] });
    c.inc({ server: "a".repeat(MAX_LABEL_VALUE + 50) });
    c.inc({ server: "a".repeat(MAX_LABEL_VALUE + 1) });
    expect(samples(r.expose()).get(`x_total{server="${"a".repeat(MAX_LABEL_VALUE)}"}`)).toBe(2);
  });

  test("values that would collide if joined naively stay apart", () => {
    const r = new Registry();
    const c = r.counter({ name: "x_total", help: "h", labels: ["a", "b"] });
    c.inc({ a: "p\u0000q", b: "r" });
    c.inc({ a: "p", b: "q\u0000r" });
    expect(c.size).toBe(2);
  });
});

describe("histograms", () => {
  test("a value on a bucket's bound counts in that bucket (le is inclusive); buckets are cumulative", () => {
    const r = new Registry();
    const h = r.histogram({ name: "h_seconds", help: "h", buckets: [1, 2, 5] });
    for (const v of [0, 1, 1.5, 2, 5, 5.0001, 100]) h.observe({}, v);
    const s = samples(r.expose());
    expect(["1", "2", "5", "+Inf"].map((le) => s.get(`h_seconds_bucket{le="${le}"}`))).toEqual([2, 4, 5, 7]);
    expect(s.get("h_seconds_count")).toBe(7);
    expect(Number(s.get("h_seconds_sum"))).toBeCloseTo(114.5001, 6);
  });

  test("an unobserved unlabelled histogram exposes zero buckets", () => {
    const r = new Registry();
    r.histogram({ name: "h_seconds", help: "h", buckets: [0.5] });
    const s = samples(r.expose());
    expect([s.get('h_seconds_bucket{le="0.5"}'), s.get('h_seconds_bucket{le="+Inf"}'), s.get("h_seconds_sum"), s.get("h_seconds_count")]).toEqual([0, 0, 0, 0]);
  });

  test("bad definitions are refused: unordered buckets, an le label", () => {
    const r = new Registry();
    expect(() => r.histogram({ name: "a", help: "h", buckets: [2, 1] })).toThrow("ascending");
    expect(() => r.histogram({ name: "b", help: "h", buckets: [1, 1] })).toThrow("ascending");
    expect(() => r.histogram({ name: "c", help: "h", buckets: [1, Infinity] })).toThrow("finite");
    expect(() => r.histogram({ name: "d", help: "h", buckets: [1], labels: ["le"] })).toThrow("bucket label");
  });
});

describe("definitions", () => {
  test("names are checked; a name registered twice is a bug", () => {
    const r = new Registry();
    expect(() => r.counter({ name: "bad-name", help: "h" })).toThrow("not valid");
    expect(() => r.counter({ name: "ok_total", help: "h", labels: ["__reserved"] })).toThrow("not valid");
    expect(() => r.counter({ name: "ok_total", help: "h", labels: ["a", "a"] })).toThrow("repeated");
    r.counter({ name: "ok_total", help: "h" });
    expect(() => r.gauge({ name: "ok_total", help: "h" })).toThrow("twice");
  });

  test("a counter does not go down", () => {
    const r = new Registry();
    const c = r.counter({ name: "c_total", help: "h" });
    expect(() => c.inc({}, -1)).toThrow("only goes up");
    c.setTotal({}, 7);
    expect(c.value({})).toBe(7);
  });
});

describe("caps", () => {
  test("a flood of label sets stops at maxSeries; the refused updates are counted per metric", () => {
    const r = new Registry();
    const c = r.counter({ name: "replies_total", help: "h", labels: ["server"], maxSeries: 3 });
    const h = r.histogram({ name: "latency_seconds", help: "h", labels: ["server"], buckets: [1], maxSeries: 2 });
    for (let i = 0; i < 10_000; i++) {
      c.inc({ server: `198.18.${i >> 8}.${i & 255}` });
      h.observe({ server: `198.18.${i >> 8}.${i & 255}` }, 0.1);
    }
    c.inc({ server: "198.18.0.0" }); // a known label set still counts
    expect(c.size).toBe(3);
    expect(h.size).toBe(2);
    const s = samples(r.expose());
    expect(s.get('replies_total{server="198.18.0.0"}')).toBe(2);
    expect(s.get(`${OVERFLOW_METRIC}{metric="replies_total"}`)).toBe(9997);
    expect(s.get(`${OVERFLOW_METRIC}{metric="latency_seconds"}`)).toBe(9998);
  });

  test("the default cap holds without being asked for, and the exposition stays bounded", () => {
    const r = new Registry();
    const g = r.gauge({ name: "server_seen", help: "h", labels: ["server", "mac"] });
    for (let i = 0; i < 100_000; i++) g.set({ server: `x${i}`, mac: "m".repeat(200) }, i);
    expect(g.size).toBe(256);
    expect(r.expose().length).toBeLessThan(256 * 200);
  });

  test("remove and clear free room for new label sets", () => {
    const r = new Registry();
    const g = r.gauge({ name: "g", help: "h", labels: ["server"], maxSeries: 1 });
    g.set({ server: "a" }, 1);
    g.set({ server: "b" }, 1);
    expect(g.value({ server: "b" })).toBeUndefined();
    g.remove({ server: "a" });
    g.set({ server: "b" }, 2);
    expect(g.value({ server: "b" })).toBe(2);
    g.clear();
    expect(g.size).toBe(0);
  });
});
