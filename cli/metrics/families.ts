// The metrics that mean the same in every resident command, defined once so that their
// names, labels and help agree (docs/metrics.md lists them): the servers seen on a segment
// (watch hears them, discover --daemon asks them), their offer latency, rogue servers,
// dropped packets, and the process's own figures.

import type { Registry } from "./registry.ts";

/** Offer latency in seconds: a LAN server answers in a millisecond; dnsmasq pings first (~3 s). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Per-server histograms are the bulkiest series (16 lines each): fewer of them. */
export const MAX_SERVER_HISTOGRAMS = 64;

export type ServerStatus = "allowed" | "rogue";

export function serverMetrics(r: Registry) {
  return {
    lastSeen: r.gauge({
      name: "dhcptool_server_last_seen_timestamp_seconds",
      labels: ["interface", "server", "mac", "status"],
      help: "When a DHCP server was last heard from (Unix time), one series per server remembered; status is rogue for a server outside --allow-server, else allowed.",
    }),
    rogueServers: r.gauge({
      name: "dhcptool_rogue_servers",
      labels: ["interface"],
      help: "DHCP servers outside --allow-server among those remembered (watch: seen since start; discover: answering now).",
    }),
    rogueAlerts: r.counter({
      name: "dhcptool_rogue_alerts_total",
      labels: ["interface"],
      help: "Rogue-server alerts raised (a server outside --allow-server offered or acked).",
    }),
    offerLatency: r.histogram({
      name: "dhcptool_offer_latency_seconds",
      labels: ["interface", "server"],
      buckets: LATENCY_BUCKETS,
      maxSeries: MAX_SERVER_HISTOGRAMS,
      help: "Time from the client's message to the server's DHCPOFFER.",
    }),
    dropped: droppedPackets(r),
    kernelDropped: r.counter({
      name: "dhcptool_kernel_dropped_packets_total",
      labels: ["interface"],
      help: "Packets the kernel dropped before dhcptool read them (receive buffer full, PACKET_STATISTICS).",
    }),
  };
}

export function droppedPackets(r: Registry) {
  return r.counter({
    name: "dhcptool_dropped_packets_total",
    labels: ["interface", "reason"],
    help: "Received packets dropped as unreadable or not ours, by reason.",
  });
}

export type ServerMetrics = ReturnType<typeof serverMetrics>;

/** process_* as every Prometheus client library names them, read at each scrape. */
export function processMetrics(r: Registry): void {
  const start = r.gauge({ name: "process_start_time_seconds", help: "Start time of the process since the Unix epoch in seconds." });
  const cpu = r.counter({ name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds." });
  const rss = r.gauge({ name: "process_resident_memory_bytes", help: "Resident memory size in bytes." });
  const startedAt = performance.timeOrigin / 1000;
  r.onCollect(() => {
    start.set({}, Math.round(startedAt * 1000) / 1000);
    const u = process.cpuUsage();
    cpu.setTotal({}, (u.user + u.system) / 1e6);
    rss.set({}, process.memoryUsage.rss());
  });
}
