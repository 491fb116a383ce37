/*
 * The messages between the resident client (the Bun process, no privilege) and its
 * privileged helper (native/helper/, dhcptool-priv), over one socketpair(AF_UNIX,
 * SOCK_SEQPACKET): one message per datagram, as dhcpleased's imsgs are.
 *
 * Every message is a header and a payload of a fixed size for its type; the two that carry
 * bytes (a lease file to store, the config file read, a hook's environment) carry them in a
 * fixed-size buffer with an explicit length, and only that many bytes are sent after the
 * length field. No pointers, no NUL-terminated strings: every string has its length, and
 * both ends check the version, the type, the datagram's length against the type's, and
 * every length field against its buffer. Host byte order (both ends are on one host);
 * addresses are 4 bytes in network order. native/privsep-msg.ts is the same in TypeScript.
 */
#ifndef DHCPTOOL_PRIVSEP_H
#define DHCPTOOL_PRIVSEP_H

#include <stdint.h>

#define PRIV_VERSION 1
/* The helper's end of the socket pair, in the helper. */
#define PRIV_FD 3

#define PRIV_MAX_ROUTES 32
#define PRIV_MAX_BLOB (64 * 1024)
#define PRIV_MAX_TEXT 2048
#define PRIV_MAX_STDERR 1024
/* The largest datagram either side sends (a blob message). */
#define PRIV_MAX_MSG (sizeof(struct priv_hdr) + 8 + PRIV_MAX_BLOB)

enum priv_type {
	/* daemon → helper; each is answered by one reply of the same seq */
	PRIV_APPLY = 1, /* priv_lease: put it on the interface → PRIV_RESULT */
	PRIV_ADOPT = 2, /* priv_lease: it is on the interface since before a restart → PRIV_RESULT (status 1: adopted) */
	PRIV_REMOVE = 3, /* nothing: take off what was applied → PRIV_RESULT */
	PRIV_SAVE = 4, /* priv_blob: the lease file's bytes → PRIV_RESULT */
	PRIV_UNSAVE = 5, /* nothing: remove the lease file → PRIV_RESULT */
	PRIV_CONFIG = 6, /* nothing: read the config file → PRIV_CONFIG_DATA */
	PRIV_HOOK = 7, /* priv_blob (hook records, see below) → PRIV_RESULT at once, PRIV_HOOK_DONE (seq of the HOOK) when it ends */
	PRIV_STOP = 8, /* nothing: end a running hook, answer, exit */
	/* helper → daemon */
	PRIV_READY = 100, /* priv_ready, once, unasked (seq 0) */
	PRIV_RESULT = 101, /* priv_result */
	PRIV_CONFIG_DATA = 102, /* priv_blob */
	PRIV_HOOK_DONE = 103, /* priv_hook_done */
};

struct priv_hdr {
	uint16_t version;
	uint16_t type;
	uint32_t length; /* of the whole datagram, header included */
	uint32_t seq;
	uint32_t reserved; /* 0 */
};

struct priv_route {
	uint8_t dst[4];
	uint8_t gateway[4]; /* 0.0.0.0: on-link */
	uint8_t prefix;
	uint8_t pad[3];
};

struct priv_lease {
	uint8_t address[4];
	uint8_t prefix;
	uint8_t nroutes;
	uint8_t pad[2];
	uint32_t valid_sec; /* 0xffffffff: forever */
	struct priv_route routes[PRIV_MAX_ROUTES];
};

/* A blob: `len` bytes of data; on the wire only the first len bytes of data follow. */
struct priv_blob {
	int32_t status; /* replies: 0 or -errno */
	uint32_t len;
	uint8_t data[PRIV_MAX_BLOB];
};

/*
 * PRIV_HOOK's blob: records of [u8 kind][u16 length][bytes], kind 'E' an environment entry
 * NAME=VALUE (name [A-Za-z_][A-Za-z0-9_]*, no NUL anywhere), kind 'I' the hook's stdin.
 */
#define PRIV_HOOK_MAX_ENV 96

struct priv_result {
	int32_t status; /* 0, 1 (ADOPT: adopted), or -errno */
	uint32_t len;
	/* Lines "+ what was done" / "- what failed or was refused", printable ASCII and '\n'. */
	char text[PRIV_MAX_TEXT];
};

struct priv_ready {
	int32_t status; /* 0, or -errno of what failed (text says what) */
	uint32_t ifindex;
	uint32_t metric;
	uint32_t len;
	char text[512];
};

struct priv_hook_done {
	int32_t status; /* 0, or -errno: it could not be started */
	int32_t exit_code; /* -1 when a signal ended it */
	int32_t signal;
	uint32_t timed_out;
	uint32_t ms;
	uint32_t stderr_discarded;
	uint32_t len;
	uint8_t stderr_bytes[PRIV_MAX_STDERR];
};

/* The sizes native/privsep-msg.ts encodes and checks: the two sides cannot drift apart. */
_Static_assert(sizeof(struct priv_hdr) == 16, "priv_hdr");
_Static_assert(sizeof(struct priv_route) == 12, "priv_route");
_Static_assert(sizeof(struct priv_lease) == 12 + 12 * PRIV_MAX_ROUTES, "priv_lease");
_Static_assert(sizeof(struct priv_result) == 8 + PRIV_MAX_TEXT, "priv_result");
_Static_assert(sizeof(struct priv_ready) == 16 + 512, "priv_ready");
_Static_assert(sizeof(struct priv_hook_done) == 28 + PRIV_MAX_STDERR, "priv_hook_done");

#endif
