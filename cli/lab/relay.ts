// The DHCP relays a routed lab runs on its router (<name>-r): ISC's dhcrelay and dnsmasq's
// --dhcp-relay, as a RelayKind each (how to start it, its process's name) in one registry. A
// relay hears the client's broadcasts on the router's down side, sends them with giaddr set to
// its down address to every server, and passes the servers' replies back to the client.

import { join } from "node:path";
import { dnsmasqConfig, startDnsmasq } from "./dnsmasq.ts";
import { startForeground, systemBinary } from "./proc.ts";
import { LabError, type LabRouter, type RelayKindName } from "./state.ts";

export interface RelayKind {
  name: RelayKindName;
  /** The name the kernel gives its process (/proc/PID/comm): the lab checks it before signalling. */
  comm: string;
  /** Starts the relay in r's namespace; returns its PID once it is listening. */
  start(r: LabRouter): number;
}

/**
 * dhcrelay -d stays in the foreground, its log on stderr (into the router's log file), and
 * writes no PID file then. -id/-iu: it listens for clients on down only, and sends to the
 * servers (and hears them) on up. Ready once it says it sends on its fallback socket, the last
 * socket it opens.
 */
const dhcrelay: RelayKind = {
  name: "dhcrelay",
  comm: "dhcrelay",
  start(r) {
    const bin = systemBinary("dhcrelay");
    if (!bin) throw new LabError("dhcrelay is not installed (apt-get install isc-dhcp-relay)");
    return startForeground({
      what: "dhcrelay",
      ns: r.ns,
      argv: [bin, "-4", "-d", "-id", r.down.iface, "-iu", r.up.iface, ...r.servers],
      comm: "dhcrelay",
      pidFile: join(r.dir, "pid"),
      shellWritesPid: true,
      output: join(r.dir, "log"),
      ready: (said) => /Sending on +Socket\/fallback/.test(said),
      fatal: (said) => (/exiting\./.test(said) ? "did not start" : null),
      explain: (said) => said.split("\n").find((l) => /error|can't|unable|no /i.test(l)) ?? said.split("\n").filter(Boolean).at(-1),
    });
  },
};

/**
 * dnsmasq as a relay only (no DNS, no range of its own): a dhcp-relay line per server, from
 * the down address (the giaddr), which tells it the clients' side. Listening on down alone, it
 * still hears the servers' replies to that address arriving through up (tried in the lab).
 */
const dnsmasqRelay: RelayKind = {
  name: "dnsmasq",
  comm: "dnsmasq",
  start(r) {
    const config = dnsmasqConfig("as the router's DHCP relay", r.dir, [
      `interface=${r.down.iface}`,
      ...r.servers.map((server) => `dhcp-relay=${r.down.ip},${server}`),
    ]);
    return startDnsmasq("the dnsmasq relay", r.ns, r.dir, "dnsmasq-relay.conf", config);
  },
};

const RELAYS: Record<RelayKindName, RelayKind> = { dhcrelay, dnsmasq: dnsmasqRelay };

export function relayKind(name: RelayKindName): RelayKind {
  return RELAYS[name];
}
