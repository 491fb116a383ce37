// The address --metrics names (the flag is in cli/args.ts). Kept apart from the registry
// and the server so a command pays for them only when the flag is given.

import { parseIp } from "../../core/bytes.ts";
import { UsageError } from "../errors.ts";

export const DEFAULT_METRICS_HOST = "127.0.0.1";

export interface MetricsAddress {
  /** An IPv4 or IPv6 literal: never a name, so nothing is looked up. */
  hostname: string;
  /** 0: the kernel picks a free port (the daemon says which). */
  port: number;
}

function parsePort(text: string, given: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`--metrics ${given}: the port must be a number from 0 to 65535`);
  }
  return Number(text);
}

/** `PORT`, `IPV4:PORT` or `[IPV6]:PORT`. */
export function parseMetricsAddress(text: string): MetricsAddress {
  const usage = `--metrics ${text}: give PORT, ADDR:PORT or [IPV6]:PORT (e.g. 9267, 127.0.0.1:9267, [::1]:9267)`;
  if (/^\d+$/.test(text)) return { hostname: DEFAULT_METRICS_HOST, port: parsePort(text, text) };
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text);
  if (v6) {
    if (!v6[1].includes(":")) throw new UsageError(usage);
    return { hostname: v6[1], port: parsePort(v6[2], text) };
  }
  const v4 = /^([0-9.]+):(\d+)$/.exec(text);
  if (v4 && parseIp(v4[1]) !== null) return { hostname: v4[1], port: parsePort(v4[2], text) };
  throw new UsageError(usage);
}

/** The URL of the endpoint, as a person would paste it into curl. */
export function metricsUrl(a: MetricsAddress): string {
  return `http://${a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname}:${a.port}/metrics`;
}
