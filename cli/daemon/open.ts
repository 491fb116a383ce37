// The resident client's world as it really is: the packet socket, the netlink link monitor,
// the real clock and timers in this process, and through the privileged helper
// (native/privsep.ts) --apply, the lease file and the hook. Opened here, before the privilege
// drop, and handed to the ResidentClient (cli/daemon/resident.ts), which sees only the
// interfaces of cli/daemon/resident-io.ts.

import { constants } from "node:os";
import type { HookDone, PrivHelper } from "../../native/privsep.ts";
import { cryptoRandom } from "../client/identity.ts";
import { RealTimers, systemClock } from "../client/time.ts";
import { openRawTransport, type Transport } from "../client/transport.ts";
import { Applier } from "./apply.ts";
import { openArpResponder } from "./arp-responder.ts";
import { hookEnv, hookStdin, type HookEvent, type HookResult, type RunHookOptions } from "./hook.ts";
import { ResidentClient, type ResidentIo, type ResidentOptions } from "./resident.ts";
import type { ArpSink, DaemonEvent, HookSink, LeaseStore, LinkSource } from "./resident-io.ts";
import { leaseFileBytes, leasePath, loadLease, StoreError } from "./store.ts";

export interface OpenOptions extends ResidentOptions {
  stateDir: string;
  apply: boolean;
  hook: HookSink | null;
  emit: (e: DaemonEvent) => void;
  helper: PrivHelper;
}

/**
 * The lease file of one interface: read here (while still root, at start), written and
 * removed by the helper, which alone may write the state directory.
 */
export function helperLeaseStore(helper: Pick<PrivHelper, "save" | "unsave">, dir: string, iface: string): LeaseStore {
  const path = leasePath(dir, iface);
  const check = (r: { status: number; failed: string[] }, what: string) => {
    if (r.status < 0) throw new StoreError(r.failed.join("; ") || `${what} ${path}: errno ${-r.status}`, path);
  };
  return {
    path,
    load: (wallNow) => loadLease(dir, iface, wallNow),
    save: (stored) => {
      const bytes = leaseFileBytes(stored, path);
      try {
        check(helper.save(bytes), "cannot store the lease in");
      } catch (e) {
        if (e instanceof StoreError) throw e;
        throw new StoreError(`cannot store the lease in ${path}: ${e instanceof Error ? e.message : String(e)}`, path);
      }
    },
    remove: () => check(helper.unsave(), "cannot remove the lease"),
  };
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/** The hook queue's runner: the helper runs it as the hook user (cli/daemon/hook.ts HookQueue `run`). */
export function helperHookRun(helper: Pick<PrivHelper, "runHook">) {
  return async (_prog: string, event: HookEvent, _opts: RunHookOptions): Promise<HookResult> => {
    const d: HookDone = await helper.runHook(hookEnv(event), hookStdin(event));
    return {
      exitCode: d.exitCode,
      signal: d.signal ? (SIGNAL_NAMES.get(d.signal) ?? String(d.signal)) : null,
      timedOut: d.timedOut,
      stdout: "",
      stderr: new TextDecoder().decode(d.stderr),
      stdoutDiscarded: 0,
      stderrDiscarded: d.stderrDiscarded,
      ms: d.ms,
      ...(d.status < 0 ? { error: `cannot run the hook: ${new TextDecoder().decode(d.stderr) || `errno ${-d.status}`}` } : {}),
    };
  };
}

export interface OpenedResident {
  client: ResidentClient;
  /**
   * Starts it: from here frames and link events reach the client. Called after the privilege
   * drop (finding 2): until then nothing is sent, and whatever arrives is dropped unread.
   */
  start(): void;
}

/** Opens the packet socket and the link monitor (as root) and builds the client, not started. */
export async function openResident(o: OpenOptions): Promise<OpenedResident> {
  const { interfaceInfo } = await import("../../native/rawsocket.ts");
  const { LinkMonitor } = await import("../../native/netlink.ts");
  const info = interfaceInfo(o.iface);
  const store = helperLeaseStore(o.helper, o.stateDir, o.iface);
  let raw: Transport | null = null;
  let monitor: { close(): void } | null = null;
  let arp: ArpSink | null = null;
  try {
    raw = await openRawTransport(o.iface, "client");
    // Without --apply the kernel does not hold the leased address: we answer ARP for it (from
    // the first lease on: until then nothing is served, and what arrives is dropped unread).
    arp = o.apply
      ? null
      : await openArpResponder(o.iface, {
          answered: (asker, address) =>
            o.emit({ level: "debug", event: "arp", interface: o.iface, message: `answered ARP for ${address} to ${asker}`, asker, address }),
          dropped: (reason) => o.emit({ level: "debug", event: "dropped", interface: o.iface, message: `dropped an ARP request: ${reason}`, reason }),
        });
    const wire = raw;
    let started = false;
    const transport: Transport = {
      listen: (onFrame, onError) =>
        wire.listen((f) => {
          if (started) onFrame(f);
        }, onError),
      send: (f) => wire.send(f),
      kernelDrops: () => wire.kernelDrops(),
      close: () => wire.close(),
    };
    // The monitor is opened now (its buffer needs CAP_NET_ADMIN); events wait for listen().
    type LinkHandler = Parameters<LinkSource["listen"]>[0];
    let onLink: LinkHandler | null = null;
    let onError: ((err: unknown) => void) | null = null;
    const early: Parameters<LinkHandler>[0][] = [];
    monitor = LinkMonitor.open({
      onLink: (c) => {
        if (onLink) onLink(c);
        else if (early.length < 64) early.push(c);
      },
      onError: (e) => onError?.(e),
    });
    const opened = monitor;
    const links: LinkSource = {
      listen(link, error) {
        onLink = link;
        onError = error;
        for (const c of early.splice(0)) link(c);
      },
      close() {
        opened.close();
      },
    };
    const io: ResidentIo = {
      facts: { index: info.index, mac: info.mac, up: info.up && info.carrier !== false },
      transport,
      links,
      applier: o.apply ? new Applier(o.helper) : null,
      arp,
      store,
      hook: o.hook,
      emit: o.emit,
      timers: new RealTimers(systemClock),
      clock: systemClock,
      random: cryptoRandom,
    };
    const client = new ResidentClient(o, io);
    return {
      client,
      start: () => {
        started = true;
        client.start();
      },
    };
  } catch (err) {
    raw?.close();
    monitor?.close();
    arp?.close();
    throw err;
  }
}
