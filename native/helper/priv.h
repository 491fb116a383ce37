/* The privileged helper's parts (priv.c the loop, net.c the interface, hook.c the hook). */
#ifndef DHCPTOOL_PRIV_H
#define DHCPTOOL_PRIV_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/types.h>

#include "../privsep.h"

/* What the helper was started for: fixed at spawn, never changed by a message. */
struct priv_conf {
	char ifname[16];
	int ifindex;
	uint32_t metric;
	const char *state_dir;
	const char *run_dir;
	const char *config; /* NULL: none */
	const char *hook; /* NULL: none */
	uid_t hook_uid;
	gid_t hook_gid;
	int hook_timeout_ms;
};

extern struct priv_conf conf;

/* A reply's text: lines appended, cut (never overflowing) at PRIV_MAX_TEXT. */
void result_line(struct priv_result *r, char sign, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* net.c */
int net_open(void);
void net_apply(const struct priv_lease *l, struct priv_result *r);
void net_adopt(const struct priv_lease *l, struct priv_result *r);
void net_remove(struct priv_result *r);

/* hook.c */
int hook_start(const uint8_t *blob, uint32_t len, uint32_t seq, struct priv_result *r);
/* The fds poll() should watch for the running hook (up to 3), and the timeout it needs (-1: none). */
int hook_pollfds(struct pollfd *fds, int *timeout_ms);
/* After poll(): read, write, reap, kill on time; sends PRIV_HOOK_DONE when the hook is over. */
void hook_service(int sock);
/* Kills the running hook's process group (TERM, 1 s, KILL) and waits for it. */
void hook_end(int sock);
int hook_running(void);

/* priv.c */
int send_msg(int sock, uint16_t type, uint32_t seq, const void *payload, uint32_t len);
int64_t now_ms(void);

#endif
