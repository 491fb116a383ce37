// One lease, one-shot: a whole DORA (or INIT-REBOOT with --address) on the engine driver,
// with how long each step took. runRequest opens the interface; requestOver is the exchange
// itself over whatever Transport, Timers and Clock it is given (a unit test hands it a fake
// wire and a hand-turned clock).

import { macToString } from "../../core/bytes.ts";
import type { Lease } from "../../core/engine.ts";
import { escapeText } from "../../core/escape.ts";
import { leaseRecord, type LeaseRecord } from "../../core/lease-record.ts";
import { DHCPDISCOVER, DHCPREQUEST } from "../../core/options.ts";
import { log } from "../log.ts";
import { EngineDriver } from "./driver.ts";
import { cryptoRandom, resolveMac, type ClientOptions } from "./identity.ts";
import { withExchange, type ExchangeIo } from "./exchange.ts";
import { wallOffset } from "./time.ts";
import type { UnicastRoute } from "./unicast.ts";

export interface RequestOptions extends ClientOptions {
  /** INIT-REBOOT: ask for this address. */
  address?: string;
  /** Give the lease straight back (RELEASE) after the ACK. */
  release: boolean;
  /** Each message as it goes out (a terminal shows the wait: cli/live.ts). */
  onSent?: (type: string, sent: number) => void;
}

export type RequestOutcome = "bound" | "nak" | "no-offer" | "no-ack" | "ipv6-only" | "interrupted";

export interface RequestResult {
  interface: string;
  mac: string;
  outcome: RequestOutcome;
  lease: LeaseRecord | null;
  nak: { server: string; message: string | null } | null;
  /** The offer the REQUESTs asked for (null: none was taken, or INIT-REBOOT). */
  offer: { server: string; address: string } | null;
  /** RFC 8925 (with --prefer-ipv6): the server said IPv6-only; DHCPv4 should wait this long. */
  ipv6Only: { server: string; waitSec: number } | null;
  timing: { discoverToOfferMs: number | null; requestToAckMs: number | null; totalMs: number };
  /** --server and --giaddr as used (null: broadcast, no relay). */
  server: string | null;
  giaddr: string | null;
  discoversSent: number;
  requestsSent: number;
  released: boolean;
  dropped: Record<string, number>;
  /** Ended by a signal before an answer: which, and the engine's phase then (where it stopped). */
  interrupted: { signal: string; phase: string } | null;
}

/** What the exchange runs on. */
export interface RequestIo extends ExchangeIo {
  random: () => number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export function runRequest(o: RequestOptions): Promise<RequestResult> {
  return withExchange(o, (io, route) => requestOver({ ...io, random: cryptoRandom }, o, route));
}

export async function requestOver(io: RequestIo, o: RequestOptions, route: UnicastRoute): Promise<RequestResult> {
  const { clock } = io;
  const mac = resolveMac(o.mac, io.interfaceMac);
  const startedAt = clock.now();
  let outcome: RequestOutcome | null = null;
  let lease: Lease | null = null;
  let nak: RequestResult["nak"] = null;
  let chosen: RequestResult["offer"] = null;
  let ipv6Only: RequestResult["ipv6Only"] = null;
  let released = false;
  let firstDiscoverAt: number | null = null,
    offerAt: number | null = null;
  let firstRequestAt: number | null = null,
    ackAt: number | null = null;
  let sendError: unknown = null;
  let bug: unknown = null;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const end = (o: RequestOutcome) => {
    outcome = o;
    finish();
  };

  const driver = new EngineDriver({
    config: {
      identity: { ...o.identity, mac },
      resident: false,
      retryMs: o.retryMs,
      tries: o.tries,
      requestedAddress: o.address,
      broadcastFlag: o.broadcastFlag,
      extra: o.extra,
      random: io.random,
      ...route,
    },
    transport: io.transport,
    timers: io.timers,
    clock,
    interfaceMac: io.interfaceMac,
    reactions: {
      sent(a, name, _to, now) {
        if (a.messageType === DHCPDISCOVER) firstDiscoverAt ??= now;
        if (a.messageType === DHCPREQUEST) firstRequestAt ??= now;
        log.debug(`sent ${name} xid 0x${a.xid.toString(16)}`);
        o.onSent?.(name, driver.sent[name] ?? 0);
      },
      sendFailed(_a, _name, err) {
        // The interface went away mid-exchange (a timer got us here): end, report it after.
        sendError ??= err;
        finish();
      },
      offer(serverId, address, now) {
        offerAt ??= now;
        chosen = { server: serverId, address };
        log.verbose(`offer of ${address} from ${escapeText(serverId)}`);
      },
      bound(l, _from, now) {
        ackAt = now;
        lease = l;
        end("bound");
      },
      nak(server, message) {
        nak = { server, message };
        end("nak");
      },
      failed(reason) {
        end(reason);
      },
      released() {
        released = true;
      },
      ipv6Only(server, waitSec) {
        ipv6Only = { server, waitSec };
        end("ipv6-only");
      },
      dropped(reason) {
        log.debug(`dropped a reply: ${reason}`);
      },
      receiveError(err) {
        log.debug(`receive: ${String(err)}`);
      },
      shellError(what, err) {
        log.error(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      },
      fatal(err) {
        bug = err;
        finish();
      },
    },
  });
  let interrupted: RequestResult["interrupted"] = null;
  io.signal?.addEventListener(
    "abort",
    () => {
      if (outcome === null) interrupted = { signal: String(io.signal?.reason), phase: driver.state.phase };
      finish();
    },
    { once: true },
  );
  try {
    await o.afterOpen?.(); // the privilege drop: replies are parsed as --user
    driver.dispatch({ kind: "start" });
    await done;
    // DESIGN.md: the kernel holds no address, so the RELEASE goes out as a raw frame from the
    // leased address to the server's MAC (the engine says so: unicast with srcIp).
    if (outcome === "bound" && o.release) driver.dispatch({ kind: "release" });
    if (driver.state.phase !== "STOPPED") driver.dispatch({ kind: "stop" }); // later replies are ignored
  } finally {
    driver.close();
  }
  if (bug !== null) {
    const text = bug instanceof Error ? bug.message : String(bug);
    throw new Error(`the client engine failed (a bug in dhcptool, please report it): ${text}`, { cause: bug });
  }
  if (sendError !== null) {
    if (outcome === null) throw sendError;
    log.warn(`sending failed after the exchange: ${sendError instanceof Error ? sendError.message : String(sendError)}`);
  }
  const finalLease = lease as Lease | null;
  return {
    interface: o.iface,
    mac: macToString(mac),
    outcome: outcome ?? (interrupted ? "interrupted" : o.address ? "no-ack" : "no-offer"),
    lease: finalLease ? leaseRecord(finalLease, wallOffset(clock)) : null,
    nak,
    ipv6Only,
    offer: chosen,
    timing: {
      discoverToOfferMs: firstDiscoverAt !== null && offerAt !== null ? round(offerAt - firstDiscoverAt) : null,
      requestToAckMs: firstRequestAt !== null && ackAt !== null ? round(ackAt - firstRequestAt) : null,
      totalMs: round(clock.now() - startedAt),
    },
    server: route.server?.ip ?? null,
    giaddr: route.relay?.giaddr ?? null,
    discoversSent: driver.sent.DISCOVER ?? 0,
    requestsSent: driver.sent.REQUEST ?? 0,
    released,
    dropped: driver.drops.toJSON(),
    interrupted,
  };
}
