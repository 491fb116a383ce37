/*
 * Internal declarations shared by the shim's C files (not an API: the API is
 * the dt_* functions marked EXPORT; everything else is hidden, see build.sh).
 */
#ifndef DHCPTOOL_SHIM_H
#define DHCPTOOL_SHIM_H

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
#include <net/if_arp.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>


#define EXPORT __attribute__((visibility("default")))

#ifndef IFF_LOWER_UP /* linux/if.h has it but clashes with net/if.h */
#define IFF_LOWER_UP 0x10000
#endif

#define SLOT_BITS 8
#define MAX_SLOTS (1 << SLOT_BITS)
#define GEN_LIMIT (1 << (31 - SLOT_BITS - 1))

#define ETH_HDR_LEN 14
#define VLAN_TAG_LEN 4
#define IFINFO_LEN 28
#define STATS_LEN 2
#define RCVBUF_BYTES (4 * 1024 * 1024)

enum { MODE_CLIENT = 0, MODE_WATCH = 1, MODE_ARP = 2 };
#define MODE_FILTER_MASK 0xff
/* dt_open flag: the interface goes promiscuous while the socket is open. */
#define OPEN_PROMISC 0x100
/* dt_open flag: frames come through a TPACKET_V3 ring (ring.c), not recvmmsg() (rx.c). */
#define OPEN_RING 0x200
/*
 * dt_open flag, with OPEN_RING: a block is handed over RING_PROMPT_TIMEOUT_MS
 * after its first frame, not RING_TIMEOUT_MS: for a client that answers what
 * it reads (the load generator's REQUESTs would otherwise leave in bursts).
 */
#define OPEN_RING_PROMPT 0x400

/* dt_open's vlan, besides a VLAN id (1-4094): every frame, or untagged ones only. */
#define VLAN_ANY (-1)
#define VLAN_NONE (-2)

/* Metadata per frame in dt_recv_batch's meta array; see there. */
#define RECV_BATCH_STRIDE 12

/* Frames per recvmmsg(); also the size of the staging area in frames. */
#define RX_STAGE_FRAMES 64
/*
 * Room for one frame: the largest IPv4 datagram (65535) behind an Ethernet
 * header with two VLAN tags, rounded up. Larger frames (none that the filter
 * lets through should be) are delivered truncated, with the flag set.
 */
#define RX_SLOT_BYTES (65536 + 256)

/*
 * The ring: RING_BLOCKS blocks of RING_BLOCK_BYTES. The kernel fills a block
 * with frames back to back and hands it over when it is full or, with fewer
 * frames, RING_TIMEOUT_MS after its first one: one wake-up per block. 16 MiB
 * hold ~38,000 DHCP-sized frames, 0.4 s of a 100k/s flood, for JS to fall
 * behind by (a garbage collection) without a drop. Setting it up costs
 * ~10-20 ms at open (the kernel allocates and zeroes it); 32 MiB cost twice
 * that, and blocks of 1 MiB (order-8 pages) are harder for it to find.
 */
#define RING_BLOCK_BYTES (256 * 1024)
#define RING_BLOCKS 64
#define RING_TIMEOUT_MS 4
#define RING_PROMPT_TIMEOUT_MS 1

/* dt_rearm's eventfd values: wait for the socket, or frames are staged: fire at once. */
#define ARM_WAIT 1
#define ARM_STAGED 2

/* One received frame as dt_recv_batch describes it to JS (see there). */
struct rx_frame {
	uint32_t len; /* bytes of it here */
	int32_t status; /* tp_status */
	int32_t wire; /* tp_len */
	int32_t truncated;
	int32_t pkttype;
	int32_t vlan_tci; /* the tag the kernel took off; valid with TP_STATUS_VLAN_VALID */
	int32_t vlan_tpid; /* valid with TP_STATUS_VLAN_TPID_VALID */
	int32_t nsec;
	int64_t sec; /* receive time, CLOCK_REALTIME */
	int32_t kernel_time; /* 1: the kernel's receive time; 0: read here, the kernel gave none */
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
		char bytes[CMSG_SPACE(sizeof(struct tpacket_auxdata)) + CMSG_SPACE(sizeof(struct timespec))];
	} control[RX_STAGE_FRAMES];
	uint8_t data[RX_STAGE_FRAMES][RX_SLOT_BYTES];
};

/* A TPACKET_V3 ring mapped from the socket, and where JS is in it. */
struct rx_ring {
	uint8_t *map;
	size_t map_bytes;
	unsigned block_bytes, blocks;
	unsigned block; /* the block to read next */
	unsigned left; /* frames of it not yet copied out; 0: not opened yet */
	uint32_t next; /* offset in the block of the next frame */
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
	struct rx_ring ring; /* map NULL: frames come through recvmmsg() and the stage */
	int deferred_err; /* -errno met after some frames were returned; reported next */
};

/* shim.c */
struct slot *slot_get(int h);
void close_fd(int *fd);
int wait_ready(int fd, int stopfd);
int start_quiet_thread(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

/* link.c */
struct link_facts {
	int ifindex;
	uint16_t type; /* ARPHRD_* */
	uint32_t flags; /* IFF_*, full 32 bits (IFF_LOWER_UP is not in SIOCGIFFLAGS) */
	uint32_t mtu;
	uint8_t mac[6];
	uint32_t master; /* IFLA_MASTER: the bridge or bond this link is a port of; 0 for none */
};
int check_ifname(const char *name);
int link_query(const char *name, struct link_facts *lf);
void link_facts_out(const struct link_facts *lf, uint8_t *out);

/* packet.c */
int packet_open(const char *ifname, int mode, int vlan, struct link_facts *lf, struct rx_ring *ring);

/* ring.c */
int ring_map(int fd, struct rx_ring *ring, int timeout_ms);
void ring_unmap(struct rx_ring *ring);
int ring_peek(int fd, struct rx_ring *ring, struct rx_frame *f, const uint8_t **data);
void ring_next(struct rx_ring *ring);
int ring_has_frames(const struct rx_ring *ring);

/* closer.c */
void reap_closers(void);
void wait_closer(pid_t pid);
pid_t handoff_close(int fd);

/* netlink.c, nlmonitor.c: rtnetlink sockets, in slots of their own */
#define NL_REQ_MAX 4096 /* largest request JS may hand over: one message, a few attributes */
enum { NL_ROUTE = 1, NL_MONITOR = 2 };

struct nl_slot {
	int state; /* SLOT_FREE, SLOT_OPEN, SLOT_CLOSING */
	int generation;
	int kind;
	int fd;
	uint32_t portid;
	uint32_t seq; /* of the last request sent */
	uint8_t *rbuf; /* route socket: room for one reply datagram */
	/* monitor: its thread and what wakes it */
	int stopfd, armfd;
	int thread_started;
	pthread_t thread;
	ready_cb cb;
	int32_t handle;
};

struct nl_slot *nl_get(int h, int kind);
int nl_claim(int kind, int fd, uint32_t portid, uint8_t *rbuf, int stopfd, int armfd);
int nl_socket(uint32_t groups, uint32_t *portid);
int nl_is_get(uint16_t type);
int nl_is_dump(const struct nlmsghdr *nh);
int nl_send(struct nl_slot *s, const uint8_t *req, int reqlen, int (*allowed)(const struct nlmsghdr *), uint16_t flags, uint32_t *seq);

#endif
