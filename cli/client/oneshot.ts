// The messages a client sends outside an exchange: RELEASE (RFC 2131 4.4.6) and DECLINE
// (3.1.5), sent once and not answered; INFORM (3.4), sent until its ACK comes back, which
// carries configuration but no lease.

import type { ClientIdentity } from "../../core/client.ts";
import { buildClientMessage, buildDecline, buildRelease, frameClientMessage } from "../../core/client.ts";
import { BROADCAST_MAC } from "../../core/frame.ts";
import { messageType } from "../../core/message.ts";
import { DHCPACK, DHCPINFORM } from "../../core/options.ts";
import { clientReplyPath, receiveReply, replyMismatch } from "../../core/reply.ts";
import { abortOnSignal } from "./exchange.ts";
import { RealTimers, systemClock, type Clock, type Timers } from "./time.ts";
import { openRawTransport, type Transport } from "./transport.ts";

/** The interface's own MAC (the default chaddr); throws when there is no such interface. */
export async function interfaceMac(iface: string): Promise<Uint8Array> {
  const { interfaceInfo } = await import("../../native/rawsocket.ts");
  return interfaceInfo(iface).mac;
}

/** Sends one frame on `iface`; afterOpen runs once the socket is open (the privilege drop). */
async function sendOnce(iface: string, frame: Uint8Array, afterOpen?: () => Promise<void>): Promise<void> {
  const transport = await openRawTransport(iface, "client");
  try {
    await afterOpen?.();
    transport.send(frame);
  } finally {
    transport.close();
  }
}

export interface ReleaseParams {
  xid: number;
  address: string;
  server: string;
  serverMac: Uint8Array;
}

/** RFC 2131 4.4.6: unicast to the server (its MAC, else broadcast), from the address being released. */
export function sendRelease(iface: string, id: ClientIdentity, p: ReleaseParams): Promise<void> {
  const payload = buildRelease(id, { xid: p.xid, address: p.address, serverId: p.server });
  return sendOnce(iface, frameClientMessage(id.mac, payload, { mac: p.serverMac, ip: p.server, srcIp: p.address }));
}

export interface DeclineParams {
  xid: number;
  address: string;
  server: string;
  message?: string;
  /** --server-mac: to this MAC and the server's address instead of broadcast. */
  serverMac?: Uint8Array | null;
}

/**
 * RFC 2131 4.4.4: the client has no address, so it broadcasts from 0.0.0.0 (a relay agent
 * forwards it to a server beyond a router; a router would not route a datagram from
 * 0.0.0.0). With --server-mac, to that MAC and the server's address, still from 0.0.0.0.
 */
export function sendDecline(iface: string, id: ClientIdentity, p: DeclineParams, afterOpen?: () => Promise<void>): Promise<void> {
  const payload = buildDecline(id, { xid: p.xid, address: p.address, serverId: p.server, message: p.message });
  const to = p.serverMac ? { mac: p.serverMac, ip: p.server, srcIp: "0.0.0.0" } : undefined;
  return sendOnce(iface, frameClientMessage(id.mac, payload, to), afterOpen);
}

export interface InformOptions {
  iface: string;
  id: ClientIdentity;
  xid: number;
  /** This host's address (ciaddr, and the IPv4 source). */
  address: string;
  /** Unicast to this server; null: broadcast. */
  server: string | null;
  /** The Ethernet destination (the server's or its router's MAC; broadcast when unknown). */
  serverMac: Uint8Array;
  retryMs: number;
  tries: number;
  afterOpen?: () => Promise<void>;
  /** Told after each INFORM goes out (n from 1), the wait for its ACK beginning. */
  onSent?: (n: number) => void;
  /** Aborted (Ctrl-C, SIGTERM): stop waiting; the reason is the signal's name. */
  signal?: AbortSignal;
}

export interface InformResult {
  /** The ACK's DHCP message and who sent it; null when none came. */
  ack: { payload: Uint8Array; from: string } | null;
  ms: number;
  /** Replies that were not our ACK. */
  dropped: number;
  /** INFORMs sent. */
  sent: number;
  /** The signal that ended the wait, else null. */
  interrupted: string | null;
}

export async function runInform(o: InformOptions): Promise<InformResult> {
  const transport = await openRawTransport(o.iface, "client");
  const interrupt = abortOnSignal();
  try {
    return await informOver({ transport, timers: new RealTimers(), clock: systemClock }, { ...o, signal: o.signal ?? interrupt.signal });
  } finally {
    interrupt.dispose();
    transport.close();
  }
}

export async function informOver(io: { transport: Transport; timers: Timers; clock: Clock }, o: InformOptions): Promise<InformResult> {
  const { transport, timers, clock } = io;
  // RFC 2131 4.4.3: ciaddr = our address; no 50, 54 or 51; the ACK comes unicast to ciaddr.
  const payload = buildClientMessage(o.id, { messageType: DHCPINFORM, xid: o.xid, ciaddr: o.address });
  const frame =
    o.server === null
      ? frameClientMessage(o.id.mac, payload, { mac: BROADCAST_MAC, ip: "255.255.255.255", srcIp: o.address })
      : frameClientMessage(o.id.mac, payload, { mac: o.serverMac, ip: o.server, srcIp: o.address });
  let ack: InformResult["ack"] = null;
  let dropped = 0;
  let wake = () => {};
  transport.listen((f) => {
    if (ack) return;
    const r = receiveReply(f, clientReplyPath(o.id.mac));
    if (!r.ok && r.reason === "outgoing") return;
    if (!r.ok || replyMismatch(r.message, o.xid, o.id.mac) !== null || messageType(r.message) !== DHCPACK) {
      dropped++;
      return;
    }
    ack = { payload: r.frame.payload, from: r.frame.srcIp };
    wake();
  });
  const t0 = clock.now();
  let sent = 0;
  o.signal?.addEventListener("abort", () => wake(), { once: true });
  try {
    await o.afterOpen?.(); // the ACK is parsed as --user
    for (let i = 0; i < o.tries && !ack && !o.signal?.aborted; i++) {
      transport.send(frame);
      sent++;
      o.onSent?.(sent);
      await new Promise<void>((resolve) => {
        wake = resolve;
        timers.arm("retransmit", clock.now() + o.retryMs, resolve);
      });
    }
  } finally {
    timers.clear();
  }
  const interrupted = !ack && o.signal?.aborted ? String(o.signal.reason) : null;
  return { ack, ms: Math.round((clock.now() - t0) * 10) / 10, dropped, sent, interrupted };
}
