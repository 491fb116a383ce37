/**
 * discover and watch on a trunk without VLAN interfaces (this kernel has no 8021q module):
 * `--vlan ID` tags the DISCOVERs and hears that VLAN alone; an answer that comes on another
 * VLAN than the one probed is dropped and counted (other-vlan), with a hint, never taken for a
 * server on this link. A scripted server (fixtures/vlan-server.ts) answers on the far end of
 * a veth pair, as a trunk port would.
 */
import { describe, expect, test } from "bun:test";
import { buildDiscover, frameClientMessage } from "../../core/client.ts";
import { tagFrame } from "../../core/frame.ts";
import { captureOn, MAIN } from "./helpers.ts";
import { injectFrames } from "./inject.ts";
import { collectLines, vethPair, waitFor } from "./veth-pair.ts";

const CLIENT = "02:00:00:00:7e:01";

describe("a trunk between two namespaces", () => {
  const { nsA, nsB, spawnIn } = vethPair("vl");

  /** The scripted server in nsB, ready to answer; stop() ends it and says what it answered. */
  async function server(mode: string) {
    const child = spawnIn(nsB, "vlan-server.ts", ["v1", mode]);
    const out = collectLines(child.stdout);
    await waitFor("the server", () => out.events.some((e) => e.ready), 10_000);
    return {
      async stop() {
        child.stdin.end();
        await child.exited;
        await out.done;
        return out.events.filter((e) => "answered" in e).map((e) => e.answered);
      },
    };
  }

  async function discover(args: string[]) {
    const p = Bun.spawn(["ip", "netns", "exec", nsA, process.execPath, MAIN, "discover", "v0", "--json", "--wait", "1", "--mac", CLIENT, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stderr, out: JSON.parse(stdout) };
  }

  test("discover --vlan 10: DISCOVERs tagged 10 on the wire, the VLAN 10 server's offer taken", async () => {
    const s = await server("same");
    const cap = await captureOn(nsB, "v1", "", { linkHeaders: true, direction: "in" });
    const r = await discover(["--vlan", "10"]);
    const lines = await cap.stop();
    expect(await s.stop()).toEqual([10]);
    expect(r.code).toBe(0);
    expect(r.out).toMatchObject({ vlan: 10, otherVlans: [], offers: [{ serverId: "198.18.9.1", yiaddr: "198.18.9.100" }] });
    expect(lines.filter((l) => l.includes("BOOTP/DHCP, Request"))).toEqual([expect.stringMatching(/vlan 10, p 0, ethertype IPv4/)]);
  });

  test("an untagged probe answered on VLAN 10 is not a server on this link: dropped as other-vlan, with the hint", async () => {
    const s = await server("tag:10");
    const r = await discover([]);
    expect(await s.stop()).toEqual([10]);
    expect(r.code).toBe(3);
    expect(r.out).toMatchObject({ vlan: null, offers: [], otherVlans: [10], dropped: { "other-vlan": 1 } });
    expect(r.stderr).toContain("v0: 1 answer(s) came tagged with VLAN 10, not untagged as the DISCOVER went: dropped (other-vlan)");
    expect(r.stderr).toContain("dhcptool discover v0 --vlan 10");
  });

  test("an untagged probe answered untagged is taken; --vlan 20 answered on VLAN 30 takes nothing", async () => {
    const s = await server("same");
    const plain = await discover([]);
    expect(plain.code).toBe(0);
    expect(plain.out.offers).toHaveLength(1);
    await s.stop();
    const wrong = await server("tag:30");
    const r = await discover(["--vlan", "20"]);
    expect(await wrong.stop()).toEqual([30]); // heard the VLAN 20 DISCOVER, answered on 30
    expect(r.code).toBe(3);
    expect(r.out.offers).toEqual([]); // the socket on VLAN 20 never even hears VLAN 30
  });

  test("watch --vlan 10 shows VLAN 10's packets alone", async () => {
    const mac = Uint8Array.of(2, 0, 0, 0, 0x7e, 2);
    const d = (xid: number) => frameClientMessage(mac, buildDiscover({ mac, hostname: null }, { xid }));
    const watch = Bun.spawn(["ip", "netns", "exec", nsA, process.execPath, MAIN, "watch", "v0", "--vlan", "10", "--json", "--count", "1"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = collectLines(watch.stdout);
    try {
      await waitFor("watch to start", () => out.events.some((e) => e.event === "start"), 15_000);
      await injectFrames(nsB, "v1", [d(1), tagFrame(d(2), 20), tagFrame(d(3), 10)]);
      expect(await watch.exited).toBe(0);
      await out.done;
    } finally {
      watch.kill("SIGKILL");
    }
    expect(out.events.filter((e) => e.event === "packet").map((e) => [e.message.xid, e.frame.vlan])).toEqual([["0x00000003", [10]]]);
  });

  test("--vlan takes 1-4094, and not with --read", async () => {
    for (const args of [
      ["discover", "v0", "--vlan", "0"],
      ["discover", "v0", "--vlan", "4095"],
      ["watch", "--read", "x.pcap", "--vlan", "10"],
    ]) {
      const p = Bun.spawnSync([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
      expect({ args, code: p.exitCode }).toEqual({ args, code: 2 });
    }
  });
});
