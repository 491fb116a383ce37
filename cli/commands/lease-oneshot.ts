// `dhcptool lease release|decline|inform IFACE`: the messages a client sends outside an
// exchange, as one-shots. release hands a lease back (through the interface's daemon when
// one runs, else from the stored lease or --address/--server); decline tells a server an
// address is in use (RFC 2131 3.1.5); inform asks for configuration for an address the host
// already has (RFC 2131 3.4: the ACK carries options but no lease). Flags → cli/client/oneshot.ts → render.

import { existsSync } from "node:fs";
import type { ParsedArgs } from "citty";
import { defineCommand } from "../command-line.ts";
import { macToString, parseMac } from "../../core/bytes.ts";
import type { ClientIdentity } from "../../core/client.ts";
import { escapeText } from "../../core/escape.ts";
import { BROADCAST_MAC } from "../../core/frame.ts";
import { viewMessage } from "../../core/inspect.ts";
import {
  clientIdArg,
  clientIdFromArgs,
  dirArgs,
  dirsFromArgs,
  hostFromArgs,
  ifaceFromArgs,
  ipFromArgs,
  macArg,
  macFromArgs,
  outputArgs,
  rejectUnknownFlags,
  retryArgs,
  retryFromArgs,
  serverMacFromArgs,
  unicastArgs,
} from "../args.ts";
import { randomU32 } from "../client/identity.ts";
import { nextHop } from "../client/next-hop.ts";
import { interfaceMac, runInform, sendDecline, sendRelease, type InformResult } from "../client/oneshot.ts";
import { callControl, controlPath, ControlError } from "../daemon/control.ts";
import { leasePath, loadLease, removeLease } from "../daemon/store.ts";
import { EXIT, signalExit, UsageError, UserError } from "../errors.ts";
import { StepStatus } from "../live.ts";
import { log, logLevel, print, printJson } from "../log.ts";
import { renderPacket } from "../render.ts";
import { accountFromArgs, dropAfterOpen, userArg } from "../privilege.ts";

const common = {
  iface: { type: "positional", required: true, description: "Interface to send on", valueHint: "IFACE" },
  ...userArg,
  mac: { ...macArg.mac, description: "Client MAC (default: the stored lease's, else the interface's)" },
  "client-id": { ...clientIdArg["client-id"], description: "Option 61 as hex, type byte first (default 01 + MAC)" },
} as const;

/** --mac, else the stored lease's MAC, else the interface's; --client-id. No host name: these are not exchanges. */
async function identityFor(iface: string, args: ParsedArgs<typeof common>, storedMac?: string): Promise<ClientIdentity> {
  let mac = await interfaceMac(iface);
  const given = macFromArgs(args, { random: false });
  if (given instanceof Uint8Array) mac = given;
  else if (storedMac) mac = parseMac(storedMac) ?? mac;
  return { mac, hostname: null, clientId: clientIdFromArgs(args) };
}

/**
 * On a terminal, what a one-shot waits for (the daemon's answer, ARP for the router to the
 * server, the ACK to an INFORM), erased before the result; nothing on a pipe or with --json.
 */
function waitStatus(args: { json?: boolean }): StepStatus | null {
  return StepStatus.forTerminal(args.json !== true && logLevel() >= 1);
}

/** nextHop(), its wait for ARP said on the status line. */
function nextHopShown(status: StepStatus | null, iface: string, server: string) {
  return nextHop(iface, server, (gateway) => status?.step(`waiting for ${gateway}, the router to ${server}, to answer ARP`));
}

/** A flag that must be given: its value, or a usage error saying what it is for. */
function required<T>(value: T | null, why: string): T {
  if (value === null) throw new UsageError(why);
  return value;
}

// ---------------------------------------------------------------- release

const releaseArgs = {
  ...common,
  address: { type: "string", description: "The leased address (default: from the stored lease)", valueHint: "IP" },
  server: { ...unicastArgs.server, description: "The server that gave it (default: from the stored lease)" },
  "server-mac": {
    ...unicastArgs["server-mac"],
    description: "The Ethernet destination (default: the stored lease's server MAC, else the router's when the server is routed, else broadcast)",
  },
  ...dirArgs,
  ...outputArgs,
} as const;

export const release = defineCommand({
  meta: { name: "release", description: "Give a lease back (DHCPRELEASE): through the interface's daemon, else from the stored lease or --address/--server" },
  args: releaseArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, releaseArgs);
    const iface = ifaceFromArgs(args.iface, "dhcptool lease release eth0");
    const { stateDir, runDir } = dirsFromArgs(args);
    const explicit = args.address !== undefined || args.server !== undefined;
    const status = waitStatus(args);
    if (!explicit) {
      try {
        const path = controlPath(runDir, iface);
        if (existsSync(path)) status?.step(`asking the daemon on ${escapeText(iface)} to release its lease`);
        const r = await callControl(path, { cmd: "release" }).finally(() => status?.stop());
        if (args.json) printJson({ ...r, via: "daemon" });
        else print(`${iface}: ${r.ok ? String(r.result) : `the daemon refused: ${escapeText(r.error)}`} (by its daemon)\n`);
        return r.ok ? EXIT.ok : EXIT.error;
      } catch (err) {
        if (!(err instanceof ControlError)) throw err;
      }
    }
    const stored = explicit ? null : loadLease(stateDir, iface);
    if (stored && !stored.ok && stored.reason !== "missing") throw new UserError(`${leasePath(stateDir, iface)}: ${stored.reason}: ${stored.detail}`);
    const s = stored?.ok ? stored.stored : null;
    const address =
      ipFromArgs(args.address, "address") ??
      required(s?.lease.address ?? null, `no daemon runs on ${iface} and no lease is stored in ${stateDir}: say which with --address IP --server IP`);
    const server = hostFromArgs(args.server, "server") ?? required(s?.lease.serverId ?? null, "--server IP: which server gave the address?");
    const serverMac =
      serverMacFromArgs(args) ??
      (s && s.lease.serverId === server ? parseMac(s.lease.serverMac) : null) ??
      (await nextHopShown(status, iface, server).finally(() => status?.stop())).mac ??
      BROADCAST_MAC;
    const id = await identityFor(iface, args, s?.mac);
    const xid = randomU32();
    // Send only, nothing read from the wire: no need to drop privileges (--user root keeps
    // them all the same), and the stored lease can go once the RELEASE is out.
    await sendRelease(iface, id, { xid, address, server, serverMac });
    // What --apply put on the interface comes off too, as the stored lease records it.
    const { unapplyStored } = await import("../daemon/unapply.ts");
    const off = s && s.lease.address === address ? await unapplyStored(s, stateDir, runDir) : null;
    if (s) removeLease(stateDir, iface);
    const interfaceNote =
      off === null || !off.applied
        ? "the interface was not touched: the stored lease was not applied (--apply)"
        : !off.found
          ? `${address} was no longer on ${escapeText(iface)}: nothing taken off`
          : off.failed.length
            ? `taking it off ${escapeText(iface)} failed in part: ${off.failed.map(escapeText).join("; ")}`
            : `taken off ${escapeText(iface)}: ${off.done.join(", ")}`;
    if (args.json) printJson({ ok: true, via: "oneshot", interface: iface, address, server, mac: macToString(id.mac), xid, unapplied: off });
    else print(`released ${address} to ${escapeText(server)} on ${escapeText(iface)} (DHCPRELEASE sent; no answer is expected); ${interfaceNote}\n`);
    return off?.failed.length ? EXIT.error : EXIT.ok;
  },
});

// ---------------------------------------------------------------- decline

const declineArgs = {
  ...common,
  address: { type: "string", required: true, description: "The address found in use", valueHint: "IP" },
  server: { ...unicastArgs.server, required: true, description: "The server that offered it" },
  "server-mac": { ...unicastArgs["server-mac"], description: "Send to the server's MAC and address (default: broadcast, RFC 2131 4.4.4; relays forward it)" },
  message: { type: "string", description: "Why (option 56, shown in the server's log)", valueHint: "TEXT" },
  ...outputArgs,
} as const;

export const decline = defineCommand({
  meta: { name: "decline", description: "Tell a server an address it gave is already in use (DHCPDECLINE, broadcast)" },
  args: declineArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, declineArgs);
    const iface = ifaceFromArgs(args.iface, "dhcptool lease decline eth0");
    const address = required(ipFromArgs(args.address, "address"), "--address IP: which address is in use?");
    const server = required(hostFromArgs(args.server, "server"), "--server IP: which server offered it?");
    const message = typeof args.message === "string" ? args.message : undefined;
    if (message !== undefined && (message.length === 0 || message.length > 255)) throw new UsageError("--message takes 1 to 255 characters");
    const id = await identityFor(iface, args);
    const xid = randomU32();
    const account = accountFromArgs(args);
    const serverMac = serverMacFromArgs(args);
    await sendDecline(iface, id, { xid, address, server, message, serverMac }, () => dropAfterOpen(account, [], "lease decline"));
    if (args.json) printJson({ ok: true, interface: iface, address, server, mac: macToString(id.mac), xid });
    else print(`declined ${address} (server ${escapeText(server)}) on ${escapeText(iface)}\n`);
    return EXIT.ok;
  },
});

// ---------------------------------------------------------------- inform

const informArgs = {
  ...common,
  address: { type: "string", description: "This host's address (default: the interface's first IPv4 address)", valueHint: "IP" },
  server: { ...unicastArgs.server, description: "Ask this server by unicast (default: broadcast)" },
  "server-mac": {
    ...unicastArgs["server-mac"],
    description: "With --server: the Ethernet destination (default: the router's MAC when the server is routed, else broadcast)",
  },
  timeout: { ...retryArgs.timeout, description: "Resend after S seconds (default 2)" },
  tries: { ...retryArgs.tries, description: "Send at most N times (default 3)" },
  ...outputArgs,
} as const;

export const inform = defineCommand({
  meta: { name: "inform", description: "Ask for configuration (DNS, routers, …) for an address this host already has (DHCPINFORM)" },
  args: informArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, informArgs);
    const iface = ifaceFromArgs(args.iface, "dhcptool lease inform eth0");
    const { interfaceAddresses } = await import("../client/unicast.ts");
    const address = ipFromArgs(args.address, "address") ?? interfaceAddresses(iface)[0]?.address ?? null;
    if (!address) throw new UsageError(`${iface} has no IPv4 address: give the host's address with --address IP`);
    const server = hostFromArgs(args.server, "server");
    const given = serverMacFromArgs(args);
    if (given && server === null) throw new UsageError("--server-mac goes with --server IP (the server it belongs to)");
    const { retryMs, tries } = retryFromArgs(args);
    const account = accountFromArgs(args);
    const status = waitStatus(args);
    let r: InformResult;
    try {
      const serverMac = given ?? (server !== null ? (await nextHopShown(status, iface, server)).mac : null) ?? BROADCAST_MAC;
      const id = await identityFor(iface, args);
      r = await runInform({
        iface,
        id,
        xid: randomU32(),
        address,
        server,
        serverMac,
        retryMs,
        tries,
        afterOpen: () => dropAfterOpen(account, [], "lease inform"),
        onSent: (n) => status?.step(`DHCPINFORM ${n} of ${tries} sent for ${address}, waiting for the DHCPACK`),
      });
    } finally {
      status?.stop();
    }
    if (!r.ack) {
      if (args.json) printJson({ ok: false, interface: iface, address, answer: null, dropped: r.dropped, interrupted: r.interrupted });
      if (r.interrupted) {
        log.warn(`interrupted after ${(r.ms / 1000).toFixed(1)} s waiting for a DHCPACK (${r.sent} DHCPINFORM(s) sent for ${address} on ${escapeText(iface)})`);
        return signalExit(r.interrupted);
      }
      log.warn(`no DHCPACK to ${tries} DHCPINFORM(s) for ${address} on ${escapeText(iface)}`);
      return EXIT.noAnswer;
    }
    const view = viewMessage(r.ack.payload, false);
    if (!view.ok) throw new UserError(`the ACK does not decode: ${view.error}`); // cannot happen: it decoded before
    if (args.json) printJson({ ok: true, interface: iface, address, from: r.ack.from, ms: r.ms, message: view.message });
    else {
      print(`DHCPACK from ${escapeText(r.ack.from)} in ${r.ms} ms for ${address} on ${escapeText(iface)}\n`);
      print(renderPacket({ index: 0, message: view.message }, "message"));
    }
    return EXIT.ok;
  },
});
