// Who the client says it is on the wire: which MAC (the interface's, one given, a random one),
// the randomness for xids, jitter and that random MAC (core takes random() from outside), and
// the options every exchange (discover, request) is given.

import type { ClientIdentity } from "../../core/client.ts";
import type { OptionBytes } from "../../core/message.ts";
import type { UnicastChoice } from "./unicast.ts";

/** --mac: the interface's own (default), one given, or a random one drawn when the command runs. */
export type MacChoice = Uint8Array | "interface" | "random";

/** Uniform in [0, 1), from the system's cryptographic source. */
export function cryptoRandom(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] / 0x100000000;
}

export function randomU32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** A random unicast, locally administered MAC (02:…): never a real vendor's, never multicast. */
export function randomMac(): Uint8Array {
  const mac = crypto.getRandomValues(new Uint8Array(6));
  mac[0] = (mac[0] & 0xfe) | 0x02;
  return mac;
}

export function resolveMac(choice: MacChoice, interfaceMac: Uint8Array): Uint8Array {
  return choice === "interface" ? interfaceMac : choice === "random" ? randomMac() : choice;
}

/** What every client exchange (discover, request) is told: who it is and how it reaches servers. */
export interface ClientOptions extends UnicastChoice {
  iface: string;
  mac: MacChoice;
  identity: Omit<ClientIdentity, "mac">;
  broadcastFlag: boolean;
  /** Options from --option, in the order given. */
  extra: OptionBytes[];
  /** Retransmit after this long (ms)… */
  retryMs: number;
  /** …sending each message at most this many times. */
  tries: number;
  /** Runs once the packet socket is open, before anything is sent or read (the privilege drop). */
  afterOpen?: () => Promise<void>;
  /** --vlan: the exchange runs on this VLAN of a trunk (frames tagged with it, replies only from it); absent: the link's own. */
  vlan?: number;
}
