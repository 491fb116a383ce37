/*
 * The resident client's seccomp filter: Linux's counterpart of dhcpleased's pledge("stdio")
 * (issue 11 finding 2/3). Installed once the daemon has dropped to --user with no capability,
 * with SECCOMP_FILTER_FLAG_TSYNC so that every thread (and no_new_privs) has it at once, and
 * inherited by any thread started later.
 *
 * An allowlist, derived by tracing the daemon through its whole life in the lab (strace -f
 * over DORA, renewals, a link flap, the control socket, SIGHUP, hooks, release and exit:
 * SECURITY.md says how to redo it). What is not on it fails with EPERM rather than killing
 * the process: a syscall Bun or JSC makes once in a while fails softly and visibly. Not on
 * it, among others: execve/execveat, ptrace, mount, setns/unshare, bpf, the set*id and
 * capset calls, and socket() of any family but AF_UNIX (no new packet or netlink socket).
 */
#define _GNU_SOURCE
#include "shim.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

#if defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#else
#define FILTER_ARCH 0
#endif

/* Every syscall the traced daemon made after the drop, and their close kin. */
static const int allowed[] = {
	/* memory */
	__NR_mmap, __NR_munmap, __NR_mprotect, __NR_madvise, __NR_mremap, __NR_brk, __NR_membarrier,
	/* threads, signals, time */
	__NR_clone, __NR_clone3, __NR_futex, __NR_set_robust_list, __NR_rseq, __NR_exit, __NR_exit_group,
	__NR_gettid, __NR_getpid, __NR_getppid, __NR_set_tid_address, __NR_sched_yield, __NR_sched_getaffinity,
	__NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn, __NR_rt_sigsuspend, __NR_rt_sigtimedwait, __NR_sigaltstack,
	__NR_tgkill, __NR_tkill, __NR_restart_syscall, __NR_nanosleep, __NR_clock_nanosleep, __NR_clock_gettime,
	__NR_clock_getres, __NR_gettimeofday, __NR_getrandom, __NR_prctl, __NR_prlimit64, __NR_getrusage,
	__NR_uname, __NR_sysinfo, __NR_getuid, __NR_geteuid, __NR_getgid, __NR_getegid, __NR_getresuid, __NR_getresgid,
	__NR_wait4, __NR_waitid,
	/* descriptors and files (read-mostly: writes go to descriptors opened before the drop) */
	__NR_read, __NR_write, __NR_readv, __NR_writev, __NR_pread64, __NR_pwrite64, __NR_close, __NR_close_range,
	__NR_openat, __NR_fstat, __NR_newfstatat, __NR_statx, __NR_lseek, __NR_getdents64, __NR_readlinkat,
	__NR_fcntl, __NR_ioctl, __NR_dup, __NR_dup3, __NR_pipe2, __NR_fallocate, __NR_ftruncate, __NR_unlinkat, __NR_faccessat,
	__NR_eventfd2, __NR_timerfd_create, __NR_timerfd_settime, __NR_timerfd_gettime,
	__NR_epoll_create1, __NR_epoll_ctl, __NR_epoll_pwait, __NR_epoll_pwait2, __NR_ppoll, __NR_pselect6,
	/* sockets already open (packet, netlink, control, the helper's pair) */
	__NR_recvfrom, __NR_recvmsg, __NR_recvmmsg, __NR_sendto, __NR_sendmsg, __NR_sendmmsg, __NR_accept4,
	__NR_shutdown, __NR_getsockopt, __NR_setsockopt, __NR_getsockname, __NR_getpeername, __NR_connect,
#ifdef __NR_open
	__NR_open, __NR_stat, __NR_lstat, __NR_readlink, __NR_access, __NR_unlink, __NR_dup2, __NR_pipe, __NR_poll,
	__NR_epoll_wait, __NR_epoll_create, __NR_eventfd, __NR_accept, __NR_select, __NR_arch_prctl, __NR_getdents,
#endif
};

#define ALLOWED_COUNT (sizeof allowed / sizeof allowed[0])
/* Every jump is relative and 8 bits wide: the list must stay short enough for that. */
_Static_assert(ALLOWED_COUNT + 6 < 256, "allowlist too long for 8-bit jumps");
/* arch check (3) + nr load (1) + x32 check (1) + socket check (4) + one per allowed + two returns */
#define PROG_MAX (16 + ALLOWED_COUNT)

static int build(struct sock_filter *f)
{
	int n = 0;
	const unsigned ret_errno = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
	/* Another architecture's syscall table (i386 on x86_64): nothing of it is allowed. */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ret_errno);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
	/* x32 numbers (bit 30) are another table too. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, (uint8_t)(ALLOWED_COUNT + 4), 0);
#endif
	/* socket(AF_UNIX, …) only: no new packet, netlink or inet socket. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, (uint8_t)(ALLOWED_COUNT + 2), (uint8_t)(ALLOWED_COUNT + 1));
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)); /* not reached: keeps the offsets above whole */
	for (size_t i = 0; i < ALLOWED_COUNT; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)allowed[i], (uint8_t)(ALLOWED_COUNT - i), 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ret_errno);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ret_errno);
	return n;
}

/*
 * Sets no_new_privs and installs the filter on every thread. Returns 0, -errno, or the id
 * of a thread that could not be synchronised (positive, from the kernel's TSYNC).
 */
EXPORT int dt_seccomp_install(void)
{
	if (FILTER_ARCH == 0)
		return -ENOSYS;
	static struct sock_filter f[PROG_MAX];
	struct sock_fprog prog = { .len = (unsigned short)build(f), .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (rc < 0)
		return -errno;
	return (int)rc;
}
