// Help that reads like a man page: usage, description, options, examples, wrapped to the
// terminal's width (80 when it is not known). citty's own usage is not used: it pads to the
// terminal and colours.

import { usageLine } from "./args.ts";

interface ArgDefLike {
  type?: string;
  description?: string;
  valueHint?: string;
  alias?: string | readonly string[];
  required?: boolean;
}

/** Words of text on lines of at most `width` columns; the first line after `first`, the rest after `indent`. */
export function wrapWords(text: string, width: number, first: string, indent: string): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line += (empty ? "" : " ") + word;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** An example: indented, `dhcptool …` or `… | dhcptool …`, then (after 2+ spaces) what it does. */
const EXAMPLE = /^(\s+)(\S.*?)(\s{2,})(\S.*)$/;

/**
 * Free text (examples, exit status, notes) wrapped to width: a paragraph of prose is
 * reflowed; an example too long for its line keeps the command whole and puts what it does
 * on the next line; any other indented line wraps under its own indentation.
 */
export function wrapText(text: string, width: number): string {
  const out: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "" || /^\S/.test(line) === false) {
      if (line.length <= width) {
        out.push(line);
        continue;
      }
      const ex = EXAMPLE.exec(line);
      if (ex && /dhcptool /.test(ex[2]) && ex[1].length + ex[2].length <= width) {
        out.push(ex[1] + ex[2]);
        out.push(...wrapWords(ex[4], width, `${ex[1]}    `, `${ex[1]}    `));
      } else if (ex) {
        // two columns (a name, what it is): the second wraps under itself
        const hang = " ".repeat(ex[1].length + ex[2].length + ex[3].length);
        out.push(...wrapWords(ex[4], width, ex[1] + ex[2] + ex[3], hang));
      } else {
        const indent = /^\s*/.exec(line)![0];
        out.push(...wrapWords(line, width, indent, `${indent}  `));
      }
      continue;
    }
    // prose: this line and the ones after it up to a blank, indented or heading line
    let para = line;
    // (a line starting with a flag starts a paragraph of its own: "--server IP sends …")
    while (!/:$/.test(para) && i + 1 < lines.length && /^[^\s-]/.test(lines[i + 1]) && !/:$/.test(lines[i + 1])) para += ` ${lines[++i]}`;
    out.push(...wrapWords(para, width, "", ""));
  }
  return out.join("\n");
}

/** The options of a command as rows: flags (with their value) and what they do. */
function optionRows(args: Record<string, ArgDefLike>): [string, string][] {
  const rows: [string, string][] = [];
  for (const [n, d] of Object.entries(args)) {
    if (d.type === "positional") continue;
    const aliases = d.alias === undefined ? [] : typeof d.alias === "string" ? [d.alias] : [...d.alias];
    const flag = [...aliases.map((a) => (a.length === 1 ? `-${a}` : `--${a}`)), `--${n}`].join(", ");
    rows.push([d.type === "boolean" ? flag : `${flag} ${d.valueHint ?? "VALUE"}`, d.description ?? ""]);
  }
  rows.push(["-h, --help", "This help"]);
  return rows;
}

/** Two columns, the second wrapped under itself; a first column too wide puts the second below it. */
export function twoColumns(rows: [string, string][], width: number, maxFirst = 26): string[] {
  const col = Math.min(maxFirst, Math.max(...rows.map(([f]) => f.length)));
  const lines: string[] = [];
  const hang = " ".repeat(2 + col + 2);
  for (const [f, d] of rows) {
    if (f.length > col) {
      lines.push(`  ${f}`);
      lines.push(...wrapWords(d, width, hang, hang));
    } else lines.push(...wrapWords(d, width, `  ${f.padEnd(col)}  `, hang));
  }
  return lines;
}

export interface HelpPage {
  /** How the command is typed: "discover", "lease decode". */
  command: string;
  description: string;
  args: Record<string, ArgDefLike>;
  /** Subcommands and what each does (a command made of subcommands: lease). */
  subcommands?: [string, string][];
  /** Examples and notes, as written (wrapped here). */
  text: string;
}

export function renderHelp(page: HelpPage, width: number): string {
  const usage = page.subcommands ? `dhcptool ${page.command} COMMAND [options]` : `${usageLine(page.command, page.args)} [options]`;
  const lines = [...wrapWords(usage, width, "Usage: ", "         "), "", ...wrapWords(page.description, width, "", ""), ""];
  if (page.subcommands) {
    lines.push("Commands:", ...twoColumns(page.subcommands, width, 24), "");
    lines.push(`Each command's options: dhcptool ${page.command} COMMAND --help`);
  } else {
    lines.push("Options:", ...twoColumns(optionRows(page.args), width));
  }
  return `${lines.join("\n")}\n${wrapText(page.text.replace(/^\n*/, "\n"), width)}\n`;
}
