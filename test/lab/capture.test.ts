// What crosses the wire, seen by independent tools: tcpdump captures our DISCOVER at the
// server's end, tshark checks its IP and UDP checksums and lists its options.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { labDown, SERVER_IFACE, type LabState } from "../../cli/lab/index.ts";
import { captureOn, dhcptool, startLab } from "./helpers.ts";

let lab: LabState;
let pcap: string;
beforeAll(() => {
  lab = startLab("cap", { servers: 1 });
  pcap = `${lab.dir}/discover.pcap`;
});
afterAll(() => {
  if (lab && !process.env.KEEP_LAB) labDown(lab.name);
});

test("our DISCOVER on the wire: 300+ byte message, valid IPv4 and UDP checksums, the seed's options", async () => {
  const cap = await captureOn(lab.servers[0].ns, SERVER_IFACE, "udp port 67 or udp port 68", { pcap });
  const r = await dhcptool(lab, ["discover", "lab0", "--first", "--hostname", "capture", "--mac", "02:00:00:00:00:07"]);
  expect(r.exitCode).toBe(0);
  await cap.stop();

  const t = Bun.spawnSync(
    [
      "tshark",
      "-r",
      pcap,
      "-o",
      "ip.check_checksum:TRUE",
      "-o",
      "udp.check_checksum:TRUE",
      "-Y",
      "udp.dstport == 67",
      "-T",
      "fields",
      "-E",
      "separator=/t",
      "-e",
      "frame.len",
      "-e",
      "ip.checksum.status",
      "-e",
      "udp.checksum.status",
      "-e",
      "udp.length",
      "-e",
      "dhcp.option.type",
      "-e",
      "dhcp.option.dhcp",
      "-e",
      "dhcp.hw.mac_addr",
      "-e",
      "dhcp.option.hostname",
      "-e",
      "ip.src",
      "-e",
      "ip.dst",
      "-e",
      "ip.ttl",
      "-e",
      "eth.dst",
      "-e",
      "_ws.expert",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  expect(t.stderr.toString().replace(/Running as user.*\n/, "")).toBe("");
  expect(t.exitCode).toBe(0);
  const rows = t.stdout
    .toString()
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t"));
  expect(rows.length).toBeGreaterThanOrEqual(1);
  const [len, ipSum, udpSum, udpLen, optTypes, msgType, chaddr, host, src, dst, ttl, ethDst, expert] = rows[0];
  expect(Number(len)).toBe(14 + 20 + 8 + 300);
  expect(Number(udpLen) - 8).toBeGreaterThanOrEqual(300);
  expect(ipSum).toBe("1"); // 1 = Good
  expect(udpSum).toBe("1");
  expect(optTypes.split(",").slice(0, 4)).toEqual(["53", "12", "61", "55"]);
  expect(msgType).toBe("1"); // DISCOVER
  expect(chaddr.split(",")).toEqual(["02:00:00:00:00:07", "02:00:00:00:00:07"]); // chaddr, then client id
  expect(host).toBe("capture");
  expect([src, dst, ttl, ethDst]).toEqual(["0.0.0.0", "255.255.255.255", "128", "ff:ff:ff:ff:ff:ff"]);
  expect(expert ?? "").not.toMatch(/malformed|bad/i);
});
