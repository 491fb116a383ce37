// request --clients: N simulated clients, each a whole DORA on its own engine (the one core
// engine and the one driver, as a single request runs), started at a fixed rate whatever the
// server does (open loop), all over one packet socket (TransportMux: each client a port, its
// replies routed by chaddr) and one timer (TimerWheel: each client a view). What each client
// does after its ACK (renew once, release) is the engine's too, asked for through the driver.
// loadOver is the run over whatever IO it is given (a unit test: a fake wire and clock);
// runLoad opens the interface.

import { macToString } from "../../core/bytes.ts";
import { DHCPDISCOVER, DHCPRELEASE, DHCPREQUEST } from "../../core/options.ts";
import { clientMac, clientRandom, hasPrefix, plannedStarts, startAt, startsDue, type Pace } from "../../core/load-plan.ts";
import {
  achievedRate,
  detectExhaustion,
  Samples,
  Series,
  type Counts,
  type DoraOutcome,
  type Exhaustion,
  type LatencySummary,
  type SecondRow,
} from "../../core/load-stats.ts";
import { DropCounters } from "../../core/drops.ts";
import { log } from "../log.ts";
import { EngineDriver } from "./driver.ts";
import { withExchange, type ExchangeIo } from "./exchange.ts";
import type { ClientOptions } from "./identity.ts";
import { TransportMux } from "./mux.ts";
import type { UnicastRoute } from "./unicast.ts";
import { keepHotPathFromFtl } from "./jit.ts";
import { TimerWheel } from "./wheel.ts";

export interface LoadOptions extends Omit<ClientOptions, "mac"> {
  clients: number;
  /** DORAs started per second. */
  rate: number;
  /** Stop starting after this many seconds (null: when all clients have started). */
  durationSec: number | null;
  /** After the ACK, renew once (a unicast REQUEST to the lease's server); then release, if asked. */
  renew: boolean;
  release: boolean;
  macPrefix: Uint8Array;
  seed: number;
  /** Option 12 for client n is `${hostnamePrefix}-${n}`; null: none. */
  hostnamePrefix: string | null;
  /** Each second of the run, as it ends (a live status line). */
  onSecond?: (row: SecondRow, total: Counts, started: number) => void;
}

const OUTCOMES: readonly DoraOutcome[] = ["bound", "nak", "no-offer", "no-ack", "interrupted"];
const PENDING = 255;

export interface LoadReport {
  interface: string;
  seed: number;
  macPrefix: string;
  server: string | null;
  giaddr: string | null;
  clients: number;
  /** DORAs the schedule called for (--clients, or fewer when --duration ends first) and started. */
  planned: number;
  started: number;
  rate: { target: number; achieved: number | null; leasesPerSecond: number | null };
  /** From the first DISCOVER to the last start, and to the end of the run (ms). */
  startWindowMs: number;
  elapsedMs: number;
  /** Every message sent and received, retransmissions included. */
  counts: Counts;
  outcomes: Record<DoraOutcome, number>;
  /** Dropped exchanges as a share of those that needed an answer (%). */
  dropPercent: { offer: number; ack: number };
  latencyMs: { offer: LatencySummary | null; ack: LatencySummary | null; renew: LatencySummary | null };
  /** An ACK for an address another client of this run still held. */
  duplicateAddresses: number;
  exhaustion: Exhaustion | null;
  /** Replies dropped, by reason: what no client took (late, no-such-client…) and what a client refused. */
  dropped: Record<string, number>;
  kernelDrops: number;
  series: SecondRow[];
}

const pct = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part * 10000) / whole) / 100);

export function runLoad(o: LoadOptions): Promise<LoadReport> {
  keepHotPathFromFtl();
  return withExchange({ ...o, mac: "interface" }, (io, route) => loadOver(io, o, route), { promiscuous: true, ring: "prompt" }); // a block per ms: REQUESTs do not wait for a block of OFFERs
}

export async function loadOver(io: ExchangeIo, o: LoadOptions, route: UnicastRoute): Promise<LoadReport> {
  const { clock } = io;
  // The privilege drop first (replies are parsed as --user), and the run's clock starts after it.
  await o.afterOpen?.();
  const wheel = new TimerWheel(io.timers, clock);
  const mux = new TransportMux(
    io.transport,
    (err) => log.debug(`receive: ${String(err)}`),
    (key) => hasPrefix(key, o.macPrefix),
  );
  /** When the reply being handled was read off the socket (the transport's clock is the clock's), else now. */
  const arrived = (now: number) => Math.min(now, mux.arrivedAt() ?? now);
  const pace: Pace = { rate: o.rate, total: plannedStarts(o.clients, o.rate, o.durationSec) };
  const outcomes = new Uint8Array(pace.total).fill(PENDING);
  const offerMs = new Samples(),
    ackMs = new Samples(),
    renewMs = new Samples();
  const refused = new DropCounters();
  const holders = new Map<string, number>();
  let duplicates = 0;
  const t0 = clock.now();
  const series = new Series(t0);
  let started = 0,
    active = 0;
  let firstStart: number | null = null,
    lastStart: number | null = null,
    lastAck: number | null = null;
  let stopping = false,
    failure: unknown = null;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const live = new Set<() => void>();

  const maybeDone = () => {
    if (stopping || (started === pace.total && active === 0)) finish();
  };
  const stopAll = (err?: unknown) => {
    if (err !== undefined) failure ??= err;
    stopping = true;
    finish();
  };

  function startClient(index: number): void {
    const mac = clientMac(o.macPrefix, o.seed, index);
    const port = mux.port(mac);
    const timers = wheel.view();
    let discoverAt: number | null = null,
      requestAt: number | null = null,
      renewAt: number | null = null;
    let renewing = false,
      closed = false;
    const end = (outcome: DoraOutcome | null) => {
      if (closed) return;
      closed = true;
      if (outcome !== null && outcomes[index] === PENDING) outcomes[index] = OUTCOMES.indexOf(outcome);
      if (driver.state.phase !== "STOPPED") driver.dispatch({ kind: "stop" });
      for (const [reason, n] of driver.drops.counts) refused.add(reason, n);
      driver.close();
      port.close();
      live.delete(cut);
      active--;
      maybeDone();
    };
    const cut = () => end("interrupted");
    /** After the DORA's ACK: renew once, then release, as asked; else done. Not inside the driver's own dispatch. */
    const afterAck = (now: number) => {
      timers.arm("next", now, () => {
        if (o.renew && !renewing) {
          renewing = true;
          // The engine retransmits a RENEWING REQUEST no sooner than 60 s (RFC 2131 4.4.5): a
          // renew unanswered within --timeout x --tries counts as dropped.
          timers.arm("renew-deadline", clock.now() + o.retryMs * o.tries, () => {
            series.count("renewNoAck", clock.now());
            release();
          });
          driver.dispatch({ kind: "renew" });
          return;
        }
        release();
      });
    };
    const release = () => {
      if (o.release) driver.dispatch({ kind: "release" });
      end(null);
    };
    const driver = new EngineDriver({
      config: {
        identity: { ...o.identity, mac, hostname: o.hostnamePrefix === null ? null : `${o.hostnamePrefix}-${index}` },
        resident: false,
        retryMs: o.retryMs,
        tries: o.tries,
        broadcastFlag: o.broadcastFlag,
        extra: o.extra,
        random: clientRandom(o.seed, index),
        ...route,
      },
      transport: port,
      timers,
      clock,
      interfaceMac: io.interfaceMac,
      reactions: {
        sent(a, _name, _to, now) {
          if (a.messageType === DHCPDISCOVER) {
            discoverAt ??= now;
            series.count("discovers", now);
          } else if (a.messageType === DHCPREQUEST && renewing) {
            renewAt ??= now;
            series.count("renews", now);
          } else if (a.messageType === DHCPREQUEST) {
            requestAt ??= now;
            series.count("requests", now);
          } else if (a.messageType === DHCPRELEASE) {
            series.count("releases", now);
            const address = driver.state.lease?.address;
            if (address !== undefined && holders.get(address) === index) holders.delete(address);
          }
        },
        sendFailed(_a, name, err) {
          stopAll(new Error(`sending a ${name} failed: ${err instanceof Error ? err.message : String(err)}`));
        },
        offer(_server, _address, now) {
          const ms = arrived(now) - (discoverAt ?? now);
          offerMs.add(ms);
          series.reply("offers", now, ms);
        },
        bound(lease, from, now) {
          if (from === "RENEWING") {
            const ms = arrived(now) - (renewAt ?? now);
            renewMs.add(ms);
            series.count("renewAcks", now);
            timers.disarm("renew-deadline");
            afterAck(now);
            return;
          }
          const ms = arrived(now) - (requestAt ?? now);
          ackMs.add(ms);
          series.reply("acks", now, ms);
          lastAck = now;
          outcomes[index] = 0;
          const holder = holders.get(lease.address);
          if (holder !== undefined && holder !== index) duplicates++;
          holders.set(lease.address, index);
          afterAck(now);
        },
        nak(_server, _message) {
          const now = clock.now();
          if (renewing) {
            series.count("renewNaks", now);
            timers.disarm("renew-deadline");
            end(null); // the lease is gone: nothing to release
            return;
          }
          series.count("naks", now);
          end("nak");
        },
        failed(reason) {
          series.count(reason === "no-offer" ? "noOffer" : "noAck", clock.now());
          end(reason);
        },
        ipv6Only(server, waitSec) {
          log.debug(`client ${index}: ${server} says IPv6-only (wait ${waitSec} s)`);
          series.count("noOffer", clock.now());
          end("no-offer");
        },
        shellError(what, err) {
          log.error(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        },
        fatal(err) {
          stopAll(
            new Error(`the client engine failed (a bug in dhcptool, please report it): ${err instanceof Error ? err.message : String(err)}`, { cause: err }),
          );
        },
      },
    });
    active++;
    live.add(cut);
    lastStart = clock.now();
    firstStart ??= lastStart;
    driver.dispatch({ kind: "start" });
  }

  const pacer = wheel.view();
  const tick = () => {
    if (stopping) return;
    const due = startsDue(pace, clock.now() - t0);
    while (started < due && !stopping) startClient(started++);
    if (started < pace.total) pacer.arm("pace", t0 + startAt(pace, started), tick);
    else maybeDone();
  };
  let second = 0;
  const everySecond = () => {
    const row = series.row(second);
    if (row && o.onSecond) o.onSecond(row, series.total, started);
    second++;
    pacer.arm("second", t0 + (second + 1) * 1000, everySecond);
  };
  io.signal?.addEventListener("abort", () => stopAll(), { once: true });
  try {
    if (o.onSecond) pacer.arm("second", t0 + 1000, everySecond);
    tick();
    await done;
  } finally {
    for (const cut of [...live]) cut();
    wheel.clear();
  }
  if (failure !== null) throw failure;
  const outcomeList = [...outcomes.subarray(0, started)].map((c) => OUTCOMES[c === PENDING ? 4 : c]);
  const counted = Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as Record<DoraOutcome, number>;
  for (const k of outcomeList) counted[k]++;
  for (const [reason, n] of mux.drops.counts) refused.add(reason, n);
  const finishedAt = clock.now();
  const c = series.total;
  return {
    interface: o.iface,
    seed: o.seed,
    macPrefix: macToString(Uint8Array.of(...o.macPrefix, 0, 0, 0)).slice(0, 8),
    server: route.server?.ip ?? null,
    giaddr: route.relay?.giaddr ?? null,
    clients: o.clients,
    planned: pace.total,
    started,
    rate: {
      // from the schedule's origin: a first start that came late and the burst that caught up
      // do not make the rate look higher than it was
      target: o.rate,
      achieved: achievedRate(started, firstStart === null ? null : t0, lastStart),
      leasesPerSecond: achievedRate(counted.bound, firstStart, lastAck),
    },
    startWindowMs: round(firstStart !== null && lastStart !== null ? lastStart - firstStart : 0),
    elapsedMs: round(finishedAt - t0),
    counts: { ...c },
    outcomes: counted,
    dropPercent: { offer: pct(c.noOffer, started - counted.interrupted), ack: pct(c.noAck, c.offers) },
    latencyMs: { offer: offerMs.summary(), ack: ackMs.summary(), renew: renewMs.summary() },
    duplicateAddresses: duplicates,
    exhaustion: detectExhaustion(outcomeList),
    dropped: refused.toJSON(),
    kernelDrops: io.transport.kernelDrops(),
    series: series.rows(),
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
