// request --clients against each lab server kind (dnsmasq, Kea, ISC dhcpd, busybox udhcpd), one
// lab per kind with a pool big enough: the report's counts, and the leases in the server's own
// lease file, one per simulated client (MACs from the seed). Then Kea: --release gives every
// lease back, --renew renews each once, --giaddr goes through one relay address, and a pool
// smaller than the run is reported as exhausted after exactly its size.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { macToString } from "../../core/bytes.ts";
import { clientMac, DEFAULT_MAC_PREFIX } from "../../core/load-plan.ts";
import { labDown, serverLeaseList, type LabServer, type LabState, type ServerKindName } from "../../cli/lab/index.ts";
import { dhcptool, eventually, inPool, startLab } from "./helpers.ts";

const LAB_TEST_MS = 60_000;
const SEED = 424242;

/** The MACs request --clients uses for clients 0..n-1 with SEED and the default prefix. */
const macs = (n: number) => new Set(Array.from({ length: n }, (_, i) => macToString(clientMac(DEFAULT_MAC_PREFIX, SEED, i))));

/** Leases the server's file holds for our clients (udhcpd writes its file every second). */
async function leasesOf(s: LabServer, want: Set<string>, n: number) {
  const ours = () => serverLeaseList(s).filter((l) => want.has(l.mac));
  await eventually(() => ours().length >= n, 5000);
  return ours();
}

async function load(lab: LabState, args: string[]) {
  const r = await dhcptool(lab, ["request", "lab0", "--seed", String(SEED), "--json", ...args], 60_000);
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : null };
}

// Well under each server's knee on a busy 2-core machine: dnsmasq rewrites its lease file on
// every change (a few hundred a second), ISC dhcpd writes its on every commit, udhcpd answers
// one message at a time (~10-30 ms each).
const RUNS: Record<ServerKindName, { clients: number; rate: number }> = {
  dnsmasq: { clients: 200, rate: 100 },
  kea: { clients: 300, rate: 300 },
  isc: { clients: 200, rate: 100 },
  udhcpd: { clients: 20, rate: 10 },
};

describe("request --clients against each server kind", () => {
  for (const [kind, { clients, rate }] of Object.entries(RUNS) as [ServerKindName, typeof RUNS.kea][]) {
    test(
      `${kind}: ${clients} clients at ${rate}/s all bound; the server's lease file holds a lease for each MAC`,
      async () => {
        const lab = startLab("ld", { kinds: [kind], pool: 1000 });
        try {
          const r = await load(lab, ["--clients", String(clients), "--rate", String(rate)]);
          expect(r.exitCode).toBe(0);
          expect(r.stderr).toContain(`up to ${clients} leases`);
          const rep = r.report;
          expect(rep.outcomes).toEqual({ bound: clients, nak: 0, "no-offer": 0, "no-ack": 0, interrupted: 0 });
          expect(rep.counts).toMatchObject({ discovers: clients, offers: clients, requests: clients, acks: clients, naks: 0 });
          expect(rep.exhaustion).toBeNull();
          expect(rep.duplicateAddresses).toBe(0);
          expect(rep.latencyMs.offer.count).toBe(clients);
          expect(rep.series.reduce((n: number, s: { acks: number }) => n + s.acks, 0)).toBe(clients);
          const want = macs(clients);
          const held = await leasesOf(lab.servers[0], want, clients);
          expect(new Set(held.map((l) => l.mac))).toEqual(want);
          expect(new Set(held.map((l) => l.address)).size).toBe(clients);
          for (const l of held) expect(inPool(l.address, lab.servers[0])).toBe(true);
        } finally {
          labDown(lab.name);
        }
      },
      LAB_TEST_MS,
    );
  }
});

describe("request --clients against Kea", () => {
  let lab: LabState;
  beforeAll(() => {
    lab = startLab("ldk", { kinds: ["kea"], pool: 2000 });
  }, LAB_TEST_MS);
  afterAll(() => {
    if (lab) labDown(lab.name);
  }, LAB_TEST_MS);

  test(
    "--renew --release: each client renews once (its ACK timed), then gives its lease back: Kea holds none of them",
    async () => {
      const r = await load(lab, ["--clients", "100", "--rate", "200", "--renew", "--release", "--mac-prefix", "02:aa:01"]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain("each given back (--release)");
      expect(r.report.counts).toMatchObject({ acks: 100, renews: 100, renewAcks: 100, renewNoAck: 0, releases: 100 });
      expect(r.report.latencyMs.renew.count).toBe(100);
      const ours = (l: { mac: string }) => l.mac.startsWith("02:aa:01:");
      // Kea appends a row per change: the release is the last row of each of our addresses
      expect(await eventually(() => serverLeaseList(lab.servers[0]).filter(ours).length === 0, 5000)).toBe(true);
    },
    LAB_TEST_MS,
  );

  test(
    "--giaddr: 200 clients through one relay address, replies to giaddr:67 routed to each client",
    async () => {
      const giaddr = "198.18.0.250";
      Bun.spawnSync(["ip", "-n", lab.clientNs, "addr", "add", `${giaddr}/16`, "dev", "lab0"]);
      try {
        const r = await load(lab, ["--clients", "200", "--rate", "400", "--giaddr", giaddr, "--server", lab.servers[0].ip, "--mac-prefix", "02:aa:02"]);
        expect(r.exitCode).toBe(0);
        expect(r.report).toMatchObject({ giaddr, server: lab.servers[0].ip, outcomes: { bound: 200 } });
        const held = serverLeaseList(lab.servers[0]).filter((l) => l.mac.startsWith("02:aa:02:"));
        expect(held.length).toBe(200);
      } finally {
        Bun.spawnSync(["ip", "-n", lab.clientNs, "addr", "del", `${giaddr}/16`, "dev", "lab0"]);
      }
    },
    LAB_TEST_MS,
  );

  test(
    "--format csv: a header and a row per second; --duration ends the starts",
    async () => {
      const r = await dhcptool(lab, [
        "request",
        "lab0",
        "--clients",
        "1000",
        "--rate",
        "100",
        "--duration",
        "2",
        "--format",
        "csv",
        "--mac-prefix",
        "02:aa:03",
        "--release",
      ]);
      expect(r.exitCode).toBe(0);
      const lines = r.stdout.trim().split("\n");
      expect(lines[0]).toStartWith("second,discovers,offers,requests,acks,naks,no_offer,no_ack,");
      const rows = lines.slice(1).map((l) => l.split(","));
      expect(rows.length).toBeGreaterThanOrEqual(2);
      expect(rows.reduce((n, x) => n + Number(x[1]), 0)).toBe(200);
      expect(rows.reduce((n, x) => n + Number(x[4]), 0)).toBe(200);
    },
    LAB_TEST_MS,
  );
});

describe("pool exhaustion", () => {
  test(
    "Kea with 25 addresses and 60 clients: 25 leases, then silence, reported as such; exit 3",
    async () => {
      const lab = startLab("ldx", { kinds: ["kea"], pool: 25 });
      try {
        const r = await load(lab, ["--clients", "60", "--rate", "100"]);
        expect(r.exitCode).toBe(3);
        expect(r.report.outcomes).toMatchObject({ bound: 25, "no-offer": 35 });
        expect(r.report.exhaustion).toEqual({ leases: 25, how: "silence", refused: 35 });
        const text = await dhcptool(lab, ["request", "lab0", "--clients", "10", "--rate", "100", "--seed", "1"]);
        expect(text.exitCode).toBe(3);
        expect(text.stdout).not.toContain("exhausted"); // no lease at all: nothing to say about K
        expect(text.stdout).toContain("10 no OFFER");
      } finally {
        labDown(lab.name);
      }
    },
    LAB_TEST_MS,
  );
});
