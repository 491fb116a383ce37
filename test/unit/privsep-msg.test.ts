// The messages to and from the privileged helper (native/privsep-msg.ts against the layout
// of native/privsep.h): what the daemon sends is laid out as the C structs are, and what it
// receives is refused unless version, type, length and every length field fit. The C side
// of the same checks is tested against the real helper in test/lab/privsep.test.ts.

import { describe, expect, test } from "bun:test";
import {
  decodeReply,
  encodeBlob,
  encodeEmpty,
  encodeHookRecords,
  encodeLease,
  HDR,
  MAX_BLOB,
  MAX_HOOK_ENV,
  MAX_ROUTES,
  MAX_STDERR,
  MAX_TEXT,
  T,
} from "../../native/privsep-msg.ts";
import { hookStdin, type HookEvent } from "../../cli/daemon/hook.ts";

function reply(type: number, body: Uint8Array, seq = 7, patch?: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(HDR + body.length);
  const v = new DataView(b.buffer);
  v.setUint16(0, 1, true);
  v.setUint16(2, type, true);
  v.setUint32(4, b.length, true);
  v.setUint32(8, seq, true);
  b.set(body, HDR);
  patch?.(v);
  return b;
}

function result(status: number, text: string): Uint8Array {
  const body = new Uint8Array(8 + MAX_TEXT);
  const v = new DataView(body.buffer);
  v.setInt32(0, status, true);
  const t = new TextEncoder().encode(text);
  v.setUint32(4, t.length, true);
  body.set(t, 8);
  return body;
}

describe("requests, as native/privsep.h lays them out", () => {
  test("APPLY: header (version 1, type, whole length, seq), address, prefix, route count, lifetime, 12-byte routes", () => {
    const m = encodeLease(T.APPLY, 5, {
      address: "198.18.0.100",
      prefix: 24,
      validSec: 3600,
      routes: [
        { destination: "0.0.0.0", prefix: 0, gateway: "198.18.0.1" },
        { destination: "10.1.0.0", prefix: 16, gateway: null },
      ],
    });
    const v = new DataView(m.buffer);
    expect(m.length).toBe(HDR + 12 + 12 * MAX_ROUTES);
    expect([v.getUint16(0, true), v.getUint16(2, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true)]).toEqual([1, 1, m.length, 5, 0]);
    expect([...m.subarray(HDR, HDR + 6)]).toEqual([198, 18, 0, 100, 24, 2]);
    expect(v.getUint32(HDR + 8, true)).toBe(3600);
    expect([...m.subarray(HDR + 12, HDR + 24)]).toEqual([0, 0, 0, 0, 198, 18, 0, 1, 0, 0, 0, 0]);
    expect([...m.subarray(HDR + 24, HDR + 36)]).toEqual([10, 1, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0]);
  });

  test("an infinite lease's lifetime is 0xffffffff; more routes than fit are not sent; a bad address is a bug (throws)", () => {
    const routes = Array.from({ length: 40 }, (_, i) => ({ destination: `10.${i}.0.0`, prefix: 16, gateway: null }));
    const m = encodeLease(T.ADOPT, 1, { address: "198.18.0.100", prefix: 24, validSec: null, routes });
    expect(new DataView(m.buffer).getUint32(HDR + 8, true)).toBe(0xffffffff);
    expect(m[HDR + 5]).toBe(MAX_ROUTES);
    expect(() => encodeLease(T.APPLY, 1, { address: "198.18.0.300", prefix: 24, validSec: 1, routes: [] })).toThrow(RangeError);
  });

  test("empty requests are a header; a blob carries its length and only that many bytes", () => {
    expect(encodeEmpty(T.STOP, 3).length).toBe(HDR);
    const b = encodeBlob(T.SAVE, 4, new Uint8Array([1, 2, 3]));
    expect(b.length).toBe(HDR + 8 + 3);
    expect(new DataView(b.buffer).getUint32(HDR + 4, true)).toBe(3);
    expect(() => encodeBlob(T.SAVE, 4, new Uint8Array(MAX_BLOB + 1))).toThrow(RangeError);
  });

  test("hook records: E NAME=VALUE with its length, then I stdin; a NUL or a bad name never leaves", () => {
    const r = encodeHookRecords({ reason: "BOUND", new_domain_name: "a\\x9b" }, new Uint8Array([0x7b, 0x7d]));
    expect(String.fromCharCode(...r)).toBe("E\x0c\x00reason=BOUNDE\x15\x00new_domain_name=a\\x9bI\x02\x00{}");
    expect(() => encodeHookRecords({ "a b": "x" }, new Uint8Array())).toThrow(RangeError);
    expect(() => encodeHookRecords({ a: "x\0y" }, new Uint8Array())).toThrow(RangeError);
    const many = Object.fromEntries(Array.from({ length: MAX_HOOK_ENV + 1 }, (_, i) => [`v${i}`, "x"]));
    expect(() => encodeHookRecords(many, new Uint8Array())).toThrow(RangeError);
  });
});

describe("replies are checked whole", () => {
  test("RESULT: done and failed lines", () => {
    expect(decodeReply(reply(T.RESULT, result(0, "+ address 198.18.0.100/24\n- route 127.0.0.0/8 refused: loopback\n")))).toEqual({
      type: "result",
      seq: 7,
      status: 0,
      done: ["address 198.18.0.100/24"],
      failed: ["route 127.0.0.0/8 refused: loopback"],
    });
  });

  test.each([
    ["shorter than a header", new Uint8Array(10), /shorter than a header/],
    ["another version", reply(T.RESULT, result(0, ""), 7, (v) => v.setUint16(0, 2, true)), /version 2/],
    ["a length that is not the datagram's", reply(T.RESULT, result(0, ""), 7, (v) => v.setUint32(4, 99, true)), /says 99 bytes/],
    ["reserved bits", reply(T.RESULT, result(0, ""), 7, (v) => v.setUint32(12, 1, true)), /reserved/],
    ["an unknown type", reply(55, new Uint8Array(0)), /unknown message type 55/],
    ["a RESULT of the wrong size", reply(T.RESULT, new Uint8Array(12)), /not 2056/],
    ["a text length past its buffer", reply(T.RESULT, result(0, ""), 7, (v) => v.setUint32(HDR + 4, MAX_TEXT + 1, true)), /past its buffer/],
    ["control characters in the text", reply(T.RESULT, result(0, "+ a\x1b[2J\n")), /printable ASCII/],
    ["a line neither + nor -", reply(T.RESULT, result(0, "x\n")), /neither done/],
    ["a blob whose length is not the message's", reply(T.CONFIG_DATA, new Uint8Array([0, 0, 0, 0, 5, 0, 0, 0, 1])), /does not match/],
    [
      "a hook's stderr length past its buffer",
      reply(T.HOOK_DONE, new Uint8Array(28 + MAX_STDERR), 7, (v) => v.setUint32(HDR + 24, MAX_STDERR + 1, true)),
      /past its buffer/,
    ],
  ])("%s is refused", (_what, bytes, why) => {
    const r = decodeReply(bytes);
    expect(typeof r).toBe("string");
    expect(r as string).toMatch(why);
  });

  test("HOOK_DONE: exit code, signal, timed out, the stderr bytes as sent", () => {
    const body = new Uint8Array(28 + MAX_STDERR);
    const v = new DataView(body.buffer);
    v.setInt32(4, -1, true);
    v.setInt32(8, 9, true);
    v.setUint32(12, 1, true);
    v.setUint32(16, 1500, true);
    v.setUint32(24, 2, true);
    body.set([0x9b, 0x41], 28);
    expect(decodeReply(reply(T.HOOK_DONE, body, 9))).toMatchObject({
      type: "hook-done",
      seq: 9,
      exitCode: null,
      signal: 9,
      timedOut: true,
      ms: 1500,
      stderr: new Uint8Array([0x9b, 0x41]),
    });
  });
});

describe("the hook's stdin (finding 8)", () => {
  test("pure ASCII JSON: one char per wire byte after JSON.parse, and the text fields' bytes as hex beside them", () => {
    const lease = {
      address: "198.18.0.100",
      serverId: "198.18.0.1",
      serverMac: "02:00:00:00:00:fe",
      subnetMask: null,
      routers: [],
      routes: [],
      dns: [],
      domain: "a\x9bb\xe9",
      search: ["\x00x"],
      leaseTime: 60,
      t1: 30,
      t2: 52,
      infinite: false,
      ipv6OnlyWait: null,
      adjusted: [],
      acquiredAt: "2030-01-01T00:00:00.000Z",
      renewAt: null,
      rebindAt: null,
      expiresAt: null,
      options: [{ code: 15, hex: "619b62e9" }],
    };
    const event: HookEvent = { reason: "BOUND", interface: "eth0", lease, oldLease: null };
    const bytes = hookStdin(event);
    expect(bytes.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a)).toBe(true);
    const back = JSON.parse(new TextDecoder().decode(bytes));
    expect(back.lease.domain).toBe("a\x9bb\xe9");
    expect(back.lease.raw).toEqual({ domain: "619b62e9", search: ["0078"] });
  });
});
