// `dhcptool lease decode [FILE|-]`: decode a DHCP message, frame or capture and print it.
// A capture is read and printed as it streams in, in bounded memory, whatever its size;
// anything else is one message or frame, read whole up to MAX_SINGLE_INPUT.

import { defineCommand } from "../command-line.ts";
import { compileHotCode } from "../jit.ts";
import { describeStart, isCaptureStart } from "../../core/capture-types.ts";
import { safeJson } from "../../core/escape.ts";
import { inspect, viewCaptured, type Inspection, type PacketView } from "../../core/inspect.ts";
import { outputArgs, rejectUnknownFlags } from "../args.ts";
import { CHUNK_BYTES, InputStream, replayCapture } from "../capture-io.ts";
import { EXIT, UsageError, UserError } from "../errors.ts";
import { log, print, printJson } from "../log.ts";
import { renderPacket } from "../render.ts";
import { isTty } from "../term.ts";

/** A message, a frame, or a hex dump of one: far less than this. More is not one of them. */
const MAX_SINGLE_INPUT = 4 * 1024 * 1024;

export const leaseDecodeArgs = {
  input: { type: "positional", required: false, description: "File to read, or - for stdin (default -)", valueHint: "FILE|-" },
  format: { type: "string", description: "auto (default), hex, raw or pcap", valueHint: "FORMAT" },
  ...outputArgs,
} as const;

type Format = "auto" | "hex" | "raw" | "pcap";

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const indent = (json: string, prefix: string) => prefix + json.replace(/\n/g, "\n" + prefix);

/**
 * `--json` of a capture: the same object as for any input ({kind, packets, warnings}),
 * written a packet at a time; `warnings` comes last, once the whole file is read.
 */
class JsonCaptureOutput {
  private started = false;

  packet(v: PacketView): void {
    print((this.started ? ",\n" : '{\n  "kind": "pcap",\n  "packets": [\n') + indent(safeJson(v, 2), "    "));
    this.started = true;
  }

  end(warnings: string[]): void {
    print((this.started ? "\n  ]" : '{\n  "kind": "pcap",\n  "packets": []') + ',\n  "warnings": ' + indent(safeJson(warnings, 2), "  ").trimStart() + "\n}\n");
  }
}

interface Counts {
  packets: number;
  failed: number;
}

/** Reads, decodes and prints a capture as it streams in. */
async function decodeCapture(input: InputStream, first: Uint8Array, json: boolean): Promise<Counts> {
  const out = json ? new JsonCaptureOutput() : null;
  const counts: Counts = { packets: 0, failed: 0 };
  const warnings = await replayCapture(
    input,
    first,
    (pk) => {
      const v = viewCaptured(pk.linktype, pk.data, pk.index + 1, pk.timestampUs);
      counts.packets++;
      if (v.error !== undefined) counts.failed++;
      if (out) out.packet(v);
      else print(renderPacket(v, "pcap"));
    },
    () => false,
  );
  out?.end(warnings);
  return counts;
}

/** One message or frame (raw or as hex): read whole, decoded by core/inspect. */
async function decodeSingle(input: InputStream, head: Uint8Array, ended: boolean, format: Format, json: boolean): Promise<Counts> {
  let bytes = head;
  if (!ended) bytes = concat(head, (await input.readAtLeast(MAX_SINGLE_INPUT + 1 - head.length, MAX_SINGLE_INPUT + 1 - head.length)).bytes);
  if (bytes.length > MAX_SINGLE_INPUT) {
    throw new UserError(
      `${input.name} is not a capture file (it starts ${describeStart(bytes)}) and is over ` +
        `${MAX_SINGLE_INPUT >> 20} MiB, more than one message or frame can be`,
    );
  }
  const result = inspect(bytes, format);
  if ("error" in result) throw new UserError(result.error);
  for (const w of result.warnings) log.warn(w);
  if (json) printJson(result satisfies Inspection);
  else for (const p of result.packets) print(renderPacket(p, result.kind));
  return { packets: result.packets.length, failed: result.packets.filter((p) => p.error !== undefined).length };
}

export default defineCommand({
  meta: { name: "decode", description: "Decode a DHCP/BOOTP message, a frame, or a pcap/pcapng capture" },
  args: leaseDecodeArgs,
  async run({ args, rawArgs }) {
    compileHotCode(); // a capture may hold millions of packets
    rejectUnknownFlags(rawArgs, leaseDecodeArgs);
    const format = (args.format as string | undefined) ?? "auto";
    if (format !== "auto" && format !== "hex" && format !== "raw" && format !== "pcap") throw new UsageError(`--format ${format}: use auto, hex, raw or pcap`);
    const path = (args.input as string | undefined) || "-";
    // Nothing piped in and nothing named: waiting for a person to type hex is not what they meant.
    if (path === "-" && isTty(0)) throw new UsageError("no input: dhcptool lease decode FILE, or pipe one in: … | dhcptool lease decode -");
    const input = InputStream.open(path);
    let counts: Counts;
    try {
      const head = await input.readAtLeast(4, CHUNK_BYTES);
      if (head.bytes.length === 0) throw new UserError(`${input.name} is empty`);
      counts =
        format === "pcap" || (format === "auto" && isCaptureStart(head.bytes))
          ? await decodeCapture(input, head.bytes, args.json === true)
          : await decodeSingle(input, head.bytes, head.ended, format, args.json === true);
    } finally {
      input.close();
    }
    if (counts.packets === 0) log.warn("no packets in the input");
    if (counts.failed) log.warn(`${counts.failed} of ${counts.packets} packet(s) could not be decoded as DHCP`);
    return counts.failed || counts.packets === 0 ? EXIT.error : EXIT.ok;
  },
});
