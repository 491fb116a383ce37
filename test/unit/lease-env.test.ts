// core/lease-env.ts: the exact variables a lease becomes, the values computed from the mask,
// and the one change a value may undergo (cut at NUL). Pure, no IO.

import { describe, expect, test } from "bun:test";
import { envValue, leaseVars, maskPrefix, type LeaseEnvFields } from "../../core/lease-env.ts";

const LEASE: LeaseEnvFields = {
  address: "198.18.0.100",
  subnetMask: "255.255.255.0",
  routers: ["198.18.0.1", "198.18.0.2"],
  routes: [
    { destination: "10.0.0.0", prefix: 8, router: "198.18.0.1" },
    { destination: "0.0.0.0", prefix: 0, router: "198.18.0.2" },
  ],
  dns: ["198.18.0.1", "198.18.0.3"],
  domain: "lab.example",
  search: ["lab.example", "example"],
  leaseTime: 3600,
  t1: 1800,
  t2: 3150,
  expiresAt: "2030-01-01T01:00:00.000Z",
  serverId: "198.18.0.1",
  serverMac: "02:00:00:00:00:fe",
  options: [
    { code: 12, hex: "6c6162686f7374" },
    { code: 53, hex: "05" },
  ],
};

describe("leaseVars", () => {
  test("every variable, in order, with the dhclient-script names", () => {
    expect(leaseVars(LEASE, "new_")).toEqual([
      ["new_ip_address", "198.18.0.100"],
      ["new_subnet_mask", "255.255.255.0"],
      ["new_broadcast_address", "198.18.0.255"],
      ["new_prefix_length", "24"],
      ["new_routers", "198.18.0.1 198.18.0.2"],
      ["new_classless_static_routes", "10.0.0.0/8 198.18.0.1 0.0.0.0/0 198.18.0.2"],
      ["new_domain_name_servers", "198.18.0.1 198.18.0.3"],
      ["new_domain_name", "lab.example"],
      ["new_domain_search", "lab.example example"],
      ["new_host_name", "labhost"],
      ["new_lease_time", "3600"],
      ["new_renewal_time", "1800"],
      ["new_rebinding_time", "3150"],
      ["new_expiry", "2030-01-01T01:00:00.000Z"],
      ["new_dhcp_server_identifier", "198.18.0.1"],
      ["new_dhcp_server_mac", "02:00:00:00:00:fe"],
      ["new_vendor_encapsulated_options", ""],
      ["new_relay_agent_information", ""],
    ]);
  });

  test("43 and 82 in the syntax --option takes: printable values as text, others as hex:", () => {
    const vars = Object.fromEntries(
      leaseVars(
        {
          ...LEASE,
          options: [
            { code: 43, hex: "060108" + "0a04" + "626f6f74" + "ff" },
            { code: 82, hex: "010465746830" + "02020a0b" },
          ],
        },
        "new_",
      ),
    );
    expect(vars.new_vendor_encapsulated_options).toBe("6=hex:08,10=boot");
    expect(vars.new_relay_agent_information).toBe("1=eth0,2=hex:0a0b");
    const opaque = Object.fromEntries(leaseVars({ ...LEASE, options: [{ code: 43, hex: "0102ff" }] }, "new_"));
    expect(opaque.new_vendor_encapsulated_options).toBe("hex:0102ff");
  });

  test("old_ prefix gives the same values under old_ names", () => {
    const oldVars = leaseVars(LEASE, "old_");
    const newVars = leaseVars(LEASE, "new_");
    expect(oldVars.map(([k]) => k)).toEqual(newVars.map(([k]) => k.replace(/^new_/, "old_")));
    expect(oldVars.map(([, v]) => v)).toEqual(newVars.map(([, v]) => v));
  });

  test("absent fields are empty strings, never 'null'", () => {
    const vars = Object.fromEntries(
      leaseVars(
        {
          ...LEASE,
          subnetMask: null,
          routers: [],
          routes: [],
          dns: [],
          domain: null,
          search: [],
          expiresAt: null,
          options: undefined,
        },
        "new_",
      ),
    );
    for (const k of [
      "new_subnet_mask",
      "new_broadcast_address",
      "new_prefix_length",
      "new_routers",
      "new_classless_static_routes",
      "new_domain_name_servers",
      "new_domain_name",
      "new_domain_search",
      "new_host_name",
      "new_expiry",
    ]) {
      expect(vars[k]).toBe("");
    }
  });

  test.each([
    ["255.255.255.255", "32", ""], // a /32 has no broadcast address
    ["255.255.255.254", "31", ""], // RFC 3021: both addresses of a /31 are hosts
    ["255.255.255.252", "30", "198.18.0.103"],
    ["255.255.0.0", "16", "198.18.255.255"],
    ["0.0.0.0", "0", "255.255.255.255"],
    ["255.0.255.0", "", ""], // not contiguous (HOSTILE 24): no prefix, no broadcast
  ])("mask %s → prefix %p, broadcast %p", (mask, prefix, broadcast) => {
    const vars = Object.fromEntries(leaseVars({ ...LEASE, subnetMask: mask }, "new_"));
    expect(vars.new_prefix_length).toBe(prefix);
    expect(vars.new_broadcast_address).toBe(broadcast);
  });

  test("wire strings: printable ASCII as is (no shell quoting), a backslash doubled, every other byte \\xNN, NUL included (finding 8)", () => {
    const hostile = "$(touch /tmp/x) `id`; reboot # '\"\\\x1b]0;t\x07\n\x9b";
    const vars = Object.fromEntries(
      leaseVars(
        {
          ...LEASE,
          domain: hostile + "\0after",
          search: ["a\0b", "c"],
          options: [{ code: 12, hex: "41004200" }],
        },
        "new_",
      ),
    );
    expect(vars.new_domain_name).toBe("$(touch /tmp/x) `id`; reboot # '\"\\\\\\x1b]0;t\\x07\\x0a\\x9b\\x00after");
    expect(vars.new_domain_search).toBe("a\\x00b c");
    expect(vars.new_host_name).toBe("A\\x00B\\x00");
    for (const v of Object.values(vars)) expect(v).toMatch(/^[\x20-\x7e]*$/);
  });

  test("an option 12 that is not hex is left out rather than guessed", () => {
    for (const hex of ["", "4", "zz"]) {
      expect(Object.fromEntries(leaseVars({ ...LEASE, options: [{ code: 12, hex }] }, "new_")).new_host_name).toBe("");
    }
  });

  test("bytes past 0x7e of a host name become \\xNN each, never a UTF-8 re-encoding", () => {
    expect(Object.fromEntries(leaseVars({ ...LEASE, options: [{ code: 12, hex: "e9ff9b" }] }, "new_")).new_host_name).toBe("\\xe9\\xff\\x9b");
  });
});

describe("helpers", () => {
  test("envValue escapes NUL like any other byte outside printable ASCII", () => {
    expect(envValue("abc")).toBe("abc");
    expect(envValue("a\0b\0c")).toBe("a\\x00b\\x00c");
    expect(envValue("\\")).toBe("\\\\");
  });
  test("maskPrefix", () => {
    expect(maskPrefix("255.255.255.0")).toBe(24);
    expect(maskPrefix("255.255.255.128")).toBe(25);
    expect(maskPrefix("255.255.255.255")).toBe(32);
    expect(maskPrefix("0.0.0.0")).toBe(0);
    expect(maskPrefix("255.255.0.255")).toBeNull();
    expect(maskPrefix("nonsense")).toBeNull();
  });
});
