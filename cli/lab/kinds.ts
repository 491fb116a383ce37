// The one registry of server kinds: a name (`lab up --kind`, the state file) to its ServerKind.

import { dnsmasq } from "./dnsmasq.ts";
import { isc } from "./isc.ts";
import type { ServerKind } from "./kind.ts";
import { kea } from "./kea.ts";
import type { ServerKindName } from "./state.ts";
import { udhcpd } from "./udhcpd.ts";

const KINDS: Record<ServerKindName, ServerKind> = { dnsmasq, kea, isc, udhcpd };

export function serverKind(name: ServerKindName): ServerKind {
  return KINDS[name];
}
