// Which DHCP servers answer on a link, one-shot: DISCOVERs on core's schedule, every OFFER
// collected (core/offers.ts) for the listening window, or until the first with --first.
// runDiscover opens the interface; discoverOver is the window itself over whatever
// Transport, Timers and Clock it is given. No engine here: discover binds nothing.

import { macToString } from "../../core/bytes.ts";
import type { AllowList } from "../../core/allow-list.ts";
import { buildDiscover, frameClientMessage, type ClientIdentity } from "../../core/client.ts";
import { nextDiscoverAt } from "../../core/discover-schedule.ts";
import { OfferCollector, type Offer } from "../../core/offers.ts";
import { clientReplyPath, relayReplyPath } from "../../core/reply.ts";
import { log } from "../log.ts";
import { randomU32, resolveMac, type ClientOptions } from "./identity.ts";
import { withExchange, withExchanges, type ExchangeIo } from "./exchange.ts";
import { unicastDestination, type UnicastRoute } from "./unicast.ts";

export interface DiscoverOptions extends ClientOptions {
  /** The listening window, ms. */
  waitMs: number;
  first: boolean;
  allow: AllowList | null;
  onOffer?: (offer: Offer) => void;
}

export interface DiscoverResult {
  interface: string;
  mac: string;
  xid: string;
  discoversSent: number;
  elapsedMs: number;
  /** --server and --giaddr as used (null: broadcast, no relay). */
  server: string | null;
  giaddr: string | null;
  /** --vlan: the VLAN probed on a trunk (null: the link's own, untagged). */
  vlan: number | null;
  offers: Offer[];
  rogueServers: string[];
  /** VLANs that replies came tagged with, other than the one probed: dropped (other-vlan), their servers are not on this link. */
  otherVlans: number[];
  dropped: Record<string, number>;
  warnings: Record<string, number>;
  kernelDrops: number;
  /** The signal that ended the window early (SIGINT: Ctrl-C; SIGTERM), else null. */
  interrupted: string | null;
}

export interface DiscoverIo extends ExchangeIo {
  xid: number;
}

/**
 * discover's socket hears every VLAN: a reply tagged with another VLAN than the one probed
 * is then dropped and counted (other-vlan) where the user sees it, not silently in the kernel.
 * With --vlan the socket hears that VLAN alone (and tags the DISCOVERs).
 */
const EVERY_VLAN = { vlan: "any" } as const;

export function runDiscover(o: DiscoverOptions): Promise<DiscoverResult> {
  return withExchange(o, (io, route) => discoverOver({ ...io, xid: randomU32() }, o, route), EVERY_VLAN);
}

/** One interface of several that failed in its window (it went down, went away): the others still count. */
export interface DiscoverFailure {
  interface: string;
  error: string;
}

/**
 * discover on several interfaces at once, in one process: every socket opened first, then
 * `afterOpen` (the privilege drop), then one window per interface side by side. Results in
 * the order given; an interface that fails mid-window is a DiscoverFailure, not the end.
 */
export function runDiscoverMany(list: DiscoverOptions[], afterOpen: () => Promise<void>): Promise<(DiscoverResult | DiscoverFailure)[]> {
  return withExchanges(
    list,
    afterOpen,
    (io, route, o) =>
      discoverOver({ ...io, xid: randomU32() }, { ...o, afterOpen: undefined }, route).catch((err: unknown) => ({
        interface: o.iface,
        error: err instanceof Error ? err.message : String(err),
      })),
    EVERY_VLAN,
  );
}

export async function discoverOver(io: DiscoverIo, o: DiscoverOptions, route: UnicastRoute): Promise<DiscoverResult> {
  const { transport, timers, clock, xid } = io;
  const mac = resolveMac(o.mac, io.interfaceMac);
  const identity: ClientIdentity = { ...o.identity, mac };
  const startedAt = clock.now();
  const relay = route.relay;
  const collector = new OfferCollector({
    xid,
    mac,
    startedAt,
    allow: o.allow ?? undefined,
    server: route.server?.ip,
    vlan: o.vlan ?? null,
    // A relay's answers come to giaddr:67, in frames to the interface's MAC (chaddr may be random).
    replyPath: relay ? relayReplyPath(relay.giaddr, io.interfaceMac) : clientReplyPath(mac),
  });
  const to = unicastDestination(route);
  // A relay agent speaks from its own interface; a client from chaddr (--mac).
  const srcMac = relay ? io.interfaceMac : mac;
  if (route.server) log.verbose(`unicast to ${route.server.ip} from ${to.srcIp}:${to.srcPort ?? 68}${relay ? " as a relay agent" : ""}`);

  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  transport.listen(
    (frame) => {
      // --first: exactly one, though several may arrive in one receive batch
      if (o.first && collector.offers.length) return;
      const offer = collector.accept(frame, clock.now());
      if (!offer) return;
      o.onOffer?.(offer);
      if (o.first) finish();
    },
    (err) => log.debug(`receive: ${String(err)}`),
  );

  let sent = 0;
  let sendError: unknown = null;
  const sendNext = () => {
    // RFC 2131 4.1: a client retransmits while no reply has come. Once an OFFER is in, another
    // DISCOVER only asks each server to set aside one more address (Kea offers a new one per
    // DISCOVER it hears); the window stays open for the slower servers all the same.
    if (sent > 0 && collector.offers.length > 0) {
      log.verbose(`no retransmission: ${collector.offers.length} offer(s) in; listening until the window closes`);
      return;
    }
    const secs = Math.min(0xffff, Math.floor((clock.now() - startedAt) / 1000));
    const dhcp = buildDiscover(identity, {
      xid,
      secs,
      broadcastFlag: o.broadcastFlag,
      extra: o.extra,
      ...(relay ? { giaddr: relay.giaddr, hops: 1 } : {}),
    });
    try {
      transport.send(frameClientMessage(srcMac, dhcp, to));
    } catch (err) {
      // The interface went away or down mid-window (a timer calls us: nothing above would
      // catch it). End the window; the error is reported once it is closed.
      sendError = err;
      finish();
      return;
    }
    sent++;
    const at = nextDiscoverAt(sent, { waitMs: o.waitMs, retryMs: o.retryMs, tries: o.tries });
    if (at !== null) timers.arm("retransmit", startedAt + at, sendNext);
  };
  // The window timer also keeps the event loop alive while the receive thread waits.
  timers.arm("window", startedAt + o.waitMs, finish);
  io.signal?.addEventListener("abort", () => finish(), { once: true });
  try {
    await o.afterOpen?.();
    sendNext();
    await done;
  } finally {
    timers.clear();
  }
  const elapsedMs = clock.now() - startedAt;
  const kernelDrops = transport.kernelDrops();
  if (sendError !== null) throw sendError;
  return {
    interface: o.iface,
    mac: macToString(mac),
    xid: "0x" + xid.toString(16).padStart(8, "0"),
    discoversSent: sent,
    elapsedMs: Math.round(elapsedMs),
    server: route.server?.ip ?? null,
    giaddr: relay?.giaddr ?? null,
    vlan: o.vlan ?? null,
    offers: collector.offers,
    rogueServers: [...new Set(collector.offers.filter((x) => x.rogue).map((x) => x.serverId ?? x.sourceIp))],
    otherVlans: [...collector.otherVlans],
    dropped: collector.drops.toJSON(),
    warnings: collector.warnings.toJSON(),
    kernelDrops,
    interrupted: io.signal?.aborted ? String(io.signal.reason) : null,
  };
}
