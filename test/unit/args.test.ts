// The shared flags and their one parser each (cli/args.ts), from argv as citty parses it.

import { describe, expect, test } from "bun:test";
import { parseArgs } from "citty";
import { hostname } from "node:os";
import { clientArgs, clientOptionsFromArgs, dirArgs, dirsFromArgs, ifaceFromArgs, macArg, macFromArgs } from "../../cli/args.ts";
import { UsageError } from "../../cli/errors.ts";
import { shortHostname, DEFAULT_REQUEST_LIST } from "../../core/client.ts";

const defs = { iface: { type: "positional", required: true }, ...clientArgs } as const;
const client = (...argv: string[]) => clientOptionsFromArgs(parseArgs<typeof defs>(argv, defs), argv, "discover", "no type 53 here");
const usage = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error("no usage error");
};

describe("clientOptionsFromArgs", () => {
  test("defaults: the interface's MAC, this host's short name, the default option 55, 2 s x 3, broadcast", () => {
    expect(client("eth0")).toEqual({
      iface: "eth0",
      mac: "interface",
      broadcastFlag: false,
      extra: [],
      retryMs: 2000,
      tries: 3,
      server: null,
      giaddr: null,
      identity: {
        hostname: shortHostname(hostname()) || null,
        clientId: undefined,
        vendorClass: undefined,
        requestList: DEFAULT_REQUEST_LIST,
        preferIpv6: false,
      },
    });
  });

  test("identity flags", () => {
    const o = client(
      "eth0",
      "--mac",
      "random",
      "--client-id",
      "01:02:00:00:00:00:01",
      "--no-hostname",
      "--vendor-class",
      "pxe",
      "--request-options",
      "1,3",
      "--prefer-ipv6",
      "--broadcast-flag",
      "--option",
      "60=hex:61",
      "--option",
      "93=7",
    );
    expect(o.mac).toBe("random");
    expect(o.identity).toMatchObject({ hostname: null, clientId: Uint8Array.of(1, 2, 0, 0, 0, 0, 1), requestList: [1, 3], preferIpv6: true });
    expect(o.identity.vendorClass).toEqual(new TextEncoder().encode("pxe"));
    expect(o.broadcastFlag).toBe(true);
    expect(o.extra.map((x) => x.code)).toEqual([60, 93]);
    expect(client("eth0", "--mac", "02:00:00:00:00:07").mac).toEqual(Uint8Array.of(2, 0, 0, 0, 0, 7));
  });

  test.each([
    [["--mac", "nonsense"], `--mac "nonsense" is not a MAC address (aa:bb:cc:dd:ee:ff or random)`],
    [["--client-id", "01"], "--client-id takes 2 to 255 bytes of hex"],
    [["--option", "53=1"], "--option 53: no type 53 here"],
    [["--option", "dhcp-message-type=1"], "--option 53: no type 53 here"],
    [["--request-options", "1,300"], "--request-options takes option codes 1-254"],
    [["--timeout", "0"], "--timeout must be at least 0.1"],
    [["--tries", "1.5"], "--tries takes a whole number"],
    [["--server", "255.255.255.255"], `--server "255.255.255.255" is not a unicast IPv4 address`],
    [["--giaddr", "198.18.0.5"], "--giaddr needs --server IP"],
    [["--server-mac", "02:00:00:00:00:01"], "--server-mac goes with --server IP"],
    [["--server", "198.18.0.1", "--server-mac", "01:00:5e:00:00:01"], "is not a unicast MAC address"],
    [["--server", "198.18.0.1", "--giaddr", "198.18.0.1"], "--giaddr is our (the relay agent's) address"],
  ])("%j is a usage error", (argv, message) => {
    expect(usage(() => client("eth0", ...argv))).toContain(message);
  });

  test("--server, --server-mac and --giaddr together", () => {
    expect(client("eth0", "--server", "198.18.0.1", "--server-mac", "02:00:00:00:00:fe", "--giaddr", "198.18.0.5")).toMatchObject({
      server: { ip: "198.18.0.1", mac: Uint8Array.of(2, 0, 0, 0, 0, 0xfe) },
      giaddr: "198.18.0.5",
    });
  });
});

describe("the lease commands' flags", () => {
  test("--mac random is refused where no exchange is made", () => {
    expect(usage(() => macFromArgs(parseArgs<typeof macArg>(["--mac", "random"], macArg), { random: false }))).toContain("(aa:bb:cc:dd:ee:ff)");
  });
  test("directories default to /var/lib/dhcptool and /run/dhcptool", () => {
    expect(dirsFromArgs(parseArgs<typeof dirArgs>([], dirArgs))).toEqual({ stateDir: "/var/lib/dhcptool", runDir: "/run/dhcptool" });
    expect(dirsFromArgs(parseArgs<typeof dirArgs>(["--state-dir", "/s", "--run-dir=/r"], dirArgs))).toEqual({ stateDir: "/s", runDir: "/r" });
  });
  test("an interface name the kernel would refuse is a usage error", () => {
    expect(usage(() => ifaceFromArgs("a/b", "dhcptool lease show eth0"))).toContain("contains '/'");
    expect(usage(() => ifaceFromArgs(undefined, "dhcptool lease show eth0"))).toBe("which interface? e.g. dhcptool lease show eth0");
  });
});
