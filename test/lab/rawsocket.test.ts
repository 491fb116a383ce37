/**
 * RawSocket (native/rawsocket.ts) against the real kernel, as root. The end-to-end part makes
 * its own pair of network namespaces joined by a veth pair, runs a receiver in one and a sender
 * in the other (children in test/lab/fixtures/), and removes both namespaces afterwards
 * whatever happened.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { RawSocket } from "../../native/rawsocket.ts";
import { expectNativeError, thrown } from "../unit/native-errors.ts";
import { collectLines, type Event, fixtures, hex, ipv4HeaderChecksum, run, udpFrame, vethPair, waitFor } from "./veth-pair.ts";

describe("RawSocket (root, no namespaces)", () => {
  const onFrame = () => {};

  test("a missing interface is ENODEV", () => {
    const err = thrown(() => RawSocket.open("nonexistent0", { filter: "client", onFrame }));
    expectNativeError(err, "ENODEV", /^interface "nonexistent0" does not exist$/);
  });

  test("a name longer than 15 bytes is EINVAL", () => {
    const err = thrown(() => RawSocket.open("a-very-long-interface", { filter: "watch", onFrame }));
    expectNativeError(err, "EINVAL", /too long/);
  });

  test("an unknown filter is EINVAL", () => {
    const err = thrown(() => RawSocket.open("lo", { filter: "all" as never, onFrame }));
    expectNativeError(err, "EINVAL", /unknown filter/);
  });

  test("promiscuous other than true or false is EINVAL", () => {
    const err = thrown(() => RawSocket.open("lo", { filter: "watch", onFrame, promiscuous: "yes" as never }));
    expectNativeError(err, "EINVAL", /promiscuous must be true or false/);
  });

  test("a VLAN other than any, none or an id 1-4094 is EINVAL, and so is ring other than true or false", () => {
    for (const vlan of [0, 4095, -1, 1.5, "all"]) {
      const err = thrown(() => RawSocket.open("lo", { filter: "client", onFrame, vlan: vlan as never }));
      expectNativeError(err, "EINVAL", /is not "any", "none" or a VLAN id 1-4094/);
    }
    expectNativeError(
      thrown(() => RawSocket.open("lo", { filter: "watch", onFrame, ring: 1 as never })),
      "EINVAL",
      /ring must be true, false or "prompt"/,
    );
    // "prompt": the same ring with a 1 ms block timeout (the load generator's); the shim takes the flag
    const prompt = RawSocket.open("lo", { filter: "watch", onFrame, ring: "prompt" });
    prompt.close();
  });

  test("close hands the socket to a short-lived closer that finishes and is reaped", async () => {
    // Every process whose parent is one of our threads, from each one's own stat (the
    // per-thread /proc/PID/task/TID/children lists are unreliable while children come and go).
    const children = () => {
      const fs = require("node:fs");
      const out: { pid: number; state: string }[] = [];
      for (const name of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(name)) continue;
        let stat: string;
        try {
          stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
        } catch {
          continue;
        } // gone meanwhile
        const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (Number(ppid) === process.pid) out.push({ pid: Number(name), state });
      }
      return out;
    };
    const before = new Set(children().map((c) => c.pid));
    for (let i = 0; i < 5; i++) RawSocket.open("lo", { filter: "client", onFrame }).close();
    // close() started each closer before it returned; the receive thread of each socket waits
    // for its closer and reaps it: soon none is left, neither running (holding a socket) nor a zombie
    const closers = () => children().filter((c) => !before.has(c.pid));
    await waitFor("the closers to be reaped", () => closers().length === 0, 3000).catch(() => {});
    expect(closers()).toEqual([]);
  });

  test("send() refuses frames shorter than a header or longer than MTU + 14, and survives", () => {
    const socket = RawSocket.open("lo", { filter: "client", onFrame });
    try {
      expect(socket.info.index).toBe(1);
      const maximum = socket.info.mtu + 14;
      for (const length of [0, 1, 13, maximum + 1, maximum + 1000]) {
        const err = thrown(() => socket.send(new Uint8Array(length)));
        expectNativeError(err, "EMSGSIZE", new RegExp(`frame of ${length} bytes does not fit lo`));
      }
      // A view into a larger buffer is judged by its own length.
      expectNativeError(
        thrown(() => socket.send(new Uint8Array(64).subarray(60))),
        "EMSGSIZE",
      );
      expect(socket.stats()).toEqual({ packets: 0, drops: 0 });
    } finally {
      socket.close();
      socket.close();
    }
    expectNativeError(
      thrown(() => socket.send(new Uint8Array(60))),
      "EINVAL",
      /closed/,
    );
  });
});

// ---- end to end through a veth pair ------------------------------------------

describe("RawSocket between two network namespaces", () => {
  const { nsA, nsB, spawnIn } = vethPair("");

  test("a fresh namespace has lo down: facts say so and open() is ENETDOWN", async () => {
    const probe = Bun.spawnSync(["ip", "netns", "exec", nsA, process.execPath, join(fixtures, "native-probe.ts")]);
    expect(probe.stderr.toString()).toBe("");
    expect(JSON.parse(probe.stdout.toString())).toEqual({
      up: false,
      carrier: null,
      index: 1,
      open: { code: "ENETDOWN", message: 'interface "lo" is down: bring it up with `ip link set lo up`' },
    });
  });

  test("a link that is not Ethernet (a tun device): open() says so, with its link type", () => {
    run(["ip", "netns", "exec", nsA, "ip", "tuntap", "add", "dev", "dttun0", "mode", "tun"]);
    run(["ip", "netns", "exec", nsA, "ip", "link", "set", "dttun0", "up"]);
    const probe = Bun.spawnSync(["ip", "netns", "exec", nsA, process.execPath, join(fixtures, "native-probe.ts"), "dttun0"]);
    expect(probe.stderr.toString()).toBe("");
    expect(JSON.parse(probe.stdout.toString()).open).toEqual({
      code: "EINVAL",
      message: 'interface "dttun0" is not an Ethernet interface (link type 65534): DHCP here runs over Ethernet frames',
    });
  });

  test("client filter delivers exactly the frame to port 68, byte for byte", async () => {
    const toClient = udpFrame({ sourcePort: 67, destinationPort: 68, payload: `offer ${process.pid}` });
    const toDns = udpFrame({ sourcePort: 40000, destinationPort: 53, payload: "not dhcp" });
    const toServer = udpFrame({ sourcePort: 68, destinationPort: 67, payload: "discover" });
    const withOptions = udpFrame({ sourcePort: 67, destinationPort: 68, payload: "ihl 7", optionWords: 2 });
    // Lookalikes: port 68 in the right place, but not a whole IPv4 UDP datagram.
    const lookalikes = [
      udpFrame({ sourcePort: 67, destinationPort: 68, payload: "first fragment", moreFragments: true }),
      udpFrame({ sourcePort: 67, destinationPort: 68, payload: "later fragment", fragmentOffset: 3 }),
      udpFrame({ sourcePort: 67, destinationPort: 68, payload: "tcp", protocol: 6 }),
      udpFrame({ sourcePort: 67, destinationPort: 68, payload: "not ipv4", etherType: 0x88b5 }),
    ];
    expect(ipv4HeaderChecksum(toClient.subarray(14, 34))).toBe(0); // the header sums to all ones

    const receiver = spawnIn(nsA, "native-recv.ts", ["v0"]);
    const received = collectLines(receiver.stdout);
    await waitFor("receiver ready", () => received.events.some((e) => e.event === "ready"));

    // withOptions goes last: both sockets see frames in the order sent, so once it is in, every
    // lookalike before it has been judged by the filter (none may have come through).
    const frameList = [toClient, toDns, toServer, ...lookalikes, withOptions];
    const sender = spawnIn(nsB, "native-send.ts", ["v1", ...frameList.map(hex)]);
    const sent = collectLines(sender.stdout);
    expect(await sender.exited).toBe(0);
    await sent.done;
    expect(await new Response(sender.stderr).text()).toBe("");

    const frames = (socket: string) => received.events.filter((e) => e.event === "frame" && e.socket === socket);
    await waitFor("frames in the receiver", () => frames("client").length >= 2 && frames("watch").length >= 3);
    receiver.stdin.end();
    expect(await receiver.exited).toBe(0); // closes and exits by itself: no thread holds it
    await received.done;
    expect(await new Response(receiver.stderr).text()).toBe("");

    const clientFrames = frames("client");
    expect(clientFrames.map((f) => f.hex)).toEqual([hex(toClient), hex(withOptions)]);
    expect(clientFrames[0]).toMatchObject({
      truncated: false,
      wireLength: toClient.length,
      outgoing: false,
      broadcast: true,
    });
    expect(["valid", "partial", "unknown"]).toContain(clientFrames[0]!.csum);

    // watch sees both directions of DHCP, still not DNS or the lookalikes;
    // its onFrame throws every time and each throw comes back through onError.
    const watched = [toClient, toServer, withOptions].map(hex);
    expect(frames("watch").map((f) => f.hex)).toEqual(watched);
    const errors = received.events.filter((e) => e.event === "error");
    expect(errors).toEqual(watched.map(() => ({ event: "error", socket: "watch", message: "deliberate failure in onFrame" })));

    const closed = received.events.find((e) => e.event === "closed");
    expect(closed?.stats).toEqual({ client: { packets: 2, drops: 0 }, watch: { packets: 3, drops: 0 } });

    // On the sending side a watch socket sees the host's own DHCP frames as outgoing.
    const report = sent.events.find((e) => e.event === "sent");
    expect(report?.count).toBe(frameList.length);
    expect(report?.seen).toEqual(watched.map((h) => ({ hex: h, outgoing: true })));
  });

  test("arp filter: ARP requests only (the resident client's ARP answering), not replies, not IPv4", async () => {
    const arp = (op: number, sender: string) =>
      Uint8Array.from(Buffer.from(`ffffffffffff${sender}0806` + `000108000604000${op}` + `${sender}c6120101` + "000000000000c6120164", "hex"));
    const request = arp(1, "020000000001");
    const reply = arp(2, "020000000002");
    const ipv4 = udpFrame({ sourcePort: 67, destinationPort: 68, payload: "not arp" });
    const lastRequest = arp(1, "020000000003"); // last: once it is in, the rest has been judged
    const script = `
      import { RawSocket } from "${join(import.meta.dir, "../../native/rawsocket.ts")}";
      const s = RawSocket.open("v0", { filter: "arp", onFrame: (f) => console.log(JSON.stringify({ hex: Buffer.from(f.bytes).toString("hex") })) });
      console.log(JSON.stringify({ ready: true }));
      process.stdin.on("data", () => {}); process.stdin.on("end", () => { s.close(); process.exit(0); });`;
    const receiver = Bun.spawn(["ip", "netns", "exec", nsA, process.execPath, "-e", script], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const got = collectLines(receiver.stdout);
    await waitFor("arp receiver ready", () => got.events.some((e) => e.ready));
    const sender = spawnIn(nsB, "native-send.ts", ["v1", ...[request, reply, ipv4, lastRequest].map(hex)]);
    expect(await sender.exited).toBe(0);
    await waitFor("both requests", () => got.events.filter((e) => e.hex).length >= 2);
    receiver.stdin.end();
    expect(await receiver.exited).toBe(0);
    await got.done;
    expect(got.events.filter((e) => e.hex).map((e) => e.hex.slice(0, 84))).toEqual([hex(request), hex(lastRequest)]);
  });

  test("a kernel UDP datagram over veth arrives with its checksum marked partial", async () => {
    // What a real server's reply looks like on veth: the UDP checksum is left
    // to an offload that never happens, and AUXDATA says so.
    run(["ip", "-n", nsB, "address", "add", "198.18.0.2/15", "dev", "v1"]);
    const receiver = spawnIn(nsA, "native-recv.ts", ["v0"]);
    const received = collectLines(receiver.stdout);
    await waitFor("receiver ready", () => received.events.some((e) => e.event === "ready"));

    const script =
      "const s = require('node:dgram').createSocket('udp4');" +
      "s.bind(67, '198.18.0.2', () => { s.setBroadcast(true);" +
      " s.send(Buffer.from('reply via the kernel'), 68, '198.19.255.255', (err) => { s.close(); if (err) throw err; }); });";
    const udp = Bun.spawnSync(["ip", "netns", "exec", nsB, process.execPath, "-e", script]);
    expect(udp.stderr.toString()).toBe("");
    expect(udp.exitCode).toBe(0);

    const clientFrames = () => received.events.filter((e) => e.event === "frame" && e.socket === "client");
    await waitFor("the datagram in the receiver", () => clientFrames().length >= 1);
    receiver.stdin.end();
    expect(await receiver.exited).toBe(0);
    await received.done;

    const [frame] = clientFrames();
    expect(frame?.csum).toBe("partial");
    expect(frame?.broadcast).toBe(true);
    expect(Buffer.from(frame?.hex, "hex").subarray(42).toString()).toBe("reply via the kernel");
  });
});

// ---- batches, big frames, drops, promiscuous mode ------------------------------

describe("RawSocket batches and promiscuous mode (two namespaces, MTU 65535)", () => {
  const { nsA, nsB, spawnIn } = vethPair("x", 65535);

  /** Runs a fixture in B to completion and returns its JSON lines; it must exit 0 and print nothing on stderr. */
  const runIn = async (ns: string, fixture: string, args: string[]) => {
    const child = spawnIn(ns, fixture, args);
    const out = collectLines(child.stdout);
    expect(await child.exited).toBe(0);
    await out.done;
    expect(await new Response(child.stderr).text()).toBe("");
    return out.events;
  };

  const promiscuity = () => {
    const out = Bun.spawnSync(["ip", "-n", nsA, "-d", "link", "show", "v0"]).stdout.toString();
    const match = /promiscuity (\d+)/.exec(out);
    if (!match) throw new Error(`no promiscuity in: ${out}`);
    return Number(match[1]);
  };

  /** A receiver (native-batch.ts) that has been told to hold, i.e. not to drain, until `count` frames are queued. */
  async function holdingReceiver(mode: "frames" | "count", count: number, path: "recvmmsg" | "ring" = "recvmmsg") {
    const receiver = spawnIn(nsA, "native-batch.ts", ["v0", mode, ...(path === "ring" ? ["ring"] : [])]);
    const received = collectLines(receiver.stdout);
    await waitFor("receiver ready", () => received.events.some((e) => e.event === "ready"));
    receiver.stdin.write(`hold ${count}\n`);
    receiver.stdin.flush();
    await waitFor("receiver holding", () => received.events.some((e) => e.event === "holding"));
    return { receiver, received };
  }

  async function finish(receiver: Bun.Subprocess<"pipe", "pipe", "pipe">, received: { done: Promise<void> }) {
    receiver.stdin.end();
    expect(await receiver.exited).toBe(0);
    await received.done;
    expect(await new Response(receiver.stderr).text()).toBe("");
  }

  test("50 frames queued before the drain arrive in order, byte for byte, in one wake-up", async () => {
    // Lengths vary, so a frame packed at a wrong offset would show.
    const sent = Array.from({ length: 50 }, (_, i) => udpFrame({ sourcePort: 67, destinationPort: 68, payload: `frame ${i} ${"x".repeat((i * 37) % 301)}` }));
    const { receiver, received } = await holdingReceiver("frames", sent.length);
    await runIn(nsB, "native-send.ts", ["v1", ...sent.map(hex)]);
    await waitFor("the receiver to hold them all", () => received.events.some((e) => e.event === "held"));
    const held = received.events.find((e) => e.event === "held")!;
    expect(held.delivered).toBe(0); // all 50 were queued before the first drain
    expect(held.stats).toEqual({ packets: 50, drops: 0 });

    const frames = () => received.events.filter((e) => e.event === "frame");
    await waitFor("50 frames", () => frames().length >= 50);
    await finish(receiver, received);

    expect(frames().map((f) => f.hex)).toEqual(sent.map(hex));
    expect(frames().every((f) => f.wakeup === 1 && f.truncated === false)).toBe(true);
    expect(frames().map((f) => f.wireLength)).toEqual(sent.map((f) => f.length));
    const closed = received.events.find((e) => e.event === "closed");
    expect(closed).toMatchObject({ delivered: 50, wakeups: 1, stats: { packets: 50, drops: 0 } });
    expect(received.events.filter((e) => e.event === "error")).toEqual([]);
  });

  test("a frame too big for the room left in the receive buffer comes whole in the next wake-up", async () => {
    // RawSocket's buffer is 128 KiB: two 50,000-byte frames and a small one fill
    // 100,300 bytes of it, the third big frame does not fit what is left.
    const big = (i: number) => udpFrame({ sourcePort: 67, destinationPort: 68, payload: `big ${i} `.padEnd(50_000 - 42, String.fromCharCode(97 + i)) });
    const sent = [
      udpFrame({ sourcePort: 67, destinationPort: 68, payload: "small before" }),
      big(0),
      big(1),
      big(2),
      udpFrame({ sourcePort: 67, destinationPort: 68, payload: "small after" }),
    ];
    expect(sent[1]!.length).toBe(50_000);
    const { receiver, received } = await holdingReceiver("frames", sent.length);
    await runIn(nsB, "native-send.ts", ["v1", ...sent.map(hex)]);
    await waitFor("the receiver to hold them all", () => received.events.some((e) => e.event === "held"));

    const frames = () => received.events.filter((e) => e.event === "frame");
    await waitFor("5 frames", () => frames().length >= 5);
    await finish(receiver, received);

    expect(frames().map((f) => f.hex)).toEqual(sent.map(hex));
    expect(frames().map((f) => f.truncated)).toEqual([false, false, false, false, false]);
    expect(frames().map((f) => f.wireLength)).toEqual(sent.map((f) => f.length));
    // The buffer filled after three; the thread fired again at once for the rest,
    // though the socket itself had nothing left to show.
    expect(frames().map((f) => f.wakeup)).toEqual([1, 1, 1, 2, 2]);
  });

  test("dt_recv_batch call by call: room left, a frame longer than the buffer, metadata room, back-to-back packing", async () => {
    const sized = (name: string, length: number) => udpFrame({ sourcePort: 67, destinationPort: 68, payload: name.padEnd(length - 42, ".") });
    const [a, b, c, d, e, f] = [sized("A", 300), sized("B", 800), sized("C", 3000), sized("D", 342), sized("E", 342), sized("F", 400)] as const;
    const calls = ["1000,8", "1000,8", "1000,8", "1000,8,12", "4096,8", "4096,8"];
    const shim = spawnIn(nsA, "native-shim-batch.ts", ["v0", ...calls]);
    const out = collectLines(shim.stdout);
    await waitFor("shim fixture ready", () => out.events.some((ev) => ev.event === "ready"));
    await runIn(nsB, "native-send.ts", ["v1", ...[a, b, c, d, e, f].map(hex)]);
    shim.stdin.write("go\n");
    shim.stdin.flush();
    expect(await shim.exited).toBe(0);
    await out.done;
    expect(await new Response(shim.stderr).text()).toBe("");
    const report = out.events.find((ev) => ev.event === "results")!;

    const whole = (frame: Uint8Array, offset: number) => ({
      hex: hex(frame),
      offset,
      length: frame.length,
      wire: frame.length,
      truncated: 0,
      pkttype: 1, // PACKET_BROADCAST
    });
    const results = report.results as { rc: number; frames: Event[]; untouched: boolean | null }[];
    expect(results.map((r) => r.rc)).toEqual([1, 1, 1, 1, 2, 0]);
    // 1: A fits, B (800) does not fit the 700 left: the batch ends before it.
    expect(results[0]!.frames).toEqual([expect.objectContaining(whole(a, 0))]);
    // 2: B comes first in the next call; C does not fit the 200 left.
    expect(results[1]!.frames).toEqual([expect.objectContaining(whole(b, 0))]);
    // 3: C is longer than the whole buffer: cut to it and marked, with its length on the wire.
    expect(results[2]!.frames).toEqual([expect.objectContaining({ hex: hex(c.subarray(0, 1000)), offset: 0, length: 1000, wire: 3000, truncated: 1 })]);
    // 4: metadata room for one frame caps the call at one, whatever maxframes says.
    expect(results[3]!.frames).toEqual([expect.objectContaining(whole(d, 0))]);
    // 5: E and F back to back.
    expect(results[4]!.frames).toEqual([expect.objectContaining(whole(e, 0)), expect.objectContaining(whole(f, e.length))]);
    expect(results.slice(0, 5).every((r) => r.untouched !== false)).toBe(true);
    // 6: nothing left.
    expect(results[5]!.frames).toEqual([]);

    const EINVAL = -22;
    const EBADF = -9;
    expect(Object.values(report.badModes)).toEqual([EINVAL, EINVAL, EINVAL, EINVAL]);
    expect(Object.values(report.badVlans)).toEqual([EINVAL, EINVAL, EINVAL, EINVAL]);
    expect(report.invalid).toEqual({ zeroBuffer: EINVAL, shortMeta: EINVAL, zeroFrames: EINVAL });
    expect(report.closed).toBe(0);
    expect(report.afterClose).toBe(EBADF);
  });

  // More frames than the 4 MiB receive buffer, or the 16 MiB ring (~38,000 of these), holds while
  // JS is not draining.
  test.each([
    ["recvmmsg", 40_000],
    ["ring", 120_000],
  ] as const)(
    "%s: kernel drops are counted and keep adding up across batched drains: packets = delivered + drops",
    async (path, flood) => {
      const { receiver, received } = await holdingReceiver("count", flood, path);
      const reports = () => received.events.filter((e) => e.event === "report");
      const settled = async (round: number) => {
        await waitFor(`round ${round} held`, () => received.events.filter((e) => e.event === "held").length >= round, 10_000);
        // Drained once a report of this round says every frame the kernel queued reached onFrame.
        const earlier = reports().length;
        await waitFor(
          `round ${round} drained`,
          () => {
            const last = reports().length > earlier ? reports().at(-1) : undefined;
            if (last && last.delivered === last.stats.packets - last.stats.drops) return true;
            receiver.stdin.write("report\n");
            receiver.stdin.flush();
            return false;
          },
          10_000,
        );
        return reports().at(-1)!;
      };

      const sent1 = (await runIn(nsB, "native-flood.ts", ["v1", String(flood)])).find((e) => e.event === "sent")!;
      expect(sent1.errors).toBe(0);
      const first = await settled(1);
      expect(first.stats.drops).toBeGreaterThan(0);
      expect(first.delivered).toBeGreaterThan(0);

      receiver.stdin.write(`hold ${flood}\n`);
      receiver.stdin.flush();
      await waitFor("receiver holding again", () => received.events.filter((e) => e.event === "holding").length >= 2);
      await runIn(nsB, "native-flood.ts", ["v1", String(flood)]);
      const second = await settled(2);
      expect(second.stats.drops).toBeGreaterThan(first.stats.drops);
      expect(second.stats.packets).toBeGreaterThan(first.stats.packets);
      expect(second.delivered).toBe(second.stats.packets - second.stats.drops);
      expect(second.stats.packets).toBeLessThanOrEqual(2 * flood);
      await finish(receiver, received);
      const closed = received.events.find((e) => e.event === "closed")!;
      expect(closed.stats).toEqual(second.stats); // nothing more came in
      expect(closed.delivered).toBe(second.delivered);
    },
    30_000,
  );

  test("promiscuous: the interface is promiscuous while the socket is open, and not after close or a kill", async () => {
    expect(promiscuity()).toBe(0);
    for (const ending of ["close", "SIGKILL"] as const) {
      const child = spawnIn(nsA, "native-promisc.ts", ["v0"]);
      const out = collectLines(child.stdout);
      await waitFor("promiscuous socket open", () => out.events.some((e) => e.event === "ready"));
      expect(promiscuity()).toBe(1);
      if (ending === "close") {
        child.stdin.end();
        await waitFor("closed", () => out.events.some((e) => e.event === "closed"));
        expect(await child.exited).toBe(0);
        expect(await new Response(child.stderr).text()).toBe("");
      } else {
        child.kill("SIGKILL");
        await child.exited;
      }
      // The closer process (or the kernel, for a killed process) lets go of the socket shortly after.
      await waitFor(`promiscuity back to 0 after ${ending}`, () => promiscuity() === 0, 3000);
    }
  });
});
