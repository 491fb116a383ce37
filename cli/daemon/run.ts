// `dhcptool request IFACE --daemon`: the resident client as a process. Runs in the
// foreground (systemd, runit, a container: whoever supervises it), until SIGTERM/SIGINT, the
// interface goes away, or `lease release IFACE`. SIGHUP re-reads --config; SIGUSR1 logs the
// state. Logs: consola lines on stderr, or with --json one NDJSON event per line on stdout.
//
// Exit status: 0 stopped (signal, release, interface removed); 1 could not start (interface
// missing, no permission, another daemon on it, a bad config file) or the client engine
// failed (a bug: logged as event "bug"); 2 usage.

import { escapeText, safeJson } from "../../core/escape.ts";
import type { ClientIdentity } from "../../core/client.ts";
import type { OptionBytes } from "../../core/message.ts";
import { EXIT, UsageError, UserError } from "../errors.ts";
import { log, logLevel, print } from "../log.ts";
import { renderShown, type Shown } from "../render-lease.ts";
import { configFormatOf, loadConfig, parseConfig, sameSettings, settingsFor, type Config, type InterfaceSettings } from "./config.ts";
import { controlPath, LockError, serveControl, type ControlReply, type ControlRequest } from "./control.ts";
import { HookQueue } from "./hook.ts";
import { confine, dropAfterOpen, type Account } from "../privilege.ts";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { MetricsAddress } from "../metrics/address.ts";
import type { MetricsServer } from "../metrics/serve.ts";
import { helperHookRun, openResident, type OpenedResident } from "./open.ts";
import type { DaemonEvent } from "./resident-io.ts";
import type { PrivHelper } from "../../native/privsep.ts";

export { DEFAULT_STATE_DIR } from "./paths.ts";

/** Identity fields given on the command line: they win over the config file. */
export interface IdentityOverrides {
  hostname?: string | null;
  clientId?: Uint8Array;
  vendorClass?: Uint8Array;
  preferIpv6?: boolean;
}

export interface DaemonOptions {
  iface: string;
  mac: "interface" | Uint8Array;
  /** The one-shot identity as the flags and defaults made it (host name from the system). */
  identity: Omit<ClientIdentity, "mac">;
  overrides: IdentityOverrides;
  broadcastFlag: boolean;
  extra: OptionBytes[];
  configPath: string | null;
  stateDir: string;
  runDir: string;
  apply: boolean;
  hook: string | null;
  hookTimeoutMs: number;
  /** Who the hook runs as (null: root). */
  hookAccount: Account | null;
  /** --route-metric (null: the config's route-metric, else 1000 + the interface's index). */
  routeMetric: number | null;
  releaseOnExit: boolean;
  json: boolean;
  /** Who to become once everything is open (null: stay root). */
  account: Account | null;
  /** --metrics: where to serve /metrics (null: nowhere). */
  metrics: MetricsAddress | null;
}

/** Config file settings under command-line flags, over the defaults. */
export function mergeIdentity(base: Omit<ClientIdentity, "mac">, s: InterfaceSettings, o: IdentityOverrides): Omit<ClientIdentity, "mac"> {
  const id = { ...base };
  if (s.hostName !== undefined) id.hostname = s.hostName;
  if (s.clientId) id.clientId = s.clientId;
  if (s.vendorClass) id.vendorClass = s.vendorClass;
  if (s.preferIpv6) id.preferIpv6 = true;
  if (o.hostname !== undefined) id.hostname = o.hostname;
  if (o.clientId) id.clientId = o.clientId;
  if (o.vendorClass) id.vendorClass = o.vendorClass;
  if (o.preferIpv6) id.preferIpv6 = true;
  return id;
}

async function makeEmitter(json: boolean): Promise<(e: DaemonEvent) => void> {
  const level = logLevel();
  if (json) {
    return (e) => {
      if (e.level === "debug" && level < 2) return;
      print(safeJson({ time: new Date().toISOString(), ...e }) + "\n");
    };
  }
  // The one daemon log style (cli/log.ts): consola on a terminal, one line per event with
  // journald's priority prefix or the time and a level word elsewhere. Debug events with -v.
  return (e) => {
    const text = `[${escapeText(String(e.interface ?? ""))}] ${e.message}`;
    if (e.level === "error") log.error(text);
    else if (e.level === "warn") log.warn(text);
    else if (e.level === "info") log.info(text);
    else log.verbose(text);
  };
}

/** The privileged helper, started while we are root: it takes the interface's lock. */
async function spawnHelper(o: DaemonOptions, settings: InterfaceSettings): Promise<PrivHelper> {
  const { PrivHelper, HelperError } = await import("../../native/privsep.ts");
  try {
    return PrivHelper.spawn({
      iface: o.iface,
      metric: o.routeMetric ?? settings.routeMetric ?? null,
      stateDir: resolve(o.stateDir),
      runDir: resolve(o.runDir),
      config: o.configPath === null ? null : resolve(o.configPath),
      hook: o.hook,
      hookUid: o.hookAccount?.uid ?? 0,
      hookGid: o.hookAccount?.gid ?? 0,
      hookTimeoutMs: o.hookTimeoutMs,
    });
  } catch (err) {
    if (err instanceof HelperError && err.errno === 16) throw new LockError(err.message); // EBUSY: the lock is held
    if (err instanceof HelperError) throw new UserError(`request --daemon on ${o.iface}: ${err.message}`);
    throw err;
  }
}

export async function runDaemon(o: DaemonOptions): Promise<number> {
  if (o.hook !== null && !o.hook.startsWith("/")) {
    throw new UsageError(`--hook takes an absolute path (it is executed directly, never through a shell): "${o.hook}"`);
  }
  if (o.hook !== null && !existsSync(o.hook)) throw new UsageError(`--hook ${o.hook}: no such file`);
  // Read as root at start; on SIGHUP the helper reads it (it may be root's alone: finding 4).
  let config: Config | null = o.configPath ? loadConfig(o.configPath) : null;
  let settings = settingsFor(config, o.iface);
  const logEvent = await makeEmitter(o.json);
  // every event reaches the metrics (when served) before the log
  let onEvent: ((e: DaemonEvent) => void) | null = null;
  const emit = (e: DaemonEvent) => {
    onEvent?.(e);
    logEvent(e);
  };
  const helper = await spawnHelper(o, settings);
  const hook =
    o.hook === null
      ? null
      : new HookQueue(o.hook, {
          timeoutMs: o.hookTimeoutMs,
          run: helperHookRun(helper),
          onResult(ev, r) {
            const how = r.error ?? (r.timedOut ? `killed after ${o.hookTimeoutMs / 1000} s` : r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`);
            const failed = r.error !== undefined || r.timedOut || r.exitCode !== 0;
            emit({
              level: failed ? "warn" : "debug",
              event: "hook",
              interface: o.iface,
              message: `hook ${ev.reason}: ${escapeText(how)}${r.stderr ? `: ${escapeText(r.stderr.trim().slice(0, 500))}` : ""}`,
              reason: ev.reason,
              exitCode: r.exitCode,
              timedOut: r.timedOut,
              ms: Math.round(r.ms),
            });
          },
          onDrop(ev) {
            emit({ level: "warn", event: "hook", interface: o.iface, message: `hook ${ev.reason} not run: too many events waiting` });
          },
        });

  let opened: OpenedResident;
  try {
    opened = await openResident({
      iface: o.iface,
      mac: o.mac,
      identity: mergeIdentity(o.identity, settings, o.overrides),
      settings,
      broadcastFlag: o.broadcastFlag,
      extra: o.extra,
      stateDir: o.stateDir,
      apply: o.apply,
      hook,
      emit,
      helper,
    });
  } catch (err) {
    helper.close();
    throw err;
  }
  const client = opened.client;
  emit({
    level: "debug",
    event: "helper",
    interface: o.iface,
    message: `privileged helper pid ${helper.pid} (route metric ${helper.metric})`,
    pid: helper.pid,
    metric: helper.metric,
  });
  let endpoint: MetricsServer | null = null;
  if (o.metrics) {
    // before the drop: the port may be below 1024
    const [{ openMetrics }, { ClientMetrics }] = await Promise.all([import("../metrics/serve.ts"), import("../metrics/client.ts")]);
    try {
      const served = openMetrics(o.metrics, (r) => new ClientMetrics(r, o.iface, () => client.status()));
      onEvent = (e) => served.metrics.event(e);
      endpoint = served.server;
    } catch (err) {
      client.stop(false, "could not serve metrics");
      helper.close();
      throw err;
    }
    emit({ level: "info", event: "metrics", interface: o.iface, message: `metrics: ${endpoint.url}`, url: endpoint.url });
  }

  const path = controlPath(o.runDir, o.iface);
  const control = serveControl(path, async (req: ControlRequest): Promise<ControlReply> => {
    switch (req.cmd) {
      case "show":
        return { ok: true, source: "daemon", control: path, ...client.status() };
      case "renew":
        return { ok: true, result: client.renew() };
      case "rebind":
        return { ok: true, result: client.rebind() };
      case "release": {
        const had = client.release();
        return { ok: true, result: had ? "released" : "no lease to release: stopped" };
      }
    }
  });

  let stopBy!: (why: string) => void;
  const stopped = new Promise<string>((resolve) => {
    stopBy = resolve;
  });
  const onTerm = () => stopBy("SIGTERM");
  const onInt = () => stopBy("SIGINT");
  const onHup = () => {
    if (!o.configPath) {
      emit({ level: "info", event: "reload", interface: o.iface, message: "SIGHUP: no --config to re-read" });
      return;
    }
    try {
      config = parseConfig(new TextDecoder().decode(helper.readConfig()), o.configPath, configFormatOf(o.configPath));
    } catch (err) {
      emit({
        level: "error",
        event: "reload",
        interface: o.iface,
        message: `SIGHUP: keeping the old settings: ${err instanceof Error ? err.message : String(err)}`,
      });
      return;
    }
    const next = settingsFor(config, o.iface);
    if (next.routeMetric !== settings.routeMetric && o.routeMetric === null) {
      emit({
        level: "warn",
        event: "reload",
        interface: o.iface,
        message: `SIGHUP: route-metric changes take effect at the next start (routes stay at metric ${helper.metric})`,
      });
    }
    if (sameSettings(next, settings)) {
      emit({ level: "info", event: "reload", interface: o.iface, message: `SIGHUP: ${o.configPath} re-read, nothing changed for ${o.iface}` });
      return;
    }
    settings = next;
    client.reconfigure(mergeIdentity(o.identity, settings, o.overrides), settings);
  };
  // SIGUSR1: the state as `lease show` prints it, a line each (NDJSON: one status event).
  const onUsr1 = () => {
    const status = client.status();
    if (o.json) emit({ level: "info", event: "status", interface: o.iface, message: `${String(status.phase)} (SIGUSR1)`, status });
    else
      for (const line of renderShown({ ...status, source: "daemon" } as Shown)
        .trimEnd()
        .split("\n"))
        emit({ level: "info", event: "status", interface: o.iface, message: line.trim() });
  };
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  process.on("SIGHUP", onHup);
  process.on("SIGUSR1", onUsr1);
  emit({ level: "info", event: "control", interface: o.iface, message: `control socket ${path}`, path });

  // Everything is open: the packet socket, the link monitor, the control socket, the helper
  // (which holds the lock, the state directory and the route socket). From here the daemon
  // runs as --user with no capability at all; only then does it send or read a packet.
  try {
    const root = (process.geteuid?.() ?? 0) === 0;
    await dropAfterOpen(o.account, [], "request --daemon");
    if (root) await confine("request --daemon");
  } catch (err) {
    client.stop(false, "could not drop privileges");
    endpoint?.stop();
    control.close();
    helper.close();
    throw err;
  }
  let helperLost: string | null = null;
  helper.onGone = (why) => {
    helperLost = why;
    emit({ level: "error", event: "helper", interface: o.iface, message: `${why}: stopping (nothing can be applied or stored without it)` });
    stopBy("privileged helper gone");
  };
  emit({
    level: "debug",
    event: "dropped",
    interface: o.iface,
    message: `running as uid ${process.getuid?.()} with no capability, seccomp on: starting`,
    uid: process.getuid?.(),
  });
  opened.start();

  let code: number = EXIT.ok;
  try {
    // A signal stops the client here; it ends by itself when released, when its interface
    // goes, or (exit 1) when its engine fails.
    const end = await Promise.race([stopped.then((why) => ({ why })), client.done.then((exit) => ({ exit }))]);
    if ("why" in end) client.stop(o.releaseOnExit, end.why);
    else code = end.exit;
  } finally {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    process.off("SIGHUP", onHup);
    process.off("SIGUSR1", onUsr1);
    endpoint?.stop();
    control.close();
    if (hook && helperLost === null) {
      // The last events' hooks (STOP, RELEASE) run before we go, within their time limit.
      const limit = new Promise((r) => setTimeout(r, o.hookTimeoutMs + 2000));
      await Promise.race([hook.idle(), limit]);
    }
    // The helper ends a hook still running (its whole process group) and exits.
    helper.stop();
  }
  return helperLost === null ? code : EXIT.error;
}
