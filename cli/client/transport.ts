// How the client's frames reach the wire and the replies come back: a Transport. The real one
// is a packet socket (native/rawsocket.ts); tests hand the client an in-memory one with a
// scripted server on its other end (test/unit/fake-net.ts), as nclient4's tests do with a
// socket pair.

import type { ReceivedFrameLike } from "../../core/reply.ts";
import type { FilterMode, InterfaceInfo } from "../../native/rawsocket.ts";

export interface Transport {
  /** Received frames go to onFrame from now on (one receiver); receive-path errors to onError. */
  listen(onFrame: (frame: ReceivedFrameLike) => void, onError?: (err: unknown) => void): void;
  /** Sends one Ethernet frame; throws when it cannot go (the interface is gone or down). */
  send(frame: Uint8Array): void;
  /** Frames the kernel dropped for want of room (PACKET_STATISTICS); 0 when it cannot say. */
  kernelDrops(): number;
  /** Idempotent. */
  close(): void;
}

export interface TransportOptions {
  /** Also hear frames to MACs other than the interface's (load's simulated clients). */
  promiscuous?: boolean;
  /**
   * Which VLANs' frames reach the receiver (the socket's default: the link's own for a client).
   * "any" lets a receiver see and count what came from other VLANs; an id tags what is sent.
   */
  vlan?: "any" | "none" | number;
  /** Receive through the socket's TPACKET_V3 ring (RawSocketOptions.ring). */
  ring?: boolean | "prompt";
}

/** The real Transport, with the facts of the link it was opened on (read once, as it opened). */
export interface RawTransport extends Transport {
  readonly info: InterfaceInfo;
}

/**
 * A packet socket on `iface` as a Transport. Loaded on demand: the native shim is the one
 * import a command cannot do without, but `--help` and usage errors should not pay for it.
 * Frames that arrive before listen() are dropped (nothing has asked yet).
 */
export async function openRawTransport(iface: string, filter: FilterMode, o: TransportOptions = {}): Promise<RawTransport> {
  const { RawSocket, loadNative } = await import("../../native/rawsocket.ts");
  await loadNative(); // a compiled binary's shim read without node:fs
  let onFrame: ((frame: ReceivedFrameLike) => void) | null = null;
  let onError: ((err: unknown) => void) | undefined;
  const socket = RawSocket.open(iface, {
    filter,
    promiscuous: o.promiscuous === true,
    ring: o.ring === "prompt" ? "prompt" : o.ring === true,
    // a VLAN id: that VLAN's frames only, and what is sent is tagged with it
    ...(o.vlan !== undefined ? { vlan: o.vlan } : {}),
    onFrame: (frame) => onFrame?.(frame),
    onError: (err) => onError?.(err),
  });
  return {
    info: socket.info,
    listen(frameHandler, errorHandler) {
      onFrame = frameHandler;
      onError = errorHandler;
    },
    send: (frame) => socket.send(frame),
    kernelDrops() {
      try {
        return socket.stats().drops;
      } catch {
        return 0;
      } // the interface is gone
    },
    close: () => socket.close(),
  };
}
