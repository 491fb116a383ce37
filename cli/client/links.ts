// Which interfaces a command should use, and what it should know about them, read from the
// kernel through rtnetlink (IO): `--all` (every up, non-loopback Ethernet interface, bridge
// and bond ports left out with the reason: the bridge hears what they hear), and whether an
// interface is a bridge port: the host speaks on that link through the bridge, which holds
// its address and routes, so a lease belongs there (our packet socket, on every protocol,
// does hear the port's frames, so the exchange itself works).

import { escapeText } from "../../core/escape.ts";
import type { LinkMessage } from "../../native/netlink.ts";
import { log } from "../log.ts";

const ARPHRD_ETHER = 1;

/** Every link in this network namespace (rtnetlink; no privilege needed). */
export async function listLinks(): Promise<LinkMessage[]> {
  const { NetlinkRoute } = await import("../../native/netlink.ts");
  const nl = NetlinkRoute.open();
  try {
    return nl.listLinks();
  } finally {
    nl.close();
  }
}

/** An interface that is some link's port: the master's name and kind ("bridge", "bond", …). */
export interface PortOf {
  master: string;
  kind: string;
}

export function portOf(links: LinkMessage[], name: string): PortOf | null {
  const link = links.find((l) => l.name === name);
  if (!link || link.master === null) return null;
  const master = links.find((l) => l.ifindex === link.master);
  return { master: master?.name ?? `ifindex ${link.master}`, kind: link.portKind ?? master?.linkKind ?? "master" };
}

/** What a bridge (or bond) port is for this host, and what to use instead. */
export function portAdvice(iface: string, p: PortOf): string {
  const name = escapeText(iface),
    master = escapeText(p.master);
  return (
    `${name} is a port of ${escapeText(p.kind)} ${master}: this host speaks on that link through ${master}, which holds ` +
    `its address and routes; use ${master} (e.g. dhcptool discover ${master})`
  );
}

export interface InterfaceChoice {
  /** The interfaces to use, in the kernel's order. */
  use: string[];
  /** Up Ethernet interfaces left out, each with the reason (bridge and bond ports); not escaped. */
  skipped: { interface: string; reason: string }[];
}

/** --all: every up, non-loopback Ethernet interface; a port of a bridge or bond is skipped, with why. */
export function chooseAll(links: LinkMessage[]): InterfaceChoice {
  const choice: InterfaceChoice = { use: [], skipped: [] };
  for (const l of links) {
    if (!l.up || l.hardwareType !== ARPHRD_ETHER || !l.name) continue;
    const port = portOf(links, l.name);
    if (port) choice.skipped.push({ interface: l.name, reason: `a port of ${port.kind} ${port.master}, which hears what it hears` });
    else choice.use.push(l.name);
  }
  return choice;
}

const warned = new Set<string>();

/**
 * Warns once per process when iface is a bridge or bond port (`master`: the ifindex of the
 * link it is a port of, from the facts the socket brought; 0: none, and no dump of every
 * link to name it). Never throws: the hint is a courtesy.
 */
export async function warnIfPort(iface: string, master: number): Promise<void> {
  if (master === 0 || warned.has(iface)) return;
  warned.add(iface);
  try {
    const port = portOf(await listLinks(), iface);
    if (port) log.warn(portAdvice(iface, port));
  } catch (err) {
    log.debug(`cannot tell whether ${escapeText(iface)} is a bridge port: ${String(err)}`);
  }
}
