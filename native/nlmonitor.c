/*
 * The link monitor: a netlink socket on the link (and IPv4 address) groups
 * whose events reach JS without polling. Its thread works like the packet
 * socket's (shim.c): poll the socket and a stop eventfd, fire the callback
 * once, sleep until JS has drained and re-armed. It is simpler in two ways,
 * which is why it is not the same code: closing a netlink socket is quick
 * (no RCU grace period to hand off), so dt_nl_close (netlink.c) joins the
 * thread and closes everything itself; and nothing is staged, so re-arming
 * is just "wait for the socket again".
 */
#define _GNU_SOURCE
#include "shim.h"

/* Room for a burst (a bridge with many ports going down) before events are lost. */
#define NL_MONITOR_RCVBUF (1024 * 1024)

/* dt_nl_monitor_open's groups, a bitmask of what to subscribe to. */
#define NL_GROUP_LINK 1
#define NL_GROUP_IPV4_ADDR 2

/* groups: NL_GROUP_LINK (1) and/or NL_GROUP_IPV4_ADDR (2). */
EXPORT int dt_nl_monitor_open(int groups)
{
	if (groups <= 0 || (groups & ~(NL_GROUP_LINK | NL_GROUP_IPV4_ADDR)))
		return -EINVAL;
	uint32_t mask = ((groups & NL_GROUP_LINK) ? RTMGRP_LINK : 0) | ((groups & NL_GROUP_IPV4_ADDR) ? RTMGRP_IPV4_IFADDR : 0);
	uint32_t portid;
	int fd = nl_socket(mask, &portid);
	if (fd < 0)
		return fd;
	/* FORCE needs CAP_NET_ADMIN; plain SO_RCVBUF is capped by rmem_max. */
	int rcvbuf = NL_MONITOR_RCVBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	int err;
	int stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int armfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stopfd < 0 || armfd < 0) {
		err = -errno;
		goto fail;
	}
	err = nl_claim(NL_MONITOR, fd, portid, NULL, stopfd, armfd);
	if (err >= 0)
		return err;
fail:
	close_fd(&armfd);
	close_fd(&stopfd);
	close(fd);
	return err;
}

static void *nl_monitor_thread(void *arg)
{
	const struct nl_slot *s = arg;
	const int fd = s->fd, stopfd = s->stopfd, armfd = s->armfd;
	const int32_t h = s->handle;
	const ready_cb cb = s->cb;
	while (wait_ready(fd, stopfd)) {
		cb(h);
		if (!wait_ready(armfd, stopfd))
			break;
		uint64_t v;
		(void)!read(armfd, &v, sizeof v); /* resets the eventfd */
	}
	return NULL;
}

EXPORT int dt_nl_start(int h, ready_cb cb)
{
	struct nl_slot *s = nl_get(h, NL_MONITOR);
	if (s == NULL)
		return -EBADF;
	if (cb == NULL)
		return -EINVAL;
	if (s->thread_started)
		return -EBUSY;
	s->cb = cb;
	int err = start_quiet_thread(&s->thread, NULL, nl_monitor_thread, s);
	if (err)
		return -err;
	/* Named here rather than in the thread, so the name is there when we return (top -H, gdb, tests). */
	pthread_setname_np(s->thread, "dhcptool-nl");
	s->thread_started = 1;
	return 0;
}

EXPORT int dt_nl_rearm(int h)
{
	struct nl_slot *s = nl_get(h, NL_MONITOR);
	if (s == NULL)
		return -EBADF;
	const uint64_t one = 1;
	if (write(s->armfd, &one, sizeof one) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

/*
 * Copies the next datagram from the kernel (one or more netlink messages)
 * into buf. Returns its length, 0 when none is queued, or -errno: -ENOBUFS
 * when the kernel dropped events for want of room (the caller should re-read
 * the state it cares about), -EMSGSIZE when a datagram was longer than
 * buflen (it is gone).
 */
EXPORT int dt_nl_recv(int h, uint8_t *buf, int buflen)
{
	struct nl_slot *s = nl_get(h, NL_MONITOR);
	if (s == NULL)
		return -EBADF;
	if (buf == NULL || buflen <= 0)
		return -EINVAL;
	for (;;) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof from;
		ssize_t n;
		do {
			n = recvfrom(s->fd, buf, (size_t)buflen, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
		if (from.nl_pid != 0)
			continue; /* only the kernel speaks on these groups */
		if (n > buflen)
			return -EMSGSIZE;
		return (int)n;
	}
}

/*
 * Sends a dump request on the monitor socket (to re-read all links after
 * -ENOBUFS, or at start): its answer arrives through dt_nl_recv like any
 * event. Only GET dumps; the shim numbers the request.
 */
EXPORT int dt_nl_send(int h, const uint8_t *req, int reqlen)
{
	struct nl_slot *s = nl_get(h, NL_MONITOR);
	if (s == NULL)
		return -EBADF;
	uint32_t seq;
	return nl_send(s, req, reqlen, nl_is_dump, 0, &seq);
}
