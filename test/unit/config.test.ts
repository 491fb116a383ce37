// cli/daemon/config.ts: the resident client's config file in TOML and JSON, defaults and
// per-interface overrides, sameSettings (what SIGHUP restarts), and every error with the
// exact message a user reads.

import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  DEFAULT_SETTINGS,
  MAX_CONFIG_FILE,
  loadConfig,
  parseConfig,
  sameSettings,
  settingsFor,
  type InterfaceSettings,
} from "../../cli/daemon/config.ts";

const dir = fs.mkdtempSync(join(tmpdir(), "dhcptool-config-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

const TOML = `
# every interface
ignore = ["dns"]
ignore-servers = ["192.0.2.66"]
host-name = "box"
vendor-class-id = "dhcptool"

[interface.eth0]
ignore = ["routes", "dns"]
client-id = "hex:ff00010203"
prefer-ipv6 = true

[interface.wlan0]
ignore = []
ignore-servers = ["010.0.0.1", "198.51.100.7"]
host-name = false
client-id = "02:00:00:00:00:aa"

[interface."eth0.100"]
client-id = "my-box"
`;

const JSON_TEXT = JSON.stringify({
  ignore: ["dns"],
  "ignore-servers": ["192.0.2.66"],
  "host-name": "box",
  "vendor-class-id": "dhcptool",
  interface: {
    eth0: { ignore: ["routes", "dns"], "client-id": "hex:ff00010203", "prefer-ipv6": true },
    wlan0: { ignore: [], "ignore-servers": ["010.0.0.1", "198.51.100.7"], "host-name": false, "client-id": "02:00:00:00:00:aa" },
    "eth0.100": { "client-id": "my-box" },
  },
});

const enc = (s: string) => new TextEncoder().encode(s);

describe("settings", () => {
  const config = parseConfig(TOML, "dhcptool.toml", "toml");

  test("no config: the built-in defaults", () => {
    expect(settingsFor(null, "eth0")).toEqual({
      ignoreDns: false,
      ignoreRoutes: false,
      ignoreServers: [],
      clientId: null,
      vendorClass: null,
      hostName: undefined,
      preferIpv6: false,
    });
  });

  test("an interface without a table gets the top-level defaults", () => {
    expect(settingsFor(config, "eth9")).toEqual({
      ignoreDns: true,
      ignoreRoutes: false,
      ignoreServers: ["192.0.2.66"],
      clientId: null,
      vendorClass: enc("dhcptool"),
      hostName: "box",
      preferIpv6: false,
    });
  });

  test("[interface.eth0] overrides key by key; the rest stays default", () => {
    expect(settingsFor(config, "eth0")).toEqual({
      ignoreDns: true,
      ignoreRoutes: true,
      ignoreServers: ["192.0.2.66"],
      clientId: Uint8Array.of(0xff, 0, 1, 2, 3),
      vendorClass: enc("dhcptool"),
      hostName: "box",
      preferIpv6: true,
    });
  });

  test("an override replaces a list (ignore = [] clears it); addresses come out canonical; host-name false sends none", () => {
    expect(settingsFor(config, "wlan0")).toEqual({
      ignoreDns: false,
      ignoreRoutes: false,
      ignoreServers: ["10.0.0.1", "198.51.100.7"],
      clientId: Uint8Array.of(1, 2, 0, 0, 0, 0, 0xaa),
      vendorClass: enc("dhcptool"),
      hostName: null,
      preferIpv6: false,
    });
  });

  test("a quoted VLAN name; plain-text client id is type 0 + the text (RFC 2132 9.14)", () => {
    expect(settingsFor(config, "eth0.100").clientId).toEqual(Uint8Array.of(0, ...enc("my-box")));
  });

  test("JSON says the same as TOML", () => {
    const fromJson = parseConfig(JSON_TEXT, "dhcptool.json", "json");
    for (const iface of ["eth0", "wlan0", "eth0.100", "eth9"]) {
      expect(settingsFor(fromJson, iface)).toEqual(settingsFor(config, iface));
    }
  });

  test("settingsFor hands out copies: changing one does not change the config", () => {
    const a = settingsFor(config, "eth9");
    a.ignoreServers.push("1.1.1.1");
    expect(settingsFor(config, "eth9").ignoreServers).toEqual(["192.0.2.66"]);
    expect(DEFAULT_SETTINGS.ignoreServers).toEqual([]);
  });

  test("an empty file is all defaults", () => {
    expect(settingsFor(parseConfig("", "empty.toml", "toml"), "eth0")).toEqual(settingsFor(null, "eth0"));
    expect(settingsFor(parseConfig("{}", "empty.json", "json"), "eth0")).toEqual(settingsFor(null, "eth0"));
  });
});

describe("loadConfig picks the format by extension", () => {
  const expected = settingsFor(parseConfig(TOML, "x", "toml"), "eth0");
  test(".toml and .json", () => {
    expect(settingsFor(loadConfig(file("a.toml", TOML)), "eth0")).toEqual(expected);
    expect(settingsFor(loadConfig(file("a.json", JSON_TEXT)), "eth0")).toEqual(expected);
    expect(settingsFor(loadConfig(file("A.TOML", TOML)), "eth0")).toEqual(expected);
  });
  test("any other name: JSON first, then TOML", () => {
    expect(settingsFor(loadConfig(file("j.conf", JSON_TEXT)), "eth0")).toEqual(expected);
    expect(settingsFor(loadConfig(file("t.conf", TOML)), "eth0")).toEqual(expected);
    expect(loadConfig(file("t.conf", TOML)).file).toBe(join(dir, "t.conf"));
  });
  test("JSON in a .toml file is a TOML error (the extension is believed)", () => {
    expect(() => loadConfig(file("wrong.toml", JSON_TEXT))).toThrow(`${join(dir, "wrong.toml")}: not valid TOML: TOML Parse error`);
  });
});

describe("sameSettings", () => {
  const base = settingsFor(parseConfig(TOML, "x", "toml"), "eth0");
  test("equal settings, including fresh copies of the byte arrays", () => {
    expect(sameSettings(base, settingsFor(parseConfig(JSON_TEXT, "y", "json"), "eth0"))).toBe(true);
    expect(sameSettings(settingsFor(null, "a"), settingsFor(null, "b"))).toBe(true);
  });
  test("ignore-servers is a set: order and repeats do not matter", () => {
    expect(sameSettings({ ...base, ignoreServers: ["1.1.1.1", "2.2.2.2"] }, { ...base, ignoreServers: ["2.2.2.2", "1.1.1.1", "2.2.2.2"] })).toBe(true);
  });
  test.each<[string, Partial<InterfaceSettings>]>([
    ["ignoreDns", { ignoreDns: false }],
    ["ignoreRoutes", { ignoreRoutes: false }],
    ["ignoreServers", { ignoreServers: ["192.0.2.67"] }],
    ["clientId bytes", { clientId: Uint8Array.of(0xff, 0, 1, 2, 4) }],
    ["clientId to default", { clientId: null }],
    ["vendorClass", { vendorClass: enc("other") }],
    ["vendorClass to none", { vendorClass: null }],
    ["hostName", { hostName: "other" }],
    ["hostName default vs none", { hostName: undefined }],
    ["preferIpv6", { preferIpv6: false }],
  ])("a change of %s is a change", (_what, change) => {
    expect(sameSettings(base, { ...base, ...change })).toBe(false);
    expect(sameSettings({ ...base, ...change }, base)).toBe(false);
  });
  test("host name undefined (default) and null (none) differ", () => {
    const d = settingsFor(null, "eth0");
    expect(sameSettings({ ...d, hostName: undefined }, { ...d, hostName: null })).toBe(false);
  });
});

describe("errors name the file, the key path, and what is wrong", () => {
  const F = "/etc/dhcptool.toml";
  const toml = (text: string) => () => parseConfig(text, F, "toml");
  const json = (doc: unknown) => () => parseConfig(JSON.stringify(doc), "/etc/d.json", "json");

  test.each<[string, () => unknown, string]>([
    [
      "unknown top-level key",
      toml(`ignroe = ["dns"]`),
      `${F}: ignroe: unknown key (known: interface, ignore, ignore-servers, client-id, vendor-class-id, host-name, prefer-ipv6, route-metric)`,
    ],
    [
      "unknown key in an interface",
      toml(`[interface.eth0]\nhostname = "x"`),
      `${F}: interface.eth0.hostname: unknown key (known: ignore, ignore-servers, client-id, vendor-class-id, host-name, prefer-ipv6, route-metric)`,
    ],
    [
      "interface inside an interface",
      toml(`[interface.eth0.interface.eth1]\nignore = []`),
      `${F}: interface.eth0.interface: unknown key (known: ignore, ignore-servers, client-id, vendor-class-id, host-name, prefer-ipv6, route-metric); an interface name with a dot is quoted: [interface."eth0.interface"]`,
    ],
    [
      "an unquoted VLAN name gets a hint",
      toml(`[interface.eth0.100]\nignore = []`),
      `${F}: interface.eth0.100: unknown key (known: ignore, ignore-servers, client-id, vendor-class-id, host-name, prefer-ipv6, route-metric); an interface name with a dot is quoted: [interface."eth0.100"]`,
    ],
    ["ignore not an array", toml(`ignore = "dns"`), `${F}: ignore: must be an array of "dns" and "routes", not "dns"`],
    ["ignore with an unknown word", toml(`[interface.eth0]\nignore = ["dns", "ntp"]`), `${F}: interface.eth0.ignore[1]: "ntp" is not "dns" or "routes"`],
    ["ignore-servers not an array", toml(`ignore-servers = "1.2.3.4"`), `${F}: ignore-servers: must be an array of IPv4 addresses, not "1.2.3.4"`],
    [
      "ignore-servers with a bad address",
      toml(`[interface.eth0]\nignore-servers = ["1.1.1.1", "300.1.1.1"]`),
      `${F}: interface.eth0.ignore-servers[1]: "300.1.1.1" is not an IPv4 address`,
    ],
    ["ignore-servers with a number", toml(`ignore-servers = [16843009]`), `${F}: ignore-servers[0]: 16843009 is not an IPv4 address`],
    ["ignore-servers with a name", toml(`ignore-servers = ["dhcp.example"]`), `${F}: ignore-servers[0]: "dhcp.example" is not an IPv4 address`],
    ["client-id not a string", toml(`client-id = 1`), `${F}: client-id: must be a string ("hex:01aabb…", a MAC, or text), not 1`],
    ["client-id bad hex", toml(`client-id = "hex:01zz"`), `${F}: client-id: "hex:01zz" is not hex bytes after "hex:" (e.g. hex:01aabbccddeeff)`],
    ["client-id one byte", toml(`client-id = "hex:01"`), `${F}: client-id: must be 2 to 255 bytes with the type byte, not 1`],
    ["client-id too long", toml(`client-id = "${"x".repeat(255)}"`), `${F}: client-id: must be 2 to 255 bytes with the type byte, not 256`],
    ["client-id empty", toml(`client-id = ""`), `${F}: client-id: must be 2 to 255 bytes with the type byte, not 1`],
    ["vendor-class-id not a string", toml(`vendor-class-id = ["a"]`), `${F}: vendor-class-id: must be a string, not an array`],
    ["vendor-class-id empty", toml(`vendor-class-id = ""`), `${F}: vendor-class-id: must be 1 to 255 bytes, not 0`],
    ["vendor-class-id too long", toml(`vendor-class-id = "${"v".repeat(256)}"`), `${F}: vendor-class-id: must be 1 to 255 bytes, not 256`],
    ["host-name true", toml(`host-name = true`), `${F}: host-name: must be a string, or false to send none, not true`],
    ["host-name empty", toml(`host-name = ""`), `${F}: host-name: is empty: write false to send no host name`],
    ["host-name with NUL", toml(`host-name = "a\\u0000b"`), `${F}: host-name: contains a NUL byte`],
    ["host-name too long", toml(`host-name = "${"h".repeat(256)}"`), `${F}: host-name: is longer than 255 bytes`],
    ["prefer-ipv6 a string", toml(`prefer-ipv6 = "yes"`), `${F}: prefer-ipv6: must be true or false, not "yes"`],
    ["route-metric not a whole number", toml(`route-metric = 1.5`), `${F}: route-metric: must be a whole number from 1 to 4294967295, not 1.5`],
    ["interface not a table", toml(`interface = "eth0"`), `${F}: interface: must be a table of interfaces ([interface.eth0]), not "eth0"`],
    ["an interface that is not a table", toml(`interface = { eth0 = 1 }`), `${F}: interface.eth0: must be a table of settings, not 1`],
    ["an interface name too long", toml(`[interface.abcdefghijklmnop]`), `${F}: interface.abcdefghijklmnop: not an interface name: it is longer than 15 bytes`],
    ["an interface name with a slash", toml(`[interface."a/b"]`), `${F}: interface."a/b": not an interface name: it contains '/', ':', NUL or whitespace`],
    [
      "an interface name with an escape is shown escaped",
      toml(`[interface."\\u001b[2J/"]`),
      `${F}: interface."\\x1b[2J/": not an interface name: it contains '/', ':', NUL or whitespace`,
    ],
    ["a value with quotes and escapes is shown escaped", toml(`ignore = ["\\"\\u001b"]`), `${F}: ignore[0]: "\\"\\x1b" is not "dns" or "routes"`],
    ["JSON: top level an array", json([1]), `/etc/d.json: the top level must be a table of settings, not an array`],
    ["JSON: null interface", json({ interface: null }), `/etc/d.json: interface: must be a table of interfaces ([interface.eth0]), not null`],
    [
      "JSON: __proto__ is just an unknown key",
      () => parseConfig(`{"__proto__": {"ignore": ["dns"]}}`, "/etc/d.json", "json"),
      `/etc/d.json: __proto__: unknown key (known: interface, ignore, ignore-servers, client-id, vendor-class-id, host-name, prefer-ipv6, route-metric)`,
    ],
    [
      "JSON: bad address per interface",
      json({ interface: { eth0: { "ignore-servers": ["1.2.3"] } } }),
      `/etc/d.json: interface.eth0.ignore-servers[0]: "1.2.3" is not an IPv4 address`,
    ],
  ])("%s", (_what, run, message) => {
    let e: unknown;
    try {
      run();
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toBe(message);
  });

  test("the error carries the file and key path as fields too", () => {
    let e: unknown;
    try {
      toml(`[interface.eth0]\nignore-servers = ["1.1.1.1", "300.1.1.1"]`)();
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).file).toBe(F);
    expect((e as ConfigError).keyPath).toBe("interface.eth0.ignore-servers[1]");
    expect((e as ConfigError).exitCode).toBe(1);
  });

  // Bun's own wording may change between versions: its prefix is checked, and that it is there.
  test("TOML syntax error: file name and Bun's parser's words", () => {
    expect(toml(`ignore = [`)).toThrow(new RegExp(`^${F}: not valid TOML: TOML Parse error: .*array`));
    expect(toml(`a = 1\na = 2`)).toThrow(new RegExp(`^${F}: not valid TOML: TOML Parse error: .*'a'`));
  });

  test("JSON syntax error: file name and the parser's words", () => {
    expect(() => parseConfig(`{"ignore": [`, "/etc/d.json", "json")).toThrow(`/etc/d.json: not valid JSON: JSON Parse error: Unexpected EOF`);
  });

  test("unknown extension, neither format: both parsers' words", () => {
    expect(() => loadConfig(file("bad.conf", `ignore = [`))).toThrow(
      new RegExp(`^${join(dir, "bad.conf")}: neither valid JSON \\(JSON Parse error: .+\\) nor valid TOML \\(TOML Parse error: .+\\)$`),
    );
  });

  test("a missing file", () => {
    expect(() => loadConfig(join(dir, "none.toml"))).toThrow(`cannot read the config file ${join(dir, "none.toml")}: no such file or directory (ENOENT)`);
  });

  test("a directory", () => {
    expect(() => loadConfig(dir)).toThrow(`${dir}: not a regular file`);
  });

  test("a file too large to be a config file", () => {
    const p = file("huge.toml", "#".repeat(MAX_CONFIG_FILE + 1));
    expect(() => loadConfig(p)).toThrow(`${p}: ${MAX_CONFIG_FILE + 1} bytes is too large for a config file`);
  });
});
