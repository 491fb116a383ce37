// `dhcptool completion bash|zsh|fish`: a completion script for that shell, made now from
// the command definitions (so it offers exactly the flags this build has), with interface
// names read from /sys/class/net when completing and option names for --option.

import type { CommandDef } from "citty";
import { defineCommand } from "../command-line.ts";
import { OPTIONS_BY_NAME } from "../../core/options.ts";
import { rejectUnknownFlags } from "../args.ts";
import { UsageError } from "../errors.ts";
import { print } from "../log.ts";
import { bashCompletion } from "./completion-bash.ts";
import { fishCompletion, zshCompletion } from "./completion-zsh-fish.ts";
import { describeCommands, type CommandSpec, type CommandTable } from "./definitions.ts";

const SHELLS = new Map<string, (specs: CommandSpec[], optionNames: string[]) => string>([
  ["bash", bashCompletion],
  ["zsh", zshCompletion],
  ["fish", fishCompletion],
]);

export const completionExamples = `
Examples:
  source <(dhcptool completion bash)          this shell, now
  dhcptool completion bash > /usr/local/share/bash-completion/completions/dhcptool
  dhcptool completion zsh > /usr/local/share/zsh/site-functions/_dhcptool
  dhcptool completion fish > ~/.config/fish/completions/dhcptool.fish

scripts/setup.sh installs all three. Completes commands, flags, interface names (from
/sys/class/net, when you press Tab) and option names for --option.`;

const completionArgs = {
  shell: {
    type: "positional",
    required: true,
    description: "bash, zsh or fish",
    valueHint: "SHELL",
    options: [...SHELLS.keys()],
  },
} as const;

/** The completion script for one shell, from the commands of `table`. */
export async function completionScript(shell: string, table: CommandTable): Promise<string> {
  const generate = SHELLS.get(shell);
  if (!generate) throw new UsageError(`completion: no script for "${shell}" (bash, zsh or fish)`);
  return generate(await describeCommands(table), [...OPTIONS_BY_NAME.keys()]);
}

/** The command, given the table it describes (cli/main.ts's, which includes this one). */
export function completionCommand(table: CommandTable): CommandDef<typeof completionArgs> {
  return defineCommand({
    meta: { name: "completion", description: "Print a shell completion script (bash, zsh or fish)" },
    args: completionArgs,
    async run({ args, rawArgs }) {
      rejectUnknownFlags(rawArgs, completionArgs);
      print(await completionScript(args.shell, table));
      return 0;
    },
  });
}
