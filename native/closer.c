#define _GNU_SOURCE
#include "shim.h"

/*
 * Closing the last reference to a packet socket waits out an RCU grace period
 * (synchronize_net() in packet_release: 10-25 ms here). A one-shot command
 * that exits right after pays it on its exit path, and so does whoever waits
 * for it (a shell, a script, a test). So the last reference goes to a child
 * made for the purpose: a fork (raw clone: no atfork handlers run) that keeps
 * only the socket and the read end of a pipe, waits until we have dropped the
 * socket and the pipe's write end (explicitly, or by exiting), then closes the
 * socket, waits the grace period out and exits. It runs nothing but system
 * calls. The receive thread, its work done, waits for the closer and reaps it;
 * a closer started without a thread is reaped on a later open or close. Once
 * we are gone, init reaps. Where any step fails the socket is closed here.
 */
#define MAX_CLOSERS 64
static pid_t closers[MAX_CLOSERS];
static pthread_mutex_t closers_lock = PTHREAD_MUTEX_INITIALIZER;

void reap_closers(void)
{
	pthread_mutex_lock(&closers_lock);
	for (int i = 0; i < MAX_CLOSERS; i++)
		if (closers[i] > 0 && waitpid(closers[i], NULL, WNOHANG | __WALL) != 0)
			closers[i] = 0;
	pthread_mutex_unlock(&closers_lock);
}

int remember_closer(pid_t pid)
{
	pthread_mutex_lock(&closers_lock);
	for (int i = 0; i < MAX_CLOSERS; i++) {
		if (closers[i] == 0) {
			closers[i] = pid;
			pthread_mutex_unlock(&closers_lock);
			return 1;
		}
	}
	pthread_mutex_unlock(&closers_lock);
	return 0;
}

static void close_all_but(int keep1, int keep2)
{
	int lo = keep1 < keep2 ? keep1 : keep2, hi = keep1 < keep2 ? keep2 : keep1;
	if (syscall(SYS_close_range, 0u, (unsigned)lo - 1, 0u) == 0 || lo == 0) {
		if (hi > lo + 1)
			syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0u);
		syscall(SYS_close_range, (unsigned)hi + 1, ~0u, 0u);
		return;
	}
	for (int fd = 0; fd < 65536; fd++) /* kernels before 5.9: no close_range */
		if (fd != keep1 && fd != keep2)
			close(fd);
}

/* Returns the closer's pid (the caller reaps it), or 0 when it closed fd itself. */
pid_t handoff_close(int fd)
{
	if (fd < 0)
		return 0;
	reap_closers();
	pid_t pid = 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC) == 0) {
		/* exit signal 0: no SIGCHLD for the runtime to trip over */
		pid = (pid_t)syscall(SYS_clone, 0ul, NULL, NULL, NULL, 0ul);
		if (pid == 0) {
			char c;
			close_all_but(fd, p[0]);
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
			close(fd);
			_exit(0);
		}
		close(p[0]);
		close(p[1]);
	}
	close(fd);
	return pid > 0 ? pid : 0;
}
