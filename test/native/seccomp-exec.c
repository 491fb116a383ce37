/*
 * The daemon's seccomp filter (native/seccomp.c), tested without Bun (test/lab/seccomp.test.ts
 * compiles and runs this): a second thread exists before the filter goes in (TSYNC must reach
 * it), then execve, ptrace, unshare, a packet socket and a netlink socket must fail with EPERM
 * while a write, an AF_UNIX socket and a new thread still work. Prints one line per check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>

int dt_seccomp_install(void);

static volatile int other_tid;

static void *idle(void *arg)
{
	(void)arg;
	other_tid = gettid();
	pause();
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

static void check(const char *what, int rc, int want_errno)
{
	int ok = want_errno ? (rc < 0 && errno == want_errno) : rc >= 0;
	printf("%s %s (rc %d, %s)\n", ok ? "ok" : "FAIL", what, rc, rc < 0 ? strerror(errno) : "-");
}

int main(void)
{
	pthread_t t;
	pthread_create(&t, NULL, idle, NULL);
	while (other_tid == 0)
		usleep(1000);
	int rc = dt_seccomp_install();
	printf("%s install (rc %d)\n", rc == 0 ? "ok" : "FAIL", rc);
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/status", other_tid);
	FILE *f = fopen(path, "r");
	int seccomp = -1, nnp = -1;
	while (f && fgets(line, sizeof line, f)) {
		sscanf(line, "Seccomp: %d", &seccomp);
		sscanf(line, "NoNewPrivs: %d", &nnp);
	}
	printf("%s other thread Seccomp %d NoNewPrivs %d\n", seccomp == 2 && nnp == 1 ? "ok" : "FAIL", seccomp, nnp);
	char *argv[] = { "/bin/true", NULL }, *envp[] = { NULL };
	check("execve is refused", execve("/bin/true", argv, envp), EPERM);
	check("ptrace is refused", (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL), EPERM);
	check("unshare is refused", unshare(CLONE_NEWNET), EPERM);
	check("a packet socket is refused", socket(AF_PACKET, SOCK_RAW, 0), EPERM);
	check("a netlink socket is refused", socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), EPERM);
	check("an AF_UNIX socket still opens", socket(AF_UNIX, SOCK_STREAM, 0), 0);
	check("write still works", (int)write(1, "", 0), 0);
	pthread_t t2;
	check("a new thread still starts", -pthread_create(&t2, NULL, nothing, NULL), 0);
	return 0;
}
