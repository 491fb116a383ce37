// Help that reads like a man page: usage, description, arguments, options, examples.
// (citty's own usage pads columns to the terminal width and colours them.)

interface ArgDefLike { type?: string; description?: string; valueHint?: string; alias?: string | readonly string[]; required?: boolean }

export function renderHelp(
  name: string, description: string, args: Record<string, ArgDefLike>, examples: string,
): string {
  const positionals = Object.entries(args).filter(([, d]) => d.type === "positional");
  const usage = positionals.map(([n, d]) => {
    const hint = d.valueHint ?? n.toUpperCase();
    return d.required ? hint : `[${hint}]`;
  });
  const lines = [`Usage: dhcptool ${name} ${usage.join(" ")} [options]`, "", description, ""];
  const rows: [string, string][] = [];
  for (const [n, d] of Object.entries(args)) {
    if (d.type === "positional") continue;
    const aliases = d.alias === undefined ? [] : typeof d.alias === "string" ? [d.alias] : [...d.alias];
    const flag = [...aliases.map((a) => (a.length === 1 ? `-${a}` : `--${a}`)), `--${n}`].join(", ");
    rows.push([d.type === "boolean" ? flag : `${flag} ${d.valueHint ?? "VALUE"}`, d.description ?? ""]);
  }
  const width = Math.max(...rows.map(([f]) => f.length));
  lines.push("Options:");
  for (const [f, d] of rows) lines.push(`  ${f.padEnd(width)}  ${d}`);
  lines.push("  -h, --help".padEnd(width + 2) + "  This help");
  return lines.join("\n") + "\n" + examples.replace(/^\n/, "\n") + "\n";
}
