// Kea in the lab: kea-dhcp4's configuration for a lab server, starting it (it stays in the
// foreground, unlike dnsmasq) and reading the leases CSV it keeps.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerKind } from "./kind.ts";
import { startForeground, systemBinary } from "./proc.ts";
import { LabError, SERVER_IFACE, type LabLease, type LabServer } from "./state.ts";

const CONFIG = "kea-dhcp4.json";
// Kea names its PID file after the config file: <KEA_PIDFILE_DIR>/<config name>.kea-dhcp4.pid
const PID_FILE = "kea-dhcp4.kea-dhcp4.pid";
const LEASE_FILE = "leases.csv";

/**
 * kea-dhcp4's configuration for server s: the same pool and options as the dnsmasq server of
 * that index would give. Raw sockets, not UDP (both tried in the lab): a UDP socket is bound to
 * 198.18.0.N, so Kea never hears a broadcast (DISCOVER, REBINDING REQUEST); and a lab client
 * holds no address in the kernel, so an ACK sent through it to ciaddr waits on an ARP answer
 * that never comes. Over a raw socket Kea hears both and addresses the frame to chaddr itself,
 * as dnsmasq does.
 */
function config(s: LabServer): string {
  const dhcp4 = {
    "interfaces-config": { interfaces: [SERVER_IFACE], "dhcp-socket-type": "raw" },
    // a file in the state dir: leases() reads it, and a restarted Kea still knows its leases
    "lease-database": { type: "memfile", persist: true, name: join(s.dir, LEASE_FILE), "lfc-interval": 0 },
    "valid-lifetime": s.leaseTime,
    // Kea sends no T1/T2 it was not given; this makes it send lease/2 and lease·7/8, as
    // dnsmasq does, for whichever of them the lab leaves unset
    "calculate-tee-times": true,
    ...(s.renewTime === null ? {} : { "renew-timer": s.renewTime }),
    ...(s.rebindTime === null ? {} : { "rebind-timer": s.rebindTime }),
    // expired leases are reclaimed within a second, so a short-lease test sees them go
    "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 0, "flush-reclaimed-timer-wait-time": 0 },
    subnet4: [
      {
        id: 1,
        // behind a router: the relayed link's, which Kea picks by the giaddr in it
        subnet: `${s.network}/${s.prefixLen}`,
        pools: [{ pool: `${s.rangeStart} - ${s.rangeEnd}` }],
        "option-data": [
          { name: "routers", data: s.router },
          { name: "domain-name-servers", data: s.ip },
          { name: "domain-name", data: "lab.example" },
          { name: "domain-search", data: "lab.example, example.org" },
        ],
      },
    ],
    loggers: [
      { name: "kea-dhcp4", output_options: [{ output: join(s.dir, "log"), flush: true }], severity: "INFO" },
      // each packet received and sent, and why one was dropped, as dnsmasq's --log-dhcp tells
      { name: "kea-dhcp4.packets", output_options: [{ output: join(s.dir, "log"), flush: true }], severity: "DEBUG", debuglevel: 40 },
    ],
  };
  return JSON.stringify({ Dhcp4: dhcp4 }, null, 2) + "\n";
}

/** Kea is ready once it logs DHCP4_STARTED (its sockets are open by then). */
function start(s: LabServer): number {
  const kea = systemBinary("kea-dhcp4");
  if (!kea) throw new LabError("kea-dhcp4 is not installed (apt-get install kea-dhcp4-server)");
  const file = join(s.dir, CONFIG);
  writeFileSync(file, config(s));
  return startForeground({
    what: "kea-dhcp4",
    ns: s.ns,
    argv: [kea, "-c", file],
    comm: "kea-dhcp4",
    pidFile: join(s.dir, PID_FILE),
    output: join(s.dir, "kea.out"),
    logs: [join(s.dir, "log")],
    // Kea 2.7.9 and later refuse lease and log files outside these directories; 2.2 ignores them
    env: { KEA_PIDFILE_DIR: s.dir, KEA_LOCKFILE_DIR: s.dir, KEA_DHCP_DATA_DIR: s.dir, KEA_LOG_FILE_DIR: s.dir },
    ready: (said) => said.includes("DHCP4_STARTED"),
    fatal: (said) =>
      said.includes("OPEN_SOCKET_FAIL")
        ? `could not open its socket on ${SERVER_IFACE}`
        : /DHCP4_INIT_FAIL|DHCP4_CONFIG_LOAD_FAIL/.test(said)
          ? "did not start"
          : null,
    // the first error says why (Kea repeats it as it unwinds), without its timestamp and logger
    explain: (said) =>
      said
        .split("\n")
        .find((l) => / (ERROR|FATAL) /.test(l))
        ?.replace(/^.*?\] /, ""),
  });
}

/**
 * The leases in Kea's CSV. Kea appends a row per change: the last row for an address wins,
 * and one with valid_lifetime 0 (released) or a state other than 0 (declined, reclaimed)
 * holds nothing.
 */
function leases(file: Uint8Array): LabLease[] {
  const [header, ...rows] = new TextDecoder().decode(file).split("\n").filter(Boolean);
  const col = (header ?? "").split(",");
  const at = (name: string) => col.indexOf(name);
  const byAddress = new Map<string, LabLease | null>();
  for (const row of rows) {
    const f = row.split(",");
    const held = Number(f[at("valid_lifetime")]) > 0 && (f[at("state")] ?? "0") === "0";
    const host = f[at("hostname")]?.replace(/&#x2c/g, ",");
    byAddress.set(
      f[at("address")],
      held ? { address: f[at("address")], mac: f[at("hwaddr")], expiresAt: Number(f[at("expire")]), hostname: host || null } : null,
    );
  }
  return [...byAddress.values()].filter((l): l is LabLease => l !== null);
}

export const kea: ServerKind = { name: "kea", comm: "kea-dhcp4", leaseFile: LEASE_FILE, config, start, leases };
