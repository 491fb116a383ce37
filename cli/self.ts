// How to run this very dhcptool again, whether or not `dhcptool` is on PATH: `lab exec --
// dhcptool …` runs it inside a namespace, and hints print a command that works when pasted.

import { selfArgv } from "../native/self.ts";

// (native/self.ts knows which form is running; the permission error there names the file too.)
export { selfArgv };

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** This dhcptool as a user would type it: `dhcptool` when PATH has one, else its full argv. */
export function selfCommand(): string {
  return Bun.which("dhcptool") ? "dhcptool" : selfArgv().map(shellWord).join(" ");
}
