/**
 * Interface facts over the native shim (dt_ifinfo, native/link.c): an interface's index, MAC,
 * flags, MTU, link type and carrier, and the kernel's rules for its name. RawSocket
 * (native/rawsocket.ts, which re-exports interfaceInfo) checks an interface with these before
 * it opens a socket on it.
 */
import { codeFor, EINVAL, ENAMETOOLONG, ENODEV, ENXIO, errnoText, native, NativeError } from "./shim.ts";

export interface InterfaceInfo {
  name: string;
  index: number;
  mac: Uint8Array;
  flags: number;
  up: boolean;
  running: boolean;
  mtu: number;
  /** null when unknown: the interface is administratively down. */
  carrier: boolean | null;
  /** The ifindex of the bridge or bond this interface is a port of; 0 for none. */
  master: number;
}

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFINFO_LEN = 28;
const IFNAMSIZ = 16;

export const show = (name: string) => JSON.stringify(name);

export const noSuchInterface = (name: string, errno = ENODEV) => new NativeError("ENODEV", `interface ${show(name)} does not exist`, errno);

/** NUL-terminated bytes of an interface name, after the kernel's own rules. */
export function interfaceNameBytes(name: string): Uint8Array {
  if (typeof name !== "string" || name.length === 0) {
    throw new NativeError("EINVAL", "interface name is empty", EINVAL);
  }
  const bytes = new TextEncoder().encode(name);
  if (bytes.length >= IFNAMSIZ) {
    throw new NativeError("EINVAL", `interface name ${show(name)} is too long: ${bytes.length} bytes, Linux allows at most ${IFNAMSIZ - 1}`, ENAMETOOLONG);
  }
  if (name === "." || name === ".." || bytes.some((b) => b <= 0x20 || b === 0x2f || b === 0x3a)) {
    throw new NativeError("EINVAL", `interface name ${show(name)} is not valid: no spaces, control characters, "/" or ":"`, EINVAL);
  }
  const cName = new Uint8Array(bytes.length + 1);
  cName.set(bytes);
  return cName;
}

export interface LinkFacts {
  info: InterfaceInfo;
  hardwareType: number;
}

export function readLink(name: string): LinkFacts {
  const cName = interfaceNameBytes(name);
  const out = new Uint8Array(IFINFO_LEN);
  const rc = native().dt_ifinfo(cName, out, out.length);
  if (rc < 0) {
    const errno = -rc;
    if (errno === ENODEV || errno === ENXIO) throw noSuchInterface(name, errno);
    throw new NativeError(codeFor(errno), `cannot read interface ${show(name)}: ${errnoText(errno)}`, errno);
  }
  return linkFacts(name, out);
}

/** Room for what dt_ifinfo and dt_open say about a link. */
export const linkFactsBuffer = (): Uint8Array => new Uint8Array(IFINFO_LEN);

/** The facts in dt_ifinfo's layout (documented at dt_ifinfo in link.c). */
export function linkFacts(name: string, out: Uint8Array): LinkFacts {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const flags = view.getUint32(12, true);
  const carrier = view.getInt32(20, true);
  return {
    info: {
      name,
      index: view.getUint32(0, true),
      mac: out.slice(4, 10),
      flags,
      up: (flags & IFF_UP) !== 0,
      running: (flags & IFF_RUNNING) !== 0,
      mtu: view.getUint32(16, true),
      carrier: carrier < 0 ? null : carrier === 1,
      master: view.getUint32(24, true),
    },
    hardwareType: view.getUint16(10, true),
  };
}

/** Index, MAC, flags, MTU and carrier of an interface in this network namespace. */
export function interfaceInfo(name: string): InterfaceInfo {
  return readLink(name).info;
}
