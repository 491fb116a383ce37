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

#include <dirent.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <sys/prctl.h>

/*
 * The bounding set and no_new_privs belong to each thread, and Bun's threads (JSC's, the
 * event loop's, our receive threads) exist before any of our code runs; no call reaches them
 * all (issue 11 finding 3). So every thread is asked to do it itself: a signal through
 * tgkill(2) to each task in /proc/self/task, whose handler drops the bounding set to `keep`
 * and sets no_new_privs (prctl is async-signal-safe), and counts itself done. The signal is
 * SIGSYS, borrowed for the moment: mimalloc's scavenger thread blocks every signal but the
 * synchronous ones (and glibc's own), and nothing in the process raises SIGSYS (our seccomp
 * filter answers EPERM, never SIGSYS).
 */
#define ALL_THREADS_SIGNAL SIGSYS
static volatile uint64_t at_keep;
static volatile int at_done, at_err;

static int drop_bounding(uint64_t keep)
{
	for (int cap = 0; cap <= 63; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
			if (errno == EINVAL)
				break; /* past the last capability this kernel knows (they are numbered without gaps) */
			return -errno; /* EPERM: no CAP_SETPCAP (file capabilities, not root) */
		}
	}
	return 0;
}

/*
 * The waiter sleeps on at_done's futex and each handler wakes it (futex(2) is a plain system
 * call, safe in a handler): the answer comes as soon as the last thread is done, where a
 * sleep-and-look loop cost a whole sleep per pass (1 ms, most of a one-shot's privilege drop).
 */
static void wake_waiter(volatile int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Waits until *word >= want or timeout_ns pass; 0, or -ETIMEDOUT. */
static int wait_count(volatile int *word, int want, long timeout_ns)
{
	struct timespec now, end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ns / 1000000000L;
	end.tv_nsec += timeout_ns % 1000000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		int seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
		if (seen >= want)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		struct timespec left = { end.tv_sec - now.tv_sec, end.tv_nsec - now.tv_nsec };
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			return -ETIMEDOUT;
		/* Returns at once when *word is no longer `seen` (a handler ran in between). */
		syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, &left, NULL, 0);
	}
}

static void on_all_threads(int sig)
{
	(void)sig;
	int saved = errno;
	int err = drop_bounding(at_keep);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 && err == 0)
		err = -errno;
	if (err)
		__atomic_store_n(&at_err, err, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&at_done, 1, __ATOMIC_SEQ_CST);
	wake_waiter(&at_done);
	errno = saved;
}

/* Every other thread drops its bounding set to keep and sets no_new_privs; 0 or -errno. */
static int all_threads(uint64_t keep)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_all_threads;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(ALL_THREADS_SIGNAL, &sa, &old) != 0)
		return -errno;
	at_keep = keep;
	at_err = 0;
	pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
	int rc = 0;
	/* Twice: a thread started while the first pass ran is caught by the second. */
	pid_t seen[512];
	int nseen = 0;
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		DIR *d = opendir("/proc/self/task");
		if (d == NULL) {
			rc = -errno;
			break;
		}
		struct dirent *e;
		int want = 0;
		at_done = 0;
		while ((e = readdir(d)) != NULL) {
			pid_t tid = (pid_t)atoi(e->d_name);
			int known = tid <= 0 || tid == self;
			for (int i = 0; i < nseen && !known; i++)
				known = seen[i] == tid;
			if (known)
				continue;
			if (nseen < (int)(sizeof seen / sizeof seen[0]))
				seen[nseen++] = tid;
			if (syscall(SYS_tgkill, pid, tid, ALL_THREADS_SIGNAL) == 0)
				want++;
			else if (errno != ESRCH) /* a thread that just ended is no thread to fix */
				rc = -errno;
		}
		closedir(d);
		/* Each thread runs its handler at its next return to user space: wait up to 2 s
		 * (a thread that blocks the signal: the checks after report which). */
		const int waited = wait_count(&at_done, want, 2000000000L);
		if (rc == 0)
			rc = waited;
	}
	if (rc == 0 && at_err)
		rc = at_err;
	sigaction(ALL_THREADS_SIGNAL, &old, NULL);
	return rc;
}

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
	 * The bounding set first, in every thread: it needs CAP_SETPCAP, which root still has. A
	 * user running us with file capabilities (setcap) has not: then the bounding set stays,
	 * and no_new_privs is what keeps anything we exec from gaining privilege.
	 */
	if (getuid() == 0 || geteuid() == 0) {
		int err = drop_bounding(keep);
		if (err)
			return err;
		err = all_threads(keep);
		if (err)
			return err;
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
