// Several interfaces in one process (discover lab0 lab1, --all, watch lab0 lab1, the prober
// on two links) in a lab of two segments with a server each; and an interface that is a
// bridge port (lab up --client-bridge): a warning, and --all probes the bridge instead.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { labDown, startServer, stopServer, type LabState } from "../../cli/lab/index.ts";
import { dhcptool, EventStream, MAIN, startLab } from "./helpers.ts";

const LAB_MS = 30_000;

interface Result {
  interface: string;
  offers: { serverId: string; yiaddr: string }[];
  rogueServers: string[];
}

describe("--links 2: lab0 and lab1, a server on each", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("nif", { links: 2 });
  }, LAB_MS);
  afterAll(() => {
    if (lab) labDown(lab.name);
  }, LAB_MS);

  test(
    "discover lab0 lab1: one table, an IFACE column, each link's own server",
    async () => {
      const r = await dhcptool(lab, ["discover", "lab0", "lab1", "--wait", "1"]);
      expect(r.exitCode).toBe(0);
      const lines = r.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^IFACE +SERVER +MAC +OFFERED /);
      expect(lines.slice(1).map((l) => l.split(/ +/).slice(0, 2))).toEqual([
        ["lab0", "198.18.0.1"],
        ["lab1", "198.18.1.2"],
      ]);
    },
    LAB_MS,
  );

  test(
    "discover --all --json: {interfaces: [...]} in the kernel's order; one IFACE keeps the one-interface shape",
    async () => {
      const r = await dhcptool(lab, ["discover", "--all", "--json", "--wait", "1"]);
      expect(r.exitCode).toBe(0);
      const doc = JSON.parse(r.stdout) as { interfaces: Result[]; skipped: unknown[] };
      expect(doc.skipped).toEqual([]);
      expect(doc.interfaces.map((x) => [x.interface, x.offers.map((o) => o.serverId)])).toEqual([
        ["lab0", ["198.18.0.1"]],
        ["lab1", ["198.18.1.2"]],
      ]);
      const one = JSON.parse((await dhcptool(lab, ["discover", "lab1", "--json", "--wait", "1"])).stdout) as Result;
      expect(one).toMatchObject({ interface: "lab1", offers: [{ serverId: "198.18.1.2" }] });
      expect("interfaces" in one).toBe(false);
    },
    LAB_MS,
  );

  test(
    "exit 5 when any interface saw a rogue, 0 when any got an offer, 3 when none did",
    async () => {
      const rogue = await dhcptool(lab, ["discover", "lab0", "lab1", "--json", "--wait", "1", "--allow-server", "198.18.0.1"]);
      expect(rogue.exitCode).toBe(5);
      const doc = JSON.parse(rogue.stdout) as { interfaces: Result[] };
      expect(doc.interfaces.map((x) => x.rogueServers)).toEqual([[], ["198.18.1.2"]]);
      expect(rogue.stderr).toContain("rogue DHCP server on lab1: 198.18.1.2");
      stopServer(lab, 2);
      try {
        const half = await dhcptool(lab, ["discover", "lab0", "lab1", "--wait", "1"]);
        expect(half.exitCode).toBe(0);
        expect(half.stderr).toContain("no DHCP offer on lab1 within 1 s");
        stopServer(lab, 1);
        const none = await dhcptool(lab, ["discover", "lab0", "lab1", "--wait", "1"]);
        expect(none.exitCode).toBe(3);
      } finally {
        startServer(lab, 1);
        startServer(lab, 2);
      }
    },
    LAB_MS,
  );

  test(
    "usage: an interface named twice, --all with names; a missing interface fails before anything is sent",
    async () => {
      expect((await dhcptool(lab, ["discover", "lab0", "lab0"])).exitCode).toBe(2);
      expect((await dhcptool(lab, ["discover", "--all", "lab0"])).exitCode).toBe(2);
      const missing = await dhcptool(lab, ["discover", "lab0", "nosuch0", "--wait", "1"]);
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toContain('"nosuch0" does not exist');
    },
    LAB_MS,
  );

  test(
    "watch lab0 lab1: one stream, each packet tagged with its interface",
    async () => {
      const p = Bun.spawn(["ip", "netns", "exec", lab.clientNs, process.execPath, MAIN, "watch", "lab0", "lab1", "--json", "--count", "4"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const out = new EventStream(p.stdout);
      const start = await out.waitFor("start", (e) => e.event === "start", 5000);
      expect(start.interfaces).toEqual([expect.objectContaining({ interface: "lab0" }), expect.objectContaining({ interface: "lab1" })]);
      expect((await dhcptool(lab, ["discover", "lab0", "lab1", "--wait", "1"])).exitCode).toBe(0);
      expect(await p.exited).toBe(0);
      await out.closed();
      const packets = out.events.filter((e) => e.event === "packet") as unknown as { interface: string; message: { messageType: string; chaddr: string } }[];
      expect(packets).toHaveLength(4);
      const seen = packets.map((x) => `${x.interface} ${x.message.messageType}`).sort();
      expect(seen).toEqual(["lab0 DISCOVER", "lab0 OFFER", "lab1 DISCOVER", "lab1 OFFER"]);
    },
    LAB_MS,
  );

  test(
    "discover --daemon lab0 lab1: each link's servers, events and summary tagged with it",
    async () => {
      const p = Bun.spawn(
        ["ip", "netns", "exec", lab.clientNs, process.execPath, MAIN, "discover", "lab0", "lab1", "--daemon", "--interval", "1", "--wait", "0.5", "--json"],
        { stdout: "pipe", stderr: "pipe" },
      );
      try {
        const out = new EventStream(p.stdout);
        await out.waitFor("server-new on lab0", (e) => e.event === "server-new" && e.interface === "lab0", 5000);
        await out.waitFor("server-new on lab1", (e) => e.event === "server-new" && e.interface === "lab1", 5000);
        expect(out.events.filter((e) => e.event === "start").map((e) => e.interface)).toEqual(["lab0", "lab1"]);
        const news = out.events.filter((e) => e.event === "server-new").map((e) => `${e.interface} ${e.server}`);
        expect(news.sort()).toEqual(["lab0 198.18.0.1", "lab1 198.18.1.2"]);
        p.kill("SIGTERM");
        expect(await p.exited).toBe(0);
        await out.closed();
        expect(out.events.filter((e) => e.event === "summary").map((e) => e.interface)).toEqual(["lab0", "lab1"]);
      } finally {
        if (p.exitCode === null) p.kill("SIGKILL");
      }
    },
    LAB_MS,
  );
});

describe("--client-bridge: lab0 is a port of br0", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("nbr", { clientBridge: true });
  }, LAB_MS);
  afterAll(() => {
    if (lab) labDown(lab.name);
  }, LAB_MS);

  test(
    "discover lab0 warns that the host speaks through br0 and names it",
    async () => {
      const r = await dhcptool(lab, ["discover", "lab0", "--wait", "1"]);
      expect(r.exitCode).toBe(0); // the socket hears the port's frames (every protocol: native/packet.c)
      expect(r.stderr).toContain("lab0 is a port of bridge br0: this host speaks on that link through br0, which holds its address and routes");
      expect(r.stderr).toContain("dhcptool discover br0");
      expect((await dhcptool(lab, ["discover", "br0", "--wait", "1"])).stderr).not.toContain("port of");
    },
    LAB_MS,
  );

  test(
    "discover --all skips the port, says so, and probes the bridge",
    async () => {
      const r = await dhcptool(lab, ["discover", "--all", "--json", "--wait", "1"]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain("skipping lab0: a port of bridge br0, which hears what it hears");
      const doc = JSON.parse(r.stdout) as { interfaces: Result[]; skipped: { interface: string; reason: string }[] };
      expect(doc.interfaces.map((x) => [x.interface, x.offers.map((o) => o.serverId)])).toEqual([["br0", ["198.18.0.1"]]]);
      expect(doc.skipped).toEqual([{ interface: "lab0", reason: "a port of bridge br0, which hears what it hears" }]);
    },
    LAB_MS,
  );
});
