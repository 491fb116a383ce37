// How to run this very dhcptool again, whether or not `dhcptool` is on PATH: `lab exec --
// dhcptool …` runs it inside a namespace, and hints print a command that works when pasted.

/** A compiled dhcptool (bun build --compile) runs its main script from Bun's embedded file system. */
function compiled(): boolean {
  return Bun.main.startsWith("/$bunfs/");
}

/** argv that runs this dhcptool: the compiled binary alone, or the runtime and its main script. */
export function selfArgv(): string[] {
  return compiled() ? [process.execPath] : [process.execPath, Bun.main];
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** This dhcptool as a user would type it: `dhcptool` when PATH has one, else its full argv. */
export function selfCommand(): string {
  return Bun.which("dhcptool") ? "dhcptool" : selfArgv().map(shellWord).join(" ");
}
