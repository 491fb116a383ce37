/**
 * The DHCP traffic bench/watch.sh floods a link with: whole DORA exchanges of CLIENTS
 * clients (DISCOVER, OFFER, REQUEST, ACK each), built once with the project's own builders
 * (core/client.ts, core/message.ts, core/frame.ts), with valid IPv4 and UDP checksums.
 *
 * A real link never repeats an exchange, so neither does the flood: each pass over the pool
 * gives every client a fresh xid, patched into the frames in place (4 bytes) with the UDP
 * checksum updated incrementally (RFC 1624), which costs tens of nanoseconds per frame.
 * `repeat` mode keeps the xids fixed instead (the same CLIENTS exchanges over and over).
 *
 *   bun bench/watch-frames.ts check          verifies every checksum over a few passes
 *   bun bench/watch-frames.ts pcap FILE N    writes N frames of the flood as a pcap
 *                                            (for `dhcptool watch --read FILE`, profiling)
 */
import { buildClientMessage, buildDiscover, frameClientMessage } from "../core/client.ts";
import { buildUdpFrame, BROADCAST_MAC, DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from "../core/frame.ts";
import { encodeMessage, BOOTREPLY, type OptionBytes } from "../core/message.ts";
import { encodeOption, DHCPACK, DHCPOFFER, DHCPREQUEST } from "../core/options.ts";

export const FRAMES_PER_CLIENT = 4;
const XID_OFFSET = 14 + 20 + 8 + 4; // Ethernet, IPv4, UDP, then op htype hlen hops
const UDP_CSUM_OFFSET = 14 + 20 + 6;

const SERVER_IP = "10.99.0.1";
const SERVER_MAC = Uint8Array.of(0x02, 0xdc, 0x5e, 0x00, 0x00, 0x01);
const clientMac = (i: number) => Uint8Array.of(0x02, 0xdc, 0xc1, (i >>> 16) & 255, (i >>> 8) & 255, i & 255);
const clientIp = (i: number) => `10.99.${1 + ((i >>> 8) & 127)}.${i & 255}`;
/** The xid of client i in pass p: distinct over 2^32 / clients passes. */
const xidOf = (i: number, pass: number, clients: number) => (Math.imul(pass, clients) + i + 0x5eed0000) >>> 0;

function serverReply(type: number, xid: number, chaddr: Uint8Array, yiaddr: string): Uint8Array {
  const opt = (code: number, value: unknown): OptionBytes => ({ code, data: encodeOption(code, value) });
  const dhcp = encodeMessage({
    op: BOOTREPLY,
    xid,
    chaddr,
    yiaddr,
    siaddr: SERVER_IP,
    flags: 0x8000,
    options: [
      opt(53, type),
      opt(54, SERVER_IP),
      opt(51, 3600),
      opt(58, 1800),
      opt(59, 3150),
      opt(1, "255.255.0.0"),
      opt(3, [SERVER_IP]),
      opt(6, [SERVER_IP, "10.99.0.2"]),
      opt(15, "bench.example"),
      opt(28, "10.99.255.255"),
    ],
  });
  // broadcast flag set by the client: the reply goes to the broadcast address
  return buildUdpFrame({
    srcMac: SERVER_MAC,
    dstMac: BROADCAST_MAC,
    srcIp: SERVER_IP,
    dstIp: "255.255.255.255",
    srcPort: DHCP_SERVER_PORT,
    dstPort: DHCP_CLIENT_PORT,
    payload: dhcp,
  });
}

export interface FramePool {
  frames: Uint8Array[];
  clients: number;
  /** Gives every client its xid of pass `pass` (no-op in repeat mode). */
  setPass(pass: number): void;
}

/** CLIENTS × (DISCOVER, OFFER, REQUEST, ACK), in that order client after client. */
export function buildPool(clients: number, repeat = false): FramePool {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < clients; i++) {
    const mac = clientMac(i);
    const xid = xidOf(i, 0, clients);
    const id = { mac, hostname: `bench-${i}` };
    const ip = clientIp(i);
    frames.push(frameClientMessage(mac, buildDiscover(id, { xid, broadcastFlag: true })));
    frames.push(serverReply(DHCPOFFER, xid, mac, ip));
    frames.push(
      frameClientMessage(
        mac,
        buildClientMessage(id, {
          messageType: DHCPREQUEST,
          xid,
          broadcastFlag: true,
          requestedIp: ip,
          serverId: SERVER_IP,
        }),
      ),
    );
    frames.push(serverReply(DHCPACK, xid, mac, ip));
  }
  const views = frames.map((f) => new DataView(f.buffer, f.byteOffset, f.byteLength));
  return {
    frames,
    clients,
    setPass(pass: number) {
      if (repeat) return;
      for (let k = 0; k < frames.length; k++) {
        const v = views[k]!;
        const next = xidOf(k >>> 2, pass, clients);
        const old = v.getUint32(XID_OFFSET);
        if (old === next) continue;
        v.setUint32(XID_OFFSET, next);
        // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), one's complement, per 16-bit word
        let sum = ~v.getUint16(UDP_CSUM_OFFSET) & 0xffff;
        sum += (~(old >>> 16) & 0xffff) + (next >>> 16);
        sum += (~old & 0xffff) + (next & 0xffff);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        const csum = ~sum & 0xffff;
        v.setUint16(UDP_CSUM_OFFSET, csum === 0 ? 0xffff : csum);
      }
    },
  };
}

if (import.meta.main) {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === "check") {
    const { udpChecksum } = await import("../core/checksum.ts");
    const { viewFrame } = await import("../core/inspect.ts");
    const pool = buildPool(1024);
    let bad = 0;
    for (const pass of [0, 1, 2, 77, 4000, 0]) {
      pool.setPass(pass);
      for (const f of pool.frames) {
        const dv = new DataView(f.buffer, f.byteOffset);
        const stored = dv.getUint16(UDP_CSUM_OFFSET);
        dv.setUint16(UDP_CSUM_OFFSET, 0);
        const want = udpChecksum(f, 14, 34, dv.getUint16(38));
        dv.setUint16(UDP_CSUM_OFFSET, stored);
        if (want !== stored) bad++;
      }
    }
    const v = viewFrame(pool.frames[1]!, 1, 0, false);
    const sizes = [...new Set(pool.frames.map((f) => f.length))].sort((a, b) => a - b);
    console.log(JSON.stringify({ frames: pool.frames.length, sizes, badChecksums: bad, sample: v.message?.messageType, udp: v.frame?.udpChecksum }));
    process.exit(bad ? 1 : 0);
  } else if (mode === "pcap") {
    const [file, n] = [rest[0], Number(rest[1] ?? 400_000)];
    if (!file || !Number.isInteger(n) || n <= 0) {
      console.error("usage: bun bench/watch-frames.ts pcap FILE N");
      process.exit(2);
    }
    const { encodePcapHeader, encodePcapRecord } = await import("../core/pcap.ts");
    const pool = buildPool(1024);
    const sink = Bun.file(file).writer();
    sink.write(encodePcapHeader());
    const t0 = Date.now() * 1000;
    for (let k = 0; k < n; k++) {
      if (k % pool.frames.length === 0) pool.setPass(k / pool.frames.length);
      sink.write(encodePcapRecord(pool.frames[k % pool.frames.length]!, t0 + k * 10)); // 100k/s
    }
    await sink.end();
    console.error(`wrote ${n} frames to ${file}`);
  } else {
    console.error("usage: bun bench/watch-frames.ts check | pcap FILE N");
    process.exit(2);
  }
}
