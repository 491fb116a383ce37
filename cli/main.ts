#!/usr/bin/env bun
// dhcptool: DHCPv4 diagnostics for Linux. The root only routes to a subcommand, loaded
// lazily so each path imports just what it needs (start-up is most of a discover's time).

import { EXIT, signalExit, UserError } from "./errors.ts";
import type { CommandDef } from "citty";
import { flushOutput, log, print, setLogLevel, setMachineOutput } from "./log.ts";
import { EXIT_PIPE, stdout } from "./output.ts";

export const VERSION = "0.1.0";

const commands = {
  discover: () => import("./commands/discover.ts").then((m) => m.default),
  lab: () => import("./commands/lab.ts").then((m) => m.default),
  lease: () => import("./commands/lease.ts").then((m) => m.default),
  request: () => import("./commands/request.ts").then((m) => m.default),
  watch: () => import("./commands/watch.ts").then((m) => m.default),
} as const;

const examples: Record<string, () => Promise<string>> = {
  discover: () => import("./commands/discover.ts").then((m) => m.discoverExamples),
  lab: () => import("./commands/lab.ts").then((m) => m.labExamples),
  lease: () => import("./commands/lease.ts").then((m) => m.leaseExamples),
  request: () => import("./commands/request.ts").then((m) => m.requestExamples),
  watch: () => import("./commands/watch.ts").then((m) => m.watchExamples),
};

const ROOT_HELP = `dhcptool ${VERSION}: DHCPv4 diagnostics for Linux

Usage: dhcptool <command> [options]

Commands:
  discover IFACE     find the DHCP servers on a link: who answers, what they offer, how fast
  request IFACE      take a lease (DORA, or INIT-REBOOT with --address), show it and each step's time;
                     with --daemon keep it: a resident client (--apply, --hook, control socket)
  watch IFACE        every DHCP packet on a link, exchanges and latencies, rogue alerts, pcap
  lease show|renew|rebind|release IFACE   the daemon's lease; decline, inform one-shots
  lease decode FILE  decode a DHCP message, frame or pcap/pcapng capture (no privileges)
  lab up|down|status a private test network with real DHCP servers (network namespaces)

Global options:
  --json             results as JSON on stdout
  -v, --verbose      more detail;  -q, --quiet  errors only
  -h, --help         help for a command (dhcptool discover --help)
  --version          print the version

Examples:
  dhcptool discover eth0
  dhcptool discover eth0 --json --allow-server 192.0.2.1
  dhcptool request eth0 --release
  dhcptool request eth0 --daemon --apply && dhcptool lease show eth0
  dhcptool lab up && ip netns exec dtlab-c dhcptool discover lab0 && dhcptool lab down

Exit status: 0 ok, 1 error, 2 usage, 3 no answer, 4 NAK, 5 rogue server seen.
`;

/**
 * SIGINT and SIGTERM where no command listens for them (a daemon stops cleanly, discover
 * ends its window, an exchange says where it stopped): end now, as the shell would report a
 * process the signal killed. The next Ctrl-C after a command's own handling lands here too.
 */
function onSignal(signal: "SIGINT" | "SIGTERM"): void {
  if (process.listenerCount(signal) > 1) return;
  log.info(`interrupted (${signal})`);
  process.exit(signalExit(signal));
}

/** --json or --format json|env: output for a program, no human renderers loaded (start-up time). */
function machineOutput(args: string[]): boolean {
  return args.some((a, i) => a === "--json" || /^--format=(json|env)$/.test(a) || (a === "--format" && /^(json|env)$/.test(args[i + 1] ?? "")));
}

async function main(argv: string[]): Promise<number> {
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Flags after "--" belong to another command (lab exec -- dhcptool …).
  const own = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
  const verbose = own.includes("--verbose") || own.includes("-v");
  setLogLevel(own.includes("--quiet") || own.includes("-q") ? 0 : verbose ? 2 : 1);
  if (machineOutput(own)) setMachineOutput();
  const name = argv[0];
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    print(ROOT_HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-V") {
    print(VERSION + "\n");
    return EXIT.ok;
  }
  const load = commands[name as keyof typeof commands];
  if (!load) {
    log.error(`unknown command "${name}" (dhcptool --help lists them)`);
    return EXIT.usage;
  }
  const cmd = (await load()) as CommandDef;
  const rest = argv.slice(1);
  if (rest.includes("--help") || rest.includes("-h")) {
    const { renderHelp } = await import("./help.ts");
    // `lease decode --help`: the subcommand's own arguments
    const subs = cmd.subCommands as Record<string, () => Promise<CommandDef>> | undefined;
    const sub = subs && rest[0] && subs[rest[0]] ? await subs[rest[0]]() : null;
    const target = sub ?? cmd;
    const meta = target.meta as { description?: string };
    const title = sub ? `${name} ${rest[0]}` : name;
    const subList = !sub && subs ? `Subcommands: ${Object.keys(subs).join(", ")}\n` : "";
    print(renderHelp(title, meta.description ?? "", (target.args ?? {}) as Record<string, object>, subList + await examples[name]()));
    return EXIT.ok;
  }
  const citty = await import("citty");
  // Subcommands (lease decode, …) are resolved here: citty returns the parent's result.
  let target = cmd, args = rest;
  const subs = cmd.subCommands as Record<string, () => Promise<CommandDef>> | undefined;
  if (subs) {
    const sub = rest[0];
    if (sub === undefined || !Object.hasOwn(subs, sub)) {
      log.error(sub === undefined ? `${name}: which one? ${Object.keys(subs).join(", ")}` : `unknown command "${name} ${sub}" (try: ${Object.keys(subs).join(", ")})`);
      return EXIT.usage;
    }
    target = await subs[sub]();
    args = rest.slice(1);
  }
  try {
    const { result } = await citty.runCommand(target, { rawArgs: args });
    return typeof result === "number" ? result : EXIT.ok;
  } catch (err) {
    return report(err, verbose);
  }
}

function report(err: unknown, verbose: boolean): number {
  if (err instanceof UserError) {
    log.error(err.message);
    if (err.exitCode === EXIT.usage) log.info("(see --help)");
    return err.exitCode;
  }
  // Native errors carry their own advice (no such interface, no permission, ...).
  if (err instanceof Error && (err as { code?: unknown }).code !== undefined && err.name === "NativeError") {
    log.error(err.message);
    return EXIT.error;
  }
  if (err instanceof Error && err.name === "CLIError") { // citty: missing positional etc.
    log.error(err.message);
    return EXIT.usage;
  }
  log.error(err instanceof Error ? (verbose ? String(err.stack) : err.message) : String(err));
  return EXIT.error;
}

/** How long a stopping daemon gives a stalled reader to take its last lines. */
const LAST_LINES_MS = 2000;

let code = await main(process.argv.slice(2));
// Let a large result drain into a slow pipe before exiting (a one-shot waits for its reader
// as cat does; a daemon's output gives up after LAST_LINES_MS).
await flushOutput(LAST_LINES_MS);
if (stdout.closed) code = EXIT_PIPE;
// Exit now: a receive thread or a forgotten handle must not keep a one-shot command alive.
process.exit(code);
