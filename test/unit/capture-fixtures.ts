// The captures in test/fixtures/captures/, built by our own code: link headers (Ethernet with
// VLAN tags, SLL, SLL2, raw IP, radiotap + 802.11 with LLC/SNAP), pcapng files (blocks from
// pcap-fixtures.ts), and the DHCP exchanges inside them. scripts/make-captures.ts writes them out;
// test/unit/captures.test.ts checks the committed files are exactly what this builds.

import { buildUdpFrame, BROADCAST_MAC } from "../../core/frame.ts";
import { encodeMessage, BOOTREPLY, BOOTREQUEST, type OptionBytes } from "../../core/message.ts";
import { encodePcap } from "../../core/pcap.ts";
import { CLIENT_MAC, ip4, SERVER_MAC, u32 } from "./helpers.ts";
import { block, concat, epb, idb, NRB, shb } from "./pcap-fixtures.ts";

const be16 = (n: number) => Uint8Array.of(n >> 8, n & 255);
const le16 = (n: number) => Uint8Array.of(n & 255, n >> 8);

// ---- link headers around an IPv4 packet ----

/** Ethernet, with VLAN tags outermost first: [tpid, vid] pairs. */
export function ethernet(ip: Uint8Array, tags: [number, number][] = [], dst: Uint8Array = BROADCAST_MAC, src: Uint8Array = CLIENT_MAC): Uint8Array {
  return concat(dst, src, ...tags.flatMap(([tpid, vid]) => [be16(tpid), be16(vid)]), be16(0x0800), ip);
}

/** SLL packet types: 0 to us, 1 broadcast, 4 sent by us. */
export function sll(ip: Uint8Array, pkttype: number, src: Uint8Array): Uint8Array {
  const addr = new Uint8Array(8);
  addr.set(src);
  return concat(be16(pkttype), be16(1), be16(6), addr, be16(0x0800), ip);
}

export function sll2(ip: Uint8Array, pkttype: number, src: Uint8Array, ifindex = 2): Uint8Array {
  const addr = new Uint8Array(8);
  addr.set(src);
  return concat(be16(0x0800), be16(0), Uint8Array.of(0, 0, 0, ifindex), be16(1), Uint8Array.of(pkttype, 6), addr, ip);
}

export interface Dot11 {
  toDs?: boolean;
  fromDs?: boolean;
  qos?: boolean;
  /** The Order bit: an HT control field follows QoS control. */
  order?: boolean;
  protected?: boolean;
  /** Frame control byte 0 (type/subtype) other than data (0x08) / QoS data (0x88). */
  fc?: number;
  addr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array?];
}

/** An 802.11 frame: header, then LLC/SNAP (RFC 1042) and the IPv4 packet. */
export function dot11(ip: Uint8Array, f: Dot11): Uint8Array {
  const fc0 = f.fc ?? (f.qos ? 0x88 : 0x08);
  const flags = (f.toDs ? 1 : 0) | (f.fromDs ? 2 : 0) | (f.protected ? 0x40 : 0) | (f.order ? 0x80 : 0);
  const parts = [Uint8Array.of(fc0, flags), le16(44), f.addr[0], f.addr[1], f.addr[2], le16(0x10)];
  if (f.toDs && f.fromDs) parts.push(f.addr[3] ?? new Uint8Array(6));
  if (f.qos) parts.push(Uint8Array.of(0, 0));
  if (f.qos && f.order) parts.push(new Uint8Array(4));
  return concat(...parts, Uint8Array.of(0xaa, 0xaa, 0x03, 0, 0, 0), be16(0x0800), ip);
}

/** Radiotap v0: flags (bit 1) and rate (bit 2) present, then the 802.11 frame. */
export function radiotap(frame: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0, 0), le16(10), Uint8Array.of(0x06, 0, 0, 0), Uint8Array.of(0x00, 0x02), frame);
}

// ---- the DHCP exchange inside ----

export const AP_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0xa9);
export const T0 = 1_700_000_000_000_000; // µs: 2023-11-14T22:13:20Z
const CAPTURE_XID = 0x5eed0001;

const opt = (code: number, data: Uint8Array): OptionBytes => ({ code, data });

function serverOptions(type: number): OptionBytes[] {
  return [
    opt(53, Uint8Array.of(type)),
    opt(54, ip4("198.18.0.1")),
    opt(51, u32(3600)),
    opt(1, ip4("255.255.255.0")),
    opt(3, ip4("198.18.0.1")),
    opt(6, ip4("198.18.0.1")),
  ];
}

/** DISCOVER, OFFER, REQUEST, ACK as payloads with their ports and addresses. */
export function doraMessages(xid = CAPTURE_XID, extra: { sname?: Uint8Array; file?: Uint8Array } = {}) {
  const client = (type: number, more: OptionBytes[] = []) =>
    encodeMessage({ op: BOOTREQUEST, xid, chaddr: CLIENT_MAC, options: [opt(53, Uint8Array.of(type)), ...more] });
  const server = (type: number) => {
    const m = encodeMessage({ op: BOOTREPLY, xid, chaddr: CLIENT_MAC, yiaddr: "198.18.0.100", siaddr: "198.18.0.1", options: serverOptions(type) });
    if (extra.sname) m.set(extra.sname.subarray(0, 64), 44);
    if (extra.file) m.set(extra.file.subarray(0, 128), 108);
    return m;
  };
  const up = { srcIp: "0.0.0.0", dstIp: "255.255.255.255", srcPort: 68, dstPort: 67 };
  const down = { srcIp: "198.18.0.1", dstIp: "198.18.0.100", srcPort: 67, dstPort: 68 };
  return [
    { ...up, payload: client(1) },
    { ...down, payload: server(2) },
    { ...up, payload: client(3, [opt(50, ip4("198.18.0.100")), opt(54, ip4("198.18.0.1"))]) },
    { ...down, payload: server(5) },
  ];
}

type Message = ReturnType<typeof doraMessages>[number];

/** The IPv4 packet (no link header) of a message, both checksums right. */
export function ipPacket(m: Message): Uint8Array {
  return buildUdpFrame({ srcMac: CLIENT_MAC, dstMac: BROADCAST_MAC, ttl: 64, ...m }).slice(14);
}

/** As a sending host's capture shows it with checksum offload: IPv4 checksum 0, UDP only the pseudo-header sum. */
export function offloadedIpPacket(m: Message): Uint8Array {
  const ip = ipPacket(m);
  const dv = new DataView(ip.buffer);
  dv.setUint16(10, 0);
  let sum = 0;
  for (let i = 12; i < 20; i += 2) sum += dv.getUint16(i);
  sum += 17 + dv.getUint16(24);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  dv.setUint16(26, sum); // what the stack leaves for the NIC: the folded pseudo-header sum
  return ip;
}

export const fromClient = (i: number) => i % 2 === 0;

// ---- the files ----

const tsUs = (i: number) => T0 + i * 1500; // 1.5 ms apart

function pcapOf(linktype: number, frames: Uint8Array[]): Uint8Array {
  return encodePcap(
    frames.map((data, i) => ({ data, timestampUs: tsUs(i) })),
    { linktype },
  );
}

/** A classic pcap as a big-endian host writes it, with nanosecond timestamps (magic a1 b2 3c 4d). */
function pcapBigEndianNanos(linktype: number, frames: Uint8Array[]): Uint8Array {
  const head = new Uint8Array(24);
  const h = new DataView(head.buffer);
  h.setUint32(0, 0xa1b23c4d);
  h.setUint16(4, 2);
  h.setUint16(6, 4);
  h.setUint32(16, 65535);
  h.setUint32(20, linktype);
  const records = frames.map((data, i) => {
    const rec = new Uint8Array(16 + data.length);
    const d = new DataView(rec.buffer);
    const us = tsUs(i);
    d.setUint32(0, Math.floor(us / 1e6));
    d.setUint32(4, (us % 1e6) * 1000 + 7); // 7 ns past the µs: cut on reading
    d.setUint32(8, data.length);
    d.setUint32(12, data.length);
    rec.set(data, 16);
    return rec;
  });
  return concat(head, ...records);
}

/** The Ethernet addresses of each DORA step: the client broadcasts, the server answers it. */
function ethOf(ip: Uint8Array, i: number, tags: [number, number][] = []): Uint8Array {
  return fromClient(i) ? ethernet(ip, tags, BROADCAST_MAC, CLIENT_MAC) : ethernet(ip, tags, CLIENT_MAC, SERVER_MAC);
}

/** A beacon's body: timestamp, interval (100 TU), capabilities (ESS), SSID "lab". */
const BEACON_BODY = concat(new Uint8Array(8), le16(100), le16(1), Uint8Array.of(0, 3, 0x6c, 0x61, 0x62));

/** Bytes an encrypted frame would carry: nothing that reads as LLC/SNAP. */
const CIPHERTEXT = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 255);

function radiotapDora(ips: Uint8Array[]): Uint8Array[] {
  const [d, o, r, a] = ips;
  const bssid = AP_MAC;
  return [
    // to the AP: address 1 the BSSID, 2 the sender, 3 the destination
    radiotap(dot11(d, { toDs: true, addr: [bssid, CLIENT_MAC, BROADCAST_MAC] })),
    radiotap(concat(dot11(new Uint8Array(0), { fc: 0x80, addr: [BROADCAST_MAC, bssid, bssid] }).subarray(0, 24), BEACON_BODY)),
    // from the AP, QoS data: 1 the destination, 2 the BSSID, 3 the sender
    radiotap(dot11(o, { fromDs: true, qos: true, addr: [CLIENT_MAC, bssid, SERVER_MAC] })),
    radiotap(concat(dot11(new Uint8Array(0), { toDs: true, protected: true, addr: [bssid, CLIENT_MAC, BROADCAST_MAC] }).subarray(0, 24), CIPHERTEXT)),
    // QoS data with an HT control field (the Order bit)
    radiotap(dot11(r, { toDs: true, qos: true, order: true, addr: [bssid, CLIENT_MAC, BROADCAST_MAC] })),
    radiotap(dot11(new Uint8Array(0), { fc: 0x48, toDs: true, addr: [bssid, CLIENT_MAC, bssid] }).subarray(0, 24)), // null function
    // between access points (WDS): 1 receiver, 2 transmitter, 3 destination, 4 sender
    radiotap(dot11(a, { toDs: true, fromDs: true, addr: [AP_MAC, Uint8Array.of(2, 0, 0, 0, 0, 0xaa), CLIENT_MAC, SERVER_MAC] })),
  ];
}

/** A BOOTP exchange (RFC 951): the fixed header and a vend area of zeros, no magic cookie. */
function bootpPackets(): Uint8Array[] {
  const bootp = (op: number, fields: { yiaddr?: string; siaddr?: string; sname?: string; file?: string }) => {
    const m = encodeMessage({ op, xid: 0xb007b007, chaddr: CLIENT_MAC, options: [], ...fields });
    m.fill(0, 236); // no cookie, no options: vend is 64 bytes of zeros
    return m;
  };
  const req = bootp(BOOTREQUEST, {});
  const rep = bootp(BOOTREPLY, { yiaddr: "198.18.0.77", siaddr: "198.18.0.1", sname: "bootserver", file: "/tftpboot/kernel" });
  const up = { srcIp: "0.0.0.0", dstIp: "255.255.255.255", srcPort: 68, dstPort: 67 };
  const down = { srcIp: "198.18.0.1", dstIp: "255.255.255.255", srcPort: 67, dstPort: 68 };
  return [ethOf(ipPacket({ ...up, payload: req }), 0), ethOf(ipPacket({ ...down, payload: rep }), 1)];
}

/** sname and file filled to the last byte (no NUL), one byte an escape character. */
export const UNTERMINATED_SNAME = Uint8Array.from({ length: 64 }, (_, i) => (i === 5 ? 0x1b : 0x61 + (i % 26)));
export const UNTERMINATED_FILE = Uint8Array.from({ length: 128 }, (_, i) => 0x30 + (i % 10));

function twoLinks(le: boolean, ips: Uint8Array[]): Uint8Array {
  return concat(
    shb(le),
    idb(le, 1, { tsresol: 9 }),
    idb(le, 276),
    epb(le, 0, BigInt(tsUs(0)) * 1000n + 123n, ethOf(ips[0], 0)),
    block(le, NRB, new Uint8Array(4)),
    epb(le, 1, BigInt(tsUs(1)), sll2(ips[1], 0, SERVER_MAC)),
    epb(le, 0, BigInt(tsUs(2)) * 1000n, ethOf(ips[2], 2)),
    epb(le, 1, BigInt(tsUs(3)), sll2(ips[3], 0, SERVER_MAC)),
  );
}

/** Every file in test/fixtures/captures/, by name. */
export function buildCaptures(): Record<string, Uint8Array> {
  const dora = doraMessages();
  const ips = dora.map(ipPacket);
  const srcOf = (i: number) => (fromClient(i) ? CLIENT_MAC : SERVER_MAC);
  const raw = Object.fromEntries([12, 14, 101, 228].map((lt) => [`raw-${lt}.pcap`, pcapOf(lt, ips)]));
  return {
    "ethernet.pcap": pcapOf(
      1,
      ips.map((ip, i) => ethOf(ip, i)),
    ),
    "ethernet-be-ns.pcap": pcapBigEndianNanos(
      1,
      ips.map((ip, i) => ethOf(ip, i)),
    ),
    // two interfaces of two link types, ns and µs resolution, and a block to skip; either byte order
    "two-links.pcapng": twoLinks(true, ips),
    "two-links-be.pcapng": twoLinks(false, ips),
    "sll.pcap": pcapOf(
      113,
      ips.map((ip, i) => sll(ip, fromClient(i) ? 4 : 0, srcOf(i))),
    ),
    "sll2.pcap": pcapOf(
      276,
      ips.map((ip, i) => sll2(ip, fromClient(i) ? 4 : 0, srcOf(i))),
    ),
    ...raw,
    "radiotap.pcap": pcapOf(127, radiotapDora(ips)),
    "vlan.pcap": pcapOf(
      1,
      ips.map((ip, i) => ethOf(ip, i, [[0x8100, 10]])),
    ),
    "qinq.pcap": pcapOf(1, [
      ethOf(ips[0], 0, [
        [0x88a8, 100],
        [0x8100, 10],
      ]),
      ethOf(ips[1], 1, [
        [0x88a8, 100],
        [0x8100, 10],
      ]),
      ethOf(ips[2], 2, [
        [0x9100, 200],
        [0x8100, 20],
      ]),
      ethOf(ips[3], 3, [
        [0x88a8, 300],
        [0x8100, 30],
        [0x8100, 3],
      ]),
    ]),
    "ip-checksum-zero.pcap": pcapOf(
      1,
      dora.map((m, i) => ethOf(fromClient(i) ? ipPacket(m) : offloadedIpPacket(m), i)),
    ),
    "bootp.pcap": pcapOf(1, bootpPackets()),
    "sname-no-nul.pcap": pcapOf(
      1,
      doraMessages(CAPTURE_XID, { sname: UNTERMINATED_SNAME, file: UNTERMINATED_FILE }).map((m, i) => ethOf(ipPacket(m), i)),
    ),
  };
}
