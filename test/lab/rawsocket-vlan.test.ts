/**
 * RawSocket on a trunk, against the real kernel: what it says about each frame (the VLAN tag
 * the kernel took off, the kernel's receive time), which frames each socket's VLAN choice lets
 * through (decided in its BPF program), and tagged frames it sends. This kernel has no 8021q
 * module, but its core takes tags off on receive all the same: tagged frames are built here and
 * sent from the other end of a veth pair (test/lab/inject.ts).
 */
import { describe, expect, test } from "bun:test";
import { tagFrame, TPID_8021AD, TPID_8021Q } from "../../core/frame.ts";
import { captureOn } from "./helpers.ts";
import { injectFrames } from "./inject.ts";
import { collectLines, type Event, hex, udpFrame, vethPair, waitFor } from "./veth-pair.ts";

/** A 342-byte DHCP-shaped broadcast, 67 -> 68, from 198.18.0.HOST: the host names it in tcpdump's lines. */
const offerFrom = (host: number) => udpFrame({ sourcePort: 67, destinationPort: 68, payload: `from .${host}`.padEnd(300, "."), sourceHost: host });

interface SocketSpec {
  name: string;
  filter: "client" | "watch";
  vlan?: "any" | "none" | number;
  ring?: boolean;
  vlanInBytes?: boolean;
}

describe("RawSocket on a trunk (two namespaces)", () => {
  const { nsA, nsB, spawnIn } = vethPair("v");

  /** A receiver in A with these sockets open; resolves once they are. */
  async function receiver(specs: SocketSpec[]) {
    const child = spawnIn(nsA, "native-sockets.ts", ["v0", JSON.stringify(specs)]);
    const out = collectLines(child.stdout);
    await waitFor("receiver ready", () => out.events.some((e) => e.event === "ready"));
    const frames = (socket: string) => out.events.filter((e) => e.event === "frame" && e.socket === socket);
    const close = async () => {
      child.stdin.end();
      expect(await child.exited).toBe(0);
      await out.done;
      expect(await new Response(child.stderr).text()).toBe("");
      expect(out.events.filter((e) => e.event === "error")).toEqual([]);
      return out.events.find((e) => e.event === "closed")!.stats as Record<string, { packets: number; drops: number }>;
    };
    return { frames, close };
  }

  test("tags arrive as frame metadata, and each socket's VLAN choice lets through only its frames", async () => {
    const plain = [10, 11, 12, 13, 14, 15].map(offerFrom);
    const onWire = [
      plain[0]!, // untagged
      tagFrame(plain[1]!, 10, 5), // VLAN 10, priority 5
      tagFrame(plain[2]!, 20, 3, TPID_8021AD), // an 802.1ad (service) tag
      tagFrame(plain[3]!, 0, 6), // a priority tag: VID 0, the native VLAN
      tagFrame(plain[4]!, 10, 0),
      plain[5]!, // untagged, last: once a socket has it, it has judged the rest
    ];
    const r = await receiver([
      { name: "watch", filter: "watch" },
      { name: "ring", filter: "watch", ring: true },
      { name: "client", filter: "client" },
      { name: "client10", filter: "client", vlan: 10 },
      { name: "watch20", filter: "watch", vlan: 20 },
      { name: "clientAny", filter: "client", vlan: "any" },
      { name: "wire", filter: "watch", ring: true, vlanInBytes: true },
    ]);
    await injectFrames(nsB, "v1", onWire);
    const last = hex(plain[5]!);
    for (const name of ["watch", "ring", "client", "clientAny", "wire"]) {
      await waitFor(`${name} to have the last frame`, () => r.frames(name).some((f) => f.hex === last));
    }
    await waitFor("client10 and watch20", () => r.frames("client10").length >= 2 && r.frames("watch20").length >= 1);
    const stats = await r.close();

    const tags = [
      null,
      { id: 10, pcp: 5, tpid: TPID_8021Q },
      { id: 20, pcp: 3, tpid: TPID_8021AD },
      { id: 0, pcp: 6, tpid: TPID_8021Q },
      { id: 10, pcp: 0, tpid: TPID_8021Q },
      null,
    ];
    const seen = (name: string) => r.frames(name).map((f: Event) => ({ hex: f.hex, vlan: f.vlan }));
    // The bytes come untagged (the kernel took the tag off); the tag comes beside them.
    const all = plain.map((f, i) => ({ hex: hex(f), vlan: tags[i] }));
    expect(seen("watch")).toEqual(all);
    expect(seen("ring")).toEqual(all);
    expect(seen("clientAny")).toEqual(all);
    // The client default: untagged and priority-tagged frames, never another VLAN's.
    expect(seen("client")).toEqual([all[0], all[3], all[5]]);
    expect(seen("client10")).toEqual([all[1], all[4]]);
    expect(seen("watch20")).toEqual([all[2]]);
    // vlanInBytes: the tag back where it was, byte for byte as sent.
    expect(seen("wire")).toEqual(onWire.map((f, i) => ({ hex: hex(f), vlan: tags[i] })));
    expect(r.frames("wire").map((f: Event) => f.wireLength)).toEqual(onWire.map((f) => f.length));
    // What the BPF program let through is all the kernel counted: nothing was filtered in JS.
    expect(stats).toEqual({
      watch: { packets: 6, drops: 0 },
      ring: { packets: 6, drops: 0 },
      client: { packets: 3, drops: 0 },
      client10: { packets: 2, drops: 0 },
      watch20: { packets: 1, drops: 0 },
      clientAny: { packets: 6, drops: 0 },
      wire: { packets: 6, drops: 0 },
    });
  });

  test("a tag the kernel leaves in the bytes (QinQ's inner one, a 0x9100 one) still reaches watch sockets", async () => {
    const plain = [20, 21, 22].map(offerFrom);
    const qinq = tagFrame(tagFrame(plain[0]!, 10, 2), 100, 4, TPID_8021AD); // service tag 100 around VLAN 10
    const old = tagFrame(plain[1]!, 30, 0, 0x9100);
    const r = await receiver([
      { name: "watch", filter: "watch" },
      { name: "wire", filter: "watch", vlanInBytes: true },
      { name: "client", filter: "client", vlan: "any" },
    ]);
    await injectFrames(nsB, "v1", [qinq, old, plain[2]!]);
    const last = hex(plain[2]!);
    for (const name of ["watch", "wire", "client"]) {
      await waitFor(`${name} to have the last frame`, () => r.frames(name).some((f) => f.hex === last));
    }
    const stats = await r.close();
    const seen = (name: string) => r.frames(name).map((f: Event) => ({ hex: f.hex, vlan: f.vlan }));
    const outer = { id: 100, pcp: 4, tpid: TPID_8021AD };
    // The kernel took the outer tag off; the inner one and the 0x9100 one stay in the bytes.
    expect(seen("watch")).toEqual([
      { hex: hex(tagFrame(plain[0]!, 10, 2)), vlan: outer },
      { hex: hex(old), vlan: null },
      { hex: last, vlan: null },
    ]);
    expect(seen("wire")).toEqual([
      { hex: hex(qinq), vlan: outer },
      { hex: hex(old), vlan: null },
      { hex: last, vlan: null },
    ]);
    // A client reads IPv4 right after the MAC addresses: a tag in the bytes is not its frame.
    expect(seen("client")).toEqual([{ hex: last, vlan: null }]);
    expect(stats.client).toEqual({ packets: 1, drops: 0 });
  });

  test("receive times are the kernel's: within 100 µs of tcpdump's for the same frames", async () => {
    const frames = Array.from({ length: 20 }, (_, i) => offerFrom(100 + i));
    const tcpdump = await captureOn(nsA, "v0", "udp", { nanoTimes: true });
    const r = await receiver([
      { name: "watch", filter: "watch" },
      { name: "ring", filter: "watch", ring: true },
      { name: "client", filter: "client" },
    ]);
    const before = BigInt(Date.now() - 1) * 1_000_000n;
    await injectFrames(nsB, "v1", frames);
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    for (const name of ["watch", "ring", "client"]) {
      await waitFor(`${name}: 20 frames`, () => r.frames(name).length >= frames.length);
    }
    await r.close();
    const lines = await tcpdump.stop();

    // "1764900000.123456789 IP 198.18.0.100.67 > 198.19.255.255.68: UDP, length 9"
    const theirs = new Map<number, bigint>();
    for (const line of lines) {
      const m = /^(\d+)\.(\d{9}) IP 198\.18\.0\.(\d+)\.67 > /.exec(line);
      if (m) theirs.set(Number(m[3]), BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!));
    }
    expect(theirs.size).toBe(frames.length);
    for (const name of ["watch", "ring", "client"]) {
      const got = r.frames(name);
      expect(got.length).toBe(frames.length);
      for (const f of got) {
        const host = Buffer.from(f.hex, "hex")[29]!; // the source address's last byte
        const ours = BigInt(f.time);
        const off = ours - theirs.get(host)!;
        expect({ name, host, offNs: Math.abs(Number(off)) < 100_000 ? "< 100 µs" : Number(off) }).toEqual({
          name,
          host,
          offNs: "< 100 µs",
        });
        expect(ours >= before && ours <= after).toBe(true);
        expect(f.timeUs).toBe(Number(ours / 1000n));
      }
    }
  });

  test("send() puts a VLAN tag on the wire, given or the socket's own; tagged frames may be 4 bytes longer", async () => {
    const frame = offerFrom(40);
    const tcpdump = await captureOn(nsA, "v0", "", { linkHeaders: true });
    const r = await receiver([
      { name: "watch", filter: "watch" },
      { name: "client40", filter: "client", vlan: 40 },
    ]);
    const sender = spawnIn(nsB, "native-send-tagged.ts", ["v1", hex(frame)]);
    const sent = collectLines(sender.stdout);
    expect(await sender.exited).toBe(0);
    await sent.done;
    expect(await new Response(sender.stderr).text()).toBe("");
    expect(sent.events[0]?.results).toEqual({
      tagged30: "ok",
      tagged50: "ok",
      socketVlan40: "ok",
      fullTagged: "ok",
      fullPlusTagUntagged: "EMSGSIZE",
      badVlan: "EINVAL",
    });
    await waitFor("the receiver: 4 frames", () => r.frames("watch").length >= 4);
    await waitFor("the VLAN 40 client: 1 frame", () => r.frames("client40").length >= 1);
    const stats = await r.close();
    const lines = (await tcpdump.stop()).filter((l) => l.includes("198.18.0.40.67"));

    // tcpdump shows the tags as they crossed the link (libpcap puts back what the kernel took off).
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/ethertype 802\.1Q \(0x8100\), length 346: vlan 30, p 2, ethertype IPv4/);
    expect(lines[1]).toMatch(/ethertype 802\.1Q-QinQ \(0x88a8\), length 346: vlan 50, p 7, ethertype IPv4/);
    expect(lines[2]).toMatch(/ethertype 802\.1Q \(0x8100\), length 346: vlan 40, p 0, ethertype IPv4/);
    expect(lines[3]).toMatch(/ethertype 802\.1Q \(0x8100\), length 1518: vlan 60, p 0, ethertype IPv4/);
    expect(r.frames("watch").map((f: Event) => f.vlan)).toEqual([
      { id: 30, pcp: 2, tpid: TPID_8021Q },
      { id: 50, pcp: 7, tpid: TPID_8021AD },
      { id: 40, pcp: 0, tpid: TPID_8021Q },
      { id: 60, pcp: 0, tpid: TPID_8021Q },
    ]);
    expect(r.frames("watch")[0]!.hex).toBe(hex(frame));
    expect(r.frames("client40").map((f: Event) => f.hex)).toEqual([hex(frame)]);
    expect(stats.client40).toEqual({ packets: 1, drops: 0 });
  });
});
