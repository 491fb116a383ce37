// discover and request with --server (unicast to one server) and --giaddr (as a relay agent),
// against real servers: two dnsmasq (UDP sockets, like most Linux servers) and one Kea (raw
// socket). What went on the wire is checked in a capture at the server's end (tcpdump, tshark).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { labDown, serverLeaseList, serverMac, SERVER_IFACE, type LabState } from "../../cli/lab/index.ts";
import { captureOn, dhcptool, startLab } from "./helpers.ts";

const GIADDR = "198.18.0.5";
const S1 = "198.18.0.1",
  S2 = "198.18.0.2",
  KEA = "198.18.0.3";
const LAB_TEST_MS = 20_000;

let lab: LabState;
beforeAll(() => {
  lab = startLab("uni", { servers: 3, kinds: ["dnsmasq", "dnsmasq", "kea"] });
}, LAB_TEST_MS);
afterAll(() => {
  if (lab) labDown(lab.name);
}, LAB_TEST_MS);

function ipInClient(args: string[]): void {
  const p = Bun.spawnSync(["ip", "-n", lab.clientNs, ...args], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${p.stderr.toString()}`);
}

function inPool(ip: string, server: number): boolean {
  const s = lab.servers[server - 1];
  const last = (x: string) => Number(x.split(".")[3]);
  return ip.startsWith("198.18.0.") && last(ip) >= last(s.rangeStart) && last(ip) <= last(s.rangeEnd);
}

/** tcpdump in server i's namespace while fn runs; then tshark's fields of each DHCP frame. */
async function captured(i: number, fn: () => Promise<void>, fields: string[]): Promise<string[][]> {
  const pcap = `${lab.dir}/s${i}-${Date.now()}.pcap`;
  const cap = await captureOn(lab.servers[i - 1].ns, SERVER_IFACE, "udp port 67 or udp port 68", { pcap });
  try {
    await fn();
  } finally {
    await cap.stop();
  }
  const t = Bun.spawnSync(["tshark", "-r", pcap, "-Y", "dhcp", "-T", "fields", "-E", "separator=/t", ...fields.flatMap((f) => ["-e", f])], {
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(t.exitCode).toBe(0);
  return t.stdout
    .toString()
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t"));
}

const FIELDS = ["dhcp.option.dhcp", "dhcp.hw.mac_addr", "eth.dst", "ip.src", "ip.dst", "udp.srcport", "udp.dstport", "dhcp.ip.relay", "dhcp.hops"];
type Row = Record<"type" | "chaddr" | "ethDst" | "src" | "dst" | "srcPort" | "dstPort" | "giaddr" | "hops", string>;
const rows = (r: string[][]): Row[] =>
  r.map(([type, chaddr, ethDst, src, dst, srcPort, dstPort, giaddr, hops]) => ({
    type,
    chaddr: chaddr.split(",")[0],
    ethDst,
    src,
    dst,
    srcPort,
    dstPort,
    giaddr,
    hops,
  }));

describe("--server with no address on lab0: the unicast goes from 0.0.0.0", () => {
  test(
    "dnsmasq (a Linux UDP socket) never sees it (martian source): no offer, exit 3, and a warning that says why",
    async () => {
      const r = await dhcptool(lab, ["discover", "lab0", "--server", S2, "--wait", "1", "--json", "--mac", "02:00:00:00:0d:01"]);
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toContain("lab0 has no IPv4 address: the unicast to 198.18.0.2 goes from 0.0.0.0");
      const out = JSON.parse(r.stdout);
      expect(out.server).toBe(S2);
      expect(out.offers).toEqual([]);
    },
    LAB_TEST_MS,
  );

  test(
    "Kea (a raw socket) answers it",
    async () => {
      const r = await dhcptool(lab, ["discover", "lab0", "--server", KEA, "--wait", "1.5", "--json", "--mac", "02:00:00:00:0d:02"]);
      expect(r.exitCode).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.offers.map((o: { serverId: string }) => o.serverId)).toEqual([KEA]);
      expect(inPool(out.offers[0].yiaddr, 3)).toBe(true);
    },
    LAB_TEST_MS,
  );
});

describe(`with ${GIADDR}/24 on lab0`, () => {
  beforeAll(() => ipInClient(["addr", "add", `${GIADDR}/24`, "dev", "lab0"]));
  afterAll(() => {
    if (lab) ipInClient(["addr", "del", `${GIADDR}/24`, "dev", "lab0"]);
  });

  test(
    "discover --server 198.18.0.2: only server 2's offer; on the wire a DISCOVER to 198.18.0.2 (Ethernet broadcast, or --server-mac)",
    async () => {
      let plain!: { exitCode: number; stdout: string; stderr: string }, withMac!: typeof plain;
      const got = rows(
        await captured(
          2,
          async () => {
            plain = await dhcptool(lab, ["discover", "lab0", "--server", S2, "--json", "--wait", "1.5", "--mac", "02:00:00:00:0d:03"]);
            withMac = await dhcptool(lab, [
              "discover",
              "lab0",
              "--server",
              S2,
              "--server-mac",
              serverMac(lab, 2),
              "--first",
              "--json",
              "--mac",
              "02:00:00:00:0d:04",
            ]);
          },
          FIELDS,
        ),
      );
      expect(plain.stderr).toBe("");
      expect(plain.exitCode).toBe(0);
      const out = JSON.parse(plain.stdout);
      expect(out.server).toBe(S2);
      expect(out.giaddr).toBeNull();
      expect(out.offers).toHaveLength(1);
      expect(out.offers[0]).toMatchObject({ serverId: S2, sourceIp: S2, sourceMac: serverMac(lab, 2), rogue: false });
      expect(inPool(out.offers[0].yiaddr, 2)).toBe(true);
      expect(withMac.exitCode).toBe(0);
      expect(JSON.parse(withMac.stdout).offers[0].serverId).toBe(S2);

      const discovers = got.filter((x) => x.type === "1");
      expect(discovers.find((x) => x.chaddr === "02:00:00:00:0d:03")).toMatchObject({
        ethDst: "ff:ff:ff:ff:ff:ff",
        src: GIADDR,
        dst: S2,
        srcPort: "68",
        dstPort: "67",
        giaddr: "0.0.0.0",
        hops: "0",
      });
      expect(discovers.find((x) => x.chaddr === "02:00:00:00:0d:04")).toMatchObject({ ethDst: serverMac(lab, 2), dst: S2, srcPort: "68" });
      // nothing was broadcast to 255.255.255.255
      expect(got.filter((x) => x.dst === "255.255.255.255" && x.dstPort === "67")).toEqual([]);
      // server 1 heard the same frame on the wire but not as its own: it offered nothing
      const log1 = await Bun.file(`${lab.servers[0].dir}/log`).text();
      expect(log1).not.toContain("02:00:00:00:0d:03");
    },
    LAB_TEST_MS,
  );

  test(
    "request --server 198.18.0.1: bound from server 1, in its lease file",
    async () => {
      const mac = "02:00:00:00:0d:05";
      const r = await dhcptool(lab, ["request", "lab0", "--server", S1, "--json", "--mac", mac]);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.outcome).toBe("bound");
      expect(out.server).toBe(S1);
      expect(out.lease.serverId).toBe(S1);
      expect(inPool(out.lease.address, 1)).toBe(true);
      expect(serverLeaseList(lab.servers[0]).some((l) => l.mac === mac && l.address === out.lease.address)).toBe(true);
    },
    LAB_TEST_MS,
  );

  test(
    "discover --giaddr: an offer through the relay; on the wire giaddr 198.18.0.5, hops 1, from port 67, and the OFFER back to 198.18.0.5:67",
    async () => {
      const mac = "02:00:00:00:0d:06"; // chaddr is not lab0's MAC: the reply frame goes to lab0's all the same
      let r!: { exitCode: number; stdout: string; stderr: string };
      const got = rows(
        await captured(
          1,
          async () => {
            r = await dhcptool(lab, ["discover", "lab0", "--giaddr", GIADDR, "--server", S1, "--json", "--first", "--mac", mac]);
          },
          FIELDS,
        ),
      );
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.giaddr).toBe(GIADDR);
      expect(out.offers).toHaveLength(1);
      expect(out.offers[0]).toMatchObject({ serverId: S1, sourceIp: S1, giaddr: GIADDR });
      expect(inPool(out.offers[0].yiaddr, 1)).toBe(true);

      const discover = got.find((x) => x.type === "1" && x.chaddr === mac);
      expect(discover).toMatchObject({ src: GIADDR, dst: S1, srcPort: "67", dstPort: "67", giaddr: GIADDR, hops: "1", ethDst: "ff:ff:ff:ff:ff:ff" });
      const offer = got.find((x) => x.type === "2" && x.chaddr === mac);
      expect(offer).toMatchObject({ src: S1, dst: GIADDR, srcPort: "67", dstPort: "67", giaddr: GIADDR });
    },
    LAB_TEST_MS,
  );

  test(
    "request --giaddr: bound through the relay; --release gives it back",
    async () => {
      const mac = "02:00:00:00:0d:07";
      const r = await dhcptool(lab, ["request", "lab0", "--giaddr", GIADDR, "--server", S1, "--json", "--release", "--mac", mac]);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.outcome).toBe("bound");
      expect(out.giaddr).toBe(GIADDR);
      expect(out.lease.serverId).toBe(S1);
      expect(inPool(out.lease.address, 1)).toBe(true);
      expect(out.released).toBe(true);
      const log = lab.servers[0].dir + "/log";
      let text = "";
      for (let i = 0; i < 20 && !text.includes(`DHCPRELEASE(srv0) ${out.lease.address} ${mac}`); i++) {
        await Bun.sleep(50); // dnsmasq writes its log a moment after the packet
        text = await Bun.file(log).text();
      }
      expect(text).toContain(`DHCPACK(srv0) ${out.lease.address} ${mac}`);
      expect(text).toContain(`DHCPRELEASE(srv0) ${out.lease.address} ${mac}`);
    },
    LAB_TEST_MS,
  );

  test.each([
    ["discover --giaddr without --server", ["discover", "lab0", "--giaddr", GIADDR], "--giaddr needs --server IP"],
    ["request --giaddr without --server", ["request", "lab0", "--giaddr", GIADDR], "--giaddr needs --server IP"],
    [
      "discover --giaddr not on lab0",
      ["discover", "lab0", "--giaddr", "198.18.0.9", "--server", S1],
      `--giaddr 198.18.0.9 is not an address of this host (lab0 has ${GIADDR})`,
    ],
    [
      "request --giaddr not on lab0",
      ["request", "lab0", "--giaddr", "198.18.0.9", "--server", S1],
      `--giaddr 198.18.0.9 is not an address of this host (lab0 has ${GIADDR})`,
    ],
    [
      "discover --daemon --giaddr not on lab0",
      ["discover", "lab0", "--daemon", "--giaddr", "198.18.0.9", "--server", S1],
      "--giaddr 198.18.0.9 is not an address of this host",
    ],
    ["--server-mac without --server", ["discover", "lab0", "--server-mac", "02:00:00:00:00:01"], "--server-mac goes with --server"],
    ["--server that is no unicast address", ["discover", "lab0", "--server", "255.255.255.255"], "is not a unicast IPv4 address"],
    ["request --daemon --server", ["request", "lab0", "--daemon", "--server", S1], "--server and --giaddr are for the one-shot request"],
  ])(
    "usage error, exit 2: %s",
    async (_name, args, message) => {
      const r = await dhcptool(lab, args);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stdout).toBe("");
    },
    LAB_TEST_MS,
  );
});
