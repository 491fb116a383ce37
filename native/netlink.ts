/**
 * rtnetlink for the resident client: NetlinkRoute configures addresses and
 * routes (`request --daemon --apply`), LinkMonitor reports link changes
 * (carrier lost and back, MAC changed, interface gone) as they happen.
 *
 * Messages are built in netlink-msg.ts and parsed in netlink-parse.ts; the
 * shim (netlink.c, nlmonitor.c) only carries them, numbers requests and
 * matches the answers. Bun's FFI stays in shim.ts: this module reaches the
 * shim through native() from there.
 *
 * NetlinkRoute keeps one socket from open() to close(): open it before
 * privileges are dropped. The kernel checks CAP_NET_ADMIN against the
 * socket's opener and against the caller of each request, so the process
 * must keep that capability too. Calls are synchronous (the kernel answers
 * while the request is being sent).
 *
 * LinkMonitor receives without polling, like RawSocket: a C thread waits on
 * the socket and fires a threadsafe callback once, then sleeps until JS has
 * drained and re-armed it. The thread does not keep the event loop alive.
 */
import {
  type AddressSpec,
  buildDeleteAddress,
  buildDeleteRoute,
  buildGetAddressDump,
  buildGetLink,
  buildGetLinkDump,
  buildNewAddress,
  buildNewRoute,
  type BuildResult,
  NLMSG_DONE,
  NLMSG_ERROR,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWNEIGH,
  RTM_NEWROUTE,
  type RouteSpec,
} from "./netlink-msg.ts";
import { buildGetNeighbourDump, buildGetRoute, type NeighbourEntry, parseNeighbourMessage, parseRouteAnswer, type RouteAnswer } from "./netlink-lookup.ts";
import { type LinkMessage, parseAddressMessage, parseErrorMessage, parseLinkMessage, type ParseResult, splitMessages } from "./netlink-parse.ts";
import { codeFor, native, NativeError, readyCallback, strerror } from "./shim.ts";

export type { AddressSpec, RouteSpec } from "./netlink-msg.ts";
export type { NeighbourEntry, RouteAnswer } from "./netlink-lookup.ts";
export type { LinkMessage } from "./netlink-parse.ts";

const EINVAL = 22;
const EMSGSIZE = 90;
const ENOBUFS = 105;

/** dt_nl_monitor_open's groups (netlink.c). */
const GROUP_LINK = 1;
const GROUP_IPV4_ADDR = 2;

/** Room for the kernel's reason with an error (extack), NUL included. */
const KERNEL_TEXT_BYTES = 256;
/** A dump starts in this much room and grows (x4) up to the cap when it does not fit. */
const DUMP_BYTES = 64 * 1024;
const DUMP_BYTES_MAX = 16 * 1024 * 1024;

export interface InterfaceAddress {
  ifindex: number;
  address: string;
  prefix: number;
}

function describeRoute(r: RouteSpec): string {
  const destination = r.prefix === 0 ? "default route" : `route ${r.destination}/${r.prefix}`;
  const via = r.gateway === null || r.gateway === "0.0.0.0" ? " (on-link)" : ` via ${r.gateway}`;
  return `${destination}${via}${r.metric !== undefined ? ` metric ${r.metric}` : ""}`;
}

export class NetlinkRoute {
  #handle: number;
  #closed = false;
  readonly #kernelText = new Uint8Array(KERNEL_TEXT_BYTES);

  private constructor(handle: number) {
    this.#handle = handle;
  }

  static open(): NetlinkRoute {
    const h = native().dt_nl_route_open();
    if (h < 0) throw new NativeError(codeFor(-h), `cannot open an rtnetlink socket: ${strerror(-h)}`, -h);
    return new NetlinkRoute(h);
  }

  /** Fails with EEXIST when the address is there already, unless replace (which updates its lifetimes). */
  addAddress(a: AddressSpec): void {
    this.#change(buildNewAddress(a), () => `adding ${a.address}/${a.prefix} to ${this.#linkName(a.ifindex)}`);
  }

  /** Fails with EADDRNOTAVAIL when the address is not there. */
  deleteAddress(a: Pick<AddressSpec, "ifindex" | "address" | "prefix">): void {
    this.#change(buildDeleteAddress(a), () => `removing ${a.address}/${a.prefix} from ${this.#linkName(a.ifindex)}`);
  }

  /** gateway null or 0.0.0.0: on-link (scope link). Fails with EEXIST when the route is there already. */
  addRoute(r: RouteSpec): void {
    this.#change(buildNewRoute(r), () => `adding ${describeRoute(r)} on ${this.#linkName(r.ifindex)}`);
  }

  /** Removes only a route with protocol dhcp; fails with ESRCH when there is none that matches. */
  deleteRoute(r: RouteSpec): void {
    this.#change(buildDeleteRoute(r), () => `removing ${describeRoute(r)} from ${this.#linkName(r.ifindex)}`);
  }

  /** IPv4 addresses now on one interface, or on all. */
  listAddresses(ifindex?: number): InterfaceAddress[] {
    const answer = this.#dump(buildGetAddressDump(), "listing addresses");
    const split = splitMessages(answer);
    if (!split.ok) throw malformed("listing addresses", split.error.reason);
    const found: InterfaceAddress[] = [];
    for (const m of split.value) {
      if (m.type !== RTM_NEWADDR) continue;
      const parsed = parseAddressMessage(m.bytes);
      if (!parsed.ok) throw malformed("listing addresses", parsed.error.reason);
      const { ifindex: index, address, prefix } = parsed.value;
      if (ifindex === undefined || index === ifindex) found.push({ ifindex: index, address, prefix });
    }
    return found;
  }

  /** Every link in this network namespace, with its kind and master (bridge ports, bond slaves). */
  listLinks(): LinkMessage[] {
    return this.#parseDump(this.#dump(buildGetLinkDump(), "listing links"), "listing links", RTM_NEWLINK, parseLinkMessage);
  }

  /** How the kernel would send to `destination` (through oif when given): `ip route get`. Throws ENETUNREACH and the like. */
  routeTo(destination: string, oif?: number): RouteAnswer {
    const what = `looking up the route to ${destination}`;
    const built = buildGetRoute(destination, oif);
    if (!built.ok) throw new NativeError("EINVAL", `${what}: ${built.reason}`, EINVAL);
    const answers = this.#parseDump(this.#dump(built.bytes, what), what, RTM_NEWROUTE, parseRouteAnswer);
    if (!answers[0]) throw malformed(what, "no route in the answer");
    return answers[0];
  }

  /** The IPv4 neighbour (ARP) table, or one interface's part of it. */
  neighbours(ifindex?: number): NeighbourEntry[] {
    const all = this.#parseDump(this.#dump(buildGetNeighbourDump(), "listing neighbours"), "listing neighbours", RTM_NEWNEIGH, parseNeighbourMessage);
    return all.filter((n): n is NeighbourEntry => n !== null && (ifindex === undefined || n.ifindex === ifindex));
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    native().dt_nl_close(this.#handle);
  }

  /** The messages of one type in an answer, each parsed; any malformed one fails the whole answer. */
  #parseDump<T>(answer: Uint8Array, what: string, type: number, parse: (m: Uint8Array) => ParseResult<T>): T[] {
    const split = splitMessages(answer);
    if (!split.ok) throw malformed(what, split.error.reason);
    const out: T[] = [];
    for (const m of split.value) {
      if (m.type !== type) continue;
      const parsed = parse(m.bytes);
      if (!parsed.ok) throw malformed(what, parsed.error.reason);
      out.push(parsed.value);
    }
    return out;
  }

  /** rc from dt_nl_transact, and the kernel's reason when it gave one. */
  #transact(request: Uint8Array, out: Uint8Array): { rc: number; why: string } {
    if (this.#closed) throw new NativeError("EINVAL", "the rtnetlink socket is closed", EINVAL);
    const text = this.#kernelText;
    const rc = native().dt_nl_transact(this.#handle, request, request.length, out, out.length, text, text.length);
    const end = text.indexOf(0);
    return { rc, why: rc < 0 && end > 0 ? new TextDecoder().decode(text.subarray(0, end)) : "" };
  }

  #change(built: BuildResult, what: () => string): void {
    if (this.#closed) throw new NativeError("EINVAL", "the rtnetlink socket is closed", EINVAL);
    if (!built.ok) throw new NativeError("EINVAL", `${what()}: ${built.reason}`, EINVAL);
    const { rc, why } = this.#transact(built.bytes, new Uint8Array(0));
    if (rc >= 0) return;
    throw new NativeError(codeFor(-rc), `${what()}: ${strerror(-rc)}${why ? ` (${why})` : ""}`, -rc);
  }

  #dump(request: Uint8Array, what: string): Uint8Array {
    for (let room = DUMP_BYTES; ; room *= 4) {
      const out = new Uint8Array(room);
      const { rc, why } = this.#transact(request, out);
      if (rc >= 0) return out.subarray(0, rc);
      if (rc === -EMSGSIZE && room < DUMP_BYTES_MAX) continue;
      throw new NativeError(codeFor(-rc), `${what}: ${strerror(-rc)}${why ? ` (${why})` : ""}`, -rc);
    }
  }

  /** The interface's name for a message, "ifindex N" when it cannot be had (it may be gone). */
  #linkName(ifindex: number): string {
    const fallback = `ifindex ${String(ifindex)}`;
    const request = buildGetLink(ifindex);
    if (!request.ok || this.#closed) return fallback;
    const out = new Uint8Array(DUMP_BYTES);
    const { rc } = this.#transact(request.bytes, out);
    if (rc <= 0) return fallback;
    const split = splitMessages(out.subarray(0, rc));
    const link = split.ok && split.value[0] ? parseLinkMessage(split.value[0].bytes) : null;
    return link?.ok && link.value.name ? link.value.name : fallback;
  }
}

const malformed = (what: string, reason: string) => new NativeError("EIO", `${what}: the kernel's answer is malformed: ${reason}`);

// ---- LinkMonitor ----------------------------------------------------------------

export type LinkEvent = Omit<LinkMessage, "flags">;

export interface AddressEvent {
  kind: "new" | "del";
  ifindex: number;
  address: string;
  prefix: number;
}

export interface LinkMonitorOptions {
  /** Every RTM_NEWLINK/RTM_DELLINK: a change of any kind (flags, MAC, MTU, name...) or a removal. */
  onLink: (event: LinkEvent) => void;
  /** IPv4 addresses added or removed anywhere; subscribed to only when given. */
  onAddress?: (event: AddressEvent) => void;
  /** Lost events, malformed messages, exceptions thrown by the handlers; never thrown out of the receive path. */
  onError?: (err: unknown) => void;
}

/** Datagrams handled per callback before yielding to the event loop (the thread fires again if more wait). */
const DATAGRAMS_PER_WAKE = 64;
// One buffer for every monitor: JS is single-threaded and events are parsed before the next read.
let monitorBuffer: Uint8Array | undefined;

// Open monitors stay reachable until close(): their threads call into the callbacks.
// On exit they are closed so no thread fires into a dying VM.
const openMonitors = new Set<LinkMonitor>();
let exitHookInstalled = false;

export class LinkMonitor {
  #handle: number;
  #callback: ReturnType<typeof readyCallback> | null = null;
  #options: LinkMonitorOptions;
  #closed = false;
  #draining = false;
  #dumping = false;
  #dumpAgain = false;

  private constructor(handle: number, options: LinkMonitorOptions) {
    this.#handle = handle;
    this.#options = options;
  }

  static open(options: LinkMonitorOptions): LinkMonitor {
    if (typeof options?.onLink !== "function") {
      throw new NativeError("EINVAL", "LinkMonitor.open needs an onLink callback", EINVAL);
    }
    const shim = native();
    const groups = GROUP_LINK | (options.onAddress ? GROUP_IPV4_ADDR : 0);
    const h = shim.dt_nl_monitor_open(groups);
    if (h < 0) throw new NativeError(codeFor(-h), `cannot open a link monitor: ${strerror(-h)}`, -h);
    const monitor = new LinkMonitor(h, options);
    let callback: ReturnType<typeof readyCallback>;
    try {
      callback = readyCallback((handle: number) => monitor.#drain(handle));
    } catch (err) {
      shim.dt_nl_close(h);
      throw err;
    }
    const started = shim.dt_nl_start(h, callback.ptr);
    if (started < 0) {
      shim.dt_nl_close(h);
      callback.close();
      throw new NativeError(codeFor(-started), `cannot start the link monitor thread: ${strerror(-started)}`, -started);
    }
    monitor.#callback = callback;
    openMonitors.add(monitor);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once("exit", () => {
        for (const m of openMonitors) m.close();
      });
    }
    return monitor;
  }

  /**
   * Asks the kernel for every link now: each arrives through onLink as a
   * 'new' event. For the state at start, and done by itself after events
   * were lost.
   */
  resync(): void {
    if (this.#closed) return;
    if (this.#dumping) {
      this.#dumpAgain = true; // one dump per socket at a time (EBUSY otherwise)
      return;
    }
    const request = buildGetLinkDump();
    const rc = native().dt_nl_send(this.#handle, request, request.length);
    if (rc < 0) {
      this.#report(new NativeError(codeFor(-rc), `link monitor: cannot re-read the links: ${strerror(-rc)}`, -rc));
      return;
    }
    this.#dumping = true;
  }

  /**
   * Idempotent. Stops the thread (dt_nl_close returns once it is joined),
   * then frees the callback. No handler runs after this returns.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    openMonitors.delete(this);
    native().dt_nl_close(this.#handle);
    // Inside a handler the callback is still on the stack: free it once the drain unwinds.
    if (!this.#draining) this.#releaseCallback();
  }

  #releaseCallback(): void {
    this.#callback?.close();
    this.#callback = null;
  }

  #report(err: unknown): void {
    if (!this.#options.onError) return;
    try {
      this.#options.onError(err);
    } catch {
      // The receive path never throws, not even for a failing error handler.
    }
  }

  #deliver(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.#report(err);
    }
  }

  /** Runs on the JS thread, once per wake-up of the monitor thread. */
  #drain(handle: number): void {
    // A call queued before close() may still arrive; the handle is dead by then.
    if (this.#closed || handle !== this.#handle) return;
    monitorBuffer ??= new Uint8Array(DUMP_BYTES);
    const buffer = monitorBuffer;
    const shim = native();
    this.#draining = true;
    try {
      for (let i = 0; i < DATAGRAMS_PER_WAKE && !this.#closed; i++) {
        const n = shim.dt_nl_recv(handle, buffer, buffer.length);
        if (n === 0) break;
        if (n > 0) {
          this.#dispatch(buffer.subarray(0, n));
          continue;
        }
        const errno = -n;
        if (errno === ENOBUFS) {
          this.#report(new NativeError("ENOBUFS", "link monitor: the kernel dropped events (queue full); re-reading all links", errno));
          this.#dumping = false; // a dump in flight may have lost its end too
          this.resync();
        } else if (errno === EMSGSIZE) {
          this.#report(new NativeError("EMSGSIZE", "link monitor: an event too large for the buffer was dropped", errno));
        } else {
          this.#report(new NativeError(codeFor(errno), `link monitor: receive failed: ${strerror(errno)}`, errno));
          break;
        }
      }
    } finally {
      this.#draining = false;
      if (this.#closed) this.#releaseCallback();
      else shim.dt_nl_rearm(handle);
    }
  }

  #dispatch(datagram: Uint8Array): void {
    const split = splitMessages(datagram);
    if (!split.ok) {
      this.#report(new NativeError("EIO", `link monitor: malformed message: ${split.error.reason}`));
      return;
    }
    const { onLink, onAddress } = this.#options;
    for (const m of split.value) {
      if (this.#closed) return;
      if (m.type === RTM_NEWLINK || m.type === RTM_DELLINK) {
        const parsed = parseLinkMessage(m.bytes);
        if (!parsed.ok) {
          this.#report(new NativeError("EIO", `link monitor: malformed link message: ${parsed.error.reason}`));
          continue;
        }
        const { flags: _flags, ...event } = parsed.value;
        this.#deliver(() => onLink(event));
      } else if ((m.type === RTM_NEWADDR || m.type === RTM_DELADDR) && onAddress) {
        const parsed = parseAddressMessage(m.bytes);
        if (!parsed.ok) {
          // Only IPv4 was asked for; anything else is noise, not an error worth a report.
          if (parsed.error.kind !== "family") {
            this.#report(new NativeError("EIO", `link monitor: malformed address message: ${parsed.error.reason}`));
          }
          continue;
        }
        const { kind, ifindex, address, prefix } = parsed.value;
        this.#deliver(() => onAddress({ kind, ifindex, address, prefix }));
      } else if (m.type === NLMSG_DONE) {
        this.#dumpDone();
      } else if (m.type === NLMSG_ERROR) {
        const errno = parseErrorMessage(m.bytes);
        if (errno.ok && errno.value !== 0) {
          this.#report(new NativeError(codeFor(errno.value), `link monitor: re-reading the links failed: ${strerror(errno.value)}`, errno.value));
        }
        this.#dumpDone();
      }
    }
  }

  #dumpDone(): void {
    this.#dumping = false;
    if (this.#dumpAgain) {
      this.#dumpAgain = false;
      this.resync();
    }
  }
}
