// One packet socket for many clients: a load run's engines each get a port of it, a Transport
// of their own whose frames go out on the shared socket and whose replies are the frames whose
// BOOTP chaddr is that client's MAC. Routing reads the chaddr at its fixed offset (one Map
// lookup per frame, whatever the number of clients); the port's owner, the engine driver, then
// checks the frame and the message in full (core/reply.ts, the engine's own rules), so nothing
// here decides what a reply is worth.

import type { ReceivedFrameLike } from "../../core/reply.ts";
import { macKey } from "../../core/load-plan.ts";
import { DropCounters } from "../../core/drops.ts";
import type { Transport } from "./transport.ts";

const ETH_HEADER = 14;
const UDP_HEADER = 8;
/** chaddr's offset in a BOOTP message, and the bytes up to the end of its first six. */
const CHADDR_OFFSET = 28;
const CHADDR_END = CHADDR_OFFSET + 6;

/**
 * Where the BOOTP chaddr of an Ethernet/IPv4/UDP frame starts, or -1 when the frame is too
 * short to hold one. No validation beyond the bounds: the receiver's filter does that.
 */
export function chaddrOffset(bytes: Uint8Array): number {
  if (bytes.length < ETH_HEADER + 20 + UDP_HEADER + CHADDR_END) return -1;
  if (bytes[12] !== 0x08 || bytes[13] !== 0x00) return -1;
  const ihl = (bytes[ETH_HEADER] & 0x0f) * 4;
  if (ihl < 20) return -1;
  const at = ETH_HEADER + ihl + UDP_HEADER + CHADDR_OFFSET;
  return at + 6 <= bytes.length ? at : -1;
}

export class TransportMux {
  /** Frames no port took, by reason: late (its client is done), for no client of ours, our own, too short to route. */
  readonly drops = new DropCounters();
  /** Frames handed to a port. */
  routed = 0;
  readonly #shared: Transport;
  readonly #ports = new Map<number, (frame: ReceivedFrameLike) => void>();
  readonly #ours: ((key: number) => boolean) | undefined;
  #arrivedAt: number | null = null;

  /**
   * The shared socket's receive errors go to onError, once (not once per client). `ours`
   * says whether a MAC (as macKey gives it) is one the owner hands out: a frame for one with
   * no port is a late reply to a client that is done, not a stranger's (a set of every closed
   * port would grow with the run).
   */
  constructor(shared: Transport, onError?: (err: unknown) => void, ours?: (key: number) => boolean) {
    this.#shared = shared;
    this.#ours = ours;
    shared.listen((frame) => this.#route(frame), onError);
  }

  /**
   * While a frame is handed to its client: when it was read off the socket (its receivedAt),
   * so a reply's latency does not include the time the frames before it in its batch took.
   * Null outside that, or when the transport does not say.
   */
  arrivedAt(): number | null {
    return this.#arrivedAt;
  }

  /** Clients with an open port. */
  get open(): number {
    return this.#ports.size;
  }

  /**
   * A Transport for the client whose MAC is `mac`: sends on the shared socket, receives the
   * frames for that chaddr. Its close() only closes the port; the shared socket is the mux
   * owner's to close.
   */
  port(mac: Uint8Array): Transport {
    const key = macKey(mac);
    let handler: ((frame: ReceivedFrameLike) => void) | null = null;
    let closed = false;
    return {
      // Receive errors are the shared socket's: the mux's owner hears them once.
      listen: (onFrame) => {
        if (closed) return;
        if (this.#ports.has(key) && this.#ports.get(key) !== handler) throw new Error("two clients with one MAC on one socket");
        handler = onFrame;
        this.#ports.set(key, onFrame);
      },
      send: (frame) => {
        if (closed) throw new Error("send on a closed port");
        this.#shared.send(frame);
      },
      kernelDrops: () => this.#shared.kernelDrops(),
      close: () => {
        if (closed) return;
        closed = true;
        if (handler && this.#ports.get(key) === handler) this.#ports.delete(key);
      },
    };
  }

  #route(frame: ReceivedFrameLike): void {
    // The socket sees what we send, too (the relay's filter passes port 67 both ways).
    if (frame.outgoing) {
      this.drops.add("outgoing");
      return;
    }
    const at = chaddrOffset(frame.bytes);
    if (at < 0) {
      this.drops.add("too-short-to-route");
      return;
    }
    const key = macKey(frame.bytes, at);
    const handler = this.#ports.get(key);
    if (!handler) {
      this.drops.add(this.#ours?.(key) ? "late" : "no-such-client");
      return;
    }
    this.routed++;
    this.#arrivedAt = frame.receivedAt ?? null;
    try {
      handler(frame);
    } finally {
      this.#arrivedAt = null;
    }
  }
}
