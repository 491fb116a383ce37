// Kea in the lab: kea-dhcp4's configuration for a lab server, starting it (it stays in the
// foreground, unlike dnsmasq) and reading the leases CSV it keeps. cli/lab.ts decides when a
// server starts and stops; this module knows how Kea does it.
//
// lab.ts imports startKea() from here and this module imports the lab's vocabulary from
// lab.ts: a cycle, harmless because neither uses the other's bindings at load time, only
// inside functions.

import { closeSync, openSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  LAB_SUBNET, LabError, ourProcess, readText, SERVER_IFACE, signalAndWait,
  systemBinary, type LabLease, type LabServer,
} from "./lab.ts";

const KEA_CONFIG = "kea-dhcp4.json";
// Kea names its PID file after the config file: <KEA_PIDFILE_DIR>/<config name>.kea-dhcp4.pid
const KEA_PID_FILE = "kea-dhcp4.kea-dhcp4.pid";
export const KEA_LEASE_FILE = "leases.csv";

/**
 * kea-dhcp4's configuration for server s: the same pool and options as the dnsmasq server of
 * that index would give. Raw sockets, not UDP (both tried in the lab): a UDP socket is bound to
 * 198.18.0.N, so Kea never hears a broadcast (DISCOVER, REBINDING REQUEST); and a lab client
 * holds no address in the kernel, so an ACK sent through it to ciaddr waits on an ARP answer
 * that never comes. Over a raw socket Kea hears both and addresses the frame to chaddr itself,
 * as dnsmasq does.
 */
export function keaConfig(s: LabServer): object {
  return {
    Dhcp4: {
      "interfaces-config": { interfaces: [SERVER_IFACE], "dhcp-socket-type": "raw" },
      // a file in the state dir: serverLeaseList() reads it, and a restarted Kea still knows its leases
      "lease-database": { type: "memfile", persist: true, name: join(s.dir, KEA_LEASE_FILE), "lfc-interval": 0 },
      "valid-lifetime": s.leaseTime,
      // Kea sends no T1/T2 it was not given; this makes it send lease/2 and lease·7/8, as
      // dnsmasq does, for whichever of them the lab leaves unset
      "calculate-tee-times": true,
      ...(s.renewTime === null ? {} : { "renew-timer": s.renewTime }),
      ...(s.rebindTime === null ? {} : { "rebind-timer": s.rebindTime }),
      // expired leases are reclaimed within a second, so a short-lease test sees them go
      "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 0, "flush-reclaimed-timer-wait-time": 0 },
      subnet4: [{
        id: 1,
        subnet: `${LAB_SUBNET}.0/24`,
        pools: [{ pool: `${s.rangeStart} - ${s.rangeEnd}` }],
        "option-data": [
          { name: "routers", data: s.ip },
          { name: "domain-name-servers", data: s.ip },
          { name: "domain-name", data: "lab.example" },
          { name: "domain-search", data: "lab.example, example.org" },
        ],
      }],
      loggers: [
        { name: "kea-dhcp4", output_options: [{ output: join(s.dir, "log"), flush: true }], severity: "INFO" },
        // each packet received and sent, and why one was dropped, as dnsmasq's --log-dhcp tells
        { name: "kea-dhcp4.packets", output_options: [{ output: join(s.dir, "log"), flush: true }], severity: "DEBUG", debuglevel: 40 },
      ],
    },
  };
}

function fileSize(path: string): number {
  try { return statSync(path).size; } catch { return 0; }
}

/**
 * Kea stays in the foreground, so `setsid -f` runs it in a session of its own whose parent
 * has already gone: it outlives `lab up`, and no process of ours leaves it a zombie to reap.
 * Its PID comes from the PID file it writes; it is ready once it logs DHCP4_STARTED (the
 * sockets are open by then).
 */
export function startKea(s: LabServer): number {
  const kea = systemBinary("kea-dhcp4");
  if (!kea) throw new LabError("kea-dhcp4 is not installed (apt-get install kea-dhcp4-server)");
  const config = join(s.dir, KEA_CONFIG), pidFile = join(s.dir, KEA_PID_FILE);
  const log = join(s.dir, "log"), out = join(s.dir, "kea.out");
  writeFileSync(config, JSON.stringify(keaConfig(s), null, 2) + "\n");
  rmSync(pidFile, { force: true });
  const logFrom = fileSize(log);
  const fd = openSync(out, "w");
  try {
    const p = Bun.spawnSync(["setsid", "-f", "ip", "netns", "exec", s.ns, kea, "-c", config], {
      stdin: "ignore", stdout: fd, stderr: fd,
      // Kea 2.7.9 and later refuse lease and log files outside these directories; 2.2 ignores them
      env: { ...process.env, KEA_PIDFILE_DIR: s.dir, KEA_LOCKFILE_DIR: s.dir, KEA_DHCP_DATA_DIR: s.dir, KEA_LOG_FILE_DIR: s.dir },
    });
    if (p.exitCode !== 0) throw new LabError(`starting kea-dhcp4 in ${s.ns} failed: exit ${p.exitCode}`);
  } finally {
    closeSync(fd);
  }
  const until = Date.now() + 10_000;
  for (;;) {
    const pid = Number(readText(pidFile).trim());
    const ours = Number.isInteger(pid) && pid > 1 && ourProcess(pid, "kea-dhcp4", s.ns);
    const logged = readText(log, logFrom);
    const failed = (why: string) => {
      if (ours) signalAndWait(pid);
      // the first error says why (Kea repeats it as it unwinds), without its timestamp and logger
      const said = (readText(out) + logged).split("\n").find((l) => / (ERROR|FATAL) /.test(l))?.replace(/^.*?\] /, "");
      return new LabError(`kea-dhcp4 in ${s.ns} ${why}: ${said ?? `see ${out} and ${log}`}`);
    };
    if (logged.includes("DHCP4_STARTED")) {
      if (!ours) throw failed("exited");
      if (logged.includes("OPEN_SOCKET_FAIL")) throw failed(`could not open its socket on ${SERVER_IFACE}`);
      return pid;
    }
    if (/DHCP4_INIT_FAIL|DHCP4_CONFIG_LOAD_FAIL/.test(readText(out) + logged) || (pid > 1 && !ours)) throw failed("did not start");
    if (Date.now() > until) throw failed("was not ready within 10 s");
    Bun.sleepSync(10);
  }
}

/**
 * The leases in Kea's CSV. Kea appends a row per change: the last row for an address wins,
 * and one with valid_lifetime 0 (released) or a state other than 0 (declined, reclaimed)
 * holds nothing.
 */
export function keaLeaseList(text: string): LabLease[] {
  const [header, ...rows] = text.split("\n").filter(Boolean);
  const col = (header ?? "").split(",");
  const at = (name: string) => col.indexOf(name);
  const byAddress = new Map<string, LabLease | null>();
  for (const row of rows) {
    const f = row.split(",");
    const held = Number(f[at("valid_lifetime")]) > 0 && (f[at("state")] ?? "0") === "0";
    const host = f[at("hostname")]?.replace(/&#x2c/g, ",");
    byAddress.set(f[at("address")], held
      ? { address: f[at("address")], mac: f[at("hwaddr")], expiresAt: Number(f[at("expire")]), hostname: host || null }
      : null);
  }
  return [...byAddress.values()].filter((l): l is LabLease => l !== null);
}
