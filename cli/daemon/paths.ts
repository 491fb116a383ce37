// Where the resident client keeps things, shared by the daemon and `dhcptool lease` (which
// must not load the daemon to find them).

/** Leases, one JSON file per interface (survives a reboot: the client reboots into it). */
export const DEFAULT_STATE_DIR = "/var/lib/dhcptool";
/** Control sockets, IFACE.sock (gone with the daemon; /run is emptied at boot). */
export const DEFAULT_RUN_DIR = "/run/dhcptool";
