// The prose of dhcptool(1), from the README and SECURITY.md: what the command definitions
// cannot say (what the tool is for, exit codes, files, environment, security). The options
// of each command come from the definitions themselves (man.ts).

export const NAME = "dhcptool - DHCPv4 diagnostics for Linux: find DHCP servers, inspect offers, detect rogues, keep a lease";

export const DESCRIPTION = [
  "dhcptool answers the questions a network engineer asks about DHCP on a link: which servers answer, what each one offers and how fast, whether one of them is rogue, whether a lease is granted, renewed and released correctly. Every command gives the same answer as JSON with --json, and an exit status for scripts.",
  "It sends its own DHCPDISCOVER and DHCPREQUEST on a packet socket, so it works on an interface that has no address, and it configures nothing on the machine unless the resident client is run with --apply. It needs root (or CAP_NET_RAW) only to open its sockets: before it reads a single reply it becomes --user (default dhcptool, a system account of its own, or nobody where that account does not exist) with no capability left, or only the one its mode needs.",
  "Everything a server sends is treated as hostile: frames are validated (lengths, checksums, ports, xid, MAC, magic cookie), bad ones are dropped and counted, and every string from the wire is escaped before it reaches a terminal, a hook or a JSON document.",
  "Results go to standard output, logs and warnings to standard error.",
];

export const EXIT_STATUS: [string, string][] = [
  ["0", "Success: an offer was seen, a lease bound, a command done."],
  ["1", "Error: the interface does not exist or is down, no permission, no daemon to talk to, unreadable input."],
  ["2", "Usage error: an unknown flag, a missing or malformed argument."],
  ["3", "No answer: no offer or acknowledgement within the window (discover, request, lease inform), or no lease to show."],
  ["4", "The server answered DHCPNAK (request)."],
  ["5", "A server outside --allow-server answered: a rogue server (discover, watch)."],
];

export const ENVIRONMENT: [string, string][] = [
  [
    "DHCPTOOL_SHIM",
    "Path of the native shim (libdhcptool.so) to load instead of the embedded or built one. It must load: there is no fallback when it does not.",
  ],
  ["DHCPTOOL_LAB_DIR", "Where the lab keeps its state and server logs (default /run/dhcptool/lab)."],
  ["NO_COLOR", "Set by dhcptool for its argument parser unless already set; output carries no colour."],
  [
    "TMPDIR",
    "Used only when the kernel refuses memfd_create(2): the compiled binary then copies its shim into a fresh 0700 directory there, loads it and removes it.",
  ],
];

export const FILES: [string, string][] = [
  ["/usr/local/bin/dhcptool", "The command, as scripts/setup.sh installs it: one self-contained binary with the shim inside."],
  [
    "/var/lib/dhcptool/IFACE.json",
    "The lease the resident client keeps for IFACE (request --daemon; --state-dir), mode 0600 in a 0700 directory, written atomically.",
  ],
  ["/run/dhcptool/IFACE.sock", "The resident client's control socket, mode 0600 (--run-dir); lease show, renew, rebind and release talk to it."],
  ["/run/dhcptool/lab/NAME/", "A lab's state and its servers' logs (sN/log)."],
  [
    "/etc/dhcptool.toml",
    "A conventional place for the --config file of the resident client (TOML, or JSON by extension): top-level settings and [interface.NAME] sections.",
  ],
  [
    "packaging/systemd/",
    "In the source tree: dhcptool-client@.service, dhcptool-probe@.service and dhcptool-watch@.service, systemd units for the resident modes on interface %i.",
  ],
];

export const EXAMPLES: [string, string][] = [
  ["dhcptool discover eth0", "Every DHCP server on eth0, as a table: server, MAC, offered address, mask, router, DNS, lease, latency."],
  ["dhcptool discover eth0 --first --json", "The quickest check that anyone answers, for a script."],
  ["dhcptool discover eth0 --allow-server 192.0.2.1 || echo rogue", "Exit status 5 when any other server answers."],
  ["dhcptool request eth0 --release", "A full DORA exchange, each step timed, the lease given back at once."],
  ["dhcptool request eth0 --daemon --apply", "A resident client that puts the lease on eth0 and keeps it."],
  ["dhcptool lease show eth0", "The resident client's lease: state, address, server, routes, renewal and expiry."],
  ["dhcptool watch eth0 --allow-server 192.0.2.1 --write dhcp.pcap", "Every DHCP packet on eth0, rogue alerts, a capture for Wireshark."],
  ["dhcptool lease decode capture.pcap", "Decode every DHCP message in a capture, no privileges needed."],
  ["dhcptool lab up && dhcptool lab exec -- dhcptool discover lab0 && dhcptool lab down", "Try it on a private network of namespaces with a real DHCP server."],
  ["source <(dhcptool completion bash)", "Tab completion in this shell."],
];

export const SECURITY = [
  "Commands that need a packet socket open it as root (or with CAP_NET_RAW) and then, before they read a reply, become --user (default dhcptool, a system account no other service runs as, so none of them may signal dhcptool's daemons; nobody where it does not exist: scripts/setup.sh creates it) with no supplementary groups, no_new_privs, nothing inheritable or ambient, and a bounding set of only what the mode keeps: nothing for one-shot commands and watch, CAP_NET_RAW for the prober (discover --daemon), CAP_NET_ADMIN for the resident client with --apply. The drop is checked against the kernel's own account in /proc/self/status for every thread; a mismatch stops the program.",
  "Without root: setcap cap_net_raw,cap_net_admin+ep on the compiled binary gives an ordinary user exactly these capabilities for dhcptool alone (never set them on a shared bun: every script it runs would get them). The error for a missing permission names the file to set them on.",
  "Hooks (--hook) are executed directly, never through a shell, with the lease in environment variables and as JSON on standard input, and an environment built from nothing else. Lease values are the server's bytes: quote them in a hook, never eval them.",
  "The compiled binary loads its embedded shim from a sealed memfd (no file on any disk) and reads no .env or bunfig.toml from the working directory.",
];

export const SEE_ALSO = ["ip(8)", "ip-netns(8)", "setcap(8)", "systemd.exec(5)", "dhclient(8)", "dnsmasq(8)", "tcpdump(8)"];
