/**
 * Raw packets over the native shim (native/shim.ts loads it, the one module
 * that touches Bun's FFI): RawSocket, an AF_PACKET socket bound to one
 * interface behind a classic BPF filter; and interfaceInfo() (from
 * native/interface.ts) for an interface's index, MAC, flags, MTU and carrier.
 *
 * Receiving without polling: a C thread per socket poll()s the socket and a
 * stop eventfd and, when frames are queued, fires a threadsafe JSCallback
 * once, then sleeps until JS has drained the socket and re-armed it. The
 * thread does not keep the event loop alive: callers that wait for frames
 * must hold some other handle (a timer).
 *
 * Draining is batched: each dt_recv_batch call takes up to RECV_FRAMES_PER_CALL
 * frames (recvmmsg in the shim, or a TPACKET_V3 ring with `ring: true`)
 * packed back to back into one module-wide buffer, with a row of metadata
 * per frame; onFrame still gets one frame at a time, each with its own copy
 * of the bytes, its VLAN tag and the kernel's receive time.
 */
import { insertVlanTag, TPID_8021Q, tagFrame, type VlanTag, vlanTag } from "../core/frame.ts";
import { type InterfaceInfo, interfaceNameBytes, linkFacts, linkFactsBuffer, noSuchInterface, show } from "./interface.ts";
import { codeFor, EINVAL, EMSGSIZE, ENETDOWN, EPFNOSUPPORT, errnoText, native, NativeError, readyCallback, type ReadyCallback } from "./shim.ts";
import { capabilityHint } from "./self.ts";

// What callers have always imported from here.
export { loadNative, NativeError, type NativeErrorCode } from "./shim.ts";
export { type InterfaceInfo, interfaceInfo } from "./interface.ts";
export type { VlanTag } from "../core/frame.ts";

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
  /**
   * performance.now() when the batch it came in was read from the socket: a frame handed
   * over after others of its batch were handled still says when it was read. Through a ring,
   * the kernel's receive time on that clock (a frame waits up to 4 ms in its block).
   */
  receivedAt: number;
  /**
   * The 802.1Q/802.1ad tag the frame carried on the wire, which the kernel takes off before a
   * packet socket sees the bytes (PACKET_AUXDATA); null for an untagged frame.
   */
  vlan: VlanTag | null;
  /** When the kernel received the frame: wall clock, nanoseconds since the Unix epoch. */
  time: bigint;
  /** The same moment in whole microseconds since the epoch (a safe integer, as pcap keeps it). */
  timeUs: number;
}

/**
 * Frames by their VLAN tag: "any" (every frame, tagged or not), "none" (untagged ones and
 * priority-tagged ones, VID 0: the link's native VLAN), or a VLAN id 1-4094 (that VLAN's
 * frames only, as a trunk carries them). Decided in the socket's BPF program: frames of
 * other VLANs never reach JS.
 */
export type VlanFilter = "any" | "none" | number;

/**
 * client: IPv4 UDP to port 68. watch: IPv4 UDP from or to port 67 or 68. Fragments never
 * pass. arp: ARP requests (what the resident client answers for an address it has not applied).
 */
export type FilterMode = "client" | "watch" | "arp";

export interface RawSocketOptions {
  filter: FilterMode;
  /**
   * Put the interface in promiscuous mode while the socket is open, so that
   * unicast frames between other hosts (a mirror port, a bridge) are seen too.
   * The kernel counts such requests and takes this one back when the socket
   * closes, however the process ends. Default false.
   */
  promiscuous?: boolean;
  /**
   * Default "none" for the client and arp filters (a server on another VLAN of a trunk is not a server
   * on this link), "any" for watch. With a VLAN id, send() tags what it sends with that id.
   */
  vlan?: VlanFilter;
  /**
   * Receive through a TPACKET_V3 ring (16 MiB) instead of recvmmsg(): one wake-up per block of
   * frames, no system call per frame, room for bursts; frames wait up to 4 ms in a block (their
   * receive times are the kernel's either way). For captures at high rates; default false.
   * "prompt": the same ring, a block handed over 1 ms after its first frame, for a client
   * that answers what it reads (the load generator).
   */
  ring?: boolean | "prompt";
  /**
   * Put the tag the kernel took off back into `bytes`, after the MAC addresses, as it was on
   * the wire (as libpcap does for tcpdump and pcap files), so a decoder that reads tags from
   * the bytes sees it. `vlan` reports it either way. Default false: bytes start untagged.
   */
  vlanInBytes?: boolean;
  onFrame: (frame: ReceivedFrame) => void;
  /** Receive-path errors and exceptions thrown by onFrame; never thrown out of the receive path. */
  onError?: (err: unknown) => void;
}

// tpacket_auxdata.tp_status bits and sll_pkttype values (linux/if_packet.h).
const TP_STATUS_CSUMNOTREADY = 1 << 3;
const TP_STATUS_VLAN_VALID = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID = 1 << 6;
const TP_STATUS_CSUM_VALID = 1 << 7;
const PACKET_BROADCAST = 1;
const PACKET_OUTGOING = 4;

// dt_open's mode: the filter, plus flags (shim.c).
const MODE_CLIENT = 0;
const MODE_WATCH = 1;
const MODE_ARP = 2;
const OPEN_PROMISC = 0x100;
const OPEN_RING = 0x200;
const OPEN_RING_PROMPT = 0x400;
// dt_open's vlan besides an id.
const VLAN_ANY = -1;
const VLAN_NONE = -2;

// ---- RawSocket --------------------------------------------------------------

// One receive buffer for the whole module: JS is single-threaded and every
// frame handed out is a copy. Room for the largest frame the shim stages
// (64 KiB + 256) and then some: a frame that does not fit the room left in
// one call comes first in the next.
const RECV_BUFFER_BYTES = 128 * 1024;
/** Frames per dt_recv_batch call (the shim's recvmmsg takes at most 64). */
const RECV_FRAMES_PER_CALL = 64;
/** int32s of metadata per frame, layout documented at dt_recv_batch in rx.c. */
const RECV_META_STRIDE = 12;
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
  /** What send() tags frames with: the socket's VLAN, when it was opened on one. */
  #sendTag: VlanTag | null;
  #vlanInBytes: boolean;
  /** Frames wait in a ring block: their receivedAt is the kernel's time, not the drain's. */
  #ring: boolean;
  #closed = false;
  #draining = false;

  private constructor(info: InterfaceInfo, handle: number, options: RawSocketOptions) {
    this.info = info;
    this.#handle = handle;
    this.#onFrame = options.onFrame;
    this.#onError = options.onError;
    this.#sendTag = typeof options.vlan === "number" ? { id: options.vlan, pcp: 0, tpid: TPID_8021Q } : null;
    this.#vlanInBytes = options.vlanInBytes === true;
    this.#ring = options.ring === true || options.ring === "prompt";
  }

  static open(ifname: string, options: RawSocketOptions): RawSocket {
    if (options.filter !== "client" && options.filter !== "watch" && options.filter !== "arp") {
      throw new NativeError("EINVAL", `unknown filter ${show(String(options.filter))}: use "client", "watch" or "arp"`, EINVAL);
    }
    if (typeof options.onFrame !== "function") {
      throw new NativeError("EINVAL", "RawSocket.open needs an onFrame callback", EINVAL);
    }
    if (options.promiscuous !== undefined && typeof options.promiscuous !== "boolean") {
      throw new NativeError("EINVAL", "RawSocket.open: promiscuous must be true or false", EINVAL);
    }
    if (options.ring !== undefined && typeof options.ring !== "boolean" && options.ring !== "prompt") {
      throw new NativeError("EINVAL", 'RawSocket.open: ring must be true, false or "prompt"', EINVAL);
    }
    if (options.vlanInBytes !== undefined && typeof options.vlanInBytes !== "boolean") {
      throw new NativeError("EINVAL", "RawSocket.open: vlanInBytes must be true or false", EINVAL);
    }
    const vlan = options.vlan ?? (options.filter === "watch" ? "any" : "none");
    if (vlan !== "any" && vlan !== "none" && !(Number.isInteger(vlan) && vlan >= 1 && vlan <= 4094)) {
      throw new NativeError("EINVAL", `RawSocket.open: vlan ${show(String(vlan))} is not "any", "none" or a VLAN id 1-4094`, EINVAL);
    }
    const shim = native();
    const mode =
      { client: MODE_CLIENT, watch: MODE_WATCH, arp: MODE_ARP }[options.filter] |
      (options.promiscuous ? OPEN_PROMISC : 0) |
      (options.ring === "prompt" ? OPEN_RING | OPEN_RING_PROMPT : options.ring ? OPEN_RING : 0);
    const vlanArg = vlan === "any" ? VLAN_ANY : vlan === "none" ? VLAN_NONE : vlan;
    // One RTM_GETLINK, in dt_open: the link's facts come back with the socket (or its refusal).
    const facts = linkFactsBuffer();
    const handle = shim.dt_open(interfaceNameBytes(ifname), mode, vlanArg, facts, facts.length);
    const { info, hardwareType } = linkFacts(ifname, facts);
    if (handle < 0) {
      const err = openError(ifname, -handle, hardwareType);
      // the link was read before the socket was asked for: a caller can still say what is
      // wrong with the link itself (lo for a DHCP client) before what is wrong with us
      if (err.code !== "ENODEV" && info.flags !== 0) err.linkFlags = info.flags;
      throw err;
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

  /**
   * Sends one complete Ethernet frame (14 bytes of header up to 14 + MTU bytes), as given, or
   * with a VLAN tag inserted after its MAC addresses: `tag`, else the socket's VLAN when it was
   * opened on one. A packet socket puts the bytes on the wire as they are, so a tagged frame
   * leaves a trunk port tagged without any VLAN interface (4 bytes over the MTU allowed).
   */
  send(frame: Uint8Array, tag?: { id: number; pcp?: number; tpid?: number }): void {
    if (!(frame instanceof Uint8Array)) {
      throw new NativeError("EINVAL", "send() takes a Uint8Array holding an Ethernet frame", EINVAL);
    }
    if (this.#closed) {
      throw new NativeError("EINVAL", `raw socket on ${this.info.name} is closed`, EINVAL);
    }
    const vlan = tag ? { id: tag.id, pcp: tag.pcp ?? 0, tpid: tag.tpid ?? TPID_8021Q } : this.#sendTag;
    if (vlan && frame.byteLength >= 14) {
      try {
        frame = tagFrame(frame, vlan.id, vlan.pcp, vlan.tpid);
      } catch (err) {
        throw new NativeError("EINVAL", `send on ${this.info.name}: ${(err as Error).message}`, EINVAL);
      }
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
        const receivedAt = performance.now();
        // close() from onFrame ends delivery: the rest of the batch goes the way
        // of everything still queued in the kernel.
        for (let i = 0, m = 0; i < n && !this.#closed; i++, m += RECV_META_STRIDE) {
          const offset = meta[m]!;
          const status = meta[m + 2]!;
          const pkttype = meta[m + 5]!;
          const sec = (meta[m + 8]! >>> 0) + meta[m + 9]! * 2 ** 32;
          const nsec = meta[m + 10]!;
          const tagged = (status & TP_STATUS_VLAN_VALID) !== 0;
          const tpid = status & TP_STATUS_VLAN_TPID_VALID ? meta[m + 7]! : TPID_8021Q;
          const bytes = buffer.subarray(offset, offset + meta[m + 1]!);
          const restore = tagged && this.#vlanInBytes && bytes.length >= 14;
          const frame: ReceivedFrame = {
            bytes: restore ? insertVlanTag(bytes, tpid, meta[m + 6]!) : bytes.slice(),
            csum: status & TP_STATUS_CSUMNOTREADY ? "partial" : status & TP_STATUS_CSUM_VALID ? "valid" : "unknown",
            truncated: meta[m + 4] !== 0,
            wireLength: meta[m + 3]! + (restore ? 4 : 0),
            outgoing: pkttype === PACKET_OUTGOING,
            broadcast: pkttype === PACKET_BROADCAST,
            receivedAt: this.#ring ? monotonicFromKernel(sec, nsec, receivedAt) : receivedAt,
            vlan: tagged ? vlanTag(meta[m + 6]!, tpid) : null,
            time: BigInt(sec) * 1_000_000_000n + BigInt(nsec),
            timeUs: sec * 1_000_000 + Math.floor(nsec / 1000),
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

/**
 * A kernel receive time (the wall clock) on performance.now()'s clock, for frames that waited in
 * a ring block; `drained` (when it was read) if the wall clock was stepped out of the last second.
 */
function monotonicFromKernel(sec: number, nsec: number, drained: number): number {
  const t = sec * 1000 + nsec / 1e6 - performance.timeOrigin;
  return t <= drained && t > drained - 1000 ? t : drained;
}

/** Why dt_open refused a socket on `ifname`, said for a person. */
function openError(ifname: string, errno: number, hardwareType: number): NativeError {
  const code = codeFor(errno);
  if (errno === EPFNOSUPPORT) {
    return new NativeError(
      "EINVAL",
      `interface ${show(ifname)} is not an Ethernet interface (link type ${hardwareType}): DHCP here runs over Ethernet frames`,
      errno,
    );
  }
  if (code === "EPERM") {
    return new NativeError("EPERM", `no permission to open a raw socket on ${ifname}: ${capabilityHint()}`, errno);
  }
  if (code === "ENODEV") throw noSuchInterface(ifname, errno);
  if (code === "ENETDOWN") {
    return new NativeError("ENETDOWN", `interface ${show(ifname)} is down: bring it up with \`ip link set ${ifname} up\``, errno);
  }
  return new NativeError(code, `cannot open a raw socket on ${ifname}: ${errnoText(errno)}`, errno);
}
