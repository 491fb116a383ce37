/*
 * Receiving through a TPACKET_V3 ring: the kernel writes frames back to back
 * into blocks of a ring mapped into our memory and hands a block over (its
 * status turns TP_STATUS_USER) when it is full or RING_TIMEOUT_MS after its
 * first frame. One wake-up then drains a whole block, with no system call
 * per frame; a block goes back to the kernel once every frame in it has been
 * copied out to JS (dt_recv_batch in rx.c). JS never sees the ring: frames
 * are copied into its buffer, and every offset read from a frame's header
 * is checked against the block before it is used.
 *
 * The ring costs RING_BLOCKS * RING_BLOCK_BYTES of memory for the socket's
 * life, and frames wait up to RING_TIMEOUT_MS in a block: for watch, where
 * throughput counts and each frame carries its own receive time, not for a
 * client waiting on one reply.
 */
#define _GNU_SOURCE
#include "shim.h"

/* Where the sockaddr_ll of a frame sits: after its header, aligned (packet_mmap.txt). */
#define FRAME_SLL_OFFSET TPACKET_ALIGN(sizeof(struct tpacket3_hdr))

/* Sets the socket to TPACKET_V3, asks for the ring (a block retired timeout_ms after its first frame) and maps it. 0 or -errno. */
int ring_map(int fd, struct rx_ring *ring, int timeout_ms)
{
	memset(ring, 0, sizeof *ring);
	int version = TPACKET_V3;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0)
		return -errno;
	struct tpacket_req3 req;
	memset(&req, 0, sizeof req);
	req.tp_block_size = RING_BLOCK_BYTES;
	req.tp_block_nr = RING_BLOCKS;
	/* V3 frames are variable-sized; the kernel still wants a frame size that divides a block. */
	req.tp_frame_size = 2048;
	req.tp_frame_nr = (RING_BLOCK_BYTES / 2048) * RING_BLOCKS;
	req.tp_retire_blk_tov = (unsigned)timeout_ms;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
		return -errno;
	const size_t bytes = (size_t)RING_BLOCK_BYTES * RING_BLOCKS;
	void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	/*
	 * A forked child (the closer, closer.c) must not share the ring: its
	 * mapping would hold the socket open, and a copy of where we are in the
	 * ring means nothing to it.
	 */
	(void)madvise(map, bytes, MADV_DONTFORK);
	ring->map = map;
	ring->map_bytes = bytes;
	ring->block_bytes = RING_BLOCK_BYTES;
	ring->blocks = RING_BLOCKS;
	return 0;
}

/* Unmaps the ring (before the socket's last close: the mapping holds the socket too). */
void ring_unmap(struct rx_ring *ring)
{
	if (ring->map != NULL)
		munmap(ring->map, ring->map_bytes);
	memset(ring, 0, sizeof *ring);
}

static struct tpacket_block_desc *block_at(const struct rx_ring *ring, unsigned i)
{
	return (struct tpacket_block_desc *)(ring->map + (size_t)i * ring->block_bytes);
}

/* The block to read next is ours (the kernel has handed it over). */
int ring_has_frames(const struct rx_ring *ring)
{
	if (ring->map == NULL)
		return 0;
	const uint32_t status = __atomic_load_n(&block_at(ring, ring->block)->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
	return (status & TP_STATUS_USER) != 0;
}

/* Gives the block back to the kernel and moves on to the next. */
static void release_block(struct rx_ring *ring)
{
	__atomic_store_n(&block_at(ring, ring->block)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	ring->block = (ring->block + 1) % ring->blocks;
	ring->left = 0;
}

/*
 * Describes the next frame in *f and points *data at its bytes in the ring.
 * 1, 0 when the kernel has handed over nothing more, or -errno: -EIO for a
 * block whose frame headers do not add up (the rest of it is given back
 * unread), or an error the socket has pending (ENETDOWN: a ring socket has
 * no recv() to report it, so it is read here, once the ring is empty).
 */
int ring_peek(int fd, struct rx_ring *ring, struct rx_frame *f, const uint8_t **data)
{
	for (;;) {
		if (!ring_has_frames(ring)) {
			int err = 0;
			socklen_t len = sizeof err;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
				return -err;
			return 0;
		}
		const uint8_t *block = (const uint8_t *)block_at(ring, ring->block);
		if (ring->left == 0) {
			const struct tpacket_hdr_v1 *bh = &((const struct tpacket_block_desc *)block)->hdr.bh1;
			if (bh->num_pkts == 0) { /* (a block is never handed over empty, but) */
				release_block(ring);
				continue;
			}
			ring->left = bh->num_pkts;
			ring->next = bh->offset_to_first_pkt;
		}
		/* The frame's header, its sockaddr_ll and its bytes all lie inside the block. */
		const uint64_t at = ring->next;
		const int header_fits = at >= sizeof(struct tpacket_block_desc) && at % 4 == 0 && /* (the kernel 8-aligns) */
					at + FRAME_SLL_OFFSET + sizeof(struct sockaddr_ll) <= ring->block_bytes;
		const struct tpacket3_hdr *h = header_fits ? (const struct tpacket3_hdr *)(block + at) : NULL;
		if (h == NULL || at + h->tp_mac + (uint64_t)h->tp_snaplen > ring->block_bytes) {
			release_block(ring);
			return -EIO;
		}
		const struct sockaddr_ll *sll = (const struct sockaddr_ll *)(block + at + FRAME_SLL_OFFSET);
		f->len = h->tp_snaplen;
		f->status = (int32_t)h->tp_status;
		f->wire = h->tp_len > INT32_MAX ? INT32_MAX : (int32_t)h->tp_len;
		f->truncated = h->tp_len > h->tp_snaplen;
		f->pkttype = sll->sll_pkttype;
		f->vlan_tci = h->hv1.tp_vlan_tci;
		f->vlan_tpid = h->hv1.tp_vlan_tpid;
		f->sec = h->tp_sec;
		f->nsec = (int32_t)h->tp_nsec;
		f->kernel_time = 1;
		*data = block + at + h->tp_mac;
		return 1;
	}
}

/* Past the frame ring_peek described; the block goes back once all of it has been read. */
void ring_next(struct rx_ring *ring)
{
	const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)((const uint8_t *)block_at(ring, ring->block) + ring->next);
	const uint32_t step = h->tp_next_offset;
	if (--ring->left == 0 || step == 0 || (uint64_t)ring->next + step >= ring->block_bytes) {
		release_block(ring);
		return;
	}
	ring->next += step;
}
