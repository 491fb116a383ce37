// Run inside a lab's client namespace as root (test/lab/privsep.test.ts): spawns the real
// privileged helper for IFACE and plays one scenario against it, printing one JSON line per
// step. `apply`: a lease whose routes are partly nonsense, then remove. `malformed`: datagrams
// that break the protocol, straight through the shim, each of which must be refused
// (EPROTO) and leave the helper answering. Usage: bun privsep-driver.ts SCENARIO IFACE STATE RUN

import { native } from "../../native/shim.ts";
import { PrivHelper } from "../../native/privsep.ts";
import { decodeReply, encodeEmpty, encodeLease, HDR, MAX_MSG, T } from "../../native/privsep-msg.ts";

const [scenario, iface, stateDir, runDir] = process.argv.slice(2);
const helper = PrivHelper.spawn({ iface, metric: null, stateDir, runDir, config: null, hook: null, hookUid: 0, hookGid: 0, hookTimeoutMs: 1000 });
const out = (step: string, value: unknown) => console.log(JSON.stringify({ step, value }));
out("ready", { metric: helper.metric, ifindex: helper.ifindex });

if (scenario === "apply") {
  out(
    "apply",
    helper.apply({
      address: "198.18.0.150",
      prefix: 24,
      validSec: 600,
      routes: [
        { destination: "0.0.0.0", prefix: 0, gateway: "198.18.0.1" },
        { destination: "198.18.9.0", prefix: 24, gateway: "198.18.0.1" },
        { destination: "127.0.0.0", prefix: 8, gateway: "198.18.0.1" },
        { destination: "224.0.0.0", prefix: 4, gateway: "198.18.0.1" },
        { destination: "240.0.0.0", prefix: 4, gateway: "198.18.0.1" },
        { destination: "255.255.255.255", prefix: 32, gateway: "198.18.0.1" },
        { destination: "0.0.0.0", prefix: 32, gateway: "198.18.0.1" },
        { destination: "198.18.0.0", prefix: 24, gateway: "198.18.0.1" },
        { destination: "198.18.7.0", prefix: 24, gateway: "198.18.0.150" },
      ],
    }),
  );
  out("zero-mask", helper.apply({ address: "198.18.0.151", prefix: 0, validSec: 600, routes: [] }));
  out("remove", helper.remove());
} else if (scenario === "malformed") {
  const shim = native();
  const buf = new Uint8Array(MAX_MSG);
  const send = (bytes: Uint8Array) => {
    const n = shim.dt_priv_call(bytes, bytes.length, buf, buf.length, 3000);
    return n < 0 ? `errno ${-n}` : decodeReply(buf.slice(0, n));
  };
  const patched = (bytes: Uint8Array, f: (v: DataView) => void) => {
    const c = bytes.slice();
    f(new DataView(c.buffer));
    return c;
  };
  const lease = encodeLease(T.APPLY, 900, { address: "198.18.0.152", prefix: 24, validSec: 60, routes: [] });
  out("bad-version", send(patched(lease, (v) => v.setUint16(0, 9, true))));
  out("bad-length-field", send(patched(lease, (v) => v.setUint32(4, 12, true))));
  out("short-lease", send(patched(lease.subarray(0, HDR + 20), (v) => v.setUint32(4, HDR + 20, true))));
  out("too-many-routes", send(patched(lease, (v) => v.setUint8(HDR + 5, 200))));
  out("unknown-type", send(patched(encodeEmpty(T.STOP, 901), (v) => v.setUint16(2, 77, true))));
  out(
    "blob-length-lies",
    send(
      patched(new Uint8Array(HDR + 8 + 4), (v) => {
        v.setUint16(0, 1, true);
        v.setUint16(2, T.SAVE, true);
        v.setUint32(4, HDR + 12, true);
        v.setUint32(8, 902, true);
        v.setUint32(HDR + 4, 60_000, true);
      }),
    ),
  );
  out(
    "hook-without-hook",
    send(
      patched(new Uint8Array(HDR + 8), (v) => {
        v.setUint16(0, 1, true);
        v.setUint16(2, T.HOOK, true);
        v.setUint32(4, HDR + 8, true);
        v.setUint32(8, 903, true);
      }),
    ),
  );
  out("still-answers", helper.remove());
}
helper.stop();
out("stopped", true);
