// `dhcptool lease release|decline|inform IFACE`: the messages a client sends outside an
// exchange, as one-shots. release hands a lease back (through the interface's daemon when
// one runs, else from the stored lease or --address/--server); decline tells a server an
// address is in use (RFC 2131 3.1.5); inform asks for configuration for an address the host
// already has (RFC 2131 3.4: the ACK carries options but no lease).

import { defineCommand } from "citty";
import { networkInterfaces } from "node:os";
import { macToString, parseIp, parseMac } from "../../core/bytes.ts";
import { buildClientMessage, buildDecline, buildRelease, frameClientMessage, type ClientIdentity } from "../../core/client.ts";
import { escapeText } from "../../core/escape.ts";
import { BROADCAST_MAC, DHCP_CLIENT_PORT, parseUdpFrame } from "../../core/frame.ts";
import { viewMessage } from "../../core/inspect.ts";
import { BOOTREPLY, decodeMessage, messageType } from "../../core/message.ts";
import { DHCPACK, DHCPINFORM } from "../../core/options.ts";
import { parseNumber, outputArgs, rejectUnknownFlags } from "../args.ts";
import { callControl, controlPath, ControlError } from "../daemon/control.ts";
import { leasePath, loadLease, removeLease } from "../daemon/store.ts";
import { EXIT, UsageError, UserError } from "../errors.ts";
import { log, print } from "../log.ts";
import { printJson, renderPacket } from "../render.ts";
import { checkIface, dirArgs, dirs } from "./lease-daemon.ts";
import { accountFromArgs, dropAfterOpen, userArg, type Account } from "../privilege.ts";

type Parsed = Record<string, string | boolean | string[] | undefined>;

const common = {
  iface: { type: "positional", required: true, description: "Interface to send on", valueHint: "IFACE" },
  ...userArg,
  mac: { type: "string", description: "Client MAC (default: the stored lease's, else the interface's)", valueHint: "MAC" },
  "client-id": { type: "string", description: "Option 61 as hex, type byte first (default 01 + MAC)", valueHint: "HEX" },
} as const;

function ipArg(args: Parsed, name: string, required: string | null): string | undefined {
  const v = args[name];
  if (v === undefined) {
    if (required) throw new UsageError(required);
    return undefined;
  }
  if (typeof v !== "string" || parseIp(v) === null) throw new UsageError(`--${name} "${String(v)}" is not an IPv4 address`);
  return v;
}

async function identityFor(iface: string, args: Parsed, storedMac?: string): Promise<{ id: ClientIdentity; info: { mac: Uint8Array } }> {
  const { interfaceInfo } = await import("../../native/rawsocket.ts");
  const info = interfaceInfo(iface);
  let mac = info.mac;
  if (typeof args.mac === "string") {
    const m = parseMac(args.mac);
    if (!m) throw new UsageError(`--mac "${args.mac}" is not a MAC address`);
    mac = m;
  } else if (storedMac) mac = parseMac(storedMac) ?? mac;
  let clientId: Uint8Array | undefined;
  if (typeof args["client-id"] === "string") {
    const hex = args["client-id"].replace(/[:\s]/g, "");
    if (!/^([0-9a-fA-F]{2}){2,255}$/.test(hex)) throw new UsageError("--client-id takes 2 to 255 bytes of hex, type byte first");
    clientId = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  }
  return { id: { mac, hostname: null, clientId }, info: { mac } };
}

/** Sends one frame; `drop`: as --user from the moment the socket is open. */
async function sendOnce(iface: string, frame: Uint8Array, drop: { account: Account | null; what: string } | null): Promise<void> {
  const { RawSocket } = await import("../../native/rawsocket.ts");
  const socket = RawSocket.open(iface, { filter: "client", onFrame() {} });
  try {
    if (drop) await dropAfterOpen(drop.account, [], drop.what);
    socket.send(frame);
  } finally {
    socket.close();
  }
}

const random32 = () => crypto.getRandomValues(new Uint32Array(1))[0];

// ---------------------------------------------------------------- release

const releaseArgs = {
  ...common,
  address: { type: "string", description: "The leased address (default: from the stored lease)", valueHint: "IP" },
  server: { type: "string", description: "The server that gave it (default: from the stored lease)", valueHint: "IP" },
  "server-mac": { type: "string", description: "The server's MAC (default: from the stored lease, else broadcast)", valueHint: "MAC" },
  ...dirArgs,
  ...outputArgs,
} as const;

export const release = defineCommand({
  meta: { name: "release", description: "Give a lease back (DHCPRELEASE): through the interface's daemon, else from the stored lease or --address/--server" },
  args: releaseArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, releaseArgs);
    const a = args as Parsed;
    const iface = checkIface(a.iface, "release");
    const { stateDir, runDir } = dirs(a);
    const explicit = a.address !== undefined || a.server !== undefined;
    if (!explicit) {
      try {
        const r = await callControl(controlPath(runDir, iface), { cmd: "release" });
        if (a.json) printJson({ ...r, via: "daemon" });
        else print(`${iface}: ${r.ok ? String(r.result) : `the daemon refused: ${escapeText(r.error)}`} (by its daemon)\n`);
        return r.ok ? EXIT.ok : EXIT.error;
      } catch (err) {
        if (!(err instanceof ControlError)) throw err;
      }
    }
    const stored = explicit ? null : loadLease(stateDir, iface);
    if (stored && !stored.ok && stored.reason !== "missing") throw new UserError(`${leasePath(stateDir, iface)}: ${stored.reason}: ${stored.detail}`);
    const s = stored?.ok ? stored.stored : null;
    const address = ipArg(a, "address", s ? null : `no daemon runs on ${iface} and no lease is stored in ${stateDir}: say which with --address IP --server IP`) ?? s!.lease.address;
    const server = ipArg(a, "server", s ? null : "--server IP: which server gave the address?") ?? s!.lease.serverId;
    let serverMac: Uint8Array = BROADCAST_MAC;
    if (typeof a["server-mac"] === "string") serverMac = parseMac(a["server-mac"]) ?? (() => { throw new UsageError(`--server-mac "${a["server-mac"]}" is not a MAC address`); })();
    else if (s && s.lease.serverId === server) serverMac = parseMac(s.lease.serverMac) ?? BROADCAST_MAC;
    const { id } = await identityFor(iface, a, s?.mac);
    const xid = random32();
    // RFC 2131 4.4.6: unicast to the server, from the address being released.
    const payload = buildRelease(id, { xid, address, serverId: server });
    // Send only, nothing read from the wire: no need to drop privileges (--user root keeps
    // them all the same), and the stored lease can go once the RELEASE is out.
    await sendOnce(iface, frameClientMessage(id.mac, payload, { mac: serverMac, ip: server, srcIp: address }), null);
    if (s) removeLease(stateDir, iface);
    if (a.json) printJson({ ok: true, via: "oneshot", interface: iface, address, server, mac: macToString(id.mac), xid });
    else print(`released ${address} to ${escapeText(server)} on ${escapeText(iface)} (DHCPRELEASE sent; no answer is expected)\n`);
    return EXIT.ok;
  },
});

// ---------------------------------------------------------------- decline

const declineArgs = {
  ...common,
  address: { type: "string", required: true, description: "The address found in use", valueHint: "IP" },
  server: { type: "string", required: true, description: "The server that offered it", valueHint: "IP" },
  message: { type: "string", description: "Why (option 56, shown in the server's log)", valueHint: "TEXT" },
  ...outputArgs,
} as const;

export const decline = defineCommand({
  meta: { name: "decline", description: "Tell a server an address it gave is already in use (DHCPDECLINE, broadcast)" },
  args: declineArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, declineArgs);
    const a = args as Parsed;
    const iface = checkIface(a.iface, "decline");
    const address = ipArg(a, "address", "--address IP: which address is in use?")!;
    const server = ipArg(a, "server", "--server IP: which server offered it?")!;
    const message = typeof a.message === "string" ? a.message : undefined;
    if (message !== undefined && (message.length === 0 || message.length > 255)) throw new UsageError("--message takes 1 to 255 characters");
    const { id } = await identityFor(iface, a);
    const xid = random32();
    // RFC 2131 4.4.1: the client has no address: broadcast from 0.0.0.0.
    await sendOnce(iface, frameClientMessage(id.mac, buildDecline(id, { xid, address, serverId: server, message })), { account: accountFromArgs(a), what: "lease decline" });
    if (a.json) printJson({ ok: true, interface: iface, address, server, mac: macToString(id.mac), xid });
    else print(`declined ${address} (server ${escapeText(server)}) on ${escapeText(iface)}\n`);
    return EXIT.ok;
  },
});

// ---------------------------------------------------------------- inform

const informArgs = {
  ...common,
  address: { type: "string", description: "This host's address (default: the interface's first IPv4 address)", valueHint: "IP" },
  server: { type: "string", description: "Ask this server by unicast (default: broadcast)", valueHint: "IP" },
  timeout: { type: "string", description: "Resend after S seconds (default 2)", valueHint: "S" },
  tries: { type: "string", description: "Send at most N times (default 3)", valueHint: "N" },
  ...outputArgs,
} as const;

function interfaceAddress(iface: string): string | null {
  const list = networkInterfaces()[iface] ?? [];
  return list.find((x) => x.family === "IPv4")?.address ?? null;
}

export const inform = defineCommand({
  meta: { name: "inform", description: "Ask for configuration (DNS, routers, …) for an address this host already has (DHCPINFORM)" },
  args: informArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, informArgs);
    const a = args as Parsed;
    const iface = checkIface(a.iface, "inform");
    const address = ipArg(a, "address", null) ?? interfaceAddress(iface);
    if (!address) throw new UsageError(`${iface} has no IPv4 address: give the host's address with --address IP`);
    const server = ipArg(a, "server", null);
    const retryMs = parseNumber(a.timeout as string | undefined, "timeout", { min: 0.1, max: 3600, fallback: 2 }) * 1000;
    const tries = parseNumber(a.tries as string | undefined, "tries", { min: 1, max: 100, integer: true, fallback: 3 });
    const { id } = await identityFor(iface, a);
    const xid = random32();
    // RFC 2131 4.4.3: ciaddr = our address; no 50, 54 or 51; the ACK comes unicast to ciaddr.
    const payload = buildClientMessage(id, { messageType: DHCPINFORM, xid, ciaddr: address });
    const frame = frameClientMessage(id.mac, payload, { mac: BROADCAST_MAC, ip: server ?? "255.255.255.255", srcIp: address });
    const { RawSocket } = await import("../../native/rawsocket.ts");
    const account = accountFromArgs(a);
    let answer: { payload: Uint8Array; from: string } | null = null;
    let wake!: () => void;
    const got = new Promise<void>((r) => { wake = r; });
    let dropped = 0;
    const socket = RawSocket.open(iface, {
      filter: "client",
      onFrame(f) {
        if (f.outgoing || answer) return;
        const p = parseUdpFrame(f.bytes, { csum: f.csum, dstPort: DHCP_CLIENT_PORT, ourMac: id.mac });
        if (!p.ok) { dropped++; return; }
        const d = decodeMessage(p.frame.payload);
        if (!d.ok || d.message.op !== BOOTREPLY || d.message.xid !== xid || messageType(d.message) !== DHCPACK) { dropped++; return; }
        answer = { payload: p.frame.payload, from: p.frame.srcIp };
        wake();
      },
    });
    const t0 = performance.now();
    try {
      await dropAfterOpen(account, [], "lease inform"); // the ACK is parsed as nobody
      for (let i = 0; i < tries && !answer; i++) {
        socket.send(frame);
        await Promise.race([got, Bun.sleep(retryMs)]);
      }
    } finally {
      socket.close();
    }
    const ms = Math.round((performance.now() - t0) * 10) / 10;
    const ack = answer as { payload: Uint8Array; from: string } | null;
    if (!ack) {
      if (a.json) printJson({ ok: false, interface: iface, address, answer: null, dropped });
      log.warn(`no DHCPACK to ${tries} DHCPINFORM(s) for ${address} on ${escapeText(iface)}`);
      return EXIT.noAnswer;
    }
    const view = viewMessage(ack.payload, false);
    if (!view.ok) throw new UserError(`the ACK does not decode: ${view.error}`); // cannot happen: it decoded above
    if (a.json) printJson({ ok: true, interface: iface, address, from: ack.from, ms, message: view.message });
    else {
      print(`DHCPACK from ${escapeText(ack.from)} in ${ms} ms for ${address} on ${escapeText(iface)}\n`);
      print(renderPacket({ index: 0, message: view.message }, "message"));
    }
    return EXIT.ok;
  },
});
