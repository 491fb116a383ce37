// Where the resident client keeps things, shared by the daemon and `dhcptool lease` (which
// must not load the daemon to find them).

/** Leases, one JSON file per interface (survives a reboot: the client reboots into it). */
export const DEFAULT_STATE_DIR = "/var/lib/dhcptool";
/** Control sockets, IFACE.sock (gone with the daemon; /run is emptied at boot). */
export const DEFAULT_RUN_DIR = "/run/dhcptool";

/**
 * The kernel's own rule for an interface name (net/core/dev.c dev_valid_name): 1–15 bytes,
 * not "." or "..", no '/', ':' or whitespace. NUL is refused too. A name that passes cannot
 * leave `dir` or collide with a temp file (those start with '.' and end in ".tmp").
 */
export function interfaceNameProblem(iface: string): string | null {
  const bytes = new TextEncoder().encode(iface).length;
  if (bytes === 0) return "is empty";
  if (bytes > 15) return "is longer than 15 bytes";
  if (iface === "." || iface === "..") return "is . or ..";
  if (/[/:\0\s]/.test(iface)) return "contains '/', ':', NUL or whitespace";
  return null;
}
