/**
 * native/rawsocket.ts without privileges: interface facts (read with an ioctl any user may
 * make) and the error a missing shim gives. RawSocket itself needs root and is tested in
 * test/lab/rawsocket.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { interfaceInfo, type NativeError } from "../../native/rawsocket.ts";
import { expectNativeError, thrown } from "./native-errors.ts";

describe("interfaceInfo", () => {
  test("reads loopback", () => {
    const lo = interfaceInfo("lo");
    expect(lo.name).toBe("lo");
    expect(lo.index).toBe(1);
    expect(lo.up).toBe(true);
    expect(lo.running).toBe(true);
    expect(lo.mtu).toBe(65536);
    expect(lo.carrier).toBe(true);
    expect(lo.mac).toBeInstanceOf(Uint8Array);
    expect(lo.mac.length).toBe(6);
  });

  test("a missing interface is ENODEV with its name in the message", () => {
    const err = thrown(() => interfaceInfo("nonexistent0"));
    expectNativeError(err, "ENODEV", /^interface "nonexistent0" does not exist$/);
    expect((err as NativeError).errno).toBe(19);
  });

  test("names Linux cannot hold are EINVAL", () => {
    expectNativeError(
      thrown(() => interfaceInfo("x".repeat(16))),
      "EINVAL",
      /too long/,
    );
    expectNativeError(
      thrown(() => interfaceInfo("é".repeat(8))),
      "EINVAL",
      /too long: 16 bytes/,
    );
    expectNativeError(
      thrown(() => interfaceInfo("")),
      "EINVAL",
      /empty/,
    );
    expectNativeError(
      thrown(() => interfaceInfo("eth0/x")),
      "EINVAL",
      /not valid/,
    );
    expectNativeError(
      thrown(() => interfaceInfo("a\0b")),
      "EINVAL",
      /not valid/,
    );
  });

  test("without a built library it is ENOSHIM, and importing alone does not fail", () => {
    const dir = mkdtempSync(join(tmpdir(), "dhcptool-noshim-"));
    try {
      // native/*.ts (rawsocket.ts and the modules it loads through) with no build/ beside them,
      // and the core/ it imports pure helpers from
      const nativeDir = join(import.meta.dir, "../../native");
      mkdirSync(join(dir, "native"));
      for (const file of readdirSync(nativeDir).filter((f) => f.endsWith(".ts"))) {
        cpSync(join(nativeDir, file), join(dir, "native", file));
      }
      cpSync(join(import.meta.dir, "../../core"), join(dir, "core"), { recursive: true });
      const script =
        "const m = await import(process.argv[1]); try { m.interfaceInfo('lo'); console.log('loaded'); } " +
        "catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }";
      const child = Bun.spawnSync([process.execPath, "-e", script, join(dir, "native", "rawsocket.ts")]);
      expect(child.exitCode).toBe(0);
      expect(JSON.parse(child.stdout.toString())).toEqual({
        code: "ENOSHIM",
        message: `native shim not built: run \`bun run build\` in ${resolve(dir)}`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
