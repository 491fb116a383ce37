// The floor under discover --first: the least a Bun program built from this project's own
// layers does for one DISCOVER and its first OFFER, with no command line, no privilege drop,
// no output. bench/discover.sh compiles it as dist/dhcptool is compiled (the shim embedded,
// loaded from a memfd) and times it beside the real command: the difference is what the
// CLI itself costs. Exit 0 on an OFFER for our xid, 3 after 2 s without one.
//
//   (compiled) floor IFACE

import "../cli/ship/embed.ts";
import { buildDiscover, frameClientMessage } from "../core/client.ts";
import { RawSocket } from "../native/rawsocket.ts";

const iface = process.argv[2] ?? "lab0";
const xid = (Math.random() * 2 ** 32) >>> 0;
const XID_AT = 14 + 20 + 8 + 4; // Ethernet, IPv4, UDP, then op htype hlen hops
let answered!: () => void;
const offer = new Promise<void>((resolve) => {
  answered = resolve;
});
const socket = RawSocket.open(iface, {
  filter: "client",
  onFrame: (f) => {
    const b = f.bytes;
    if (b.length > XID_AT + 4 && new DataView(b.buffer, b.byteOffset + XID_AT, 4).getUint32(0) === xid) answered();
  },
});
const timeout = setTimeout(() => process.exit(3), 2000);
socket.send(frameClientMessage(socket.info.mac, buildDiscover({ mac: socket.info.mac, hostname: null }, { xid })));
await offer;
clearTimeout(timeout);
socket.close();
process.exit(0);
