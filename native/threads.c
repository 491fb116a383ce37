/*
 * What the shim's threads share (the packet socket's receive thread, shim.c; the link
 * monitor's, nlmonitor.c; the privileged helper's socket pair, privchan.c): how they wait,
 * and how they are started.
 */
#define _GNU_SOURCE
#include "shim.h"

/*
 * Blocks until fd is readable or stop is signalled: 1 = ready, 0 = stop.
 * Only the stop eventfd ends the wait, so the thread never leaves while JS
 * still holds the handle. Shared with the link monitor's thread (nlmonitor.c),
 * where POLLERR is ENOBUFS (events were lost) and JS learns it from the recv.
 */
int wait_ready(int fd, int stopfd)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = stopfd, .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno != EINTR)
				usleep(10000); /* ENOMEM: back off, never spin */
			continue;
		}
		if (p[1].revents)
			return 0;
		/* POLLIN or POLLERR (e.g. ENETDOWN): either way JS must recv. */
		if (p[0].revents & (POLLIN | POLLERR))
			return 1;
	}
}

/*
 * pthread_create with every signal blocked in the new thread: signals belong to the runtime's
 * threads. Shared by the receive thread and the link monitor's (nlmonitor.c). 0 or an errno.
 * SIGSYS stays open: privdrop.c asks every thread to drop its own bounding set with it.
 */
int start_quiet_thread(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(thread, attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}
