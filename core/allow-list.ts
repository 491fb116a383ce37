// --allow-server: the servers that may answer on a link. Any other that does is rogue
// (discover's exit 5, watch's alerts, the prober's events).

import { macToString, parseIp, parseMac } from "./bytes.ts";

export interface AllowList {
  ips: Set<string>;
  macs: Set<string>;
}

/** Parses --allow-server values (IP or MAC, comma or space separated); null marks a bad entry. */
export function parseAllowList(values: string[]): { list: AllowList; bad: string[] } {
  const list: AllowList = { ips: new Set(), macs: new Set() };
  const bad: string[] = [];
  for (const v of values.flatMap((s) => s.split(/[,\s]+/)).filter(Boolean)) {
    if (parseIp(v) !== null) list.ips.add(v);
    else {
      const mac = parseMac(v);
      if (mac) list.macs.add(macToString(mac));
      else bad.push(v);
    }
  }
  return { list, bad };
}

/** A server as a reply shows it: its id (option 54) when it gave one, the frame's source. */
export interface ServerSeen {
  serverId: string | null;
  sourceIp: string;
  sourceMac: string;
}

export function isAllowed(list: AllowList, server: ServerSeen): boolean {
  return (server.serverId !== null && list.ips.has(server.serverId)) || list.ips.has(server.sourceIp) || list.macs.has(server.sourceMac);
}
