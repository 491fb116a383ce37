// The resident client's world as it really is: the packet socket, the netlink link monitor,
// --apply over an rtnetlink socket, the lease files, the real clock and timers. Opened here,
// before the privilege drop, and handed to the ResidentClient (cli/daemon/resident.ts), which
// sees only the interfaces of cli/daemon/resident-io.ts.

import { cryptoRandom } from "../client/identity.ts";
import { RealTimers, systemClock } from "../client/time.ts";
import { openRawTransport, type Transport } from "../client/transport.ts";
import { Applier } from "./apply.ts";
import { ResidentClient, type ResidentIo, type ResidentOptions } from "./resident.ts";
import type { DaemonEvent, HookSink, LeaseApplier, LeaseStore, LinkSource } from "./resident-io.ts";
import { leasePath, loadLease, removeLease, saveLease } from "./store.ts";

export interface OpenOptions extends ResidentOptions {
  stateDir: string;
  apply: boolean;
  hook: HookSink | null;
  emit: (e: DaemonEvent) => void;
}

/** The lease files of cli/daemon/store.ts, for one interface. */
export function fileLeaseStore(dir: string, iface: string): LeaseStore {
  return {
    path: leasePath(dir, iface),
    load: (wallNow) => loadLease(dir, iface, wallNow),
    save: (stored) => saveLease(dir, stored),
    remove: () => removeLease(dir, iface),
  };
}

/** Opens the sockets and starts the client: REBOOTING into a stored lease, or a DISCOVER. */
export async function openResident(o: OpenOptions): Promise<ResidentClient> {
  const { interfaceInfo } = await import("../../native/rawsocket.ts");
  const { LinkMonitor, NetlinkRoute } = await import("../../native/netlink.ts");
  const info = interfaceInfo(o.iface);
  const store = fileLeaseStore(o.stateDir, o.iface);
  let transport: Transport | null = null;
  let applier: LeaseApplier | null = null;
  try {
    transport = await openRawTransport(o.iface, "client");
    applier = o.apply ? new Applier(NetlinkRoute.open(), info.index) : null;
    let monitor: { close(): void } | null = null;
    const links: LinkSource = {
      listen(onLink, onError) { monitor = LinkMonitor.open({ onLink, onError }); },
      close() { monitor?.close(); },
    };
    const io: ResidentIo = {
      facts: { index: info.index, mac: info.mac, up: info.up && info.carrier !== false },
      transport, links, applier, store, hook: o.hook, emit: o.emit,
      timers: new RealTimers(systemClock), clock: systemClock, random: cryptoRandom,
    };
    const client = new ResidentClient(o, io);
    client.start();
    return client;
  } catch (err) {
    transport?.close();
    applier?.close();
    throw err;
  }
}
