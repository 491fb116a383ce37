// The resident client against ISC dhcpd and busybox udhcpd (dnsmasq and Kea have their own
// files): bound with --apply, a renew by unicast on request, kill -9 and a reboot into the same
// address, and a release the server acts on.

import { afterAll, describe, expect, test } from "bun:test";
import { labDown, serverLeaseList, type LabState, type ServerKindName } from "../../cli/lab/index.ts";
import { Daemon, daemonDirs, ipv4Addresses, lease, removeDirs } from "./daemon-helpers.ts";
import { eventually, inPool, startLab } from "./helpers.ts";

const labs: LabState[] = [];
afterAll(() => {
  for (const l of labs) labDown(l.name);
});

for (const kind of ["isc", "udhcpd"] as ServerKindName[]) {
  describe(`request --daemon against ${kind}`, () => {
    test("bound and applied; renew; kill -9 then reboot into the same address; release", async () => {
      const lab = startLab(`d${kind.slice(0, 3)}`, { servers: 1, kinds: [kind], leaseTime: 600 });
      labs.push(lab);
      const d = daemonDirs();
      const server = lab.servers[0];
      const daemons: Daemon[] = [];
      try {
        const x = new Daemon(lab, d, ["--apply"]);
        daemons.push(x);
        const b = await x.event("bound", 10_000);
        const address = b.address as string;
        expect(b.server).toBe(server.ip);
        expect(inPool(address, server)).toBe(true);
        expect(ipv4Addresses(lab).map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${address}/24`]);

        let from = x.events.length;
        expect((await lease(lab, d, ["renew", "lab0"])).exitCode).toBe(0);
        expect((await x.event("sent", 5000, from, (e) => e.type === "REQUEST")).to).toBe(server.ip);
        expect((await x.event("renew", 5000, from)).address).toBe(address);

        x.kill("SIGKILL");
        await x.exited;
        const y = new Daemon(lab, d, ["--apply"]);
        daemons.push(y);
        expect((await y.event("sent", 5000)).type).toBe("REQUEST");
        expect((await y.event("reboot", 10_000)).address).toBe(address);

        from = y.events.length;
        expect((await lease(lab, d, ["release", "lab0"])).exitCode).toBe(0);
        expect(await y.exited).toBe(0);
        expect(ipv4Addresses(lab)).toEqual([]);
        // The server forgets it (udhcpd writes its lease file once a second).
        expect(await eventually(() => !serverLeaseList(server).some((l) => l.address === address), 3000)).toBe(true);
      } finally {
        for (const x of daemons) await x.stop();
        removeDirs(d);
      }
    }, 60_000);
  });
}
