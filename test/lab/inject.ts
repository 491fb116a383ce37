// Raw frames into a lab link from the server side: a test that needs frames no server program
// sends (802.1Q-tagged ones on a trunk, which this kernel cannot make: no 8021q module) builds
// them itself and sends them out of a server namespace's srv0 through our own shim, onto that
// server's segment. (The scripted hostile server, ./hostile-server.ts, answers what it hears;
// this sends what it is given, once.)

import { SERVER_IFACE, type LabState } from "../../cli/lab/index.ts";
import { TPID_8021Q, tagFrame } from "../../core/frame.ts";

const ROOT = `${import.meta.dir}/../..`;
const SEND_SCRIPT = `
import { RawSocket } from "${ROOT}/native/rawsocket.ts";
const frames = JSON.parse(process.env.DT_FRAMES).map((hex) => Uint8Array.from(Buffer.from(hex, "hex")));
const socket = RawSocket.open(process.env.DT_IFACE, { filter: "client", onFrame() {} });
for (const f of frames) socket.send(f);
socket.close();
`;

/** Sends whole Ethernet frames, as given, out of iface in namespace ns; resolves once all are sent. */
export async function injectFrames(ns: string, iface: string, frames: Uint8Array[]): Promise<void> {
  const p = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, "-e", SEND_SCRIPT], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, DT_IFACE: iface, DT_FRAMES: JSON.stringify(frames.map((f) => Buffer.from(f).toString("hex"))) },
  });
  const [stderr, exitCode] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (exitCode !== 0) throw new Error(`injectFrames on ${ns}/${iface}: exit ${exitCode}: ${stderr}`);
}

/** Sends frames out of server i's srv0, onto the segment (the hub's bridge) it is on. */
export function injectFromServer(lab: LabState, i: number, frames: Uint8Array[]): Promise<void> {
  return injectFrames(lab.servers[i - 1].ns, SERVER_IFACE, frames);
}

/** The frame with an 802.1Q tag (TPID 0x8100, or 0x88a8 for a QinQ outer tag) after its MAC addresses. */
export function vlanTagged(frame: Uint8Array, vid: number, opts: { pcp?: number; tpid?: number } = {}): Uint8Array {
  return tagFrame(frame, vid, opts.pcp ?? 0, opts.tpid ?? TPID_8021Q);
}
