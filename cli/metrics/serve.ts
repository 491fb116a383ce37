// The /metrics endpoint: Bun.serve on the address --metrics names (loopback unless told
// otherwise). GET and HEAD of /metrics answer with the registry's exposition; any other path
// is 404, any other method 405. Requests carry no body worth reading (a few bytes at most are
// accepted) and idle connections are closed, so a local client that misbehaves costs little.
//
// The daemons open it before they drop privileges (the port may be below 1024); the
// listening socket keeps accepting as `--user` afterwards.

import { escapeText } from "../../core/escape.ts";
import { UserError } from "../errors.ts";
import { log } from "../log.ts";
import { metricsUrl, type MetricsAddress } from "./address.ts";
import { processMetrics } from "./families.ts";
import { Registry } from "./registry.ts";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
/** Seconds a connection may sit idle before the server closes it. */
const IDLE_TIMEOUT_S = 10;
/** Bytes of request body accepted (a scrape sends none). */
const MAX_REQUEST_BODY = 1024;

/**
 * One request to the endpoint. Pure apart from the registry: the unit tests call it directly.
 * onError hears of a collector that threw (a bug): the scrape fails with 500.
 */
export function handleMetricsRequest(req: Request, registry: Registry, onError: (err: unknown) => void = () => {}): Response {
  const path = new URL(req.url).pathname;
  if (path !== "/metrics") return new Response("not found: the metrics are at /metrics\n", { status: 404, headers: { "content-type": "text/plain" } });
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("method not allowed: GET or HEAD\n", { status: 405, headers: { allow: "GET, HEAD", "content-type": "text/plain" } });
  }
  let text: string;
  try {
    text = registry.expose();
  } catch (err) {
    onError(err);
    return new Response("internal error while collecting metrics\n", { status: 500, headers: { "content-type": "text/plain" } });
  }
  const body = new TextEncoder().encode(text);
  return new Response(req.method === "HEAD" ? null : body, {
    headers: { "content-type": CONTENT_TYPE, "content-length": String(body.byteLength), "cache-control": "no-store" },
  });
}

export interface MetricsServer {
  /** The address actually bound (port 0 resolved). */
  address: MetricsAddress;
  url: string;
  /** Idempotent: closes the listening socket and every connection. */
  stop(): void;
}

/** Starts listening; a port in use or an address not on this host is a UserError (exit 1). */
export function serveMetrics(address: MetricsAddress, registry: Registry, onError: (err: unknown) => void): MetricsServer {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: address.hostname,
      port: address.port,
      idleTimeout: IDLE_TIMEOUT_S,
      maxRequestBodySize: MAX_REQUEST_BODY,
      development: false,
      fetch: (req) => handleMetricsRequest(req, registry, onError),
      error: (err) => {
        onError(err);
        return new Response("internal error\n", { status: 500 });
      },
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === "EADDRINUSE"
        ? "the port is in use"
        : code === "EADDRNOTAVAIL"
          ? "that address is not on this host"
          : code === "EACCES"
            ? "no permission to listen there (a port below 1024 needs root)"
            : (err as Error).message;
    throw new UserError(`--metrics ${metricsUrl(address)}: cannot listen: ${why}`);
  }
  const bound = { hostname: address.hostname, port: server.port ?? address.port };
  let stopped = false;
  return {
    address: bound,
    url: metricsUrl(bound),
    stop() {
      if (stopped) return;
      stopped = true;
      server.stop(true);
    },
  };
}

/**
 * A registry with the process's own metrics and what build() adds, served at address. A
 * collector that throws is logged (once per message: a scrape every second must not flood
 * the log) and that scrape fails.
 */
export function openMetrics<T>(address: MetricsAddress, build: (r: Registry) => T): { metrics: T; server: MetricsServer } {
  const registry = new Registry();
  const metrics = build(registry);
  processMetrics(registry);
  const said = new Set<string>();
  const server = serveMetrics(address, registry, (err) => {
    const text = err instanceof Error ? err.message : String(err);
    if (said.has(text) || said.size > 16) return;
    said.add(text);
    log.warn(`metrics: a scrape failed: ${escapeText(text)}`);
  });
  return { metrics, server };
}
