/**
 * `dhcptool watch` on a trunk: the VLAN ids of tagged DHCP packets (the tag the kernel took off,
 * put back where the decoder reads it; a QinQ frame's inner tag, which the kernel leaves), and
 * the kernel's receive time of each packet, the same as tcpdump's. The frames are built here
 * and sent from the other end of a veth pair (this kernel has no 8021q module).
 */
import { describe, expect, test } from "bun:test";
import { buildDiscover, frameClientMessage } from "../../core/client.ts";
import { tagFrame, TPID_8021AD } from "../../core/frame.ts";
import { captureOn, MAIN } from "./helpers.ts";
import { injectFrames } from "./inject.ts";
import { collectLines, vethPair, waitFor } from "./veth-pair.ts";

const mac = Uint8Array.of(0x02, 0x00, 0x5e, 0x77, 0x00, 0x01);
const discover = (xid: number) => frameClientMessage(mac, buildDiscover({ mac, hostname: "trunk" }, { xid, broadcastFlag: true }));

describe("watch on a trunk (two namespaces)", () => {
  const { nsA, nsB } = vethPair("w");

  test("packets show their VLAN ids, outermost first, and tcpdump's receive times", async () => {
    const frames = [
      discover(0x1001), // untagged
      tagFrame(discover(0x1002), 10, 5), // VLAN 10
      tagFrame(tagFrame(discover(0x1003), 10), 100, 0, TPID_8021AD), // QinQ: service VLAN 100, VLAN 10
    ];
    const tcpdump = await captureOn(nsA, "v0", "", { nanoTimes: true, linkHeaders: true });
    const watch = Bun.spawn(["ip", "netns", "exec", nsA, process.execPath, MAIN, "watch", "v0", "--json", "--count", "3"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = collectLines(watch.stdout);
    try {
      await waitFor("watch to start", () => out.events.some((e) => e.event === "start"), 15_000);
      await injectFrames(nsB, "v1", frames);
      expect(await watch.exited).toBe(0);
      await out.done;
    } finally {
      watch.kill("SIGKILL");
    }
    const lines = await tcpdump.stop();
    const packets = out.events.filter((e) => e.event === "packet");
    expect(packets.map((p) => [p.message.xid, p.frame.vlan])).toEqual([
      ["0x00001001", undefined],
      ["0x00001002", [10]],
      ["0x00001003", [100, 10]],
    ]);

    // tcpdump's time of each frame, to the microsecond watch keeps: "1764900000.123456789 ..."
    const times = lines
      .filter((l) => l.includes("DHCP"))
      .map((l) => {
        const [s, ns] = l.split(" ")[0]!.split(".");
        return Number(s) * 1_000_000 + Math.floor(Number(ns) / 1000);
      });
    expect(times).toHaveLength(3);
    packets.forEach((p, i) => {
      expect(Math.abs(p.timeUs - times[i]!)).toBeLessThanOrEqual(100);
    });
  });
});
