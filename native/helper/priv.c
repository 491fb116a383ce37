/*
 * dhcptool-priv: the resident client's privileged helper (issue 11; dhcpleased's parent
 * process). The daemon spawns it before it reads a packet, with one end of a
 * socketpair(AF_UNIX, SOCK_SEQPACKET) as fd 3 and what it is for on its command line (the
 * interface, the metric, the state and run directories, the config file, the hook and its
 * user); nothing a message says can change those. It then
 *
 *   - takes the interface's lock: RUN_DIR/IFACE.lock under flock(2), in a run directory
 *     that must be root's and writable by nobody else (no abstract socket name a local user
 *     could take first: finding 6);
 *   - opens the state directory (created 0700, never chowned, not a symlink, not writable by
 *     group or others: finding 5) and a route socket;
 *   - keeps uid 0 with a bounding, effective and permitted set of CAP_NET_ADMIN (and
 *     CAP_SETUID, CAP_SETGID, CAP_KILL when the hook runs as another user), no_new_privs;
 *   - answers the daemon's messages (privsep.h) one at a time: the lease on the interface,
 *     the lease file written atomically, the config file read (it may be 0600 root:
 *     finding 4), hooks run as the hook user (hook.c);
 *   - exits when the socket closes (the daemon died: it removes nothing, the address keeps
 *     its lifetime and the next daemon adopts the lease) or on PRIV_STOP, ending a running
 *     hook's process group either way.
 */
#include "priv.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct priv_conf conf = { .hook_timeout_ms = 10000 };
static int state_fd = -1;

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void result_line(struct priv_result *r, char sign, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line + 2, sizeof line - 3, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	line[0] = sign;
	line[1] = ' ';
	size_t len = strlen(line);
	for (size_t i = 2; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			line[i] = '?';
	line[len++] = '\n';
	if (r->len + len > sizeof r->text)
		return;
	memcpy(r->text + r->len, line, len);
	r->len += (uint32_t)len;
}

int send_msg(int sock, uint16_t type, uint32_t seq, const void *payload, uint32_t len)
{
	static uint8_t buf[PRIV_MAX_MSG];
	struct priv_hdr hdr = { .version = PRIV_VERSION, .type = type, .length = (uint32_t)sizeof hdr + len, .seq = seq };
	if (len > sizeof buf - sizeof hdr)
		return -EMSGSIZE;
	memcpy(buf, &hdr, sizeof hdr);
	memcpy(buf + sizeof hdr, payload, len);
	ssize_t n;
	do
		n = send(sock, buf, hdr.length, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static void die(int sock, int err, const char *fmt, ...)
{
	struct priv_ready r = { .status = err };
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r.text, sizeof r.text, fmt, ap);
	va_end(ap);
	r.len = n < 0 ? 0 : (uint32_t)strnlen(r.text, sizeof r.text);
	send_msg(sock, PRIV_READY, 0, &r, sizeof r);
	_exit(1);
}

/* The kernel's rule for an interface name (dev_valid_name), as cli/daemon/store.ts has it. */
static int valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (const char *c = s; *c; c++)
		if (*c == '/' || *c == ':' || *c == ' ' || (*c >= '\t' && *c <= '\r'))
			return 0;
	return 1;
}

/* A directory of ours: created with `mode` when missing, not a symlink, ours, written only by us. */
static int own_dir(int sock, const char *path, mode_t mode, const char *what)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		die(sock, -errno, "cannot create the %s %s: %s", what, path, strerror(errno));
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die(sock, -errno, "the %s %s %s", what, path, errno == ELOOP || errno == ENOTDIR ? "is a symbolic link or not a directory (not followed)" : strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0)
		die(sock, -errno, "the %s %s: %s", what, path, strerror(errno));
	if (st.st_uid != geteuid())
		die(sock, -EPERM, "the %s %s belongs to uid %u, not to uid %u: refusing it (chown it back, or remove it)", what, path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 022)
		die(sock, -EPERM, "the %s %s is writable by group or others (mode %03o): refusing it (chmod go-w)", what, path, (unsigned)(st.st_mode & 0777));
	return fd;
}

static void take_lock(int sock)
{
	int dir = own_dir(sock, conf.run_dir, 0755, "run directory");
	char name[32];
	snprintf(name, sizeof name, "%s.lock", conf.ifname);
	int fd = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		die(sock, -errno, "cannot open the lock %s/%s: %s", conf.run_dir, name, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		die(sock, errno == EWOULDBLOCK ? -EBUSY : -errno, "another dhcptool daemon already runs on %s: stop it first (dhcptool lease show %s shows it)", conf.ifname, conf.ifname);
	close(dir); /* the lock fd stays open, and locked, until we exit */
}

static int capset_mask(uint64_t mask)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	data[0].effective = data[0].permitted = (uint32_t)mask;
	data[1].effective = data[1].permitted = (uint32_t)(mask >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

static void keep_only(int sock)
{
	if (geteuid() != 0)
		return; /* an ordinary user's helper has nothing to give up */
	uint64_t keep = 1ULL << CAP_NET_ADMIN;
	if (conf.hook && (conf.hook_uid != 0 || conf.hook_gid != 0))
		keep |= (1ULL << CAP_SETUID) | (1ULL << CAP_SETGID) | (1ULL << CAP_KILL);
	for (int cap = 0; cap <= 63; cap++)
		if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			die(sock, -errno, "cannot limit the helper's capabilities: %s", strerror(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		die(sock, -errno, "cannot clear ambient capabilities: %s", strerror(errno));
	if (capset_mask(keep) < 0)
		die(sock, -errno, "cannot limit the helper's capabilities: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(sock, -errno, "cannot set no_new_privs: %s", strerror(errno));
}

static void save_lease(const struct priv_blob *b, struct priv_result *r)
{
	char name[32], tmp[64];
	snprintf(name, sizeof name, "%s.json", conf.ifname);
	uint8_t rnd[6] = { 0 };
	(void)!getentropy(rnd, sizeof rnd);
	snprintf(tmp, sizeof tmp, ".%s.%d-%02x%02x%02x%02x%02x%02x.tmp", name, (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	int fd = openat(state_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int err = fd < 0 ? -errno : 0;
	for (uint32_t done = 0; !err && done < b->len;) {
		ssize_t n = write(fd, b->data + done, b->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = n < 0 ? -errno : -EIO;
		else
			done += (uint32_t)n;
	}
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (fd >= 0 && close(fd) < 0 && !err)
		err = -errno;
	if (!err && renameat(state_fd, tmp, state_fd, name) < 0)
		err = -errno;
	if (err && fd >= 0)
		unlinkat(state_fd, tmp, 0);
	if (!err && fsync(state_fd) < 0 && errno == EIO)
		err = -EIO;
	r->status = err;
	if (err)
		result_line(r, '-', "cannot store the lease in %s/%s: %s (%s)", conf.state_dir, name, strerror(-err), strerrorname_np(-err));
}

static void unsave_lease(struct priv_result *r)
{
	char name[32];
	snprintf(name, sizeof name, "%s.json", conf.ifname);
	if (unlinkat(state_fd, name, 0) < 0 && errno != ENOENT) {
		r->status = -errno;
		result_line(r, '-', "cannot remove the lease %s/%s: %s (%s)", conf.state_dir, name, strerror(errno), strerrorname_np(errno));
		return;
	}
	(void)fsync(state_fd); /* a released lease must not come back after a power cut */
}

static void read_config(struct priv_blob *b)
{
	b->len = 0;
	b->status = 0;
	if (conf.config == NULL) {
		b->status = -ENOENT;
		return;
	}
	int fd = open(conf.config, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		b->status = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		b->status = -EINVAL;
	} else if (st.st_size > PRIV_MAX_BLOB) {
		b->status = -EFBIG;
	} else {
		for (;;) {
			ssize_t n = read(fd, b->data + b->len, PRIV_MAX_BLOB - b->len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				b->status = -errno;
			if (n <= 0)
				break;
			b->len += (uint32_t)n;
			if (b->len == PRIV_MAX_BLOB) {
				b->status = -EFBIG;
				break;
			}
		}
	}
	if (b->status)
		b->len = 0;
	if (fd >= 0)
		close(fd);
}

/* Checks a datagram: version, a known request type, its exact length. Returns the type, or 0. */
static int check_request(const uint8_t *buf, ssize_t n, struct priv_hdr *hdr)
{
	if (n < (ssize_t)sizeof *hdr)
		return 0;
	memcpy(hdr, buf, sizeof *hdr);
	if (hdr->version != PRIV_VERSION || hdr->length != (uint32_t)n || hdr->reserved != 0)
		return 0;
	size_t body = (size_t)n - sizeof *hdr;
	switch (hdr->type) {
	case PRIV_APPLY:
	case PRIV_ADOPT:
		if (body != sizeof(struct priv_lease))
			return 0;
		struct priv_lease l;
		memcpy(&l, buf + sizeof *hdr, sizeof l);
		return l.nroutes <= PRIV_MAX_ROUTES ? hdr->type : 0;
	case PRIV_REMOVE:
	case PRIV_UNSAVE:
	case PRIV_CONFIG:
	case PRIV_STOP:
		return body == 0 ? hdr->type : 0;
	case PRIV_SAVE:
	case PRIV_HOOK: {
		if (body < 8)
			return 0;
		uint32_t len;
		memcpy(&len, buf + sizeof *hdr + 4, 4);
		return len <= PRIV_MAX_BLOB && body == 8 + (size_t)len ? hdr->type : 0;
	}
	default:
		return 0;
	}
}

static void usage(void)
{
	fprintf(stderr, "dhcptool-priv: started by dhcptool request --daemon, not by hand\n");
	_exit(2);
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--interface") && strlen(v) < sizeof conf.ifname)
			strcpy(conf.ifname, v);
		else if (!strcmp(k, "--metric"))
			conf.metric = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(k, "--state-dir"))
			conf.state_dir = v;
		else if (!strcmp(k, "--run-dir"))
			conf.run_dir = v;
		else if (!strcmp(k, "--config"))
			conf.config = v;
		else if (!strcmp(k, "--hook"))
			conf.hook = v;
		else if (!strcmp(k, "--hook-uid"))
			conf.hook_uid = (uid_t)strtoul(v, NULL, 10);
		else if (!strcmp(k, "--hook-gid"))
			conf.hook_gid = (gid_t)strtoul(v, NULL, 10);
		else if (!strcmp(k, "--hook-timeout-ms"))
			conf.hook_timeout_ms = atoi(v);
		else
			usage();
	}
	if (!valid_ifname(conf.ifname) || !conf.state_dir || !conf.run_dir || conf.state_dir[0] != '/' || conf.run_dir[0] != '/' ||
	    (conf.hook && conf.hook[0] != '/') || conf.hook_timeout_ms <= 0)
		usage();
}

int main(int argc, char **argv)
{
	/* Nothing but the socket pair is ours: whatever else came through exec is closed. */
	syscall(SYS_close_range, PRIV_FD + 1, ~0U, 0);
	int type = 0;
	socklen_t tl = sizeof type;
	if (getsockopt(PRIV_FD, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_SEQPACKET)
		usage();
	const int sock = PRIV_FD;
	/* Spawned from a compiled dhcptool's memfd, our name would be the fd's number: say who we are. */
	prctl(PR_SET_NAME, "dhcptool-priv", 0, 0, 0);
	/* Signals that reach a process group are not for us: we end when the daemon does. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	parse_args(argc, argv);
	umask(022); /* the run directory is 0755 (others reach their control sockets there) */
	conf.ifindex = (int)if_nametoindex(conf.ifname);
	if (conf.ifindex <= 0)
		die(sock, -ENODEV, "no interface %s", conf.ifname);
	if (conf.metric == 0)
		conf.metric = 1000 + (uint32_t)conf.ifindex;
	take_lock(sock);
	umask(077);
	state_fd = own_dir(sock, conf.state_dir, 0700, "state directory");
	int err = net_open();
	if (err)
		die(sock, err, "cannot open a route socket: %s", strerror(-err));
	keep_only(sock);
	struct priv_ready ready = { .status = 0, .ifindex = (uint32_t)conf.ifindex, .metric = conf.metric };
	send_msg(sock, PRIV_READY, 0, &ready, sizeof ready);

	static uint8_t buf[PRIV_MAX_MSG];
	static struct priv_blob blob;
	for (;;) {
		struct pollfd fds[4] = { { .fd = sock, .events = POLLIN } };
		int timeout = -1;
		int n = 1 + hook_pollfds(fds + 1, &timeout);
		if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		hook_service(sock);
		if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t got = recv(sock, buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got <= 0)
			break; /* the daemon is gone: leave the lease where it is */
		struct priv_hdr hdr;
		struct priv_result r = { 0 };
		int t = got > (ssize_t)sizeof buf ? 0 : check_request(buf, got, &hdr);
		const uint8_t *body = buf + sizeof hdr;
		switch (t) {
		case PRIV_APPLY:
		case PRIV_ADOPT: {
			struct priv_lease l;
			memcpy(&l, body, sizeof l);
			if (t == PRIV_APPLY)
				net_apply(&l, &r);
			else
				net_adopt(&l, &r);
			break;
		}
		case PRIV_REMOVE:
			net_remove(&r);
			break;
		case PRIV_SAVE:
			memcpy(&blob.len, body + 4, 4);
			memcpy(blob.data, body + 8, blob.len);
			save_lease(&blob, &r);
			break;
		case PRIV_UNSAVE:
			unsave_lease(&r);
			break;
		case PRIV_CONFIG:
			read_config(&blob);
			send_msg(sock, PRIV_CONFIG_DATA, hdr.seq, &blob, 8 + blob.len);
			continue;
		case PRIV_HOOK: {
			uint32_t len;
			memcpy(&len, body + 4, 4);
			r.status = hook_start(body + 8, len, hdr.seq, &r);
			break;
		}
		case PRIV_STOP:
			hook_end(sock);
			send_msg(sock, PRIV_RESULT, hdr.seq, &r, sizeof r);
			_exit(0);
		default:
			/* Not a message of this protocol: answered as such, never acted on. */
			r.status = -EPROTO;
			result_line(&r, '-', "malformed message (%zd bytes) refused", got);
			send_msg(sock, PRIV_RESULT, got >= (ssize_t)sizeof hdr ? hdr.seq : 0, &r, sizeof r);
			continue;
		}
		send_msg(sock, PRIV_RESULT, hdr.seq, &r, sizeof r);
	}
	hook_end(-1);
	return 0;
}
