/*
 * dhcptool native shim: the only C in the project.
 *
 * What crosses the boundary: plain integers and bytes the caller owns. Every
 * buffer comes with its length and every length is checked; nothing returned
 * to the caller points into memory owned here. Errors are returned as -errno.
 *
 * Handles are small positive integers: (generation << SLOT_BITS) | slot index.
 * The generation makes a stale handle (used after close, slot since reused)
 * fail with -EBADF instead of acting on somebody else's socket.
 *
 * Threading: dt_open/dt_recv_batch/dt_send/dt_rearm/dt_stats/dt_close for
 * one handle are called from the owning JS thread only. The per-socket
 * receive thread only polls and fires the callback; it never reads the
 * socket. At close it tells dt_close it is done with the callback and then
 * closes the descriptors itself: closing a packet socket waits for an RCU
 * grace period (synchronize_net() in packet_release, 10-25 ms), which must
 * not stall JS.
 *
 * Receiving in batches (rx.c): dt_recv_batch copies the frames queued for
 * the socket into the caller's buffer, from recvmmsg() or from a TPACKET_V3
 * ring (ring.c); frames it could not copy (the buffer was full) make
 * dt_rearm tell the receive thread to fire again at once.
 *
 * The files: shim.c (handles and slots, the receive thread, closing),
 * packet.c (the BPF programs, opening and binding the socket, sending,
 * counters), rx.c (draining received frames), ring.c (the TPACKET_V3
 * ring), closer.c (the close that waits out the grace period elsewhere),
 * link.c (interface facts), netlink.c and nlmonitor.c (rtnetlink),
 * privdrop.c (dropping root).
 *
 * Built by native/build.sh: cc -O2 -Wall -Wextra -fPIC -shared -pthread
 */
#define _GNU_SOURCE
#include "shim.h"

static struct slot slots[MAX_SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

static void slots_init(void)
{
	for (int i = 0; i < MAX_SLOTS; i++) {
		pthread_mutex_init(&slots[i].release_lock, NULL);
		pthread_cond_init(&slots[i].released, NULL);
	}
}

struct slot *slot_get(int h)
{
	if (h < 0)
		return NULL;
	int idx = h & (MAX_SLOTS - 1);
	int gen = h >> SLOT_BITS;
	struct slot *s = &slots[idx];
	if (s->state != SLOT_OPEN || s->generation != gen)
		return NULL;
	return s;
}

/*
 * mode: the filter in the low byte (MODE_CLIENT 0, MODE_WATCH 1), ORed with
 * OPEN_PROMISC (0x100) to put the interface in promiscuous mode while the
 * socket is open (a PACKET_MR_PROMISC membership: the kernel counts it, and
 * drops it when the socket closes, however the process ends), and with
 * OPEN_RING (0x200) to receive through a TPACKET_V3 ring (ring.c).
 *
 * vlan: which frames by their VLAN tag: VLAN_ANY (-1) all, VLAN_NONE (-2)
 * untagged and priority-tagged ones (VID 0), or 1-4094 that VLAN's only.
 *
 * info (infolen >= IFINFO_LEN) gets the link's facts in dt_ifinfo's layout (link.c),
 * read once for the open: zeros when the link could not be read.
 */
EXPORT int dt_open(const char *ifname, int mode, int vlan, uint8_t *info, int infolen)
{
	if (info == NULL || infolen < IFINFO_LEN)
		return -EINVAL;
	struct link_facts lf;
	struct rx_ring ring;
	memset(&lf, 0, sizeof lf);
	memset(&ring, 0, sizeof ring);
	const int fd = packet_open(ifname, mode, vlan, &lf, &ring);
	link_facts_out(&lf, info); /* the link's facts as dt_ifinfo gives them, whatever came of the open */
	if (fd < 0)
		return fd;
	int err, stopfd = -1, armfd = -1;

	stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stopfd < 0)
		goto fail_errno;
	armfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (armfd < 0)
		goto fail_errno;

	pthread_once(&slots_once, slots_init);
	pthread_mutex_lock(&slots_lock);
	int idx = -1;
	for (int i = 0; i < MAX_SLOTS; i++) {
		if (slots[i].state == SLOT_FREE) {
			idx = i;
			break;
		}
	}
	if (idx < 0) {
		pthread_mutex_unlock(&slots_lock);
		err = -EMFILE;
		goto fail;
	}
	struct slot *s = &slots[idx];
	int gen = s->generation + 1;
	if (gen >= GEN_LIMIT)
		gen = 1;
	const int32_t handle = (gen << SLOT_BITS) | idx;
	s->state = SLOT_OPEN;
	s->generation = gen;
	s->fd = fd;
	s->stopfd = stopfd;
	s->armfd = armfd;
	s->ifindex = lf.ifindex;
	s->mtu = lf.mtu;
	s->thread_started = 0;
	s->cb = NULL;
	s->handle = handle;
	s->total_packets = 0;
	s->total_drops = 0;
	s->stage = NULL;
	s->ring = ring;
	s->deferred_err = 0;
	pthread_mutex_unlock(&slots_lock);
	return handle;

fail_errno:
	err = -errno;
fail:
	close_fd(&armfd);
	close_fd(&stopfd);
	ring_unmap(&ring);
	close(fd);
	return err;
}

/* Closes *fd if open and marks it closed. */
void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Closes a slot's descriptors and gives the slot back. Slow: see the top. */
static void release_slot(struct slot *s)
{
	ring_unmap(&s->ring); /* first: the mapping holds the socket open too */
	handoff_close(s->fd); /* its closer is reaped on a later open or close */
	s->fd = -1;
	close_fd(&s->stopfd);
	close_fd(&s->armfd);
	if (s->stage != NULL) {
		munmap(s->stage, sizeof *s->stage);
		s->stage = NULL;
	}
	pthread_mutex_lock(&slots_lock);
	s->cb = NULL;
	s->state = SLOT_FREE;
	pthread_mutex_unlock(&slots_lock);
}

/* 1 when stop has been signalled, without waiting. */
static int stop_requested(int stopfd)
{
	struct pollfd p = { .fd = stopfd, .events = POLLIN };
	int n;
	do {
		n = poll(&p, 1, 0);
	} while (n < 0 && errno == EINTR);
	return n > 0 && p.revents != 0;
}

static void *receive_thread(void *arg)
{
	struct slot *s = arg;
	const int sock = s->fd, stopfd = s->stopfd, armfd = s->armfd;
	const int32_t h = s->handle;
	const int generation = s->generation;
	const ready_cb cb = s->cb;
	pthread_setname_np(pthread_self(), "dhcptool-rx"); /* for top -H and gdb */

	/*
	 * One callback per batch: fire, then sleep until JS has drained and
	 * re-armed. Re-armed with frames still staged (ARM_STAGED): fire again
	 * at once, for the socket may have nothing more to show.
	 */
	int staged = 0;
	while (staged ? !stop_requested(stopfd) : wait_ready(sock, stopfd)) {
		cb(h);
		if (!wait_ready(armfd, stopfd))
			break;
		uint64_t v = 0;
		if (read(armfd, &v, sizeof v) != (ssize_t)sizeof v) /* resets the eventfd */
			v = ARM_WAIT;
		staged = v >= ARM_STAGED;
	}

	/* Before dt_close returns, neither our descriptor table nor a mapping may hold the socket. */
	ring_unmap(&s->ring);
	const pid_t closer = handoff_close(s->fd);
	s->fd = -1;
	pthread_mutex_lock(&s->release_lock);
	s->released_generation = generation;
	pthread_cond_broadcast(&s->released);
	pthread_mutex_unlock(&s->release_lock);
	release_slot(s); /* s->fd is -1 by now: only the eventfds are closed */
	/* Reap our closer (a grace period from now); the process may exit first. */
	wait_closer(closer);
	return NULL;
}


EXPORT int dt_start(int h, ready_cb cb)
{
	struct slot *s = slot_get(h);
	if (s == NULL)
		return -EBADF;
	if (cb == NULL)
		return -EINVAL;
	if (s->thread_started)
		return -EBUSY;
	s->cb = cb;

	/* Detached: dt_close waits for released_generation, not for the thread's end. */
	pthread_attr_t attr;
	pthread_t thread;
	if (pthread_attr_init(&attr))
		return -ENOMEM;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int err = start_quiet_thread(&thread, &attr, receive_thread, s);
	pthread_attr_destroy(&attr);
	if (err)
		return -err;
	s->thread_started = 1;
	return 0;
}

/*
 * Lets the receive thread fire again. With frames still staged, or an error
 * held back, the socket may show nothing more: the thread is told to fire
 * at once.
 */
EXPORT int dt_rearm(int h)
{
	struct slot *s = slot_get(h);
	if (s == NULL)
		return -EBADF;
	const int staged = s->deferred_err != 0 || (s->stage != NULL && s->stage->head < s->stage->count) || ring_has_frames(&s->ring);
	const uint64_t v = staged ? ARM_STAGED : ARM_WAIT;
	if (write(s->armfd, &v, sizeof v) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

/*
 * Stops the receive thread (stop eventfd) and returns once it will never
 * call the callback again, so the caller may free the callback right after.
 * The thread then closes the descriptors and frees the slot on its own.
 * A second call, or any call with h afterwards, answers -EBADF.
 */
EXPORT int dt_close(int h)
{
	pthread_mutex_lock(&slots_lock);
	struct slot *s = slot_get(h);
	if (s == NULL) {
		pthread_mutex_unlock(&slots_lock);
		return -EBADF;
	}
	/* The slot cannot be handed out again until it is released. */
	s->state = SLOT_CLOSING;
	const int generation = s->generation;
	pthread_mutex_unlock(&slots_lock);

	if (!s->thread_started) {
		release_slot(s);
		return 0;
	}
	uint64_t one = 1;
	while (write(s->stopfd, &one, sizeof one) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&s->release_lock);
	while (s->released_generation != generation && s->generation == generation)
		pthread_cond_wait(&s->released, &s->release_lock);
	pthread_mutex_unlock(&s->release_lock);
	return 0;
}

/* Text for an errno, copied into the caller's buffer (always NUL-terminated). */
EXPORT int dt_strerror(int err, uint8_t *out, int outlen)
{
	if (out == NULL || outlen <= 0)
		return -EINVAL;
	int e = err < 0 ? -err : err;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	const char *text = strerrordesc_np(e); /* thread-safe, no locale */
#else
	const char *text = strerror(e);
#endif
	if (text == NULL)
		text = "Unknown error";
	size_t n = strlen(text);
	if (n >= (size_t)outlen)
		n = (size_t)outlen - 1;
	memcpy(out, text, n);
	out[n] = 0;
	return (int)n;
}
