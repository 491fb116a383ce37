/*
 * The helper's hands on the interface: the leased address and the lease's routes, through
 * rtnetlink, on the one interface it was started for, at the daemon's metric. Routes are
 * shared property (issue 11 finding 1): they go in with NLM_F_EXCL (never NLM_F_REPLACE),
 * at our metric, marked proto dhcp, and only the routes this helper added (or adopted after
 * a restart: at our metric, on our interface) are ever removed. Whatever the request says,
 * it is checked here against what an address and a route from a DHCP server can be:
 * loopback, multicast, reserved, the all-zeros and all-ones hosts, a /0 mask, the connected
 * subnet (the kernel's own route) and a gateway that is our own address are refused.
 */
#include "priv.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef RTPROT_DHCP
#define RTPROT_DHCP 16
#endif

static int nl = -1;
static uint32_t nl_seq;

/* What is on the interface because of us. */
static struct {
	int on;
	uint32_t address; /* host order */
	uint8_t prefix;
	int nroutes;
	struct priv_route routes[PRIV_MAX_ROUTES];
} applied;

int net_open(void)
{
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0)
		return -errno;
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	if (bind(nl, (struct sockaddr *)&local, sizeof local) < 0)
		return -errno;
	struct timeval tv = { .tv_sec = 2 };
	(void)setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return 0;
}

static uint32_t get_ip(const uint8_t b[4])
{
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static const char *ip_text(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return buf;
}

static uint32_t mask_of(int prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

struct nlreq {
	struct nlmsghdr nh;
	union {
		struct ifaddrmsg ifa;
		struct rtmsg rt;
	} u;
	uint8_t attrs[256];
};

static void add_attr(struct nlreq *q, uint16_t type, const void *data, uint16_t len)
{
	struct rtattr *a = (struct rtattr *)((uint8_t *)q + NLMSG_ALIGN(q->nh.nlmsg_len));
	a->rta_type = type;
	a->rta_len = (uint16_t)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	q->nh.nlmsg_len = NLMSG_ALIGN(q->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void add_u32(struct nlreq *q, uint16_t type, uint32_t v)
{
	add_attr(q, type, &v, sizeof v);
}

static void add_ip(struct nlreq *q, uint16_t type, uint32_t ip)
{
	uint32_t be = htonl(ip);
	add_attr(q, type, &be, 4);
}

/* Sends one request and waits for its acknowledgement: 0 or -errno. */
static int transact(struct nlreq *q)
{
	q->nh.nlmsg_seq = ++nl_seq;
	q->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(nl, q, q->nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		return -errno;
	uint8_t buf[8192];
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != q->nh.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -EIO;
			return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		}
	}
}

static int address_msg(int type, uint32_t ip, uint8_t prefix, uint32_t valid)
{
	struct nlreq q;
	memset(&q, 0, sizeof q);
	q.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	q.nh.nlmsg_type = (uint16_t)type;
	/* The address is ours: a renewal replaces its lifetimes. */
	q.nh.nlmsg_flags = type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_REPLACE : 0;
	q.u.ifa = (struct ifaddrmsg){ .ifa_family = AF_INET, .ifa_prefixlen = prefix, .ifa_index = (uint32_t)conf.ifindex };
	add_ip(&q, IFA_LOCAL, ip);
	add_ip(&q, IFA_ADDRESS, ip);
	if (type == RTM_NEWADDR) {
		if (prefix < 31)
			add_ip(&q, IFA_BROADCAST, ip | ~mask_of(prefix));
		struct ifa_cacheinfo ci = { .ifa_prefered = valid, .ifa_valid = valid };
		add_attr(&q, IFA_CACHEINFO, &ci, sizeof ci);
	}
	return transact(&q);
}

static int route_msg(int type, const struct priv_route *r)
{
	struct nlreq q;
	memset(&q, 0, sizeof q);
	q.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	q.nh.nlmsg_type = (uint16_t)type;
	/* Finding 1: never NLM_F_REPLACE: a route that is there already is not ours to take. */
	q.nh.nlmsg_flags = type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0;
	uint32_t gw = get_ip(r->gateway);
	q.u.rt = (struct rtmsg){
		.rtm_family = AF_INET, .rtm_dst_len = r->prefix, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_DHCP,
		.rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, .rtm_type = RTN_UNICAST,
	};
	if (r->prefix)
		add_ip(&q, RTA_DST, get_ip(r->dst));
	if (gw)
		add_ip(&q, RTA_GATEWAY, gw);
	add_u32(&q, RTA_OIF, (uint32_t)conf.ifindex);
	add_u32(&q, RTA_PRIORITY, conf.metric);
	return transact(&q);
}

static void describe_route(const struct priv_route *r, char *out, size_t n)
{
	char a[16], b[16];
	uint32_t gw = get_ip(r->gateway);
	if (r->prefix == 0)
		snprintf(out, n, "default%s%s", gw ? " via " : " (on-link)", gw ? ip_text(gw, b) : "");
	else
		snprintf(out, n, "%s/%u%s%s", ip_text(get_ip(r->dst), a), r->prefix, gw ? " via " : " (on-link)", gw ? ip_text(gw, b) : "");
}

/* Why an address in this range is nobody's unicast host, or NULL. */
static const char *bad_range(uint32_t ip)
{
	uint8_t first = (uint8_t)(ip >> 24);
	if (ip == 0xffffffffu)
		return "broadcast";
	if (first == 0)
		return "0.0.0.0/8";
	if (first == 127)
		return "loopback";
	if (first >= 224 && first < 240)
		return "multicast";
	if (first >= 240)
		return "reserved (240/4)";
	return NULL;
}

/* Why the lease's address cannot go on the interface, or NULL. */
static const char *bad_address(const struct priv_lease *l)
{
	if (l->prefix == 0 || l->prefix > 32)
		return "a /0 mask (or none that fits)";
	const char *why = bad_range(get_ip(l->address));
	if (why)
		return why;
	uint32_t ip = get_ip(l->address), host = ~mask_of(l->prefix);
	if (l->prefix < 31 && ((ip & host) == 0 || (ip & host) == host))
		return "the subnet's network or broadcast address";
	return NULL;
}

/* Why this route of the lease is refused, or NULL. */
static const char *bad_route(const struct priv_lease *l, const struct priv_route *r)
{
	uint32_t dst = get_ip(r->dst), gw = get_ip(r->gateway), own = get_ip(l->address);
	if (r->prefix > 32)
		return "a prefix over 32";
	if (dst & ~mask_of(r->prefix))
		return "host bits set in the destination";
	if (r->prefix == 32 && (dst == 0 || dst == 0xffffffffu))
		return dst ? "255.255.255.255/32" : "0.0.0.0/32";
	uint8_t first = (uint8_t)(dst >> 24);
	if (r->prefix > 0 && (first == 127 || (first >= 224 && r->prefix >= 3)))
		return first == 127 ? "loopback (127/8)" : "multicast or reserved (224/3)";
	if (r->prefix == l->prefix && dst == (own & mask_of(l->prefix)))
		return "the connected subnet (the kernel's own route)";
	if (gw == own)
		return "a gateway that is our own address";
	if (gw && bad_range(gw))
		return "a gateway that is no unicast host";
	return NULL;
}

static int same_route(const struct priv_route *a, const struct priv_route *b)
{
	return a->prefix == b->prefix && !memcmp(a->dst, b->dst, 4) && !memcmp(a->gateway, b->gateway, 4);
}

static int in_lease(const struct priv_lease *l, const struct priv_route *r)
{
	for (int i = 0; i < l->nroutes && i < PRIV_MAX_ROUTES; i++)
		if (same_route(&l->routes[i], r))
			return 1;
	return 0;
}

static void remove_route_at(int i, struct priv_result *r)
{
	char what[64];
	describe_route(&applied.routes[i], what, sizeof what);
	int err = route_msg(RTM_DELROUTE, &applied.routes[i]);
	if (err == 0 || err == -ESRCH || err == -ENOENT)
		result_line(r, '+', "remove route %s%s", what, err ? " (already gone)" : "");
	else
		result_line(r, '-', "remove route %s: %s", what, strerror(-err));
	applied.routes[i] = applied.routes[--applied.nroutes];
}

void net_remove(struct priv_result *r)
{
	if (!applied.on)
		return;
	while (applied.nroutes > 0)
		remove_route_at(applied.nroutes - 1, r);
	char a[16];
	int err = address_msg(RTM_DELADDR, applied.address, applied.prefix, 0);
	if (err == 0 || err == -EADDRNOTAVAIL || err == -ENODEV)
		result_line(r, '+', "remove address %s/%u%s", ip_text(applied.address, a), applied.prefix, err ? " (already gone)" : "");
	else
		result_line(r, '-', "remove address %s/%u: %s", ip_text(applied.address, a), applied.prefix, strerror(-err));
	applied.on = 0;
}

/* Adds the lease's routes that are not ours yet; adopting: one that exists at our metric is ours. */
static void add_routes(const struct priv_lease *l, struct priv_result *r, int adopting)
{
	for (int i = 0; i < l->nroutes && i < PRIV_MAX_ROUTES; i++) {
		const struct priv_route *rt = &l->routes[i];
		char what[64];
		describe_route(rt, what, sizeof what);
		const char *why = bad_route(l, rt);
		if (why) {
			result_line(r, '-', "route %s refused: %s", what, why);
			continue;
		}
		int mine = 0;
		for (int j = 0; j < applied.nroutes; j++)
			mine |= same_route(&applied.routes[j], rt);
		if (mine)
			continue;
		int err = route_msg(RTM_NEWROUTE, rt);
		if (err == 0 || (err == -EEXIST && adopting)) {
			applied.routes[applied.nroutes++] = *rt;
			result_line(r, '+', "route %s metric %u%s", what, conf.metric, err ? " (adopted)" : "");
		} else if (err == -EEXIST) {
			result_line(r, '-', "route %s metric %u: one is there already, not ours: left alone", what, conf.metric);
		} else {
			result_line(r, '-', "route %s: %s", what, strerror(-err));
		}
	}
}

void net_apply(const struct priv_lease *l, struct priv_result *r)
{
	char a[16];
	uint32_t ip = get_ip(l->address);
	const char *why = bad_address(l);
	if (why) {
		result_line(r, '-', "address %s/%u refused: %s", ip_text(ip, a), l->prefix, why);
		r->status = -EINVAL;
		return;
	}
	if (applied.on && (applied.address != ip || applied.prefix != l->prefix))
		net_remove(r);
	/* Routes of the old lease that the new one does not name go first. */
	for (int i = applied.nroutes - 1; i >= 0; i--)
		if (!in_lease(l, &applied.routes[i]))
			remove_route_at(i, r);
	int err = address_msg(RTM_NEWADDR, ip, l->prefix, l->valid_sec);
	if (err) {
		result_line(r, '-', "address %s/%u: %s", ip_text(ip, a), l->prefix, strerror(-err));
		r->status = err;
		return;
	}
	if (!applied.on)
		applied = (__typeof__(applied)){ .on = 1, .address = ip, .prefix = l->prefix };
	result_line(r, '+', "address %s/%u", ip_text(ip, a), l->prefix);
	add_routes(l, r, 0);
}

/* Whether the address is on our interface now (an RTM_GETADDR dump). */
static int address_present(uint32_t ip)
{
	struct nlreq q;
	memset(&q, 0, sizeof q);
	q.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	q.nh.nlmsg_type = RTM_GETADDR;
	q.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	q.nh.nlmsg_seq = ++nl_seq;
	q.u.ifa.ifa_family = AF_INET;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(nl, &q, q.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		return 0;
	int found = 0;
	uint8_t buf[16384];
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return found;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != q.nh.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				return found;
			if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
				continue;
			struct ifaddrmsg *ifa = NLMSG_DATA(h);
			if ((int)ifa->ifa_index != conf.ifindex)
				continue;
			int len = (int)IFA_PAYLOAD(h);
			for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
				if (a->rta_type == IFA_LOCAL && RTA_PAYLOAD(a) == 4) {
					uint32_t v;
					memcpy(&v, RTA_DATA(a), 4);
					found |= ntohl(v) == ip;
				}
			}
		}
	}
}

void net_adopt(const struct priv_lease *l, struct priv_result *r)
{
	uint32_t ip = get_ip(l->address);
	if (bad_address(l) || !address_present(ip))
		return;
	applied = (__typeof__(applied)){ .on = 1, .address = ip, .prefix = l->prefix };
	r->status = 1;
	add_routes(l, r, 1);
}
