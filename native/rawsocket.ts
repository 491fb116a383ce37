/**
 * Interface facts and raw packets, over the native shim (native/shim.ts
 * loads it, the one module that touches Bun's FFI): interfaceInfo() for an
 * interface's index, MAC, flags, MTU and carrier, and RawSocket for an
 * AF_PACKET socket bound to one interface behind a classic BPF filter.
 *
 * Receiving without polling: a C thread per socket poll()s the socket and a
 * stop eventfd and, when frames are queued, fires a threadsafe JSCallback
 * once, then sleeps until JS has drained the socket and re-armed it. The
 * thread does not keep the event loop alive: callers that wait for frames
 * must hold some other handle (a timer).
 *
 * Draining is batched: each dt_recv_batch call takes up to RECV_FRAMES_PER_CALL
 * frames (recvmmsg in the shim) packed back to back into one module-wide
 * buffer, with a row of metadata per frame; onFrame still gets one frame at
 * a time, each with its own copy of the bytes.
 */
import {
  codeFor,
  EINVAL,
  EMSGSIZE,
  ENAMETOOLONG,
  ENETDOWN,
  ENODEV,
  ENXIO,
  errnoText,
  native,
  NativeError,
  readyCallback,
  type ReadyCallback,
} from "./shim.ts";
import { capabilityHint } from "./self.ts";

// What callers have always imported from here.
export { NativeError, type NativeErrorCode } from "./shim.ts";

export interface InterfaceInfo {
  name: string;
  index: number;
  mac: Uint8Array;
  flags: number;
  up: boolean;
  running: boolean;
  mtu: number;
  /** null when unknown: the interface is administratively down. */
  carrier: boolean | null;
}

/**
 * valid: the kernel or NIC verified the checksum. partial: the checksum was
 * never filled in (offload, veth, local traffic): do not verify it.
 * unknown: verify it yourself.
 */
export type CsumStatus = "valid" | "partial" | "unknown";

export interface ReceivedFrame {
  /** The frame from the Ethernet header on; a copy the receiver owns. */
  bytes: Uint8Array;
  csum: CsumStatus;
  /** The frame was longer than the receive buffer; bytes holds its head. */
  truncated: boolean;
  wireLength: number;
  /** Sent by this host (any socket), seen on the way out. */
  outgoing: boolean;
  broadcast: boolean;
}

/** client: IPv4 UDP to port 68. watch: IPv4 UDP from or to port 67 or 68. Fragments never pass. */
export type FilterMode = "client" | "watch";

export interface RawSocketOptions {
  filter: FilterMode;
  /**
   * Put the interface in promiscuous mode while the socket is open, so that
   * unicast frames between other hosts (a mirror port, a bridge) are seen too.
   * The kernel counts such requests and takes this one back when the socket
   * closes, however the process ends. Default false.
   */
  promiscuous?: boolean;
  onFrame: (frame: ReceivedFrame) => void;
  /** Receive-path errors and exceptions thrown by onFrame; never thrown out of the receive path. */
  onError?: (err: unknown) => void;
}

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

// tpacket_auxdata.tp_status bits and sll_pkttype values (linux/if_packet.h).
const TP_STATUS_CSUMNOTREADY = 1 << 3;
const TP_STATUS_CSUM_VALID = 1 << 7;
const PACKET_BROADCAST = 1;
const PACKET_OUTGOING = 4;

const IFINFO_LEN = 24;
const IFNAMSIZ = 16;

// dt_open's mode: the filter, plus a flag (shim.c).
const MODE_CLIENT = 0;
const MODE_WATCH = 1;
const OPEN_PROMISC = 0x100;

const show = (name: string) => JSON.stringify(name);

const noSuchInterface = (name: string, errno = ENODEV) =>
  new NativeError("ENODEV", `interface ${show(name)} does not exist`, errno);

/** NUL-terminated bytes of an interface name, after the kernel's own rules. */
function interfaceNameBytes(name: string): Uint8Array {
  if (typeof name !== "string" || name.length === 0) {
    throw new NativeError("EINVAL", "interface name is empty", EINVAL);
  }
  const bytes = new TextEncoder().encode(name);
  if (bytes.length >= IFNAMSIZ) {
    throw new NativeError(
      "EINVAL",
      `interface name ${show(name)} is too long: ${bytes.length} bytes, Linux allows at most ${IFNAMSIZ - 1}`,
      ENAMETOOLONG,
    );
  }
  if (name === "." || name === ".." || bytes.some((b) => b <= 0x20 || b === 0x2f || b === 0x3a)) {
    throw new NativeError(
      "EINVAL",
      `interface name ${show(name)} is not valid: no spaces, control characters, "/" or ":"`,
      EINVAL,
    );
  }
  const cName = new Uint8Array(bytes.length + 1);
  cName.set(bytes);
  return cName;
}

interface LinkFacts {
  info: InterfaceInfo;
  hardwareType: number;
}

function readLink(name: string): LinkFacts {
  const cName = interfaceNameBytes(name);
  const out = new Uint8Array(IFINFO_LEN);
  const rc = native().dt_ifinfo(cName, out, out.length);
  if (rc < 0) {
    const errno = -rc;
    if (errno === ENODEV || errno === ENXIO) throw noSuchInterface(name, errno);
    throw new NativeError(codeFor(errno), `cannot read interface ${show(name)}: ${errnoText(errno)}`, errno);
  }
  // Layout documented at dt_ifinfo in shim.c.
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const flags = view.getUint32(12, true);
  const carrier = view.getInt32(20, true);
  return {
    info: {
      name,
      index: view.getUint32(0, true),
      mac: out.slice(4, 10),
      flags,
      up: (flags & IFF_UP) !== 0,
      running: (flags & IFF_RUNNING) !== 0,
      mtu: view.getUint32(16, true),
      carrier: carrier < 0 ? null : carrier === 1,
    },
    hardwareType: view.getUint16(10, true),
  };
}

/** Index, MAC, flags, MTU and carrier of an interface in this network namespace. */
export function interfaceInfo(name: string): InterfaceInfo {
  return readLink(name).info;
}

// ---- RawSocket --------------------------------------------------------------

// One receive buffer for the whole module: JS is single-threaded and every
// frame handed out is a copy. Room for the largest frame the shim stages
// (64 KiB + 256) and then some: a frame that does not fit the room left in
// one call comes first in the next.
const RECV_BUFFER_BYTES = 128 * 1024;
/** Frames per dt_recv_batch call (the shim's recvmmsg takes at most 64). */
const RECV_FRAMES_PER_CALL = 64;
/** int32s of metadata per frame, layout documented at dt_recv_batch in shim.c. */
const RECV_META_STRIDE = 6;
/** Frames handled per callback before yielding to the event loop. */
const MAX_FRAMES_PER_BATCH = 256;

let recvBuffer: Uint8Array | undefined;
let recvMeta: Int32Array | undefined;

// Open sockets stay reachable until close(): their threads call into the
// JSCallbacks. On exit they are closed so no thread fires into a dying VM.
const openSockets = new Set<RawSocket>();
let exitHookInstalled = false;

function closeAllOnExit(): void {
  for (const socket of openSockets) socket.close();
}

export class RawSocket {
  readonly info: InterfaceInfo;
  #handle: number;
  #callback: ReadyCallback | null = null;
  #onFrame: (frame: ReceivedFrame) => void;
  #onError: ((err: unknown) => void) | undefined;
  #closed = false;
  #draining = false;

  private constructor(info: InterfaceInfo, handle: number, options: RawSocketOptions) {
    this.info = info;
    this.#handle = handle;
    this.#onFrame = options.onFrame;
    this.#onError = options.onError;
  }

  static open(ifname: string, options: RawSocketOptions): RawSocket {
    if (options.filter !== "client" && options.filter !== "watch") {
      throw new NativeError("EINVAL", `unknown filter ${show(String(options.filter))}: use "client" or "watch"`, EINVAL);
    }
    if (typeof options.onFrame !== "function") {
      throw new NativeError("EINVAL", "RawSocket.open needs an onFrame callback", EINVAL);
    }
    if (options.promiscuous !== undefined && typeof options.promiscuous !== "boolean") {
      throw new NativeError("EINVAL", "RawSocket.open: promiscuous must be true or false", EINVAL);
    }
    const { info, hardwareType } = readLink(ifname);
    if (hardwareType !== ARPHRD_ETHER && hardwareType !== ARPHRD_LOOPBACK) {
      throw new NativeError(
        "EINVAL",
        `interface ${show(ifname)} is not an Ethernet interface (link type ${hardwareType}): DHCP here runs over Ethernet frames`,
        EINVAL,
      );
    }
    if (!info.up) {
      throw new NativeError(
        "ENETDOWN",
        `interface ${show(ifname)} is down: bring it up with \`ip link set ${ifname} up\``,
        ENETDOWN,
      );
    }

    const shim = native();
    const mode = (options.filter === "client" ? MODE_CLIENT : MODE_WATCH) | (options.promiscuous ? OPEN_PROMISC : 0);
    const handle = shim.dt_open(interfaceNameBytes(ifname), mode);
    if (handle < 0) {
      const errno = -handle;
      const code = codeFor(errno);
      if (code === "EPERM") {
        throw new NativeError(
          "EPERM",
          `no permission to open a raw socket on ${ifname}: ${capabilityHint()}`,
          errno,
        );
      }
      if (code === "ENODEV") throw noSuchInterface(ifname, errno);
      if (code === "ENETDOWN") {
        throw new NativeError(
          "ENETDOWN",
          `interface ${show(ifname)} is down: bring it up with \`ip link set ${ifname} up\``,
          errno,
        );
      }
      throw new NativeError(code, `cannot open a raw socket on ${ifname}: ${errnoText(errno)}`, errno);
    }

    const socket = new RawSocket(info, handle, options);
    let callback: ReadyCallback;
    try {
      callback = readyCallback((h: number) => socket.#drain(h));
    } catch (err) {
      shim.dt_close(handle);
      throw err;
    }
    const started = shim.dt_start(handle, callback.ptr);
    if (started < 0) {
      shim.dt_close(handle);
      callback.close();
      throw new NativeError(codeFor(-started), `cannot start the receive thread for ${ifname}: ${errnoText(-started)}`, -started);
    }
    socket.#callback = callback;
    openSockets.add(socket);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once("exit", closeAllOnExit);
    }
    return socket;
  }

  /** Sends one complete Ethernet frame (14 bytes of header up to 14 + MTU bytes). */
  send(frame: Uint8Array): void {
    if (!(frame instanceof Uint8Array)) {
      throw new NativeError("EINVAL", "send() takes a Uint8Array holding an Ethernet frame", EINVAL);
    }
    if (this.#closed) {
      throw new NativeError("EINVAL", `raw socket on ${this.info.name} is closed`, EINVAL);
    }
    // A zero-length view has no address to pass; the shim still judges the length.
    const bytes = frame.byteLength > 0 ? frame : new Uint8Array(1);
    const rc = native().dt_send(this.#handle, bytes, frame.byteLength);
    if (rc >= 0) {
      if (rc !== frame.byteLength) {
        throw new NativeError("EIO", `short send on ${this.info.name}: ${rc} of ${frame.byteLength} bytes`);
      }
      return;
    }
    const errno = -rc;
    if (errno === EMSGSIZE) {
      throw new NativeError(
        "EMSGSIZE",
        `frame of ${frame.byteLength} bytes does not fit ${this.info.name}: an Ethernet frame there is 14 to ${14 + this.info.mtu} bytes`,
        errno,
      );
    }
    throw new NativeError(codeFor(errno), `send on ${this.info.name} failed: ${errnoText(errno)}`, errno);
  }

  /**
   * Frames that passed the filter since open, and how many of them the kernel
   * dropped because the receive buffer was full (packets includes drops).
   */
  stats(): { packets: number; drops: number } {
    if (this.#closed) {
      throw new NativeError("EINVAL", `raw socket on ${this.info.name} is closed`, EINVAL);
    }
    const out = new Uint32Array(2);
    const rc = native().dt_stats(this.#handle, out, out.length);
    if (rc < 0) {
      throw new NativeError(codeFor(-rc), `cannot read statistics on ${this.info.name}: ${errnoText(-rc)}`, -rc);
    }
    return { packets: out[0]!, drops: out[1]! };
  }

  /**
   * Idempotent. Stops the receive thread (stop eventfd; dt_close returns once
   * the thread is done with the callback), then frees the callback. The
   * thread closes the kernel socket afterwards, off the JS thread: that close
   * waits out an RCU grace period (10-25 ms).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    openSockets.delete(this);
    native().dt_close(this.#handle);
    // Inside onFrame the callback is still on the stack: free it once the drain unwinds.
    if (!this.#draining) this.#releaseCallback();
  }

  #releaseCallback(): void {
    this.#callback?.close();
    this.#callback = null;
  }

  #report(err: unknown): void {
    if (!this.#onError) return;
    try {
      this.#onError(err);
    } catch {
      // The receive path never throws, not even for a failing error handler.
    }
  }

  /** Runs on the JS thread, once per batch announced by the receive thread. */
  #drain(handle: number): void {
    // A call queued before close() may still arrive; the handle is dead by then.
    if (this.#closed || handle !== this.#handle) return;
    recvBuffer ??= new Uint8Array(RECV_BUFFER_BYTES);
    recvMeta ??= new Int32Array(RECV_FRAMES_PER_CALL * RECV_META_STRIDE);
    const buffer = recvBuffer;
    const meta = recvMeta;
    const shim = native();
    this.#draining = true;
    try {
      let handled = 0;
      while (handled < MAX_FRAMES_PER_BATCH && !this.#closed) {
        const want = Math.min(RECV_FRAMES_PER_CALL, MAX_FRAMES_PER_BATCH - handled);
        const n = shim.dt_recv_batch(handle, buffer, buffer.length, meta, meta.length, want);
        if (n === 0) break;
        if (n < 0) {
          const errno = -n;
          const text = errno === ENETDOWN ? `interface ${this.info.name} went down` : errnoText(errno);
          this.#report(new NativeError(codeFor(errno), `receive on ${this.info.name} failed: ${text}`, errno));
          break;
        }
        // close() from onFrame ends delivery: the rest of the batch goes the way
        // of everything still queued in the kernel.
        for (let i = 0, m = 0; i < n && !this.#closed; i++, m += RECV_META_STRIDE) {
          const offset = meta[m]!;
          const status = meta[m + 2]!;
          const pkttype = meta[m + 5]!;
          const frame: ReceivedFrame = {
            bytes: buffer.slice(offset, offset + meta[m + 1]!),
            csum:
              status & TP_STATUS_CSUMNOTREADY ? "partial" : status & TP_STATUS_CSUM_VALID ? "valid" : "unknown",
            truncated: meta[m + 4] !== 0,
            wireLength: meta[m + 3]!,
            outgoing: pkttype === PACKET_OUTGOING,
            broadcast: pkttype === PACKET_BROADCAST,
          };
          try {
            this.#onFrame(frame);
          } catch (err) {
            this.#report(err);
          }
        }
        handled += n;
        // Fewer than asked: the socket ran dry, or the buffer filled (the shim
        // keeps the rest staged and dt_rearm has the thread fire again at once).
        if (n < want) break;
      }
    } finally {
      this.#draining = false;
      if (this.#closed) this.#releaseCallback();
      else shim.dt_rearm(handle);
    }
  }
}
