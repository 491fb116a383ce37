// What every one-shot exchange (discover, request) opens first: the interface's facts, the
// way to the server (--server, --giaddr), a packet socket, real timers, and Ctrl-C or
// SIGTERM, which end the exchange where it is (the signal's name is the abort's reason).

import { escapeText } from "../../core/escape.ts";
import { UsageError } from "../errors.ts";
import { log } from "../log.ts";
import type { ClientOptions } from "./identity.ts";
import { RealTimers, systemClock, type Clock, type Timers } from "./time.ts";
import { openRawTransport, type Transport } from "./transport.ts";
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

/** promiscuous: the socket also hears frames to MACs other than the interface's (load's simulated clients). */
export async function withExchange<T>(
  o: ClientOptions, run: (io: ExchangeIo, route: UnicastRoute) => Promise<T>, socket: { promiscuous?: boolean } = {},
): Promise<T> {
  // The client filter passes only UDP to port 68; a relay's answers (--giaddr with --server,
  // which resolveUnicast makes a relay route) go to port 67. The socket brings the link's facts.
  const relay = o.server !== null && o.giaddr !== null;
  const transport = await openRawTransport(o.iface, relay ? "watch" : "client", socket.promiscuous === true);
  let interrupt: ReturnType<typeof abortOnSignal> | null = null;
  try {
    const info = transport.info;
    refuseLoopback(o.iface, info.flags);
    if (info.carrier === false) log.warn(`${escapeText(o.iface)} has no carrier (cable unplugged? no link?); trying anyway`);
    const route = resolveUnicast(o.iface, o);
    interrupt = abortOnSignal();
    return await run({ transport, timers: new RealTimers(), clock: systemClock, interfaceMac: info.mac, signal: interrupt.signal }, route);
  } finally {
    interrupt?.dispose();
    transport.close();
  }
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
