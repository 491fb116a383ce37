/*
 * Dropping privileges once the sockets are open (the seed's last lesson: the part that
 * parses the wire must hold nothing it does not need).
 *
 * dt_drop_privileges(uid, gid, keep) makes the process uid/gid (no supplementary groups)
 * and leaves the calling thread exactly the capabilities in `keep` (a bit mask of CAP_*
 * numbers < 31: the network ones are 12 and 13) in its effective and permitted sets, nothing inheritable or ambient, a
 * bounding set of `keep`, and no_new_privs (nothing it execs can gain privilege).
 *
 * Threads: capabilities and securebits are per thread in Linux, the uid is per thread
 * too, but glibc's setresuid() changes it in every thread of the process (its setxid
 * broadcast). Only the calling thread sets KEEPCAPS, so the uid change clears every other
 * thread's capabilities (Bun's helpers, our receive threads: they only read sockets already
 * open), and the calling thread — the JS thread, which is the one that later sends netlink
 * requests — keeps what it raises again with capset(). uid == 0 → uid == 0 changes nothing.
 *
 * Returns 0, or -errno of the step that failed (the caller must then stop: the process may
 * be half-way).
 */
#define _GNU_SOURCE
#include "shim.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>

static int capset_self(uint64_t mask)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	data[0].effective = data[0].permitted = (uint32_t)mask;
	data[1].effective = data[1].permitted = (uint32_t)(mask >> 32);
	return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -errno;
}

EXPORT int32_t dt_drop_privileges(int32_t uid, int32_t gid, int32_t keep_mask)
{
	if (uid < 0 || gid < 0 || keep_mask < 0)
		return -EINVAL;
	uint64_t keep = (uint64_t)keep_mask;

	/*
	 * The bounding set first: it needs CAP_SETPCAP, which root still has. A user running us
	 * with file capabilities (setcap) has not: then the bounding set stays, and no_new_privs
	 * below is what keeps anything we exec from gaining privilege.
	 */
	for (int cap = 0; cap <= 63; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
			if (errno == EINVAL)
				continue; /* a capability this kernel does not know */
			if (errno == EPERM)
				break;
			return -errno;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
		return -errno;
	if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		return -errno;
	if (setgroups(0, NULL) != 0 && errno != EPERM) /* EPERM: no CAP_SETGID; the check below sees it */
		return -errno;
	if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0)
		return -errno;
	if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0)
		return -errno;
	int rc = capset_self(keep);
	if (rc != 0)
		return rc;
	if (keep && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	/* Make sure: a uid that did not change, or capabilities that did not go, is a failure. */
	uid_t r, e, s;
	if (getresuid(&r, &e, &s) != 0 || r != (uid_t)uid || e != (uid_t)uid || s != (uid_t)uid)
		return -EPERM;
	return 0;
}
