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
 * Receiving in batches: dt_recv_batch takes up to RX_STAGE_FRAMES frames per
 * recvmmsg() into a staging area of this socket's own (one slot per frame,
 * each big enough for any frame the link can carry), then copies them back
 * to back into the caller's buffer. The staging exists because a frame's
 * length is known only once the kernel has handed it over: recvmmsg() must be
 * given each message's room up front, and a frame that met too little room
 * would be cut short for good. Frames taken but not copied (the caller's
 * buffer was full) stay staged and come first in the next call; dt_rearm
 * then tells the receive thread to fire again at once, since the socket
 * alone would not show them.
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

/* ---- packet socket ------------------------------------------------------ */

/*
 * Classic BPF over the whole Ethernet frame (SOCK_RAW). Offsets: ethertype
 * at 12, IPv4 header at 14, protocol at 23, flags/fragment offset at 20, UDP
 * header at 14 + IHL*4. Fragments are dropped outright (MF set or offset
 * non-zero): DHCP never fragments and a first fragment would reach JS with a
 * UDP length that lies about what follows.
 */
#define ACCEPT_BYTES 262144

/* Jump offsets count from the next instruction; the index of each is on its right. */
static struct sock_filter client_filter[] = {
	BPF_STMT(BPF_LD + BPF_H + BPF_ABS, 12),                  /* 0 ethertype */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, ETHERTYPE_IP, 0, 8), /* 1 else drop */
	BPF_STMT(BPF_LD + BPF_B + BPF_ABS, 23),                  /* 2 IP protocol */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, IPPROTO_UDP, 0, 6),  /* 3 else drop */
	BPF_STMT(BPF_LD + BPF_H + BPF_ABS, 20),                  /* 4 flags, fragment offset */
	BPF_JUMP(BPF_JMP + BPF_JSET + BPF_K, 0x3fff, 4, 0),      /* 5 MF or offset: drop */
	BPF_STMT(BPF_LDX + BPF_B + BPF_MSH, 14),                 /* 6 X = IHL * 4 */
	BPF_STMT(BPF_LD + BPF_H + BPF_IND, 16),                  /* 7 UDP destination port */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 68, 0, 1),           /* 8 */
	BPF_STMT(BPF_RET + BPF_K, ACCEPT_BYTES),                 /* 9 accept */
	BPF_STMT(BPF_RET + BPF_K, 0),                            /* 10 drop */
};

static struct sock_filter watch_filter[] = {
	BPF_STMT(BPF_LD + BPF_H + BPF_ABS, 12),                   /* 0 ethertype */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, ETHERTYPE_IP, 0, 12), /* 1 else drop */
	BPF_STMT(BPF_LD + BPF_B + BPF_ABS, 23),                   /* 2 IP protocol */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, IPPROTO_UDP, 0, 10),  /* 3 else drop */
	BPF_STMT(BPF_LD + BPF_H + BPF_ABS, 20),                   /* 4 flags, fragment offset */
	BPF_JUMP(BPF_JMP + BPF_JSET + BPF_K, 0x3fff, 8, 0),       /* 5 MF or offset: drop */
	BPF_STMT(BPF_LDX + BPF_B + BPF_MSH, 14),                  /* 6 X = IHL * 4 */
	BPF_STMT(BPF_LD + BPF_H + BPF_IND, 14),                   /* 7 UDP source port */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 67, 4, 0),            /* 8 accept */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 68, 3, 0),            /* 9 accept */
	BPF_STMT(BPF_LD + BPF_H + BPF_IND, 16),                   /* 10 UDP destination port */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 67, 1, 0),            /* 11 accept */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 68, 0, 1),            /* 12 */
	BPF_STMT(BPF_RET + BPF_K, ACCEPT_BYTES),                  /* 13 accept */
	BPF_STMT(BPF_RET + BPF_K, 0),                             /* 14 drop */
};

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * mode: the filter in the low byte (MODE_CLIENT 0, MODE_WATCH 1), ORed with
 * OPEN_PROMISC (0x100) to put the interface in promiscuous mode while the
 * socket is open (a PACKET_MR_PROMISC membership: the kernel counts it, and
 * drops it when the socket closes, however the process ends).
 */
EXPORT int dt_open(const char *ifname, int mode)
{
	const int filter = mode & MODE_FILTER_MASK;
	if ((filter != MODE_CLIENT && filter != MODE_WATCH) || (mode & ~(MODE_FILTER_MASK | OPEN_PROMISC)))
		return -EINVAL;
	struct link_facts lf;
	int err = link_query(ifname, &lf);
	if (err)
		return err;

	/*
	 * Protocol 0: the socket is on no receive hook until bind() names one,
	 * so nothing unfiltered can be queued before the filter is on. The drain
	 * below is belt and braces.
	 */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int stopfd = -1, armfd = -1;

	struct sock_fprog prog;
	if (filter == MODE_CLIENT) {
		prog.len = sizeof client_filter / sizeof client_filter[0];
		prog.filter = client_filter;
	} else {
		prog.len = sizeof watch_filter / sizeof watch_filter[0];
		prog.filter = watch_filter;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
		goto fail_errno;

	char scratch[64];
	while (recv(fd, scratch, sizeof scratch, MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;

	int one = 1;
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0)
		goto fail_errno;

	/* FORCE needs CAP_NET_ADMIN; plain SO_RCVBUF is capped by rmem_max. */
	int rcvbuf = RCVBUF_BYTES;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);

	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	/*
	 * client: ETH_P_IP, received frames only. watch: ETH_P_ALL, because
	 * only the "all" taps also see frames this host sends (a local server's
	 * replies, another client's requests), marked PACKET_OUTGOING. The BPF
	 * program checks the ethertype either way.
	 */
	sll.sll_protocol = htons(filter == MODE_WATCH ? ETH_P_ALL : ETH_P_IP);
	sll.sll_ifindex = lf.ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0)
		goto fail_errno;

	if (mode & OPEN_PROMISC) {
		struct packet_mreq mr;
		memset(&mr, 0, sizeof mr);
		mr.mr_ifindex = lf.ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
			goto fail_errno;
	}

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
	s->deferred_err = 0;
	pthread_mutex_unlock(&slots_lock);
	return handle;

fail_errno:
	err = -errno;
fail:
	close_fd(&armfd);
	close_fd(&stopfd);
	close(fd);
	return err;
}

/* Closes a slot's descriptors and gives the slot back. Slow: see the top. */
static void release_slot(struct slot *s)
{
	pid_t closer = handoff_close(s->fd);
	s->fd = -1;
	if (closer > 0)
		remember_closer(closer); /* table full: the zombie waits for init */
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

	/* Before dt_close returns, our descriptor table must not hold the socket. */
	const pid_t closer = handoff_close(s->fd);
	s->fd = -1;
	pthread_mutex_lock(&s->release_lock);
	s->released_generation = generation;
	pthread_cond_broadcast(&s->released);
	pthread_mutex_unlock(&s->release_lock);
	release_slot(s); /* s->fd is -1 by now: only the eventfds are closed */
	/* Reap our closer (a grace period from now); the process may exit first. */
	while (closer > 0 && waitpid(closer, NULL, __WALL) < 0 && errno == EINTR)
		;
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
	const int staged = s->deferred_err != 0 || (s->stage != NULL && s->stage->head < s->stage->count);
	const uint64_t v = staged ? ARM_STAGED : ARM_WAIT;
	if (write(s->armfd, &v, sizeof v) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

EXPORT int dt_send(int h, const uint8_t *frame, int len)
{
	struct slot *s = slot_get(h);
	if (s == NULL)
		return -EBADF;
	if (len < ETH_HDR_LEN || (uint64_t)len > (uint64_t)s->mtu + ETH_HDR_LEN)
		return -EMSGSIZE;
	if (frame == NULL)
		return -EINVAL;

	struct sockaddr_ll to;
	memset(&to, 0, sizeof to);
	to.sll_family = AF_PACKET;
	to.sll_ifindex = s->ifindex;
	memcpy(&to.sll_protocol, frame + 12, 2); /* the frame's own ethertype */
	to.sll_halen = 6;
	memcpy(to.sll_addr, frame, 6);

	ssize_t n;
	do {
		n = sendto(s->fd, frame, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (int)n;
}

/*
 * out (outlen >= 2): [0] frames that passed the filter, [1] of those, dropped
 * for want of buffer space; both since open. The kernel resets its counters
 * on every read, so the totals are kept here.
 */
EXPORT int dt_stats(int h, uint32_t *out, int outlen)
{
	struct slot *s = slot_get(h);
	if (s == NULL)
		return -EBADF;
	if (out == NULL || outlen < STATS_LEN)
		return -EINVAL;
	struct tpacket_stats st;
	socklen_t len = sizeof st;
	memset(&st, 0, sizeof st);
	if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return -errno;
	s->total_packets += st.tp_packets;
	s->total_drops += st.tp_drops;
	out[0] = s->total_packets > UINT32_MAX ? UINT32_MAX : (uint32_t)s->total_packets;
	out[1] = s->total_drops > UINT32_MAX ? UINT32_MAX : (uint32_t)s->total_drops;
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
