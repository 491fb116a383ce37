// The resident client for one interface: the IO shell around core/engine.ts, as dhcpleased's
// frontend is around its engine. It owns the packet socket, the timers (on the monotonic
// clock), the link monitor, the lease store, --apply and the hook; the engine decides
// everything about the protocol. Every action the engine returns is carried out here and
// nowhere else; every failure of the world (a send refused, a full disk, a route the kernel
// will not take, a hook that hangs) is reported and survived, never thrown into the engine.

import { macToString, parseMac } from "../../core/bytes.ts";
import { frameClientMessage, type ClientIdentity } from "../../core/client.ts";
import { DropCounters } from "../../core/drops.ts";
import {
  initialState, step, type Action, type ClientState, type EngineConfig, type Event, type Lease, type Phase,
  type TimerName, type UnboundReason,
} from "../../core/engine.ts";
import { escapeText } from "../../core/escape.ts";
import { leaseFromRecord, leaseRecord, type LeaseRecord } from "../../core/lease-record.ts";
import { BROADCAST_MAC, DHCP_CLIENT_PORT, parseUdpFrame } from "../../core/frame.ts";
import { decodeMessage, type OptionBytes } from "../../core/message.ts";
import { DHCPDISCOVER, DHCPRELEASE, DHCPREQUEST } from "../../core/options.ts";
import type { LinkEvent, LinkMonitor, NetlinkRoute } from "../../native/netlink.ts";
import type { RawSocket } from "../../native/rawsocket.ts";
import { Applier } from "./apply.ts";
import type { InterfaceSettings } from "./config.ts";
import type { HookQueue } from "./hook.ts";
import {
  leasePath, loadLease, removeLease, saveLease, StoreError,
} from "./store.ts";

export type Level = "debug" | "info" | "warn" | "error";

/** What the daemon reports: one NDJSON line each with --json, a log line otherwise. */
export interface DaemonEvent {
  level: Level;
  event: string;
  message: string;
  [key: string]: unknown;
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
  stateDir: string;
  apply: boolean;
  hook: HookQueue | null;
  emit: (e: DaemonEvent) => void;
}

const TYPE_NAMES: Record<number, string> = { [DHCPDISCOVER]: "DISCOVER", [DHCPREQUEST]: "REQUEST", [DHCPRELEASE]: "RELEASE" };
/** setTimeout holds at most 2^31-1 ms (~24.8 days); longer timers are re-armed when they fire early. */
const MAX_TIMER_MS = 0x7fffffff;

/** The hook's reason for a lease taken, by the phase that took it (dhclient-script's words). */
const BOUND_REASON: Partial<Record<Phase, string>> = {
  REQUESTING: "BOUND", REBOOTING: "REBOOT", RENEWING: "RENEW", REBINDING: "REBIND",
};
const UNBOUND_REASON: Record<UnboundReason, string> = {
  expired: "EXPIRE", nak: "NAK", "reboot-failed": "FAIL", restart: "RESTART", "ipv6-only": "IPV6ONLY",
};

export class ResidentClient {
  readonly iface: string;
  #o: ResidentOptions;
  #state: ClientState;
  #mac: Uint8Array;
  #ifindex: number;
  #linkUp: boolean;
  #wallOffset = Date.now() - performance.now();
  #timers = new Map<TimerName, Timer>();
  #socket: RawSocket;
  #monitor: LinkMonitor | null = null;
  #nl: NetlinkRoute | null;
  #applier: Applier | null;
  #drops = new DropCounters();
  #sent: Record<string, number> = {};
  #received = 0;
  #phaseSince = Date.now();
  #stopped = false;
  #finish!: (code: number) => void;
  /** Resolves with an exit status when the client ends by itself (interface removed, released). */
  readonly done: Promise<number>;

  private constructor(o: ResidentOptions, socket: RawSocket, info: { index: number; mac: Uint8Array; up: boolean }, nl: NetlinkRoute | null) {
    this.iface = o.iface;
    this.#o = o;
    this.#socket = socket;
    this.#ifindex = info.index;
    this.#mac = o.mac === "interface" ? info.mac : o.mac;
    this.#linkUp = info.up;
    this.#nl = nl;
    this.#applier = nl ? new Applier(nl, info.index) : null;
    this.done = new Promise((resolve) => { this.#finish = resolve; });
    this.#state = initialState(this.#engineConfig(this.#storedLease()));
  }

  /** Opens the sockets and starts: REBOOTING into a stored lease, or a DISCOVER. */
  static async start(o: ResidentOptions): Promise<ResidentClient> {
    const { RawSocket, interfaceInfo } = await import("../../native/rawsocket.ts");
    const { LinkMonitor, NetlinkRoute } = await import("../../native/netlink.ts");
    const info = interfaceInfo(o.iface);
    const nl = o.apply ? NetlinkRoute.open() : null;
    let client: ResidentClient | null = null;
    const socket = RawSocket.open(o.iface, {
      filter: "client",
      onFrame: (frame) => { if (client) client.#onFrame(frame.bytes, frame.csum, frame.outgoing); },
      onError: (err) => { if (client) client.#emit("warn", "receive-error", `receive on ${o.iface}: ${String(err)}`); },
    });
    try {
      client = new ResidentClient(o, socket, { index: info.index, mac: info.mac, up: info.up && info.carrier !== false }, nl);
      client.#monitor = LinkMonitor.open({
        onLink: (ev) => client!.#onLink(ev),
        onError: (err) => client!.#emit("warn", "link-monitor", `link monitor: ${String(err)}`),
      });
    } catch (err) {
      socket.close();
      nl?.close();
      throw err;
    }
    client.#begin();
    return client;
  }

  #begin(): void {
    const lease = this.#state.lease;
    this.#emit("info", "start", `managing ${this.iface} (mac ${macToString(this.#mac)})` +
      (lease ? `, rebooting into the stored lease of ${lease.address}` : ""), { mac: macToString(this.#mac) });
    if (lease && this.#applier) {
      const adopted = this.#applier.adopt(lease, !this.#o.settings.ignoreRoutes);
      if (adopted) this.#emit("debug", "adopted", `${lease.address} is still on ${this.iface}: it is ours until the reboot says otherwise`);
    }
    if (!this.#linkUp) {
      this.#emit("warn", "link", `${this.iface} has no carrier: waiting for it`, { up: false });
      this.#dispatch({ kind: "link", up: false });
      return;
    }
    this.#dispatch({ kind: "start" });
  }

  // ------------------------------------------------------------ the engine

  #engineConfig(storedLease: Lease | null): EngineConfig {
    const o = this.#o;
    return {
      identity: { ...o.identity, mac: this.#mac }, resident: true, retryMs: 4000, tries: Infinity,
      broadcastFlag: o.broadcastFlag, extra: o.extra, ignoreServers: o.settings.ignoreServers, storedLease,
      random: () => crypto.getRandomValues(new Uint32Array(1))[0] / 0x100000000,
    };
  }

  /** The stored lease on the engine's clock, when it is this MAC's and still valid. */
  #storedLease(): Lease | null {
    const r = loadLease(this.#o.stateDir, this.iface);
    if (!r.ok) {
      if (r.reason !== "missing") this.#emit("warn", "store", `ignoring the stored lease for ${this.iface} (${r.reason}): ${r.detail}`);
      return null;
    }
    if (r.expired) return null;
    if (r.stored.mac !== macToString(this.#mac)) return null; // another MAC's lease is not ours to ask for
    return leaseFromRecord(r.stored.lease, this.#wallOffset);
  }

  #dispatch(event: Event): void {
    if (this.#stopped && event.kind !== "stop" && event.kind !== "release") return;
    const now = performance.now();
    const before = this.#state.phase;
    let r;
    try {
      r = step(this.#state, event, now);
    } catch (err) {
      // The engine is pure and tested; if it throws, report the bug and keep the old state.
      this.#emit("error", "bug", `engine: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      return;
    }
    this.#state = r.state;
    if (r.state.phase !== before) {
      this.#phaseSince = Date.now();
      this.#emit("debug", "phase", `${before} → ${r.state.phase}`, { from: before, to: r.state.phase });
    }
    for (const a of r.actions) {
      try {
        this.#perform(a, before, now);
      } catch (err) {
        this.#emit("error", "bug", `carrying out ${a.kind}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      }
    }
  }

  #perform(a: Action, before: Phase, now: number): void {
    switch (a.kind) {
      case "send": return this.#send(a);
      case "arm": return this.#arm(a.timer, a.at);
      case "disarm":
        clearTimeout(this.#timers.get(a.timer));
        this.#timers.delete(a.timer);
        return;
      case "offer":
        this.#emit("debug", "offer", `offer of ${a.address} from ${escapeText(a.serverId)}`, { server: a.serverId, address: a.address });
        return;
      case "bound": return this.#bound(a.lease, BOUND_REASON[before] ?? "BOUND", now);
      case "unbound": return this.#unbound(a.lease, a.why);
      case "nak":
        this.#emit("warn", "nak", `NAK from ${escapeText(a.server)}${a.message ? `: ${escapeText(a.message)}` : ""}`, { server: a.server, text: a.message });
        return;
      case "released":
        this.#deconfigure(a.lease);
        this.#hook("RELEASE", null, a.lease);
        this.#emit("info", "released", `released ${a.lease.address} to ${escapeText(a.lease.serverId)}`, { address: a.lease.address });
        return;
      case "ipv6-only":
        this.#emit("info", "ipv6-only", `${escapeText(a.server)} says this network is IPv6-only: no DHCPv4 for ${a.waitSec} s (RFC 8925)`, { server: a.server, waitSec: a.waitSec });
        this.#hook("IPV6ONLY", null, null, { v6only_wait: String(a.waitSec) });
        return;
      case "failed": return; // one-shot only
      case "dropped":
        this.#drops.add(a.reason);
        this.#emit("debug", "dropped", `dropped a reply: ${a.reason}`, { reason: a.reason });
        return;
    }
  }

  #send(a: Extract<Action, { kind: "send" }>): void {
    // RENEWING and RELEASE go unicast from the leased address to the server's MAC as a raw
    // frame (DESIGN.md): right whether or not --apply put the address on the interface.
    const to = a.to === "broadcast"
      ? { mac: BROADCAST_MAC, ip: "255.255.255.255", srcIp: a.srcIp }
      : { mac: a.to.mac, ip: a.to.ip, srcIp: a.srcIp };
    const name = TYPE_NAMES[a.messageType] ?? String(a.messageType);
    try {
      this.#socket.send(frameClientMessage(this.#mac, a.payload, to));
      this.#sent[name] = (this.#sent[name] ?? 0) + 1;
      this.#emit("debug", "sent", `sent ${name} xid 0x${a.xid.toString(16)} to ${to.ip}`, { type: name, xid: a.xid, to: to.ip });
    } catch (err) {
      // The engine's retransmission timer is armed: the next try may work (link back, buffers free).
      this.#emit("warn", "send-failed", `sending ${name} on ${this.iface}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #arm(timer: TimerName, at: number): void {
    clearTimeout(this.#timers.get(timer));
    const delay = Math.max(0, at - performance.now());
    this.#timers.set(timer, setTimeout(() => {
      this.#timers.delete(timer);
      if (performance.now() < at - 1) this.#arm(timer, at); // a long timer, in parts
      else this.#dispatch({ kind: "timer", timer });
    }, Math.min(delay, MAX_TIMER_MS)));
  }

  // ------------------------------------------------------------ what a lease does

  #record(lease: Lease, forHook = false): LeaseRecord {
    const r = leaseRecord(lease, this.#wallOffset);
    if (!forHook) return r;
    // "ignore dns" / "ignore routes" (the config file): the hook is not told to use them.
    const s = this.#o.settings;
    return { ...r, ...(s.ignoreDns ? { dns: [] } : {}), ...(s.ignoreRoutes ? { routers: [], routes: [] } : {}) };
  }

  #current: Lease | null = null;

  #bound(lease: Lease, reason: string, now: number): void {
    const old = this.#current;
    this.#current = lease;
    const rec = this.#record(lease);
    try {
      saveLease(this.#o.stateDir, { version: 1, interface: this.iface, mac: macToString(this.#mac), savedAt: new Date().toISOString(), lease: rec });
    } catch (err) {
      this.#emit("error", "store", err instanceof StoreError ? err.message : `storing the lease: ${String(err)}`);
    }
    if (this.#applier) {
      const rep = this.#applier.apply(lease, now, !this.#o.settings.ignoreRoutes);
      for (const f of rep.failed) this.#emit("warn", "apply", `--apply: ${f}`);
      this.#emit("debug", "applied", `--apply: ${rep.done.join(", ")}`, { done: rep.done });
    }
    this.#hook(reason, lease, old && old.address !== lease.address ? old : null);
    const times = lease.infinite ? "infinite lease" : `lease ${lease.leaseTime} s, renew in ${lease.t1} s`;
    this.#emit("info", reason.toLowerCase(), `${reason === "BOUND" ? "bound" : reason.toLowerCase() === "reboot" ? "rebooted into" : reason === "RENEW" ? "renewed" : "rebound"} ${lease.address} from ${escapeText(lease.serverId)} (${times})`,
      { reason, address: lease.address, server: lease.serverId, lease: rec });
  }

  #unbound(lease: Lease, why: UnboundReason): void {
    this.#current = null;
    this.#deconfigure(lease);
    this.#hook(UNBOUND_REASON[why], null, lease);
    this.#emit("warn", "unbound", `lost ${lease.address}: ${why}`, { reason: UNBOUND_REASON[why], why, address: lease.address });
  }

  #deconfigure(lease: Lease): void {
    this.#current = null;
    try {
      removeLease(this.#o.stateDir, this.iface);
    } catch (err) {
      this.#emit("warn", "store", `removing the stored lease: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (this.#applier?.applied) {
      const rep = this.#applier.remove();
      for (const f of rep.failed) this.#emit("warn", "apply", `--apply: ${f}`);
      this.#emit("debug", "deconfigured", `--apply: ${rep.done.join(", ")} (${lease.address})`);
    }
  }

  #hook(reason: string, lease: Lease | null, oldLease: Lease | null, extra?: Record<string, string>): void {
    this.#o.hook?.push({
      reason, interface: this.iface,
      lease: lease ? this.#record(lease, true) : null, oldLease: oldLease ? this.#record(oldLease, true) : null, extra,
    });
  }

  // ------------------------------------------------------------ the wire and the link

  #onFrame(bytes: Uint8Array, csum: "valid" | "partial" | "unknown", outgoing: boolean): void {
    try {
      if (outgoing) { this.#drops.add("outgoing"); return; }
      const f = parseUdpFrame(bytes, { csum, dstPort: DHCP_CLIENT_PORT, ourMac: this.#mac });
      if (!f.ok) { this.#drops.add(f.reason); return; }
      const d = decodeMessage(f.frame.payload);
      if (!d.ok) { this.#drops.add(`decode-${d.error.kind}`); return; }
      this.#received++;
      this.#dispatch({ kind: "received", message: d.message, srcIp: f.frame.srcIp, srcMac: f.frame.srcMac });
    } catch (err) {
      this.#drops.add("exception");
      this.#emit("error", "bug", `receive path: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }

  #onLink(ev: LinkEvent): void {
    if (ev.ifindex !== this.#ifindex || this.#stopped) return;
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
      this.#dispatch({ kind: "link", up });
    }
    const mac = parseMac(ev.mac);
    if (this.#o.mac === "interface" && mac && macToString(mac) !== macToString(this.#mac)) {
      this.#emit("info", "mac", `${this.iface}: MAC changed to ${macToString(mac)}: starting over`, { mac: macToString(mac) });
      this.#mac = mac;
      this.#dispatch({ kind: "reconfigure", config: this.#engineConfig(null), keepLease: false });
    }
  }

  // ------------------------------------------------------------ control

  /** New settings (SIGHUP): when they differ, reboot into the lease with them (dhcpleased's changed_ifaces). */
  reconfigure(identity: Omit<ClientIdentity, "mac">, settings: InterfaceSettings): void {
    this.#o = { ...this.#o, identity, settings };
    this.#emit("info", "reconfigure", `${this.iface}: settings changed: rebooting with them`);
    this.#dispatch({ kind: "reconfigure", config: this.#engineConfig(null), keepLease: true });
  }

  renew(): string {
    const p = this.#state.phase;
    this.#dispatch({ kind: "renew" });
    return `${p} → ${this.#state.phase}`;
  }

  rebind(): string {
    const p = this.#state.phase;
    this.#dispatch({ kind: "rebind" });
    return `${p} → ${this.#state.phase}`;
  }

  /** RELEASE (when bound), deconfigure, and end: the daemon exits. */
  release(): boolean {
    const had = this.#state.lease !== null && ["BOUND", "RENEWING", "REBINDING"].includes(this.#state.phase);
    this.stop(true, "released");
    this.#finish(0);
    return had;
  }

  /** Stops: no more sending. release: give the lease back first. The lease stays stored otherwise. */
  stop(release: boolean, why: string): void {
    if (this.#stopped) return;
    if (release) this.#dispatch({ kind: "release" });
    const lease = this.#state.phase === "STOPPED" ? null : this.#state.lease;
    this.#dispatch({ kind: "stop" });
    this.#stopped = true;
    if (lease) this.#hook("STOP", lease, null);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#monitor?.close();
    this.#socket.close();
    this.#nl?.close();
    this.#emit("info", "stop", `stopped on ${this.iface} (${why})`,
      { why, counters: { sent: this.#sent, received: this.#received, dropped: this.#drops.toJSON() } });
  }

  status(): Record<string, unknown> {
    const s = this.#state;
    const lease = s.lease ? this.#record(s.lease) : null;
    const now = performance.now();
    const inSec = (t: number | null | undefined) => (t == null ? null : Math.max(0, Math.round((t - now) / 1000)));
    return {
      interface: this.iface, pid: process.pid, mac: macToString(this.#mac), phase: s.phase, since: new Date(this.#phaseSince).toISOString(),
      link: { up: this.#linkUp }, applied: (this.#applier?.applied ?? null) !== null,
      lease, remaining: s.lease ? { renew: inSec(s.lease.renewAt), rebind: inSec(s.lease.rebindAt), expire: inSec(s.lease.expiresAt) } : null,
      ipv6OnlyUntil: s.ipv6OnlyUntil === null ? null : new Date(s.ipv6OnlyUntil + this.#wallOffset).toISOString(),
      settings: { ignoreDns: this.#o.settings.ignoreDns, ignoreRoutes: this.#o.settings.ignoreRoutes, ignoreServers: this.#o.settings.ignoreServers },
      counters: { sent: this.#sent, received: this.#received, dropped: this.#drops.toJSON(), hooksDropped: this.#o.hook?.dropped ?? 0 },
      stateFile: leasePath(this.#o.stateDir, this.iface),
    };
  }

  #emit(level: Level, event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.#o.emit({ level, event, message, interface: this.iface, ...fields });
  }
}
