/*
 * Receiving in batches: dt_recv_batch copies frames back to back into the
 * caller's buffer, each described by a row of metadata, from one of two
 * sources chosen at dt_open:
 *
 * - recvmmsg() into a staging area of the socket's own (the default): up to
 *   RX_STAGE_FRAMES frames per call, one slot per frame, each big enough for
 *   any frame the link can carry. The staging exists because a frame's
 *   length is known only once the kernel has handed it over: recvmmsg() must
 *   be given each message's room up front, and a frame that met too little
 *   room would be cut short for good. Each frame's tag, checksum state and
 *   receive time come as control messages (PACKET_AUXDATA, SO_TIMESTAMPNS).
 * - a TPACKET_V3 ring (OPEN_RING, ring.c), where the kernel has already laid
 *   the frames out with a header each.
 *
 * Frames taken but not copied (the caller's buffer was full) stay where they
 * are and come first in the next call; dt_rearm then tells the receive
 * thread to fire again at once, since the socket alone would not show them.
 */
#define _GNU_SOURCE
#include "shim.h"

/* Maps the staging area and points each message at its slot; once per socket. */
static struct rx_stage *stage_get(struct slot *s)
{
	if (s->stage != NULL)
		return s->stage;
	void *m = mmap(NULL, sizeof(struct rx_stage), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct rx_stage *st = m; /* zero-filled */
	for (int i = 0; i < RX_STAGE_FRAMES; i++) {
		st->iov[i].iov_base = st->data[i];
		st->iov[i].iov_len = RX_SLOT_BYTES;
		st->msgs[i].msg_hdr.msg_iov = &st->iov[i];
		st->msgs[i].msg_hdr.msg_iovlen = 1;
		st->msgs[i].msg_hdr.msg_name = &st->from[i];
		st->msgs[i].msg_hdr.msg_control = st->control[i].bytes;
	}
	s->stage = st;
	return st;
}

/* What the control messages of one received message say about its frame. */
static void read_control(struct msghdr *m, struct rx_frame *f, const struct timespec *now)
{
	f->status = 0;
	f->vlan_tci = 0;
	f->vlan_tpid = 0;
	f->sec = now->tv_sec;
	f->nsec = (int32_t)now->tv_nsec;
	f->kernel_time = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
			struct tpacket_auxdata aux;
			memcpy(&aux, CMSG_DATA(c), sizeof aux);
			f->status = (int32_t)aux.tp_status;
			f->wire = aux.tp_len > INT32_MAX ? INT32_MAX : (int32_t)aux.tp_len;
			f->vlan_tci = aux.tp_vlan_tci;
			f->vlan_tpid = aux.tp_vlan_tpid;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof ts);
			f->sec = ts.tv_sec;
			f->nsec = (int32_t)ts.tv_nsec;
			f->kernel_time = 1;
		}
	}
}

/*
 * Takes up to want frames off the socket into the (empty) staging area.
 * Returns how many, 0 when the queue is empty, or -errno.
 */
static int stage_fill(int fd, struct rx_stage *st, unsigned want)
{
	if (want > RX_STAGE_FRAMES)
		want = RX_STAGE_FRAMES;
	for (unsigned i = 0; i < want; i++) {
		struct msghdr *m = &st->msgs[i].msg_hdr;
		m->msg_namelen = sizeof st->from[i];
		m->msg_controllen = sizeof st->control[i].bytes;
		m->msg_flags = 0;
		st->msgs[i].msg_len = 0;
	}
	int n;
	do {
		n = recvmmsg(fd, st->msgs, want, MSG_DONTWAIT, NULL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	if ((unsigned)n > want) /* never, but the copy below trusts it */
		return -EIO;

	struct timespec now; /* for a frame the kernel gave no time (it always does) */
	clock_gettime(CLOCK_REALTIME, &now);
	for (int i = 0; i < n; i++) {
		struct msghdr *m = &st->msgs[i].msg_hdr;
		struct rx_frame *f = &st->frames[i];
		uint32_t len = st->msgs[i].msg_len;
		if (len > RX_SLOT_BYTES)
			len = RX_SLOT_BYTES;
		f->len = len;
		f->wire = (int32_t)len;
		read_control(m, f, &now);
		f->truncated = ((m->msg_flags & MSG_TRUNC) || (uint32_t)f->wire > len) ? 1 : 0;
		f->pkttype = m->msg_namelen >= offsetof(struct sockaddr_ll, sll_pkttype) + 1 ? st->from[i].sll_pkttype : 0;
	}
	st->head = 0;
	st->count = (unsigned)n;
	return n;
}

/*
 * The next frame from the stage, refilled (up to want frames) when empty:
 * 1, 0 when none is queued, or -errno. *dry: the last refill emptied the
 * socket's queue, so an empty stage needs no other recvmmsg() this call.
 */
static int stage_peek(struct slot *s, struct rx_stage *st, unsigned want, int *dry, const struct rx_frame **f, const uint8_t **data)
{
	if (st->head >= st->count) {
		if (*dry)
			return 0;
		const unsigned asked = want < RX_STAGE_FRAMES ? want : RX_STAGE_FRAMES;
		const int got = stage_fill(s->fd, st, asked);
		if (got <= 0)
			return got;
		*dry = (unsigned)got < asked;
	}
	*f = &st->frames[st->head];
	*data = st->data[st->head];
	return 1;
}

/*
 * Copies up to maxframes queued frames back to back into buf and describes
 * each in meta, RECV_BATCH_STRIDE (12) int32s per frame:
 *   [0] offset of the frame in buf
 *   [1] bytes of it in buf
 *   [2] raw tp_status (TP_STATUS_CSUMNOTREADY, TP_STATUS_CSUM_VALID,
 *       TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID, ...)
 *   [3] length on the wire (tp_len)
 *   [4] 1 when the frame was cut short (longer than a staging slot, or than
 *       all of buf), else 0
 *   [5] sll_pkttype (PACKET_HOST, PACKET_BROADCAST, PACKET_OUTGOING, ...)
 *   [6] the TCI of the VLAN tag the kernel took off (with TP_STATUS_VLAN_VALID)
 *   [7] that tag's TPID (with TP_STATUS_VLAN_TPID_VALID)
 *   [8] receive time, seconds since the epoch: low 32 bits (unsigned)
 *   [9] ... high 32 bits
 *   [10] ... nanoseconds
 *   [11] 1: the time is the kernel's; 0: read here, the kernel gave none
 * Frame i starts where frame i-1 ends. A frame longer than the room left in
 * buf ends the batch before it and comes first in the next call; only a
 * frame longer than all of buf, met first, is cut to buflen. maxframes is
 * capped at metalen / 12. Returns the number of frames, 0 when none are
 * queued, or -errno (an error met after some frames waits for the next call).
 */
EXPORT int dt_recv_batch(int h, uint8_t *buf, int buflen, int32_t *meta, int metalen, int maxframes)
{
	struct slot *s = slot_get(h);
	if (s == NULL)
		return -EBADF;
	if (buf == NULL || buflen <= 0 || meta == NULL || metalen < RECV_BATCH_STRIDE || maxframes <= 0)
		return -EINVAL;
	if (maxframes > metalen / RECV_BATCH_STRIDE)
		maxframes = metalen / RECV_BATCH_STRIDE;
	struct rx_stage *st = NULL;
	if (s->ring.map == NULL && (st = stage_get(s)) == NULL)
		return -ENOMEM;

	const size_t room = (size_t)buflen;
	size_t used = 0;
	int n = 0, dry = 0;
	while (n < maxframes) {
		struct rx_frame ringframe;
		const struct rx_frame *f = &ringframe;
		const uint8_t *data;
		int got;
		if (s->deferred_err != 0 && (st == NULL || st->head >= st->count)) {
			if (n > 0)
				break;
			got = s->deferred_err;
			s->deferred_err = 0;
			return got;
		}
		if (st != NULL)
			got = stage_peek(s, st, (unsigned)(maxframes - n), &dry, &f, &data);
		else
			got = ring_peek(s->fd, &s->ring, &ringframe, &data);
		if (got == 0)
			break;
		if (got < 0) {
			if (n == 0)
				return got;
			s->deferred_err = got;
			break;
		}
		size_t len = f->len;
		int32_t truncated = f->truncated;
		if (len > room - used) {
			if (n > 0)
				break; /* the next call starts with it, in an empty buffer */
			len = room; /* longer than all of buf: take what fits */
			truncated = 1;
		}
		memcpy(buf + used, data, len);
		int32_t *m = meta + (size_t)n * RECV_BATCH_STRIDE;
		m[0] = (int32_t)used;
		m[1] = (int32_t)len;
		m[2] = f->status;
		m[3] = f->wire;
		m[4] = truncated;
		m[5] = f->pkttype;
		m[6] = f->vlan_tci;
		m[7] = f->vlan_tpid;
		m[8] = (int32_t)(uint32_t)((uint64_t)f->sec & 0xffffffffu);
		m[9] = (int32_t)(uint32_t)((uint64_t)f->sec >> 32);
		m[10] = f->nsec;
		m[11] = f->kernel_time;
		used += len;
		if (st != NULL)
			st->head++;
		else
			ring_next(&s->ring);
		n++;
	}
	return n;
}
