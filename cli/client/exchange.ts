// What every one-shot exchange (discover, request) opens first: the interface's facts, the
// way to the server (--server, --giaddr), a packet socket, real timers, and Ctrl-C, which
// ends the exchange where it is.

import { escapeText } from "../../core/escape.ts";
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
  /** Aborted: the exchange ends where it is (Ctrl-C). */
  signal?: AbortSignal;
}

/** promiscuous: the socket also hears frames to MACs other than the interface's (load's simulated clients). */
export async function withExchange<T>(
  o: ClientOptions, run: (io: ExchangeIo, route: UnicastRoute) => Promise<T>, socket: { promiscuous?: boolean } = {},
): Promise<T> {
  const { interfaceInfo } = await import("../../native/rawsocket.ts");
  const info = interfaceInfo(o.iface);
  if (info.carrier === false) log.warn(`${escapeText(o.iface)} has no carrier (cable unplugged? no link?); trying anyway`);
  const route = resolveUnicast(o.iface, o);
  // The client filter passes only UDP to port 68; a relay's answers go to port 67.
  const transport = await openRawTransport(o.iface, route.relay ? "watch" : "client", socket.promiscuous === true);
  const interrupt = new AbortController();
  const interrupted = () => interrupt.abort();
  process.once("SIGINT", interrupted);
  try {
    return await run({ transport, timers: new RealTimers(), clock: systemClock, interfaceMac: info.mac, signal: interrupt.signal }, route);
  } finally {
    process.off("SIGINT", interrupted);
    transport.close();
  }
}
