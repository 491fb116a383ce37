// Dropping unicast to a lab server while it still hears broadcast: a test that needs a server
// to stop hearing the client's RENEWING REQUEST (unicast) while it still hears REBINDING and
// DISCOVER (broadcast) drops those frames on the hub's bridge port that leads to the server.
// The kernels this runs on may have no netfilter and no tc gact/u32, but a clsact qdisc with a
// classic-BPF cls_bpf filter in direct-action mode works everywhere.

import { run } from "./proc.ts";
import { serverOf, writeLab, type LabState } from "./state.ts";

const BPF = {
  ldh: 0x28,
  ldb: 0x30,
  ldw: 0x20, // BPF_LD | size | BPF_ABS
  ldxMsh: 0xb1, // BPF_LDX | BPF_B | BPF_MSH: x = 4 * ([k] & 0xf)
  ldhInd: 0x48, // BPF_LD | BPF_H | BPF_IND: a = [x + k]
  jeq: 0x15,
  jset: 0x45, // BPF_JMP | op | BPF_K
  ret: 0x06, // BPF_RET | BPF_K
} as const;
const TC_ACT_OK = 0,
  TC_ACT_SHOT = 2;

function ipToU32(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

/**
 * Classic BPF for `tc filter … bpf bytecode "…" da` (offsets from the Ethernet header): drop
 * (TC_ACT_SHOT) an IPv4 UDP datagram to ip:67, pass (TC_ACT_OK) everything else, broadcasts to
 * 255.255.255.255 and non-first fragments (no UDP header to read) included.
 */
export function unicastDropBytecode(ip: string): string {
  const PASS = 12; // index of the last instruction
  const prog: [number, number, number, number][] = [];
  const add = (code: number, k: number, jt = 0, jf = 0) => {
    prog.push([code, jt, jf, k]);
  };
  const toPass = () => PASS - prog.length - 1; // relative jump from the instruction being added
  add(BPF.ldh, 12); // 0  ethertype
  add(BPF.jeq, 0x0800, 0, toPass()); // 1  IPv4?
  add(BPF.ldb, 14 + 9); // 2  IP protocol
  add(BPF.jeq, 17, 0, toPass()); // 3  UDP?
  add(BPF.ldw, 14 + 16); // 4  destination address
  add(BPF.jeq, ipToU32(ip), 0, toPass()); // 5  the server's?
  add(BPF.ldh, 14 + 6); // 6  flags and fragment offset
  add(BPF.jset, 0x1fff, toPass(), 0); // 7  a later fragment: no UDP header
  add(BPF.ldxMsh, 14); // 8  x = IP header length
  add(BPF.ldhInd, 14 + 2); // 9  UDP destination port
  add(BPF.jeq, 67, 0, toPass()); // 10 the DHCP server port?
  add(BPF.ret, TC_ACT_SHOT); // 11 drop
  add(BPF.ret, TC_ACT_OK); // 12 PASS
  if (prog.length !== PASS + 1) throw new Error("unicastDropBytecode: PASS is not the last instruction");
  return `${prog.length},${prog.map((i) => i.join(" ")).join(",")}`;
}

/**
 * Drops (on) or lets through again (off) every unicast datagram to server i's port 67, on the
 * hub's bridge port leading to it (egress); broadcasts still reach it.
 */
export function blockUnicast(state: LabState, i: number, on: boolean): void {
  const s = serverOf(state, i);
  const tc = ["tc", "-n", state.hubNs];
  const port = `s${i}`;
  // removing the clsact qdisc removes its filters with it; absent already is fine
  Bun.spawnSync([...tc, "qdisc", "del", "dev", port, "clsact"], { stdout: "ignore", stderr: "ignore" });
  if (on) {
    run([...tc, "qdisc", "add", "dev", port, "clsact"], `adding a clsact qdisc on ${state.hubNs}/${port}`);
    run(
      [...tc, "filter", "add", "dev", port, "egress", "bpf", "bytecode", unicastDropBytecode(s.ip), "da"],
      `adding the unicast drop filter on ${state.hubNs}/${port}`,
    );
  }
  s.unicastBlocked = on;
  writeLab(state);
}
