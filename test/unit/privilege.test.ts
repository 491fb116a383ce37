// cli/privilege.ts: which user a command becomes once its sockets are open. With no --user it
// is dhcptool's own account when the passwd file has one (scripts/install.sh creates it), and
// nobody where it does not; an explicit --user is looked up as it is given. The passwd file
// is a parameter, so each case is a file of its own (the real lookup, and the drop itself, are
// exercised in test/lab/account.test.ts).

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accountFromArgs, defaultAccount, lookupUser } from "../../cli/privilege.ts";
import { UsageError, UserError } from "../../cli/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "dhcptool-passwd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function passwd(...lines: string[]): string {
  const p = join(dir, `passwd${files++}`);
  writeFileSync(p, lines.join("\n") + "\n");
  return p;
}

const ROOT = "root:x:0:0:root:/root:/bin/bash";
const NOBODY = "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";
const OWN = "dhcptool:x:995:994:dhcptool (DHCP diagnostics):/nonexistent:/usr/sbin/nologin";
const ALICE = "alice:x:1000:1000::/home/alice:/bin/bash";

describe("the default --user", () => {
  test("dhcptool's own account when passwd has it, wherever it stands in the file", () => {
    for (const file of [passwd(ROOT, NOBODY, OWN), passwd(OWN, ROOT, NOBODY), passwd(ROOT, OWN)]) {
      expect(defaultAccount(file)).toEqual({ name: "dhcptool", uid: 995, gid: 994, why: "the default --user: this tool's own account" });
    }
  });

  test("nobody when there is no dhcptool account, and -v says why", () => {
    const a = defaultAccount(passwd(ROOT, ALICE, NOBODY));
    expect(a).toEqual({ name: "nobody", uid: 65534, gid: 65534, why: "the default --user: no dhcptool account here (scripts/setup.sh creates it)" });
  });

  test("a line that only resembles the account is not it", () => {
    // a longer name, a group file's line, a comment: none of them is the user dhcptool
    const a = defaultAccount(passwd(ROOT, "dhcptool2:x:996:996::/:/bin/false", "dhcptool:x:994:", "#dhcptool:x:1:1::/:", NOBODY));
    expect(a.name).toBe("nobody");
  });

  test("neither account: one line that says what to do", () => {
    const file = passwd(ROOT, ALICE);
    expect(() => defaultAccount(file)).toThrow(UserError);
    expect(() => defaultAccount(file)).toThrow(`neither dhcptool nor nobody is in ${file}: name a user to run as with --user USER`);
  });

  test("an unreadable passwd file is an error that names it", () => {
    expect(() => defaultAccount(join(dir, "missing"))).toThrow(`cannot read ${join(dir, "missing")} to find user "dhcptool"`);
  });
});

describe("--user as given", () => {
  const file = passwd(ROOT, NOBODY, OWN, ALICE);

  test("no --user, or an empty one: the default", () => {
    expect(accountFromArgs({}, file)?.name).toBe("dhcptool");
    expect(accountFromArgs({ user: "" }, file)?.name).toBe("dhcptool");
  });

  test("an explicit --user is that user, even nobody beside an own account; it carries no why", () => {
    expect(accountFromArgs({ user: "nobody" }, file)).toEqual({ name: "nobody", uid: 65534, gid: 65534 });
    expect(accountFromArgs({ user: "1000" }, file)).toEqual({ name: "alice", uid: 1000, gid: 1000 });
  });

  test("root (by name or uid) keeps root", () => {
    expect(accountFromArgs({ user: "root" }, file)).toBeNull();
    expect(accountFromArgs({ user: "0" }, file)).toBeNull();
  });

  test("a user that does not exist is a usage error, not the default", () => {
    expect(() => accountFromArgs({ user: "bob" }, file)).toThrow(UsageError);
    expect(() => lookupUser("bob", file)).toThrow(`--user bob: no such user in ${file}`);
  });
});
