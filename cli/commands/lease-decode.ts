// `dhcptool lease decode [FILE|-]`: decode a DHCP message, frame or capture and print it.

import { defineCommand } from "citty";
import { isatty } from "node:tty";
import { inspect, type Inspection } from "../../core/inspect.ts";
import { outputArgs, rejectUnknownFlags } from "../args.ts";
import { EXIT, UsageError, UserError } from "../errors.ts";
import { log, print } from "../log.ts";
import { printJson, renderPacket } from "../render.ts";

const MAX_INPUT = 256 * 1024 * 1024;

export const leaseDecodeArgs = {
  input: { type: "positional", required: false, description: "File to read, or - for stdin (default -)", valueHint: "FILE|-" },
  format: { type: "string", description: "auto (default), hex, raw or pcap", valueHint: "FORMAT" },
  ...outputArgs,
} as const;

async function readInput(path: string): Promise<Uint8Array> {
  try {
    if (path === "-") return new Uint8Array(await Bun.stdin.arrayBuffer());
    const file = Bun.file(path);
    if (file.size > MAX_INPUT) throw new UserError(`${path} is larger than ${MAX_INPUT >> 20} MiB`);
    return await file.bytes();
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as { code?: string }).code;
    throw new UserError(code === "ENOENT" ? `${path}: no such file` : code === "EACCES" ? `${path}: permission denied` : `${path}: ${(err as Error).message}`);
  }
}

export default defineCommand({
  meta: { name: "decode", description: "Decode a DHCP message, Ethernet frame, or pcap/pcapng capture" },
  args: leaseDecodeArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, leaseDecodeArgs);
    const format = (args.format as string | undefined) ?? "auto";
    if (!["auto", "hex", "raw", "pcap"].includes(format)) throw new UsageError(`--format ${format}: use auto, hex, raw or pcap`);
    const path = (args.input as string | undefined) || "-";
    // Nothing piped in and nothing named: waiting for a person to type hex is not what they meant.
    if (path === "-" && isatty(0)) throw new UsageError("no input: dhcptool lease decode FILE, or pipe one in: … | dhcptool lease decode -");
    const bytes = await readInput(path);
    if (bytes.length === 0) throw new UserError(`${path === "-" ? "stdin" : path} is empty`);
    const result = inspect(bytes, format as "auto");
    if ("error" in result) throw new UserError(result.error);
    for (const w of result.warnings) log.warn(w);
    if (args.json) printJson(result satisfies Inspection);
    else for (const p of result.packets) print(renderPacket(p, result.kind));
    const failed = result.packets.filter((p) => p.error !== undefined).length;
    if (result.packets.length === 0) log.warn("no packets in the input");
    if (failed) log.warn(`${failed} of ${result.packets.length} packet(s) could not be decoded as DHCP`);
    return failed || result.packets.length === 0 ? EXIT.error : EXIT.ok;
  },
});
