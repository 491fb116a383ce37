/*
 * The daemon's end of its privileged helper (native/helper/, protocol in privsep.h): the
 * spawn, and the one socket pair between them. While the daemon is still root it calls
 * dt_priv_spawn(): socketpair(AF_UNIX, SOCK_SEQPACKET), then posix_spawn of the helper with
 * /dev/null as stdin and stdout, the daemon's stderr, the pair's other end as fd 3 and every
 * other descriptor closed (posix_spawn_file_actions_addclosefrom_np; the helper closes
 * from 4 on again itself), its own process group (a Ctrl-C for the daemon is not for it),
 * default signals and an empty environment.
 *
 * Requests are synchronous (dt_priv_call: send, wait for the reply with the same seq, a
 * few ms of rtnetlink or fsync, as dt_nl_transact is); the helper's unasked messages (a hook
 * that ended, the pair closing) wake JS through a thread like the link monitor's, and are
 * read with dt_priv_next. One helper per process.
 */
#define _GNU_SOURCE
#include "shim.h"
#include "privsep.h"

#include <spawn.h>

#define QUEUE 4
#define CALL_BYTES (sizeof(struct priv_hdr) + sizeof(struct priv_blob))

static struct {
	int fd, stopfd, armfd;
	pid_t pid;
	int dead;
	pthread_t thread;
	int thread_started;
	ready_cb cb;
	int qlen[QUEUE];
	int qhead, qcount;
	uint8_t q[QUEUE][sizeof(struct priv_hdr) + sizeof(struct priv_hook_done)];
} ch = { .fd = -1, .stopfd = -1, .armfd = -1 };

/*
 * args: argv as NUL-terminated strings back to back (argv[0] is the helper's path),
 * argslen bytes in all. Returns the helper's pid, or -errno.
 */
EXPORT int dt_priv_spawn(const uint8_t *args, int argslen)
{
	if (ch.fd >= 0)
		return -EBUSY;
	if (args == NULL || argslen <= 0 || argslen > 8192 || args[argslen - 1] != 0)
		return -EINVAL;
	char *argv[40];
	int argc = 0;
	static char copy[8192];
	memcpy(copy, args, (size_t)argslen);
	for (int at = 0; at < argslen; at += (int)strlen(copy + at) + 1) {
		if (argc >= 39)
			return -E2BIG;
		argv[argc++] = copy + at;
	}
	argv[argc] = NULL;
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sp[1], PRIV_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, PRIV_FD + 1);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	char *envp[] = { NULL };
	pid_t pid;
	int err = posix_spawn(&pid, argv[0], &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sp[1]);
	if (err) {
		close(sp[0]);
		return -err;
	}
	ch.fd = sp[0];
	ch.pid = pid;
	ch.dead = 0;
	ch.qhead = ch.qcount = 0;
	return pid;
}

static void *priv_thread(void *arg)
{
	(void)arg;
	while (wait_ready(ch.fd, ch.stopfd)) {
		ch.cb(0);
		if (!wait_ready(ch.armfd, ch.stopfd))
			break;
		uint64_t v;
		(void)!read(ch.armfd, &v, sizeof v);
	}
	return NULL;
}

EXPORT int dt_priv_start(ready_cb cb)
{
	if (ch.fd < 0)
		return -EBADF;
	if (cb == NULL || ch.thread_started)
		return -EINVAL;
	ch.stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ch.armfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ch.stopfd < 0 || ch.armfd < 0)
		return -errno;
	ch.cb = cb;
	int err = start_quiet_thread(&ch.thread, NULL, priv_thread, NULL);
	if (err)
		return -err;
	pthread_setname_np(ch.thread, "dhcptool-priv");
	ch.thread_started = 1;
	return 0;
}

EXPORT int dt_priv_rearm(void)
{
	const uint64_t one = 1;
	if (ch.armfd < 0)
		return -EBADF;
	if (write(ch.armfd, &one, sizeof one) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

/* One datagram into buf: its length, 0 when none waits, -EPIPE when the helper is gone. */
static int recv_one(uint8_t *buf, int buflen, int flags)
{
	if (ch.dead)
		return -EPIPE;
	ssize_t n;
	do
		n = recv(ch.fd, buf, (size_t)buflen, flags | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	if (n == 0) {
		ch.dead = 1;
		return -EPIPE;
	}
	return n > buflen ? -EMSGSIZE : (int)n;
}

/*
 * Sends req (a whole message, its seq in the header) and waits up to timeout_ms for the
 * reply with that seq, copied into out: its length, or -errno (-ETIMEDOUT, -EPIPE).
 * Unasked messages that arrive meanwhile wait for dt_priv_next.
 */
EXPORT int dt_priv_call(const uint8_t *req, int reqlen, uint8_t *out, int outlen, int timeout_ms)
{
	if (ch.fd < 0)
		return -EBADF;
	/* reqlen 0: send nothing, wait for the helper's unasked PRIV_READY (seq 0). */
	if (out == NULL || (reqlen != 0 && (req == NULL || reqlen < (int)sizeof(struct priv_hdr) || reqlen > (int)PRIV_MAX_MSG)))
		return -EINVAL;
	struct priv_hdr want = { .seq = 0 };
	if (reqlen != 0) {
		memcpy(&want, req, sizeof want);
		ssize_t s;
		do
			s = send(ch.fd, req, (size_t)reqlen, MSG_NOSIGNAL);
		while (s < 0 && errno == EINTR);
		if (s < 0)
			return errno == EPIPE || errno == ECONNRESET ? -EPIPE : -errno;
	}
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = ch.fd, .events = POLLIN };
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		int n = recv_one(out, outlen, MSG_DONTWAIT);
		if (n <= 0) {
			if (n == 0)
				continue;
			return n;
		}
		struct priv_hdr got;
		if (n >= (int)sizeof got) {
			memcpy(&got, out, sizeof got);
			if (got.seq == want.seq && got.type != PRIV_HOOK_DONE)
				return n;
		}
		if (n <= (int)sizeof ch.q[0]) {
			int at = (ch.qhead + ch.qcount) % QUEUE;
			if (ch.qcount == QUEUE)
				ch.qhead = (ch.qhead + 1) % QUEUE, ch.qcount--;
			memcpy(ch.q[at], out, (size_t)n);
			ch.qlen[at] = n;
			ch.qcount++;
		}
	}
}

/* The next unasked message: its length, 0 when none waits, -EPIPE when the helper is gone. */
EXPORT int dt_priv_next(uint8_t *out, int outlen)
{
	if (ch.fd < 0)
		return -EBADF;
	if (out == NULL || outlen <= 0)
		return -EINVAL;
	if (ch.qcount > 0) {
		int n = ch.qlen[ch.qhead];
		if (n > outlen)
			return -EMSGSIZE;
		memcpy(out, ch.q[ch.qhead], (size_t)n);
		ch.qhead = (ch.qhead + 1) % QUEUE;
		ch.qcount--;
		return n;
	}
	return recv_one(out, outlen, MSG_DONTWAIT);
}

/*
 * Closes our end (the helper sees EOF and exits, removing nothing), stops the thread, and
 * reaps the helper, waiting up to wait_ms for it. Returns its wait status, or -1.
 */
EXPORT int dt_priv_close(int wait_ms)
{
	if (ch.thread_started) {
		const uint64_t one = 1;
		(void)!write(ch.stopfd, &one, sizeof one);
		pthread_join(ch.thread, NULL);
		ch.thread_started = 0;
	}
	for (int *fd = &ch.fd; fd <= &ch.armfd; fd++)
		if (*fd >= 0)
			close(*fd), *fd = -1;
	int status = -1;
	for (int waited = 0; ch.pid > 0; waited += 10) {
		pid_t r = waitpid(ch.pid, &status, WNOHANG);
		if (r == ch.pid || r < 0 || waited >= wait_ms)
			break;
		usleep(10 * 1000);
	}
	ch.pid = 0;
	return status;
}
