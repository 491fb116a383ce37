/*
 * Receiving in batches: dt_recv_batch and its staging area (see shim.c's
 * header comment for why frames are staged before they are copied out).
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

	for (int i = 0; i < n; i++) {
		struct msghdr *m = &st->msgs[i].msg_hdr;
		uint32_t len = st->msgs[i].msg_len;
		if (len > RX_SLOT_BYTES)
			len = RX_SLOT_BYTES;
		int32_t status = 0, wire = (int32_t)len;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
			if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
				struct tpacket_auxdata aux;
				memcpy(&aux, CMSG_DATA(c), sizeof aux);
				status = (int32_t)aux.tp_status;
				wire = aux.tp_len > INT32_MAX ? INT32_MAX : (int32_t)aux.tp_len;
			}
		}
		struct rx_frame *f = &st->frames[i];
		f->len = len;
		f->status = status;
		f->wire = wire;
		f->truncated = ((m->msg_flags & MSG_TRUNC) || (uint32_t)wire > len) ? 1 : 0;
		f->pkttype = m->msg_namelen >= offsetof(struct sockaddr_ll, sll_pkttype) + 1 ? st->from[i].sll_pkttype : 0;
	}
	st->head = 0;
	st->count = (unsigned)n;
	return n;
}

/*
 * Copies up to maxframes queued frames back to back into buf and describes
 * each in meta, RECV_BATCH_STRIDE (6) int32s per frame:
 *   [0] offset of the frame in buf
 *   [1] bytes of it in buf
 *   [2] raw tp_status (TP_STATUS_CSUMNOTREADY, TP_STATUS_CSUM_VALID, ...)
 *   [3] length on the wire (tp_len)
 *   [4] 1 when the frame was cut short (longer than a staging slot, or than
 *       all of buf), else 0
 *   [5] sll_pkttype (PACKET_HOST, PACKET_BROADCAST, PACKET_OUTGOING, ...)
 * Frame i starts where frame i-1 ends. A frame longer than the room left in
 * buf ends the batch before it and comes first in the next call; only a
 * frame longer than all of buf, met first, is cut to buflen. maxframes is
 * capped at metalen / 6. Returns the number of frames, 0 when none are
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
	struct rx_stage *st = stage_get(s);
	if (st == NULL)
		return -ENOMEM;

	const size_t room = (size_t)buflen;
	size_t used = 0;
	int n = 0, dry = 0;
	while (n < maxframes) {
		if (st->head >= st->count) {
			if (dry)
				break; /* the last recvmmsg() emptied the queue: no need to ask again */
			if (s->deferred_err) {
				if (n > 0)
					break;
				const int err = s->deferred_err;
				s->deferred_err = 0;
				return err;
			}
			const unsigned asked = (unsigned)(maxframes - n) < RX_STAGE_FRAMES ? (unsigned)(maxframes - n) : RX_STAGE_FRAMES;
			const int got = stage_fill(s->fd, st, asked);
			if (got == 0)
				break;
			if (got < 0) {
				if (n == 0)
					return got;
				s->deferred_err = got;
				break;
			}
			dry = (unsigned)got < asked;
		}
		const struct rx_frame *f = &st->frames[st->head];
		size_t len = f->len;
		int32_t truncated = f->truncated;
		if (len > room - used) {
			if (n > 0)
				break; /* the next call starts with it, in an empty buffer */
			len = room; /* longer than all of buf: take what fits */
			truncated = 1;
		}
		memcpy(buf + used, st->data[st->head], len);
		int32_t *m = meta + (size_t)n * RECV_BATCH_STRIDE;
		m[0] = (int32_t)used;
		m[1] = (int32_t)len;
		m[2] = f->status;
		m[3] = f->wire;
		m[4] = truncated;
		m[5] = f->pkttype;
		used += len;
		st->head++;
		n++;
	}
	return n;
}
