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
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/time.h>

#define EXPORT __attribute__((visibility("default")))

#ifndef IFF_LOWER_UP /* linux/if.h has it but clashes with net/if.h */
#define IFF_LOWER_UP 0x10000
#endif

#define SLOT_BITS 8
#define MAX_SLOTS (1 << SLOT_BITS)
#define GEN_LIMIT (1 << (31 - SLOT_BITS - 1))

#define ETH_HDR_LEN 14
#define IFINFO_LEN 24
#define STATS_LEN 2
#define RCVBUF_BYTES (4 * 1024 * 1024)

enum { MODE_CLIENT = 0, MODE_WATCH = 1 };
#define MODE_FILTER_MASK 0xff
/* dt_open flag: the interface goes promiscuous while the socket is open. */
#define OPEN_PROMISC 0x100

/* Metadata per frame in dt_recv_batch's meta array; see there. */
#define RECV_BATCH_STRIDE 6

/* Frames per recvmmsg(); also the size of the staging area in frames. */
#define RX_STAGE_FRAMES 64
/*
 * Room for one frame: the largest IPv4 datagram (65535) behind an Ethernet
 * header with two VLAN tags, rounded up. Larger frames (none that the filter
 * lets through should be) are delivered truncated, with the flag set.
 */
#define RX_SLOT_BYTES (65536 + 256)

/* dt_rearm's eventfd values: wait for the socket, or frames are staged: fire at once. */
#define ARM_WAIT 1
#define ARM_STAGED 2

struct rx_frame {
	uint32_t len; /* bytes in the slot */
	int32_t status; /* tp_status */
	int32_t wire; /* tp_len */
	int32_t truncated;
	int32_t pkttype;
};

/* One mmap() per socket, on first use; pages are touched only as frames fill them. */
struct rx_stage {
	unsigned head, count; /* frames[head, count) are staged, not yet copied out */
	struct rx_frame frames[RX_STAGE_FRAMES];
	struct mmsghdr msgs[RX_STAGE_FRAMES];
	struct iovec iov[RX_STAGE_FRAMES];
	struct sockaddr_ll from[RX_STAGE_FRAMES];
	union {
		struct cmsghdr align;
		char bytes[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} control[RX_STAGE_FRAMES];
	uint8_t data[RX_STAGE_FRAMES][RX_SLOT_BYTES];
};

typedef void (*ready_cb)(int32_t handle);

enum { SLOT_FREE = 0, SLOT_OPEN, SLOT_CLOSING };

struct slot {
	int state;
	int generation;
	int fd;
	int stopfd;
	int armfd;
	int ifindex;
	uint32_t mtu;
	int thread_started;
	/*
	 * The receive thread stores its generation here once it will never call
	 * cb again. The lock and condition live as long as the process: they are
	 * set up once and never reset, so a dt_close still waking up cannot meet
	 * a re-initialised lock even if the slot was handed out again meanwhile.
	 */
	int released_generation;
	pthread_mutex_t release_lock;
	pthread_cond_t released;
	ready_cb cb;
	int32_t handle;
	uint64_t total_packets;
	uint64_t total_drops;
	struct rx_stage *stage; /* NULL until the first dt_recv_batch */
	int deferred_err; /* -errno met after some frames were returned; reported next */
};

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

static struct slot *slot_get(int h)
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

/* 0 for a usable name, else -errno. The kernel's own rules (dev_valid_name). */
static int check_ifname(const char *name)
{
	if (name == NULL)
		return -EINVAL;
	size_t len = strnlen(name, IFNAMSIZ);
	if (len == 0)
		return -EINVAL;
	if (len >= IFNAMSIZ)
		return -ENAMETOOLONG;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c == ':' || c <= ' ')
			return -EINVAL;
	}
	return 0;
}

/* ---- interface facts over rtnetlink ------------------------------------ */

struct link_facts {
	int ifindex;
	uint16_t type; /* ARPHRD_* */
	uint32_t flags; /* IFF_*, full 32 bits (IFF_LOWER_UP is not in SIOCGIFFLAGS) */
	uint32_t mtu;
	uint8_t mac[6];
};

static int parse_link(const char *resp, size_t len, struct link_facts *lf);

/*
 * RTM_GETLINK by name, answered in the caller's network namespace.
 * Netlink instead of ioctls because only it reports IFF_LOWER_UP (carrier).
 */
static int link_query(const char *name, struct link_facts *lf)
{
	int err = check_ifname(name);
	if (err)
		return err;

	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[64];
	} req;
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.ifi);
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;

	size_t namelen = strlen(name) + 1;
	struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	rta->rta_type = IFLA_IFNAME;
	rta->rta_len = (unsigned short)RTA_LENGTH(namelen); /* namelen <= IFNAMSIZ */
	memcpy(RTA_DATA(rta), name, namelen);
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);

	/* Counters are large and useless here; VF lists are off unless asked for. */
	uint32_t mask = RTEXT_FILTER_SKIP_STATS;
	rta = (struct rtattr *)((char *)&req + req.nh.nlmsg_len);
	rta->rta_type = IFLA_EXT_MASK;
	rta->rta_len = RTA_LENGTH(sizeof mask);
	memcpy(RTA_DATA(rta), &mask, sizeof mask);
	req.nh.nlmsg_len += RTA_ALIGN(rta->rta_len);

	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
		err = -errno;
		close(fd);
		return err;
	}

	/* One answer, RTM_NEWLINK or NLMSG_ERROR: peek at its size, then read it whole. */
	ssize_t n;
	do {
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		err = n < 0 ? -errno : -EIO;
		close(fd);
		return err;
	}
	size_t resp_size = (size_t)n;
	char *resp = malloc(resp_size);
	if (resp == NULL) {
		close(fd);
		return -ENOMEM;
	}
	do {
		n = recv(fd, resp, resp_size, 0);
	} while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : parse_link(resp, (size_t)n, lf);
	close(fd);
	free(resp);
	return err;
}

/* Reads the answer to link_query's request: RTM_NEWLINK or NLMSG_ERROR. */
static int parse_link(const char *resp, size_t len, struct link_facts *lf)
{
	size_t left = len;
	for (const struct nlmsghdr *nh = (const struct nlmsghdr *)resp; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
		if (nh->nlmsg_seq != 1)
			continue;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -EIO;
			const struct nlmsgerr *e = NLMSG_DATA(nh);
			return e->error < 0 ? e->error : -EIO;
		}
		if (nh->nlmsg_type != RTM_NEWLINK)
			continue;
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
			return -EIO;
		const struct ifinfomsg *ifi = NLMSG_DATA(nh);
		memset(lf, 0, sizeof *lf);
		lf->ifindex = ifi->ifi_index;
		lf->type = ifi->ifi_type;
		lf->flags = ifi->ifi_flags;
		int alen = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof *ifi));
		for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
			size_t plen = RTA_PAYLOAD(a);
			if (a->rta_type == IFLA_MTU && plen >= sizeof(uint32_t))
				memcpy(&lf->mtu, RTA_DATA(a), sizeof(uint32_t));
			else if (a->rta_type == IFLA_ADDRESS && plen == 6)
				memcpy(lf->mac, RTA_DATA(a), 6);
		}
		return lf->ifindex > 0 ? 0 : -EIO;
	}
	return -EIO;
}

/*
 * out (outlen >= 24), little-endian native layout:
 *   [0]  u32 ifindex
 *   [4]  u8[6] hardware address (zeros when the link has no 6-byte address)
 *   [10] u16 hardware type (ARPHRD_*: 1 Ethernet, 772 loopback)
 *   [12] u32 flags (IFF_*, including IFF_LOWER_UP / IFF_DORMANT)
 *   [16] u32 mtu
 *   [20] i32 carrier: 1 up, 0 down, -1 unknown (interface administratively down)
 */
EXPORT int dt_ifinfo(const char *name, uint8_t *out, int outlen)
{
	if (out == NULL || outlen < IFINFO_LEN)
		return -EINVAL;
	struct link_facts lf;
	int err = link_query(name, &lf);
	if (err)
		return err;
	uint32_t index = (uint32_t)lf.ifindex;
	int32_t carrier = (lf.flags & IFF_UP) ? ((lf.flags & IFF_LOWER_UP) ? 1 : 0) : -1;
	memcpy(out + 0, &index, 4);
	memcpy(out + 4, lf.mac, 6);
	memcpy(out + 10, &lf.type, 2);
	memcpy(out + 12, &lf.flags, 4);
	memcpy(out + 16, &lf.mtu, 4);
	memcpy(out + 20, &carrier, 4);
	return 0;
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

static void reap_closers(void)
{
	pthread_mutex_lock(&closers_lock);
	for (int i = 0; i < MAX_CLOSERS; i++)
		if (closers[i] > 0 && waitpid(closers[i], NULL, WNOHANG | __WALL) != 0)
			closers[i] = 0;
	pthread_mutex_unlock(&closers_lock);
}

static int remember_closer(pid_t pid)
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
static pid_t handoff_close(int fd)
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

/*
 * Blocks until fd is readable or stop is signalled: 1 = ready, 0 = stop.
 * Only the stop eventfd ends the wait, so the thread never leaves while JS
 * still holds the handle.
 */
static int wait_ready(int fd, int stopfd)
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

	/* Detached: dt_close waits for released_generation, not for the thread's end.
	 * The thread takes no signals: they belong to the runtime's threads. */
	pthread_attr_t attr;
	pthread_t thread;
	if (pthread_attr_init(&attr))
		return -ENOMEM;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&thread, &attr, receive_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err)
		return -err;
	s->thread_started = 1;
	return 0;
}

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
