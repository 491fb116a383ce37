// The resident client for one interface, as dhcpleased's frontend is around its engine: it
// keeps the lease the engine binds (store, --apply, hook, events) and follows the link. The
// engine decides everything about the protocol; cli/client/driver.ts carries out its actions;
// every piece of the world comes from outside (cli/daemon/resident-io.ts), so a unit test
// runs this whole life on a fake wire with a hand-turned clock. Every failure of the world (a
// send refused, a full disk, a route the kernel will not take, a hook that hangs) is reported
// and survived; an exception out of the engine is a bug: reported, and the client stops with
// exit status 1 (done).

import { macToString, parseMac } from "../../core/bytes.ts";
import type { ClientIdentity } from "../../core/client.ts";
import type { EngineConfig, Lease, Phase, UnboundReason } from "../../core/engine.ts";
import { escapeText } from "../../core/escape.ts";
import { leaseFromRecord, leaseRecord, type LeaseRecord } from "../../core/lease-record.ts";
import type { OptionBytes } from "../../core/message.ts";
import { EngineDriver, type EngineReactions } from "../client/driver.ts";
import { wallOffset, type Clock, type Timers } from "../client/time.ts";
import type { Transport } from "../client/transport.ts";
import { formatDuration } from "../render.ts";
import type { InterfaceSettings } from "./config.ts";
import type { ArpSink, DaemonEvent, HookSink, InterfaceFacts, LeaseApplier, LeaseStore, Level, LinkChange, LinkSource } from "./resident-io.ts";
import { StoreError } from "./store.ts";

/** What `lease show` prints of a running daemon, SIGUSR1 logs, and a metrics scrape reads. */
export interface ClientStatus {
  interface: string;
  pid: number;
  mac: string;
  phase: Phase;
  since: string;
  link: { up: boolean };
  applied: boolean;
  lease: LeaseRecord | null;
  /** Whole seconds until T1, T2 and the lease's end (null: never, an infinite lease). */
  remaining: { renew: number | null; rebind: number | null; expire: number | null } | null;
  ipv6OnlyUntil: string | null;
  settings: { ignoreDns: boolean; ignoreRoutes: boolean; ignoreServers: string[] };
  counters: { sent: Record<string, number>; received: number; dropped: Record<string, number>; hooksDropped: number };
  stateFile: string;
}

export interface ResidentOptions {
  iface: string;
  /** "interface": follow the interface's MAC (a new MAC starts over); or a fixed one. */
  mac: "interface" | Uint8Array;
  /** The identity without the MAC, CLI flags and config file already merged. */
  identity: Omit<ClientIdentity, "mac">;
  settings: InterfaceSettings;
  broadcastFlag: boolean;
  extra: OptionBytes[];
}

/** Everything the client does not decide itself. */
export interface ResidentIo {
  facts: InterfaceFacts;
  transport: Transport;
  links: LinkSource;
  /** null without --apply. */
  applier: LeaseApplier | null;
  /** Without --apply: answers ARP for the leased address (null: nothing answers, as in a unit test). */
  arp?: ArpSink | null;
  store: LeaseStore;
  /** null without --hook. */
  hook: HookSink | null;
  emit: (e: DaemonEvent) => void;
  timers: Timers;
  clock: Clock;
  random: () => number;
}

/** The hook's reason for a lease taken, by the phase that took it (dhclient-script's words). */
const BOUND_REASON: Partial<Record<Phase, string>> = {
  REQUESTING: "BOUND",
  REBOOTING: "REBOOT",
  RENEWING: "RENEW",
  REBINDING: "REBIND",
};
const UNBOUND_REASON: Record<UnboundReason, string> = {
  expired: "EXPIRE",
  nak: "NAK",
  "reboot-failed": "FAIL",
  restart: "RESTART",
  "ipv6-only": "IPV6ONLY",
};
const BOUND_VERB: Record<string, string> = { BOUND: "bound", REBOOT: "rebooted into", RENEW: "renewed", REBIND: "rebound" };

const errorText = (err: unknown) => (err instanceof Error ? (err.stack ?? err.message) : String(err));

export class ResidentClient {
  readonly iface: string;
  #o: ResidentOptions;
  readonly #io: ResidentIo;
  readonly #driver: EngineDriver;
  #mac: Uint8Array;
  #linkUp: boolean;
  #phaseSince: number;
  /** The lease bound now (for old_* hook variables and CARRIER/NOCARRIER). */
  #current: Lease | null = null;
  #stopped = false;
  #finish!: (code: number) => void;
  /** Resolves with an exit status when the client ends by itself (interface removed, released: 0; engine bug: 1). */
  readonly done: Promise<number>;

  constructor(o: ResidentOptions, io: ResidentIo) {
    this.iface = o.iface;
    this.#o = o;
    this.#io = io;
    this.#mac = o.mac === "interface" ? io.facts.mac : o.mac;
    this.#linkUp = io.facts.up;
    this.#phaseSince = io.clock.wallNow();
    this.done = new Promise((resolve) => {
      this.#finish = resolve;
    });
    this.#driver = new EngineDriver({
      config: this.#engineConfig(this.#storedLease()),
      transport: io.transport,
      timers: io.timers,
      clock: io.clock,
      interfaceMac: io.facts.mac,
      reactions: this.#reactions(),
    });
  }

  /** Follows the link and starts: REBOOTING into a stored lease, or a DISCOVER. */
  start(): void {
    this.#io.links.listen(
      (change) => this.#onLink(change),
      (err) => this.#emit("warn", "link-monitor", `link monitor: ${String(err)}`),
    );
    const lease = this.#driver.state.lease;
    this.#emit(
      "info",
      "start",
      `managing ${this.iface} (mac ${macToString(this.#mac)})` + (lease ? `, rebooting into the stored lease of ${lease.address}` : ""),
      { mac: macToString(this.#mac) },
    );
    if (lease && this.#io.applier) {
      const adopted = this.#io.applier.adopt(lease, !this.#o.settings.ignoreRoutes);
      if (adopted) this.#emit("debug", "adopted", `${lease.address} is still on ${this.iface}: it is ours until the reboot says otherwise`);
    }
    if (!this.#linkUp) {
      this.#emit("warn", "link", `${this.iface} has no carrier: waiting for it`, { up: false });
      this.#driver.dispatch({ kind: "link", up: false });
      return;
    }
    this.#driver.dispatch({ kind: "start" });
  }

  // ------------------------------------------------------------ the engine

  #engineConfig(storedLease: Lease | null): EngineConfig {
    const o = this.#o;
    return {
      identity: { ...o.identity, mac: this.#mac },
      resident: true,
      retryMs: 4000,
      tries: Infinity,
      broadcastFlag: o.broadcastFlag,
      extra: o.extra,
      ignoreServers: o.settings.ignoreServers,
      storedLease,
      random: this.#io.random,
    };
  }

  /** The stored lease on the engine's clock, when it is this MAC's and still valid. */
  #storedLease(): Lease | null {
    const r = this.#io.store.load(this.#io.clock.wallNow());
    if (!r.ok) {
      if (r.reason !== "missing") this.#emit("warn", "store", `ignoring the stored lease for ${this.iface} (${r.reason}): ${r.detail}`);
      return null;
    }
    if (r.expired) return null;
    if (r.stored.mac !== macToString(this.#mac)) return null; // another MAC's lease is not ours to ask for
    return leaseFromRecord(r.stored.lease, wallOffset(this.#io.clock));
  }

  #reactions(): EngineReactions {
    return {
      phase: (from, to) => {
        this.#phaseSince = this.#io.clock.wallNow();
        this.#emit("debug", "phase", `${from} → ${to}`, { from, to });
      },
      sent: (a, name, to) => this.#emit("debug", "sent", `sent ${name} xid 0x${a.xid.toString(16)} to ${to.ip}`, { type: name, xid: a.xid, to: to.ip }),
      // The engine's retransmission timer is armed: the next try may work (link back, buffers free).
      sendFailed: (_a, name, err) => this.#emit("warn", "send-failed", `sending ${name} on ${this.iface}: ${err instanceof Error ? err.message : String(err)}`),
      offer: (serverId, address) => this.#emit("debug", "offer", `offer of ${address} from ${escapeText(serverId)}`, { server: serverId, address }),
      // Said at the default level: a server that offers and then never ACKs is what to look at.
      notAcked: (serverId, address, requests) =>
        this.#emit(
          "warn",
          "not-acked",
          `the offer of ${address} from ${escapeText(serverId)} got no ACK to ${requests} REQUEST(s): starting over with a DISCOVER`,
          { server: serverId, address, requests },
        ),
      bound: (lease, from, now) => this.#bound(lease, BOUND_REASON[from] ?? "BOUND", now),
      unbound: (lease, why) => this.#unbound(lease, why),
      nak: (server, message) =>
        this.#emit("warn", "nak", `NAK from ${escapeText(server)}${message ? `: ${escapeText(message)}` : ""}`, { server, text: message }),
      released: (lease) => {
        this.#deconfigure(lease);
        this.#hook("RELEASE", null, lease);
        this.#emit("info", "released", `released ${lease.address} to ${escapeText(lease.serverId)}`, { address: lease.address });
      },
      ipv6Only: (server, waitSec) => {
        this.#emit("info", "ipv6-only", `${escapeText(server)} says this network is IPv6-only: no DHCPv4 for ${waitSec} s (RFC 8925)`, { server, waitSec });
        this.#hook("IPV6ONLY", null, null, { v6only_wait: String(waitSec) });
      },
      dropped: (reason) => this.#emit("debug", "dropped", `dropped a reply: ${reason}`, { reason }),
      receiveError: (err) => this.#emit("warn", "receive-error", `receive on ${this.iface}: ${String(err)}`),
      shellError: (what, err) => this.#emit("error", "bug", `${what}: ${errorText(err)}`),
      fatal: (err) => this.#fatal(err),
    };
  }

  /** dhcpleased's fatal(): the engine broke an invariant, its state cannot be trusted. */
  #fatal(err: unknown): void {
    this.#emit("error", "bug", `engine: ${errorText(err)}`);
    this.#emit("error", "fatal", `the client engine failed (a bug in dhcptool): stopping on ${this.iface}`);
    this.#end("engine failure");
    this.#finish(1);
  }

  // ------------------------------------------------------------ what a lease does

  #record(lease: Lease, forHook = false): LeaseRecord {
    const r = leaseRecord(lease, wallOffset(this.#io.clock));
    if (!forHook) return r;
    // "ignore dns" / "ignore routes" (the config file): the hook is not told to use them.
    const s = this.#o.settings;
    return { ...r, ...(s.ignoreDns ? { dns: [] } : {}), ...(s.ignoreRoutes ? { routers: [], routes: [] } : {}) };
  }

  #bound(lease: Lease, reason: string, now: number): void {
    const { store, applier, clock } = this.#io;
    const old = this.#current;
    this.#current = lease;
    if (old && old.address !== lease.address) {
      // RFC 2131 leaves it open; like systemd's IP_CHANGE it is a new binding: the old
      // address comes off (the applier), the hook gets old_* and new_*.
      this.#emit("warn", "address-changed", `${escapeText(lease.serverId)} moved ${this.iface} from ${old.address} to ${lease.address} (${reason})`, {
        from: old.address,
        to: lease.address,
      });
    }
    const rec = this.#record(lease);
    try {
      store.save({
        version: 1,
        interface: this.iface,
        mac: macToString(this.#mac),
        savedAt: new Date(clock.wallNow()).toISOString(),
        lease: rec,
        ...(applier ? { applied: { metric: applier.metric, routes: !this.#o.settings.ignoreRoutes } } : {}),
      });
    } catch (err) {
      this.#emit("error", "store", err instanceof StoreError ? err.message : `storing the lease: ${String(err)}`);
    }
    if (applier) {
      const rep = applier.apply(lease, now, !this.#o.settings.ignoreRoutes);
      for (const f of rep.failed) this.#emit("warn", "apply", `--apply: ${f}`);
      this.#emit("debug", "applied", `--apply: ${rep.done.join(", ")}`, { done: rep.done });
    } else this.#io.arp?.serve(lease.address, this.#mac); // the kernel does not hold it: we answer for it
    this.#hook(reason, lease, old && old.address !== lease.address ? old : null);
    const times = lease.infinite ? "infinite lease" : `lease ${formatDuration(lease.leaseTime)}, renew in ${formatDuration(lease.t1)}`;
    this.#emit("info", reason.toLowerCase(), `${BOUND_VERB[reason]} ${lease.address} from ${escapeText(lease.serverId)} (${times})`, {
      reason,
      address: lease.address,
      server: lease.serverId,
      lease: rec,
    });
  }

  #unbound(lease: Lease, why: UnboundReason): void {
    this.#deconfigure(lease);
    this.#hook(UNBOUND_REASON[why], null, lease);
    this.#emit("warn", "unbound", `lost ${lease.address}: ${why}`, { reason: UNBOUND_REASON[why], why, address: lease.address });
  }

  #deconfigure(lease: Lease): void {
    this.#current = null;
    this.#io.arp?.serve(null, this.#mac);
    try {
      this.#io.store.remove();
    } catch (err) {
      this.#emit("warn", "store", `removing the stored lease: ${err instanceof Error ? err.message : String(err)}`);
    }
    const applier = this.#io.applier;
    if (applier?.applied) {
      const rep = applier.remove();
      for (const f of rep.failed) this.#emit("warn", "apply", `--apply: ${f}`);
      this.#emit("debug", "deconfigured", `--apply: ${rep.done.join(", ")} (${lease.address})`);
    }
  }

  #hook(reason: string, lease: Lease | null, oldLease: Lease | null, extra?: Record<string, string>): void {
    this.#io.hook?.push({
      reason,
      interface: this.iface,
      lease: lease ? this.#record(lease, true) : null,
      oldLease: oldLease ? this.#record(oldLease, true) : null,
      extra,
    });
  }

  // ------------------------------------------------------------ the link

  #onLink(ev: LinkChange): void {
    if (ev.ifindex !== this.#io.facts.index || this.#stopped) return;
    if (ev.kind === "del") {
      this.#emit("warn", "link", `${this.iface} was removed: stopping`, { removed: true });
      this.stop(false, "interface removed");
      this.#finish(0);
      return;
    }
    // The kernel coalesces quick flaps: every event is "look again", not a transition.
    const up = ev.up && ev.carrier;
    if (up !== this.#linkUp) {
      this.#linkUp = up;
      this.#emit(up ? "info" : "warn", "link", `${this.iface}: carrier ${up ? "back" : "lost"}`, { up });
      this.#hook(up ? "CARRIER" : "NOCARRIER", this.#current, null);
      this.#driver.dispatch({ kind: "link", up });
    }
    const mac = parseMac(ev.mac);
    if (this.#o.mac === "interface" && mac && macToString(mac) !== macToString(this.#mac)) {
      this.#emit("info", "mac", `${this.iface}: MAC changed to ${macToString(mac)}: starting over`, { mac: macToString(mac) });
      this.#mac = mac;
      this.#driver.dispatch({ kind: "reconfigure", config: this.#engineConfig(null), keepLease: false });
    }
  }

  // ------------------------------------------------------------ control

  /** New settings (SIGHUP): when they differ, reboot into the lease with them (dhcpleased's changed_ifaces). */
  reconfigure(identity: Omit<ClientIdentity, "mac">, settings: InterfaceSettings): void {
    this.#o = { ...this.#o, identity, settings };
    this.#emit("info", "reconfigure", `${this.iface}: settings changed: rebooting with them`);
    this.#driver.dispatch({ kind: "reconfigure", config: this.#engineConfig(null), keepLease: true });
  }

  renew(): string {
    const p = this.#driver.state.phase;
    this.#driver.dispatch({ kind: "renew" });
    return `${p} → ${this.#driver.state.phase}`;
  }

  rebind(): string {
    const p = this.#driver.state.phase;
    this.#driver.dispatch({ kind: "rebind" });
    return `${p} → ${this.#driver.state.phase}`;
  }

  /** RELEASE (when bound), deconfigure, and end: the daemon exits. */
  release(): boolean {
    const s = this.#driver.state;
    const had = s.lease !== null && ["BOUND", "RENEWING", "REBINDING"].includes(s.phase);
    this.stop(true, "released");
    this.#finish(0);
    return had;
  }

  /** Stops: no more sending. release: give the lease back first. The lease stays stored otherwise. */
  stop(release: boolean, why: string): void {
    if (this.#stopped) return;
    if (release) this.#driver.dispatch({ kind: "release" });
    const s = this.#driver.state;
    const lease = s.phase === "STOPPED" ? null : s.lease;
    this.#driver.dispatch({ kind: "stop" });
    if (this.#stopped) return; // the engine failed on the way
    if (lease) this.#hook("STOP", lease, null);
    this.#end(why);
  }

  /** Closes everything it was given and says so, with the packet counters. */
  #end(why: string): void {
    this.#stopped = true;
    const { transport, links, applier, arp } = this.#io;
    this.#driver.close();
    links.close();
    transport.close();
    applier?.close();
    arp?.close();
    this.#emit("info", "stop", `stopped on ${this.iface} (${why})`, { why, counters: this.#counters() });
  }

  #counters(): { sent: Record<string, number>; received: number; dropped: Record<string, number>; arpAnswered?: number } {
    const d = this.#driver;
    return { sent: { ...d.sent }, received: d.received, dropped: d.drops.toJSON(), ...(this.#io.arp ? { arpAnswered: this.#io.arp.answered } : {}) };
  }

  status(): ClientStatus {
    const s = this.#driver.state;
    const { clock, applier, hook, store } = this.#io;
    const lease = s.lease ? this.#record(s.lease) : null;
    const now = clock.now();
    const inSec = (t: number | null | undefined) => (t == null ? null : Math.max(0, Math.round((t - now) / 1000)));
    return {
      interface: this.iface,
      pid: process.pid,
      mac: macToString(this.#mac),
      phase: s.phase,
      since: new Date(this.#phaseSince).toISOString(),
      link: { up: this.#linkUp },
      applied: (applier?.applied ?? null) !== null,
      lease,
      remaining: s.lease ? { renew: inSec(s.lease.renewAt), rebind: inSec(s.lease.rebindAt), expire: inSec(s.lease.expiresAt) } : null,
      ipv6OnlyUntil: s.ipv6OnlyUntil === null ? null : new Date(s.ipv6OnlyUntil + wallOffset(clock)).toISOString(),
      settings: { ignoreDns: this.#o.settings.ignoreDns, ignoreRoutes: this.#o.settings.ignoreRoutes, ignoreServers: this.#o.settings.ignoreServers },
      counters: { ...this.#counters(), hooksDropped: hook?.dropped ?? 0 },
      stateFile: store.path,
    };
  }

  #emit(level: Level, event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.#io.emit({ level, event, message, interface: this.iface, ...fields });
  }
}
