// `dhcptool lease …`: leases and DHCP messages. For now: `lease decode`, which needs no
// privilege and no daemon. (show, renew, release, … arrive with the resident client.)

import { defineCommand } from "citty";

export const leaseExamples = `
Examples:
  dhcptool lease decode capture.pcap              every DHCP packet in a capture (pcap or pcapng)
  tshark -x -c1 -r capture.pcap | dhcptool lease decode -
  echo "0201060093…" | dhcptool lease decode - --json
  dhcptool lease decode message.bin --format raw   a bare DHCP message or an Ethernet frame

Input is auto-detected: a pcap/pcapng file, hex text (plain, with colons or # comments, or a
tshark -x / xxd dump), or raw bytes (an Ethernet frame or a bare BOOTP/DHCP message).
Exit status: 0 every packet decoded, 1 some could not be decoded or the input is unreadable.`;

export default defineCommand({
  meta: { name: "lease", description: "Decode DHCP messages and captures (lease show/renew/release come with the daemon)" },
  subCommands: {
    decode: () => import("./lease-decode.ts").then((m) => m.default),
  },
});
