/*
 * The packet socket itself: the classic BPF programs that decide what reaches
 * it, opening and binding it to one interface (the socket half of dt_open in
 * shim.c), sending a frame, and the kernel's counters. Handles, the receive
 * thread and closing are shim.c's; draining received frames is rx.c's.
 */
#define _GNU_SOURCE
#include "shim.h"

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

/*
 * watch: from or to port 67 or 68. The IPv4 header starts at 14 + E: E is 4
 * behind a tag still in the bytes (the kernel takes off one 802.1Q or 802.1ad
 * tag, so the inner tag of a QinQ frame stays, and it takes off no 0x9100 tag).
 */
#define WATCH_PROGRAM(E) \
	BPF_STMT(BPF_LD + BPF_H + BPF_ABS, 12 + (E)),                   /* 0 ethertype */ \
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, ETHERTYPE_IP, 0, 12),       /* 1 else drop */ \
	BPF_STMT(BPF_LD + BPF_B + BPF_ABS, 23 + (E)),                   /* 2 IP protocol */ \
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, IPPROTO_UDP, 0, 10),        /* 3 else drop */ \
	BPF_STMT(BPF_LD + BPF_H + BPF_ABS, 20 + (E)),                   /* 4 flags, fragment offset */ \
	BPF_JUMP(BPF_JMP + BPF_JSET + BPF_K, 0x3fff, 8, 0),             /* 5 MF or offset: drop */ \
	BPF_STMT(BPF_LDX + BPF_B + BPF_MSH, 14 + (E)),                  /* 6 X = IHL * 4 */ \
	BPF_STMT(BPF_LD + BPF_H + BPF_IND, 14 + (E)),                   /* 7 UDP source port */ \
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 67, 4, 0),                  /* 8 accept */ \
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 68, 3, 0),                  /* 9 accept */ \
	BPF_STMT(BPF_LD + BPF_H + BPF_IND, 16 + (E)),                   /* 10 UDP destination port */ \
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 67, 1, 0),                  /* 11 accept */ \
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 68, 0, 1),                  /* 12 */ \
	BPF_STMT(BPF_RET + BPF_K, ACCEPT_BYTES),                        /* 13 accept */ \
	BPF_STMT(BPF_RET + BPF_K, 0)                                    /* 14 drop */

/*
 * arp: ARP requests (operation 1, at offset 20). The resident client answers those for a
 * leased address it holds but has not put on the interface (no --apply), as the host would.
 */
static struct sock_filter arp_filter[] = {
	BPF_STMT(BPF_LD + BPF_H + BPF_ABS, 12),                   /* 0 ethertype */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, ETHERTYPE_ARP, 0, 3), /* 1 else drop */
	BPF_STMT(BPF_LD + BPF_H + BPF_ABS, 20),                   /* 2 ARP operation */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 1, 0, 1),             /* 3 a request, else drop */
	BPF_STMT(BPF_RET + BPF_K, ACCEPT_BYTES),                  /* 4 accept */
	BPF_STMT(BPF_RET + BPF_K, 0),                             /* 5 drop */
};

static struct sock_filter watch_filter[] = { WATCH_PROGRAM(0) };
static struct sock_filter watch_tagged_filter[] = { WATCH_PROGRAM(VLAN_TAG_LEN) };

#define FILTER_MAX 64
#define ANCILLARY(what) (SKF_AD_OFF + (what))

/*
 * What comes before the program above, by VLAN. The kernel takes an 802.1Q
 * or 802.1ad tag off a frame before any packet socket sees it (and keeps it
 * beside the frame), so the bytes the programs read are untagged either way
 * and the tag is read with the ancillary loads. VLAN_NONE lets through
 * untagged frames and priority-tagged ones (VID 0: 802.1p on the native
 * VLAN); an id lets through frames tagged with it only. DROP stands for the
 * program's last instruction (return 0), patched in by build_filter.
 */
#define DROP 0xff
static const struct sock_filter vlan_none_prelude[] = {
	BPF_STMT(BPF_LD + BPF_W + BPF_ABS, ANCILLARY(SKF_AD_VLAN_TAG_PRESENT)),
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 0, 3, 0), /* untagged: on to the program */
	BPF_STMT(BPF_LD + BPF_W + BPF_ABS, ANCILLARY(SKF_AD_VLAN_TAG)),
	BPF_STMT(BPF_ALU + BPF_AND + BPF_K, 0x0fff), /* the VID, without PCP and DEI */
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 0, 0, DROP),
};
static const struct sock_filter vlan_id_prelude[] = {
	BPF_STMT(BPF_LD + BPF_W + BPF_ABS, ANCILLARY(SKF_AD_VLAN_TAG_PRESENT)),
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 0, DROP, 0), /* untagged: drop */
	BPF_STMT(BPF_LD + BPF_W + BPF_ABS, ANCILLARY(SKF_AD_VLAN_TAG)),
	BPF_STMT(BPF_ALU + BPF_AND + BPF_K, 0x0fff),
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 0 /* the id */, 0, DROP),
};
/*
 * watch: a frame that still carries a tag in its bytes goes to the program
 * for IPv4 4 bytes further on (watch_tagged_filter, which follows), every
 * other to the plain one after that (UNTAGGED, patched in by build_filter).
 */
#define UNTAGGED 0xfe
static const struct sock_filter tag_dispatch[] = {
	BPF_STMT(BPF_LD + BPF_H + BPF_ABS, 12),
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 0x8100, 2, 0),
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 0x88a8, 1, 0),
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, 0x9100, 0, UNTAGGED),
};
/* client, arp: what this host sends itself is not for us (the socket is on ETH_P_ALL, see packet_open). */
static const struct sock_filter incoming_prelude[] = {
	BPF_STMT(BPF_LD + BPF_B + BPF_ABS, ANCILLARY(SKF_AD_PKTTYPE)),
	BPF_JUMP(BPF_JMP + BPF_JEQ + BPF_K, PACKET_OUTGOING, DROP, 0),
};

#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Appends part to the program of n instructions in out; the new length, or -1 when out is full. */
static int append(struct sock_filter *out, int n, const struct sock_filter *part, int len)
{
	if (n < 0 || n + len > FILTER_MAX)
		return -1;
	memcpy(out + n, part, (size_t)len * sizeof *part);
	return n + len;
}

/* The whole program for filter and vlan into out (FILTER_MAX long); its length, or -EINVAL. */
static int build_filter(struct sock_filter *out, int filter, int vlan)
{
	int n = 0;
	if (vlan == VLAN_NONE) {
		n = append(out, n, vlan_none_prelude, LEN(vlan_none_prelude));
	} else if (vlan != VLAN_ANY) {
		n = append(out, n, vlan_id_prelude, LEN(vlan_id_prelude));
		if (n > 0)
			out[n - 1].k = (uint32_t)vlan;
	}
	if (filter != MODE_WATCH)
		n = append(out, n, incoming_prelude, LEN(incoming_prelude));
	else
		n = append(out, n, tag_dispatch, LEN(tag_dispatch));
	const int prelude = n;
	int untagged = n;
	if (filter == MODE_CLIENT) {
		n = append(out, n, client_filter, LEN(client_filter));
	} else if (filter == MODE_ARP) {
		n = append(out, n, arp_filter, LEN(arp_filter));
	} else {
		n = append(out, n, watch_tagged_filter, LEN(watch_tagged_filter));
		untagged = n;
		n = append(out, n, watch_filter, LEN(watch_filter));
	}
	if (n < 0)
		return -EINVAL;
	/* The program ends in "return 0": every DROP before it jumps there, UNTAGGED to the plain program. */
	for (int i = 0; i < prelude; i++) {
		if (BPF_CLASS(out[i].code) != BPF_JMP)
			continue;
		const int drop = n - 1 - (i + 1), plain = untagged - (i + 1);
		if (out[i].jt == DROP)
			out[i].jt = (uint8_t)drop;
		else if (out[i].jt == UNTAGGED)
			out[i].jt = (uint8_t)plain;
		if (out[i].jf == DROP)
			out[i].jf = (uint8_t)drop;
		else if (out[i].jf == UNTAGGED)
			out[i].jf = (uint8_t)plain;
	}
	return n;
}

/*
 * Opens, filters and binds a packet socket on ifname (see dt_open in shim.c
 * for mode and vlan), with its ring mapped into *ring when mode asks for one.
 * Returns the descriptor, or -errno (-EPFNOSUPPORT: not an Ethernet or loopback link;
 * -ENETDOWN: the link is down); *lf gets the link's facts (from one RTM_GETLINK), even then.
 */
int packet_open(const char *ifname, int mode, int vlan, struct link_facts *lf, struct rx_ring *ring)
{
	const int filter = mode & MODE_FILTER_MASK;
	if ((filter != MODE_CLIENT && filter != MODE_WATCH && filter != MODE_ARP) || (mode & ~(MODE_FILTER_MASK | OPEN_PROMISC | OPEN_RING | OPEN_RING_PROMPT)))
		return -EINVAL;
	if (vlan != VLAN_ANY && vlan != VLAN_NONE && (vlan < 1 || vlan > 4094))
		return -EINVAL;
	if ((mode & OPEN_RING_PROMPT) && !(mode & OPEN_RING)) /* a ring's timeout, without a ring */
		return -EINVAL;
	struct sock_filter program[FILTER_MAX];
	struct sock_fprog prog = { .filter = program };
	const int len = build_filter(program, filter, vlan);
	if (len < 0)
		return len;
	prog.len = (unsigned short)len;
	int err = link_query(ifname, lf);
	if (err)
		return err;
	/* DHCP here runs over Ethernet frames (the caller has the link type to say so), on a link that is up. */
	if (lf->type != ARPHRD_ETHER && lf->type != ARPHRD_LOOPBACK)
		return -EPFNOSUPPORT;
	if (!(lf->flags & IFF_UP))
		return -ENETDOWN;

	/*
	 * Protocol 0: the socket is on no receive hook until bind() names one,
	 * so nothing unfiltered can be queued before the filter is on. The drain
	 * below is belt and braces.
	 */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
		goto fail_errno;

	char scratch[64];
	while (recv(fd, scratch, sizeof scratch, MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;

	int one = 1;
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0)
		goto fail_errno;
	/* The kernel's receive time of each frame (a ring has it in each frame's header). */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0)
		goto fail_errno;

	if (mode & OPEN_RING) {
		err = ring_map(fd, ring, (mode & OPEN_RING_PROMPT) ? RING_PROMPT_TIMEOUT_MS : RING_TIMEOUT_MS);
		if (err)
			goto fail;
	} else {
		/* FORCE needs CAP_NET_ADMIN; plain SO_RCVBUF is capped by rmem_max. */
		int rcvbuf = RCVBUF_BYTES;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	}

	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	/*
	 * ETH_P_ALL for both filters. Only the "all" taps see frames this host
	 * sends (a local server's replies, another client's requests: watch
	 * wants them, marked PACKET_OUTGOING; the client program drops them).
	 * And only they see a frame before the kernel, finding no VLAN device
	 * for its tag, clears the tag (and marks the frame for another host):
	 * a socket on ETH_P_IP could not tell a frame of VLAN 10 from an
	 * untagged one. The BPF program checks the ethertype either way.
	 */
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = lf->ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0)
		goto fail_errno;

	if (mode & OPEN_PROMISC) {
		struct packet_mreq mr;
		memset(&mr, 0, sizeof mr);
		mr.mr_ifindex = lf->ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
			goto fail_errno;
	}
	return fd;

fail_errno:
	err = -errno;
fail:
	ring_unmap(ring);
	close(fd);
	return err;
}

/* A VLAN tag's TPID at the ethertype's place: 802.1Q, 802.1ad, and the old QinQ 0x9100. */
static int tagged(const uint8_t *frame)
{
	const unsigned type = (unsigned)frame[12] << 8 | frame[13];
	return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

EXPORT int dt_send(int h, const uint8_t *frame, int len)
{
	struct slot *s = slot_get(h);
	if (s == NULL)
		return -EBADF;
	if (len < ETH_HDR_LEN)
		return -EMSGSIZE;
	if (frame == NULL)
		return -EINVAL;
	/* A tagged frame carries 4 bytes more than the MTU allows an untagged one. */
	if ((uint64_t)len > (uint64_t)s->mtu + ETH_HDR_LEN + (tagged(frame) ? VLAN_TAG_LEN : 0))
		return -EMSGSIZE;

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

