#!/usr/bin/env bun
// dhcptool: DHCPv4 diagnostics for Linux. The root only routes to a subcommand, loaded
// lazily so each path imports just what it needs (start-up is most of a discover's time).

import { escapeText } from "../core/escape.ts";
import { EXIT, UserError } from "./errors.ts";
import type { CommandDef } from "citty";
import { runCommand } from "./command-line.ts";
import { flushLog, flushOutput, log, print, setLogLevel, setMachineOutput } from "./log.ts";
import { EXIT_PIPE, stdout } from "./output.ts";
import { helpWidth } from "./term.ts";
import { version as VERSION } from "../package.json" with { type: "json" };

// completion and man describe this very table (cli/ship/definitions.ts), themselves included.
// biome-ignore lint/suspicious/noExplicitAny: each command keeps its own args type, as in citty's SubCommandsDef
const commands: Record<string, () => Promise<CommandDef<any>>> = {
  discover: () => import("./commands/discover.ts").then((m) => m.default),
  lab: () => import("./commands/lab.ts").then((m) => m.default),
  lease: () => import("./commands/lease.ts").then((m) => m.default),
  request: () => import("./commands/request.ts").then((m) => m.default),
  watch: () => import("./commands/watch.ts").then((m) => m.default),
  completion: () => import("./ship/completion.ts").then((m) => m.completionCommand(commands)),
  man: () => import("./ship/man.ts").then((m) => m.manCommand(commands, examples)),
};

const examples: Record<string, () => Promise<string>> = {
  discover: () => import("./commands/discover.ts").then((m) => m.discoverExamples),
  lab: () => import("./commands/lab.ts").then((m) => m.labExamples),
  lease: () => import("./commands/lease.ts").then((m) => m.leaseExamples),
  request: () => import("./commands/request.ts").then((m) => m.requestExamples),
  watch: () => import("./commands/watch.ts").then((m) => m.watchExamples),
  completion: () => import("./ship/completion.ts").then((m) => m.completionExamples),
  man: () => import("./ship/man.ts").then((m) => m.manExamples),
};

const ROOT_HELP = `dhcptool ${VERSION}: DHCPv4 diagnostics for Linux

Usage: dhcptool COMMAND [options]
       dhcptool help COMMAND

Commands:
  discover IFACE      find the DHCP servers on a link: who answers, what they offer, how fast
  request IFACE       take a lease (DORA, or INIT-REBOOT with --address) and show each step's time; with --daemon keep it: a resident client
  watch IFACE         every DHCP packet on a link, exchanges and latencies, rogue alerts, pcap
  lease COMMAND       show, renew, rebind, release a lease; decline, inform; decode a DHCP message or capture (no privileges)
  lab ACTION          a private test network with real DHCP servers (network namespaces)
  completion SHELL    a bash, zsh or fish completion script
  man                 this manual, dhcptool(1), as roff

Options of discover, request, watch, lease and lab:
  --json              results as JSON on stdout
  -v, --verbose       more detail
  -q, --quiet         errors only
  -h, --help          the command's help: dhcptool discover --help

dhcptool --version prints the version, Bun's, and where the native shim comes from.

Examples:
  dhcptool discover eth0
  dhcptool discover eth0 --json --allow-server 192.0.2.1
  dhcptool request eth0 --release
  dhcptool lease show eth0
  dhcptool watch eth0 --daemon --metrics 9267    Prometheus scrapes 127.0.0.1:9267/metrics
  dhcptool lab up && dhcptool lab exec -- dhcptool discover lab0
  dhcptool lab down

Exit status: 0 ok, 1 error, 2 usage, 3 no answer, 4 NAK, 5 rogue server seen, 130 interrupted (Ctrl-C), 141 the reader of the output went away.
`;

/** --json or --format json|env: output for a program, no human renderers loaded (start-up time). */
function machineOutput(args: string[]): boolean {
  return args.some((a, i) => a === "--json" || /^--format=(json|env)$/.test(a) || (a === "--format" && /^(json|env)$/.test(args[i + 1] ?? "")));
}

async function main(argvIn: string[]): Promise<number> {
  let argv = argvIn;
  // No SIGINT/SIGTERM handler here (installing one costs start-up): a command that has
  // nothing to say when interrupted is ended by the signal itself, which its shell reports as
  // 130 or 143; discover, the exchanges and the daemons handle theirs.
  // Flags after "--" belong to another command (lab exec -- dhcptool …).
  const own = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
  const verbose = own.includes("--verbose") || own.includes("-v");
  setLogLevel(own.includes("--quiet") || own.includes("-q") ? 0 : verbose ? 2 : 1);
  if (machineOutput(own)) setMachineOutput();
  // `dhcptool help discover` is `dhcptool discover --help`
  if (argv[0] === "help" && argv.length > 1) argv = [...argv.slice(1), "--help"];
  const name = argv[0];
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const { wrapText } = await import("./help.ts");
    print(wrapText(ROOT_HELP, helpWidth()) + "\n");
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-V") {
    const { printVersion } = await import("./ship/version.ts");
    return printVersion(VERSION, argv.includes("--json"));
  }
  if (!Object.hasOwn(commands, name)) {
    log.error(`unknown command "${escapeText(name)}": dhcptool --help lists them`);
    return EXIT.usage;
  }
  const cmd = await commands[name]();
  const rest = argv.slice(1);
  // Subcommands (lease decode, …) are resolved here: citty would return the parent's result.
  const subs = cmd.subCommands as Record<string, () => Promise<CommandDef>> | undefined;
  const subName = subs && rest[0] !== undefined && Object.hasOwn(subs, rest[0]) ? rest[0] : null;
  const target = subs && subName ? await subs[subName]() : cmd;
  const title = subName ? `${name} ${subName}` : name;
  const args = subName ? rest.slice(1) : rest;
  const before = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (before.includes("--help") || before.includes("-h")) {
    print(await helpPage(name, cmd, subName, target));
    return EXIT.ok;
  }
  if (subs && !subName) {
    const list = Object.keys(subs).join("|");
    log.error(
      rest[0] === undefined || rest[0].startsWith("-")
        ? `missing COMMAND: dhcptool ${name} ${list} …`
        : `unknown command "${name} ${escapeText(rest[0])}": dhcptool ${name} ${list}`,
    );
    return EXIT.usage;
  }
  try {
    const result = await runCommand(title, target, args);
    return typeof result === "number" ? result : EXIT.ok;
  } catch (err) {
    return report(err, verbose);
  }
}

/**
 * A command's help page. A command made of subcommands (lease) has one page: the
 * subcommands and the examples, once; a subcommand's page has its options and its examples.
 */
async function helpPage(name: string, cmd: CommandDef, subName: string | null, target: CommandDef): Promise<string> {
  const { renderHelp } = await import("./help.ts");
  const text = await examples[name]();
  const meta = (c: CommandDef) => (c.meta ?? {}) as { description?: string };
  const subs = cmd.subCommands as Record<string, () => Promise<CommandDef>> | undefined;
  if (subs && !subName) {
    const list: [string, string][] = [];
    for (const [n, load] of Object.entries(subs)) list.push([n, meta(await load()).description ?? ""]);
    return renderHelp({ command: name, description: meta(cmd).description ?? "", args: {}, subcommands: list, text }, helpWidth());
  }
  // A subcommand: the examples that use it, without the rest of the parent's page.
  const own = subName
    ? `\nExamples:\n${text
        .split("\n")
        .filter((l) => l.includes(`${name} ${subName}`))
        .join("\n")}`
    : text;
  return renderHelp(
    {
      command: subName ? `${name} ${subName}` : name,
      description: meta(target).description ?? "",
      args: (target.args ?? {}) as Record<string, object>,
      text: own,
    },
    helpWidth(),
  );
}

function report(err: unknown, verbose: boolean): number {
  if (err instanceof UserError) {
    log.error(err.message);
    return err.exitCode;
  }
  // Native errors carry their own advice (no such interface, no permission, ...).
  if (err instanceof Error && (err as { code?: unknown }).code !== undefined && err.name === "NativeError") {
    log.error(err.message);
    return EXIT.error;
  }
  log.error(err instanceof Error ? (verbose ? String(err.stack) : err.message) : String(err));
  return EXIT.error;
}

/** How long a stopping daemon gives a stalled reader to take its last lines. */
const LAST_LINES_MS = 2000;

let code = await main(process.argv.slice(2));
await flushLog();
// Let a large result drain into a slow pipe before exiting (a one-shot waits for its reader
// as cat does; a daemon's output gives up after LAST_LINES_MS).
await flushOutput(LAST_LINES_MS);
if (stdout.closed) code = EXIT_PIPE;
// Exit now: a receive thread or a forgotten handle must not keep a one-shot command alive.
process.exit(code);
