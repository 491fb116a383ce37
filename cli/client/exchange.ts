// What every one-shot exchange (discover, request) opens first: the interface's facts, the
// way to the server (--server, --giaddr), a packet socket, real timers, and Ctrl-C or
// SIGTERM, which end the exchange where it is (the signal's name is the abort's reason).
// Several interfaces (discover eth0 eth1, --all) open every socket first, then drop
// privileges once, then run their exchanges side by side.

import { escapeText } from "../../core/escape.ts";
import { UsageError } from "../errors.ts";
import { log } from "../log.ts";
import type { ClientOptions } from "./identity.ts";
import { warnIfPort } from "./links.ts";
import { RealTimers, systemClock, type Clock, type Timers } from "./time.ts";
import { openRawTransport, type Transport, type TransportOptions } from "./transport.ts";
import { resolveUnicast, type UnicastRoute } from "./unicast.ts";

export interface ExchangeIo {
  transport: Transport;
  timers: Timers;
  clock: Clock;
  /** The interface's own MAC (--mac's default; a relay's frames leave from it). */
  interfaceMac: Uint8Array;
  /** Aborted: the exchange ends where it is; the reason is the signal's name (SIGINT, SIGTERM). */
  signal?: AbortSignal;
}

interface OpenExchange {
  io: ExchangeIo;
  route: UnicastRoute;
}

async function openExchange(o: ClientOptions, signal: AbortSignal, socket: TransportOptions = {}): Promise<OpenExchange> {
  // The client filter passes only UDP to port 68; a relay's answers (--giaddr with --server,
  // which resolveUnicast makes a relay route) go to port 67. --vlan: the socket hears that
  // VLAN alone and tags what it sends. The socket brings the link's facts: one RTM_GETLINK.
  const relay = o.server !== null && o.giaddr !== null;
  const transport = await openRawTransport(o.iface, relay ? "watch" : "client", o.vlan !== undefined ? { ...socket, vlan: o.vlan } : socket).catch((err) => {
    // lo as an ordinary user: that it is loopback is the first thing wrong, not the permission
    if (typeof err?.linkFlags === "number") refuseLoopback(o.iface, err.linkFlags);
    throw err;
  });
  try {
    const info = transport.info;
    refuseLoopback(o.iface, info.flags);
    if (info.carrier === false) log.warn(`${escapeText(o.iface)} has no carrier (cable unplugged? no link?); trying anyway`);
    await warnIfPort(o.iface, info.master);
    const route = await resolveUnicast(o.iface, o);
    return { io: { transport, timers: new RealTimers(), clock: systemClock, interfaceMac: info.mac, signal }, route };
  } catch (err) {
    transport.close();
    throw err;
  }
}

/** SIGINT or SIGTERM aborts the signal while fn runs. */
async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const interrupt = abortOnSignal();
  try {
    return await fn(interrupt.signal);
  } finally {
    interrupt.dispose();
  }
}

/** socket: how the packet socket is opened (promiscuous for load's simulated clients; discover hears every VLAN). */
export function withExchange<T>(o: ClientOptions, run: (io: ExchangeIo, route: UnicastRoute) => Promise<T>, socket: TransportOptions = {}): Promise<T> {
  return interruptible(async (signal) => {
    const { io, route } = await openExchange(o, signal, socket);
    try {
      return await run(io, route);
    } finally {
      io.transport.close();
    }
  });
}

/**
 * One exchange per options, side by side: every socket is opened before `afterOpen` (the
 * privilege drop, which would keep a later socket from opening) and before anything is
 * sent. An interface that cannot be opened fails them all, before anything is sent.
 */
export function withExchanges<O extends ClientOptions, T>(
  list: O[],
  afterOpen: () => Promise<void>,
  run: (io: ExchangeIo, route: UnicastRoute, o: O) => Promise<T>,
  socket: TransportOptions = {},
): Promise<T[]> {
  return interruptible(async (signal) => {
    const opened: OpenExchange[] = [];
    try {
      for (const o of list) opened.push(await openExchange(o, signal, socket));
      await afterOpen();
      return await Promise.all(opened.map(({ io, route }, i) => run(io, route, list[i]!)));
    } finally {
      for (const { io } of opened) io.transport.close();
    }
  });
}

const IFF_LOOPBACK = 0x8;

/** DHCP needs a link with other hosts on it: the loopback interface has none (a usage error, said at once). */
export function refuseLoopback(iface: string, flags: number): void {
  if (flags & IFF_LOOPBACK) throw new UsageError(`${escapeText(iface)} is the loopback interface: DHCP needs an Ethernet link (e.g. eth0)`);
}

/**
 * A signal that the first SIGINT or SIGTERM aborts, with the signal's name as its reason,
 * until dispose(). A second Ctrl-C finds no listener here and ends the process (cli/main.ts).
 */
export function abortOnSignal(): { signal: AbortSignal; dispose(): void } {
  const interrupt = new AbortController();
  const onInt = () => interrupt.abort("SIGINT");
  const onTerm = () => interrupt.abort("SIGTERM");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);
  return {
    signal: interrupt.signal,
    dispose() {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    },
  };
}
