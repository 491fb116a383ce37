// The one receive filter for replies to a client (discover's OFFERs, the engine's replies for
// request and the resident client, inform's ACK): the frame checks, then the decode. Whatever
// fails is a reason to count, never an exception (HOSTILE.md 1-13). What the message itself
// must say to be ours (op, xid, chaddr) is checked after: replyMismatch() here for the
// collectors, the engine's own rules for an exchange (core/engine.ts onReceived).

import { bytesEqual } from "./bytes.ts";
import { parseUdpFrame, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, type ChecksumStatus, type FrameDropReason, type ParsedFrame } from "./frame.ts";
import { decodeMessage, BOOTREPLY, type DecodeErrorKind, type DecodeWarning, type DhcpMessage } from "./message.ts";

export type ReplyFrameDropReason = FrameDropReason | "not-to-giaddr" | "outgoing";

/**
 * A frame as a packet socket hands it over (native/rawsocket.ts ReceivedFrame fits).
 * receivedAt: when it was read off the socket, on the monotonic clock (performance.now()).
 * vlan: the 802.1Q tag it came with (the kernel keeps it beside the bytes); null: untagged.
 */
export interface ReceivedFrameLike {
  bytes: Uint8Array;
  csum: ChecksumStatus;
  outgoing?: boolean;
  receivedAt?: number;
  vlan?: { id: number } | null;
}

/**
 * Where a server's reply to us arrives. A client's: UDP port 68, in a frame to chaddr or
 * broadcast. A relay's (--giaddr, RFC 2131 4.1): UDP port 67 at giaddr, in a frame to the
 * interface's MAC, the one the server's ARP for giaddr found (chaddr may be another).
 */
export interface ReplyPath {
  dstPort: number;
  mac: Uint8Array;
  dstIp?: string;
}

export function clientReplyPath(chaddr: Uint8Array): ReplyPath {
  return { dstPort: DHCP_CLIENT_PORT, mac: chaddr };
}

export function relayReplyPath(giaddr: string, interfaceMac: Uint8Array): ReplyPath {
  return { dstPort: DHCP_SERVER_PORT, mac: interfaceMac, dstIp: giaddr };
}

export type ReplyFrameResult = { ok: true; frame: ParsedFrame } | { ok: false; reason: ReplyFrameDropReason };

/** The frame checks every reply passes before its DHCP message is decoded. */
export function parseReplyFrame(frame: ReceivedFrameLike, path: ReplyPath): ReplyFrameResult {
  if (frame.outgoing) return { ok: false, reason: "outgoing" };
  const f = parseUdpFrame(frame.bytes, { csum: frame.csum, dstPort: path.dstPort, ourMac: path.mac });
  if (!f.ok) return f;
  // A relay hears every client's broadcast to port 67 too (the watch filter): only what is
  // addressed to giaddr is an answer to us.
  if (path.dstIp !== undefined && f.frame.dstIp !== path.dstIp) return { ok: false, reason: "not-to-giaddr" };
  return f;
}

/** The VLAN a frame came on: its tag's id, null when untagged or priority-tagged (VID 0: the native VLAN). */
export function frameVlan(frame: ReceivedFrameLike): number | null {
  return frame.vlan && frame.vlan.id !== 0 ? frame.vlan.id : null;
}

export type ReplyResult =
  | { ok: true; frame: ParsedFrame; message: DhcpMessage; warnings: DecodeWarning[] }
  | { ok: false; reason: ReplyFrameDropReason | `decode-${DecodeErrorKind}` };

/** A received frame as a reply to us: its frame facts and its decoded message, or why not. */
export function receiveReply(frame: ReceivedFrameLike, path: ReplyPath): ReplyResult {
  const f = parseReplyFrame(frame, path);
  if (!f.ok) return f;
  const d = decodeMessage(f.frame.payload);
  if (!d.ok) return { ok: false, reason: `decode-${d.error.kind}` };
  return { ok: true, frame: f.frame, message: d.message, warnings: d.warnings };
}

/** RFC 2131 4.4: a reply is ours only with op BOOTREPLY, Ethernet, our xid and our chaddr. */
export function replyMismatch(m: DhcpMessage, xid: number, chaddr: Uint8Array): "not-reply" | "not-ethernet" | "wrong-xid" | "wrong-chaddr" | null {
  if (m.op !== BOOTREPLY) return "not-reply";
  if (m.htype !== 1 || m.hlen !== 6) return "not-ethernet";
  if (m.xid !== xid) return "wrong-xid";
  if (!bytesEqual(m.chaddr.subarray(0, 6), chaddr)) return "wrong-chaddr";
  return null;
}

/** --server: a reply counts when its server id (54) or its source address is that server. */
export function fromServer(server: string, serverId: string | null, srcIp: string): boolean {
  return serverId === server || srcIp === server;
}
