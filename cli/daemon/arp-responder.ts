// The resident client without --apply holds a leased address the kernel does not: answer ARP
// for it, as the host holding it would. A server beyond a router sends the ACK to a unicast
// renewal to ciaddr (RFC 2131 4.1: "If the 'giaddr' field is zero and the 'ciaddr' field is
// nonzero, then the server unicasts DHCPOFFER and DHCPACK messages to the address in
// 'ciaddr'"), so the router ARPs for it; unanswered, every renewal is lost and the client
// falls back to rebinding (the broadcast flag does not help: it is not read when ciaddr is
// set). The requests come on a packet socket of their own (the native "arp" filter: ARP
// requests only); a request that does not parse is dropped and counted.

import { bytesEqual } from "../../core/bytes.ts";
import { buildArpReply, parseArpRequest } from "../../core/arp.ts";
import { DropCounters } from "../../core/drops.ts";
import type { ReceivedFrameLike } from "../../core/reply.ts";
import { openRawTransport, type Transport } from "../client/transport.ts";
import type { ArpSink } from "./resident-io.ts";

/** What the responder tells its owner: each answer, and each request it dropped (and why). */
export interface ArpReports {
  answered?(asker: string, address: string): void;
  dropped?(reason: string): void;
}

export class ArpResponder implements ArpSink {
  #address: string | null = null;
  #mac: Uint8Array = new Uint8Array(6);
  #answered = 0;
  readonly drops = new DropCounters();

  constructor(
    private readonly transport: Transport,
    private readonly reports: ArpReports = {},
  ) {
    transport.listen(
      (frame) => this.#receive(frame),
      () => this.#drop("arp-receive-error"),
    );
  }

  #drop(reason: string): void {
    this.drops.add(reason);
    this.reports.dropped?.(reason);
  }

  get answered(): number {
    return this.#answered;
  }

  serve(address: string | null, mac: Uint8Array): void {
    this.#address = address;
    this.#mac = mac.slice(0, 6);
  }

  close(): void {
    this.#address = null;
    this.transport.close();
  }

  /** Never throws: a bad frame is counted, a send that fails too (the next request tries again). */
  #receive(frame: ReceivedFrameLike): void {
    const address = this.#address;
    if (address === null || frame.outgoing) return;
    const r = parseArpRequest(frame.bytes);
    if (!r.ok) {
      this.#drop(r.reason);
      return;
    }
    const q = r.request;
    if (q.targetIp !== address) return; // someone else's address: not ours to answer
    // our own request, or someone announcing this address as theirs (a conflict is not ours to argue)
    if (bytesEqual(q.senderMac, this.#mac) || q.senderIp === address) {
      this.#drop("arp-not-answered");
      return;
    }
    try {
      this.transport.send(buildArpReply(this.#mac, address, q));
    } catch {
      this.#drop("arp-send-failed");
      return;
    }
    this.#answered++;
    this.reports.answered?.(q.senderIp, address);
  }
}

/** A responder on iface's own packet socket for ARP requests; open it before privileges go. */
export async function openArpResponder(iface: string, reports?: ArpReports): Promise<ArpResponder> {
  return new ArpResponder(await openRawTransport(iface, "arp"), reports);
}
