// --metrics addresses, and what the /metrics endpoint answers (its handler, called directly:
// listening on a real socket is the lab test's part, inside a namespace).

import { describe, expect, test } from "bun:test";
import { parseArgs } from "citty";
import { metricsArg, metricsFromArgs } from "../../cli/args.ts";
import { metricsUrl, parseMetricsAddress } from "../../cli/metrics/address.ts";
import { Registry } from "../../cli/metrics/registry.ts";
import { CONTENT_TYPE, handleMetricsRequest } from "../../cli/metrics/serve.ts";

describe("--metrics ADDR:PORT", () => {
  test("a port alone is loopback", () => {
    expect(parseMetricsAddress("9267")).toEqual({ hostname: "127.0.0.1", port: 9267 });
    expect(parseMetricsAddress("0")).toEqual({ hostname: "127.0.0.1", port: 0 });
  });

  test("IPv4 and bracketed IPv6 literals", () => {
    expect(parseMetricsAddress("0.0.0.0:80")).toEqual({ hostname: "0.0.0.0", port: 80 });
    expect(parseMetricsAddress("198.18.0.5:9267")).toEqual({ hostname: "198.18.0.5", port: 9267 });
    expect(parseMetricsAddress("[::1]:9267")).toEqual({ hostname: "::1", port: 9267 });
    expect(parseMetricsAddress("[::]:9267")).toEqual({ hostname: "::", port: 9267 });
  });

  test.each([
    ["65536"],
    ["-1"],
    ["localhost:9267"],
    ["::1:9267"],
    ["[127.0.0.1]:9267"],
    ["1.2.3:80"],
    ["256.1.1.1:80"],
    ["127.0.0.1"],
    ["127.0.0.1:"],
    [":9267"],
    ["[::1]"],
    ["example.org:9267"],
    ["9267x"],
    [""],
  ])("%p is a usage error", (text) => {
    expect(() => parseMetricsAddress(text)).toThrow(expect.objectContaining({ name: "UsageError", exitCode: 2 }));
  });

  test("only with --daemon; absent is null", () => {
    const defs = { ...metricsArg, daemon: { type: "boolean" } } as const;
    const parse = (...argv: string[]) => metricsFromArgs(parseArgs<typeof defs>(argv, defs));
    expect(parse("--daemon")).toBeNull();
    expect(parse("--daemon", "--metrics", "9267")).toEqual({ hostname: "127.0.0.1", port: 9267 });
    expect(parse("--metrics=[::1]:0", "--daemon")).toEqual({ hostname: "::1", port: 0 });
    expect(() => parse("--metrics", "9267")).toThrow("goes with --daemon");
    expect(() => parse("--daemon", "--metrics=")).toThrow("--metrics needs a value");
    expect(() => parse("--daemon", "--metrics")).toThrow("--metrics needs a value");
  });

  test("URLs bracket IPv6", () => {
    expect(metricsUrl({ hostname: "::1", port: 9267 })).toBe("http://[::1]:9267/metrics");
    expect(metricsUrl({ hostname: "127.0.0.1", port: 9267 })).toBe("http://127.0.0.1:9267/metrics");
  });
});

describe("the /metrics handler", () => {
  const registry = new Registry();
  registry.counter({ name: "dhcptool_test_total", help: "t" }).inc({}, 3);
  const ask = (path: string, method = "GET") => handleMetricsRequest(new Request(`http://127.0.0.1:9267${path}`, { method }), registry);

  test("GET /metrics: the exposition, typed 0.0.4, not cached", async () => {
    const r = ask("/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe(CONTENT_TYPE);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const text = await r.text();
    expect(text).toBe(registry.expose());
    expect(text).toContain("dhcptool_test_total 3\n");
    expect(r.headers.get("content-length")).toBe(String(new TextEncoder().encode(text).byteLength));
  });

  test("a query string does not matter", async () => {
    expect(ask("/metrics?x=1").status).toBe(200);
  });

  test("HEAD: the headers, no body", async () => {
    const r = ask("/metrics", "HEAD");
    expect(r.status).toBe(200);
    expect(Number(r.headers.get("content-length"))).toBeGreaterThan(0);
    expect(await r.text()).toBe("");
  });

  test.each([["/"], ["/metrics/"], ["/metric"], ["/api/v1/query"], ["/../metrics/x"]])("GET %p is 404", (path) => {
    expect(ask(path).status).toBe(404);
  });

  test.each([["POST"], ["PUT"], ["DELETE"], ["OPTIONS"], ["PATCH"]])("%p /metrics is 405 with Allow", (method) => {
    const r = ask("/metrics", method);
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, HEAD");
  });

  test("a collector that throws: 500, the error reported, no partial exposition", async () => {
    const broken = new Registry();
    broken.onCollect(() => {
      throw new Error("collector bug");
    });
    const errors: unknown[] = [];
    const r = handleMetricsRequest(new Request("http://127.0.0.1/metrics"), broken, (e) => errors.push(e));
    expect(r.status).toBe(500);
    expect(await r.text()).not.toContain("# TYPE");
    expect(String(errors[0])).toContain("collector bug");
  });
});
