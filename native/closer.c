#define _GNU_SOURCE
#include "shim.h"

#include <sched.h>

/*
 * Closing the last reference to a packet socket waits out an RCU grace period
 * (synchronize_net() in packet_release: 10-25 ms here). A one-shot command
 * that exits right after pays it on its exit path, and so does whoever waits
 * for it (a shell, a script, a test). So the last reference goes to a child
 * made for the purpose: it keeps only the socket and the read end of a pipe,
 * waits until we have dropped the socket and the pipe's write end (explicitly,
 * or by exiting), then closes the socket, waits the grace period out and exits.
 *
 * The child shares our memory (clone with CLONE_VM, on a small stack of its
 * own) instead of being a fork: a fork copies the page tables of Bun's whole
 * heap (~0.3-0.5 ms) and then makes every page we write afterwards a
 * copy-on-write fault, on the way to printing the result and exiting. It has
 * its own descriptor table (no CLONE_FILES) and runs nothing but system calls
 * (syscall(2), no cancellation point). Memory it touches stays valid: the
 * thread that made it waits for it (receive_thread), or the process exits,
 * which leaves the address space to the child until it is done.
 *
 * Each closer is kept in a table with its stack until reaped: the receive
 * thread waits for its own; a closer started without a thread is reaped on a
 * later open or close. Once we are gone, init reaps. Where any step fails the
 * socket is closed here.
 */
#define MAX_CLOSERS 64
#define CLOSER_STACK (64 * 1024)

struct closer {
	pid_t pid;
	void *stack;
	int fd, pipe_rd; /* read by the child from here, on its own stack's page */
	char byte;
};
static struct closer *closers[MAX_CLOSERS];
static pthread_mutex_t closers_lock = PTHREAD_MUTEX_INITIALIZER;

static void free_closer(struct closer *c)
{
	munmap(c->stack, CLOSER_STACK); /* c lives at the top of its own stack */
}

void reap_closers(void)
{
	pthread_mutex_lock(&closers_lock);
	for (int i = 0; i < MAX_CLOSERS; i++) {
		if (closers[i] != NULL && waitpid(closers[i]->pid, NULL, WNOHANG | __WALL) != 0) {
			free_closer(closers[i]);
			closers[i] = NULL;
		}
	}
	pthread_mutex_unlock(&closers_lock);
}

/* Waits for the closer `pid` (a grace period) and frees its stack. */
void wait_closer(pid_t pid)
{
	if (pid <= 0)
		return;
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&closers_lock);
	for (int i = 0; i < MAX_CLOSERS; i++) {
		if (closers[i] != NULL && closers[i]->pid == pid) {
			free_closer(closers[i]);
			closers[i] = NULL;
		}
	}
	pthread_mutex_unlock(&closers_lock);
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
			syscall(SYS_close, fd);
}

static int closer_main(void *arg)
{
	struct closer *c = arg;
	sigset_t all;
	sigfillset(&all);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, _NSIG / 8);
	close_all_but(c->fd, c->pipe_rd);
	while (syscall(SYS_read, c->pipe_rd, &c->byte, 1) < 0)
		; /* EINTR cannot come (every signal blocked); EOF is the word */
	syscall(SYS_close, c->fd);
	syscall(SYS_exit, 0);
	return 0;
}

/* Returns the closer's pid (the caller waits for it with wait_closer, or leaves it to reap_closers), or 0 when it closed fd itself. */
pid_t handoff_close(int fd)
{
	if (fd < 0)
		return 0;
	reap_closers();
	pid_t pid = 0;
	int p[2];
	void *stack = mmap(NULL, CLOSER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack != MAP_FAILED && pipe2(p, O_CLOEXEC) == 0) {
		struct closer *c = (struct closer *)((char *)stack + CLOSER_STACK) - 1;
		c->stack = stack;
		c->fd = fd;
		c->pipe_rd = p[0];
		pthread_mutex_lock(&closers_lock);
		int slot = -1;
		for (int i = 0; i < MAX_CLOSERS && slot < 0; i++)
			if (closers[i] == NULL)
				slot = i;
		if (slot >= 0) {
			/* exit signal 0: no SIGCHLD for the runtime to trip over; the stack grows down from c */
			pid = clone(closer_main, (void *)((uintptr_t)c & ~(uintptr_t)15), CLONE_VM, c);
			if (pid > 0) {
				c->pid = pid;
				closers[slot] = c;
			} else {
				pid = 0;
			}
		}
		pthread_mutex_unlock(&closers_lock);
		/* The socket before the pipe: the child's read ends only once ours is gone, so its close is the last. */
		close(fd);
		close(p[0]);
		close(p[1]);
	} else {
		close(fd);
	}
	if (pid == 0 && stack != MAP_FAILED)
		munmap(stack, CLOSER_STACK);
	return pid;
}
