// Lease edges the fuzzer found (test/fuzz): a lease too short to have a T1, and an ACK that
// arrives after the lease it grants has ended.

import { describe, expect, test } from "bun:test";
import { leaseTimes, MIN_LEASE } from "../../core/lease-times.ts";
import { u32 } from "./helpers.ts";
import { Harness, config, recv, reply, withOptions } from "./engine-harness.ts";

describe("lease edges", () => {
  test(`a lease under ${MIN_LEASE} s is refused (T1 would be 0: a REQUEST for every ACK)`, () => {
    expect(leaseTimes(1, null, null)).toEqual({ error: "lease time 1 s: too short to renew (at least 2 s)" });
    expect(leaseTimes(2, null, null)).toMatchObject({ lease: 2, t1: 1, t2: 1 });
    const h = new Harness(config({ resident: true }));
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(2, { xid: h.state.xid })), 10);
    h.ev(recv(reply(5, { xid: h.state.xid, options: withOptions(5, [{ code: 51, data: u32(1) }]) })), 20);
    expect(h.last).toEqual([{ kind: "dropped", reason: "ack-no-lease" }]);
    expect(h.phase).toBe("REQUESTING");
  });

  test("an ACK slower than the lease it gives is dropped, not bound and expired at once", () => {
    const h = new Harness(config({ resident: true }));
    h.ev({ kind: "start" }, 0);
    h.ev(recv(reply(2, { xid: h.state.xid })), 10); // REQUEST at 10
    const late = reply(5, { xid: h.state.xid, options: withOptions(5, [{ code: 51, data: u32(2) }]) });
    expect(h.ev(recv(late), 2010)).toEqual([{ kind: "dropped", reason: "ack-expired" }]);
    expect(h.ev(recv(late), 2009).some((a) => a.kind === "bound")).toBe(true); // 1 ms earlier it is fine
  });
});
