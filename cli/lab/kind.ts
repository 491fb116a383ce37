// What the lab needs to know about a DHCP server program: one ServerKind per program
// (dnsmasq.ts, kea.ts, isc.ts, udhcpd.ts), registered in kinds.ts. The lab decides when a
// server starts and stops; its kind knows how that program does it.

import type { LabLease, LabServer, ServerKindName } from "./state.ts";

export interface ServerKind {
  name: ServerKindName;
  /** The name the kernel gives its process (/proc/PID/comm): stopServer() checks it before signalling. */
  comm: string;
  /** Its lease file, in the server's directory. */
  leaseFile: string;
  /** Its configuration file's text for server s (start() writes it to the server's directory). */
  config(s: LabServer): string;
  /** Starts server s in its namespace; returns its PID once it is listening. */
  start(s: LabServer): number;
  /** The leases its lease file holds, from the file's bytes (empty when there is none yet). */
  leases(file: Uint8Array): LabLease[];
}
