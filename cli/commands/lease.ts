// `dhcptool lease …`: leases and DHCP messages. decode and show need no privilege and no
// daemon; renew/rebind talk to a running `request --daemon`; release/decline/inform send
// one message (release goes through the daemon when one runs).

import { defineCommand } from "../command-line.ts";

export const leaseExamples = `
Examples:
  dhcptool lease show                             every interface with a daemon or a stored lease
  dhcptool lease show eth0 --json                 state, address, server, routes, DNS, T1/T2/expiry
  dhcptool lease renew eth0                       the daemon renews now (unicast to its server)
  dhcptool lease rebind eth0                      the daemon rebinds now (broadcast)
  dhcptool lease release eth0                     give the lease back (the daemon then exits)
  dhcptool lease release eth0 --address 192.0.2.50 --server 192.0.2.1
  dhcptool lease decline eth0 --address 192.0.2.50 --server 192.0.2.1
  dhcptool lease inform eth0                      DNS, routers … for the address eth0 already has
  dhcptool lease decode capture.pcap              every DHCP packet in a capture (pcap or pcapng)
  tshark -x -c1 -r capture.pcap | dhcptool lease decode -
  echo "0201060093…" | dhcptool lease decode - --json

show asks the interface's daemon over its control socket (<run-dir>/IFACE.sock, mode 0600)
and, when none runs, reads the stored lease (<state-dir>/IFACE.json). decode input is
auto-detected: pcap/pcapng, hex text (plain, colons, tshark -x / xxd dumps) or raw bytes.
Captures: Ethernet (802.1Q, QinQ), SLL/SLL2 (tcpdump -i any), raw IP, 802.11
(radiotap); read as they stream in, so any size decodes in little memory.
Exit status: 0 ok, 1 error (no daemon for renew/rebind, unreadable input), 2 usage,
3 show found no lease / inform got no answer.`;

export default defineCommand({
  meta: { name: "lease", description: "Show, renew, rebind, release leases; decline, inform; decode DHCP messages" },
  subCommands: {
    show: () => import("./lease-daemon.ts").then((m) => m.show),
    renew: () => import("./lease-daemon.ts").then((m) => m.renew),
    rebind: () => import("./lease-daemon.ts").then((m) => m.rebind),
    release: () => import("./lease-oneshot.ts").then((m) => m.release),
    decline: () => import("./lease-oneshot.ts").then((m) => m.decline),
    inform: () => import("./lease-oneshot.ts").then((m) => m.inform),
    decode: () => import("./lease-decode.ts").then((m) => m.default),
  },
});
