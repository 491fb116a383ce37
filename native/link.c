/*
 * Interface facts (index, type, flags, MTU, MAC, carrier) over rtnetlink, for
 * the name in this network namespace; and the kernel's rules for a name.
 */
#define _GNU_SOURCE
#include "shim.h"

/* 0 for a usable name, else -errno. The kernel's own rules (dev_valid_name). */
int check_ifname(const char *name)
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



static int parse_link(const char *resp, size_t len, struct link_facts *lf);

/*
 * RTM_GETLINK by name, answered in the caller's network namespace.
 * Netlink instead of ioctls because only it reports IFF_LOWER_UP (carrier).
 */
int link_query(const char *name, struct link_facts *lf)
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
			else if (a->rta_type == IFLA_MASTER && plen >= sizeof(uint32_t))
				memcpy(&lf->master, RTA_DATA(a), sizeof(uint32_t));
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
 *   [24] u32 master: the ifindex of the bridge or bond the link is a port of, 0 for none
 */
void link_facts_out(const struct link_facts *lf, uint8_t *out)
{
	uint32_t index = (uint32_t)lf->ifindex;
	int32_t carrier = (lf->flags & IFF_UP) ? ((lf->flags & IFF_LOWER_UP) ? 1 : 0) : -1;
	memcpy(out + 0, &index, 4);
	memcpy(out + 4, lf->mac, 6);
	memcpy(out + 10, &lf->type, 2);
	memcpy(out + 12, &lf->flags, 4);
	memcpy(out + 16, &lf->mtu, 4);
	memcpy(out + 20, &carrier, 4);
	memcpy(out + 24, &lf->master, 4);
}

EXPORT int dt_ifinfo(const char *name, uint8_t *out, int outlen)
{
	if (out == NULL || outlen < IFINFO_LEN)
		return -EINVAL;
	struct link_facts lf;
	int err = link_query(name, &lf);
	if (err)
		return err;
	link_facts_out(&lf, out);
	return 0;
}
