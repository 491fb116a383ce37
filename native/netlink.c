/*
 * rtnetlink for the resident client: a route socket for configuring
 * addresses and routes (dt_nl_route_open, dt_nl_transact), and the slots and
 * dt_nl_close shared with the link monitor (nlmonitor.c), whose events reach
 * JS through a receive thread.
 *
 * JS builds every request (native/netlink-msg.ts) and parses every reply; C
 * only moves bytes, numbers requests and matches replies to them. The same
 * rules as shim.c: JS-owned buffers with their lengths, -errno for errors,
 * handles with generations.
 *
 * The route socket is opened once and kept: the daemon drops privileges
 * later and keeps only CAP_NET_ADMIN, which rtnetlink checks against both
 * the opener of the socket and the sender of each request.
 */
#define _GNU_SOURCE
#include "shim.h"

/*
 * Handles carry bit 30 so that a packet-socket handle (always below 2^30,
 * see GEN_LIMIT) can never name a netlink slot, nor the other way round.
 */
#define NL_SLOT_BITS 5
#define NL_MAX_SLOTS (1 << NL_SLOT_BITS)
#define NL_HANDLE_TAG (1 << 30)
#define NL_GEN_LIMIT (1 << (30 - NL_SLOT_BITS))

/*
 * Receive room per datagram. The kernel sizes dump chunks to the reader's
 * buffer but never above 32 KiB; a lone message that big would need dozens
 * of VFs. A datagram that does not fit is an error (MSG_TRUNC), never cut.
 */
#define NL_RECV_BYTES (64 * 1024)
#define NL_REPLY_TIMEOUT_SEC 2

static struct nl_slot nl_slots[NL_MAX_SLOTS];
static pthread_mutex_t nl_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- slots and plumbing shared with nlmonitor.c ---------------------------- */

/* The open slot h names, if it is of kind (0: either), else NULL. */
struct nl_slot *nl_get(int h, int kind)
{
	if (h < 0 || !(h & NL_HANDLE_TAG))
		return NULL;
	struct nl_slot *s = &nl_slots[h & (NL_MAX_SLOTS - 1)];
	if (s->state != SLOT_OPEN || s->generation != ((h & ~NL_HANDLE_TAG) >> NL_SLOT_BITS))
		return NULL;
	return kind == 0 || s->kind == kind ? s : NULL;
}

/* Takes a free slot for the open descriptors; on failure the caller closes them. */
int nl_claim(int kind, int fd, uint32_t portid, uint8_t *rbuf, int stopfd, int armfd)
{
	pthread_mutex_lock(&nl_lock);
	for (int i = 0; i < NL_MAX_SLOTS; i++) {
		struct nl_slot *s = &nl_slots[i];
		if (s->state != SLOT_FREE)
			continue;
		int gen = s->generation + 1;
		if (gen >= NL_GEN_LIMIT)
			gen = 1;
		*s = (struct nl_slot){
			.state = SLOT_OPEN, .generation = gen, .kind = kind, .fd = fd, .portid = portid,
			.rbuf = rbuf, .stopfd = stopfd, .armfd = armfd,
		};
		s->handle = NL_HANDLE_TAG | (gen << NL_SLOT_BITS) | i;
		pthread_mutex_unlock(&nl_lock);
		return s->handle;
	}
	pthread_mutex_unlock(&nl_lock);
	return -EMFILE;
}

/* A NETLINK_ROUTE socket bound to a kernel-chosen port; its port id in *portid. */
int nl_socket(uint32_t groups, uint32_t *portid)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl local = { .nl_family = AF_NETLINK, .nl_groups = groups };
	socklen_t len = sizeof local;
	if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &len) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	*portid = local.nl_pid;
	return fd;
}

int nl_is_get(uint16_t type)
{
	return type == RTM_GETLINK || type == RTM_GETADDR || type == RTM_GETROUTE;
}

/*
 * Sends one request of reqlen bytes (a single message: nlmsg_len ==
 * reqlen) if allowed() accepts it, numbered here (*seq, nlmsg_pid) with
 * NLM_F_REQUEST and flags added. Works on a copy: the caller's bytes stay
 * as they were.
 */
int nl_send(struct nl_slot *s, const uint8_t *req, int reqlen, int (*allowed)(const struct nlmsghdr *), uint16_t flags, uint32_t *seq)
{
	if (req == NULL || reqlen < (int)NLMSG_HDRLEN || reqlen > NL_REQ_MAX)
		return -EINVAL;
	union {
		struct nlmsghdr nh;
		uint8_t bytes[NL_REQ_MAX];
	} msg;
	memcpy(msg.bytes, req, (size_t)reqlen);
	if (msg.nh.nlmsg_len != (uint32_t)reqlen)
		return -EINVAL;
	if (!allowed(&msg.nh))
		return -EOPNOTSUPP;
	if (++s->seq == 0) /* 0 is what notifications carry */
		++s->seq;
	msg.nh.nlmsg_seq = *seq = s->seq;
	msg.nh.nlmsg_pid = s->portid;
	msg.nh.nlmsg_flags |= NLM_F_REQUEST | flags;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;
	do {
		n = sendto(s->fd, msg.bytes, (size_t)reqlen, 0, (struct sockaddr *)&kernel, sizeof kernel);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/* NLM_F_DUMP shares its bits with NLM_F_REPLACE/EXCL: it means "dump" only on a GET. */
int nl_is_dump(const struct nlmsghdr *nh)
{
	return nl_is_get(nh->nlmsg_type) && (nh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
}

/* ---- the route socket ---------------------------------------------------- */

EXPORT int dt_nl_route_open(void)
{
	uint32_t portid;
	int fd = nl_socket(0, &portid);
	if (fd < 0)
		return fd;
	/* Errors come back with the kernel's reason (extack) and without a copy of our request. */
	int one = 1;
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
	/* The kernel answers while we are still in sendto(); the timeout is only a guard. */
	struct timeval tv = { .tv_sec = NL_REPLY_TIMEOUT_SEC, .tv_usec = 0 };
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	uint8_t *rbuf = malloc(NL_RECV_BYTES);
	if (rbuf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	int h = nl_claim(NL_ROUTE, fd, portid, rbuf, -1, -1);
	if (h < 0) {
		free(rbuf);
		close(fd);
	}
	return h;
}

/* The requests the route socket carries; anything else is refused before it reaches the kernel. */
static int nl_request_allowed(const struct nlmsghdr *nh)
{
	switch (nh->nlmsg_type) {
	case RTM_GETLINK:
	case RTM_NEWADDR:
	case RTM_DELADDR:
	case RTM_GETADDR:
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
	case RTM_GETROUTE:
	case RTM_GETNEIGH: /* the next hop's MAC for a unicast beyond a router */
		return 1;
	default:
		return 0;
	}
}

/* Copies the NUL-terminated extack text of an NLMSG_ERROR into errbuf, if both are there. */
static void nl_extack_text(const struct nlmsghdr *nh, uint8_t *errbuf, int errlen)
{
	if (errbuf == NULL || errlen <= 0 || !(nh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* NETLINK_CAP_ACK: the echoed request is its header alone, the TLVs follow it. */
	const size_t at = NLMSG_LENGTH(sizeof(struct nlmsgerr));
	if (nh->nlmsg_len <= at)
		return;
	int left = (int)(nh->nlmsg_len - at);
	for (const struct rtattr *a = (const void *)((const char *)nh + at); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if ((a->rta_type & NLA_TYPE_MASK) != NLMSGERR_ATTR_MSG)
			continue;
		size_t n = strnlen(RTA_DATA(a), RTA_PAYLOAD(a));
		if (n >= (size_t)errlen)
			n = (size_t)errlen - 1;
		memcpy(errbuf, RTA_DATA(a), n);
		errbuf[n] = 0;
		return;
	}
}

/*
 * Sends one complete request (a single netlink message of reqlen bytes,
 * nlmsg_len == reqlen) and waits for its answer. The shim numbers the
 * request itself (nlmsg_seq, nlmsg_pid) and adds NLM_F_REQUEST; requests
 * that change something also get NLM_F_ACK, so that every request ends in an
 * NLMSG_ERROR (0 = done) or, for a dump, NLMSG_DONE.
 *
 * Messages of the answer other than the ACK/DONE (a dump, or the reply to a
 * GET) are copied into out back to back, each padded to 4 bytes. Returns
 * the bytes written (0 for a plain ACK), or -errno: the kernel's error, or
 * -EMSGSIZE when the answer does not fit out (the rest of it is read and
 * dropped, so the next request starts clean). When the kernel gave a reason
 * with its error, errbuf gets it NUL-terminated (else errbuf[0] = 0).
 * Messages that answer something else (an older, abandoned request) are
 * skipped by sequence number.
 */
EXPORT int dt_nl_transact(int h, const uint8_t *req, int reqlen, uint8_t *out, int outlen, uint8_t *errbuf, int errlen)
{
	struct nl_slot *s = nl_get(h, NL_ROUTE);
	if (s == NULL)
		return -EBADF;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = 0;
	if (outlen < 0 || (out == NULL && outlen > 0))
		return -EINVAL;
	struct nlmsghdr head;
	if (req == NULL || reqlen < (int)sizeof head)
		return -EINVAL;
	memcpy(&head, req, sizeof head);
	/* A dump ends in NLMSG_DONE and takes no ACK; everything else ends in one. */
	uint32_t seq;
	int err = nl_send(s, req, reqlen, nl_request_allowed, nl_is_dump(&head) ? 0 : NLM_F_ACK, &seq);
	if (err)
		return err;

	size_t written = 0;
	int result = 0, done = 0;
	while (!done) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof from;
		ssize_t n;
		do {
			n = recvfrom(s->fd, s->rbuf, NL_RECV_BYTES, MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
		if (from.nl_pid != 0)
			continue; /* only the kernel answers */
		if (n > NL_RECV_BYTES) {
			/* Cut short: whatever ended the answer may be lost with it. */
			result = -EMSGSIZE;
			n = NL_RECV_BYTES;
		}
		int left = (int)n;
		for (const struct nlmsghdr *nh = (const void *)s->rbuf; !done && NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != seq || nh->nlmsg_pid != s->portid)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(int))) {
					result = -EIO;
					break;
				}
				int code;
				memcpy(&code, NLMSG_DATA(nh), sizeof code);
				if (code > 0)
					code = -EIO; /* the kernel sends 0 or -errno; anything else is not ours to trust */
				if (code < 0) {
					nl_extack_text(nh, errbuf, errlen);
					result = code;
				}
			} else if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
					int code;
					memcpy(&code, NLMSG_DATA(nh), sizeof code);
					if (code < 0) /* a dump that failed part way */
						result = code;
				}
			} else if (nh->nlmsg_type == NLMSG_OVERRUN) {
				result = -EIO;
			} else if (nh->nlmsg_type >= NLMSG_MIN_TYPE && result == 0) {
				const size_t padded = NLMSG_ALIGN(nh->nlmsg_len);
				if (padded > (size_t)outlen - written) {
					result = -EMSGSIZE; /* keep reading: the dump must run to its end */
					continue;
				}
				memcpy(out + written, nh, nh->nlmsg_len);
				memset(out + written + nh->nlmsg_len, 0, padded - nh->nlmsg_len);
				written += padded;
			}
		}
	}
	return result < 0 ? result : (int)written;
}

/* ---- either kind ------------------------------------------------------------ */

/*
 * Either kind. For a monitor: stops the thread and joins it, so the caller
 * may free the callback as soon as this returns. Idempotent in effect: a
 * second call answers -EBADF.
 */
EXPORT int dt_nl_close(int h)
{
	pthread_mutex_lock(&nl_lock);
	struct nl_slot *s = nl_get(h, 0);
	if (s == NULL) {
		pthread_mutex_unlock(&nl_lock);
		return -EBADF;
	}
	s->state = SLOT_CLOSING; /* not handed out again until freed below */
	pthread_mutex_unlock(&nl_lock);

	if (s->thread_started) {
		const uint64_t one = 1;
		while (write(s->stopfd, &one, sizeof one) < 0 && errno == EINTR)
			;
		pthread_join(s->thread, NULL);
	}
	close_fd(&s->fd);
	close_fd(&s->stopfd);
	close_fd(&s->armfd);
	free(s->rbuf);
	pthread_mutex_lock(&nl_lock);
	s->rbuf = NULL;
	s->cb = NULL;
	s->state = SLOT_FREE;
	pthread_mutex_unlock(&nl_lock);
	return 0;
}
