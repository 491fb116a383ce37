/*
 * The --hook program, run by the helper (issue 11 findings 8 and 9): one at a time, as the
 * hook user (setgroups/setresgid/setresuid before exec, no_new_privs), in a session and
 * process group of its own, with an environment of exactly the entries the daemon sent
 * (checked here: shell-style names, no NUL), the lease JSON on its stdin, stdout read and
 * thrown away, the first PRIV_MAX_STDERR bytes of stderr kept. At the time limit its whole
 * process group gets SIGTERM, then SIGKILL a second later; when the daemon stops or dies the
 * group is ended the same way before the helper exits, so nothing the hook started outlives
 * the daemon in its group.
 */
#include "priv.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define KILL_AFTER_MS 1000
/* After the hook exits, how long a background child may keep its pipes open before we stop reading. */
#define PIPE_GRACE_MS 200

static struct {
	pid_t pid; /* 0: none running; the process group is the same number */
	uint32_t seq;
	int in, out, err; /* our ends of its pipes, -1 when closed */
	const uint8_t *stdin_data;
	uint32_t stdin_len, stdin_done;
	int64_t started, deadline, kill_at, exited_at;
	int status_known, wstatus, timed_out;
	struct priv_hook_done done;
	uint8_t stdin_buf[PRIV_MAX_BLOB];
} h = { .in = -1, .out = -1, .err = -1 };

int hook_running(void)
{
	return h.pid != 0;
}

static int valid_env(const uint8_t *p, uint16_t n)
{
	const uint8_t *eq = memchr(p, '=', n);
	if (eq == NULL || eq == p || memchr(p, 0, n) != NULL)
		return 0;
	for (const uint8_t *c = p; c < eq; c++) {
		int ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || *c == '_' || (c > p && *c >= '0' && *c <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* In the child: become the hook user, with nothing else, and exec. Never returns. */
static void exec_hook(int in, int out, int err, char **envp)
{
	if (setsid() < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	syscall(SYS_close_range, 3, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	if (getuid() == 0 && (conf.hook_uid != 0 || conf.hook_gid != 0)) {
		if (setgroups(0, NULL) != 0 || setresgid(conf.hook_gid, conf.hook_gid, conf.hook_gid) != 0 ||
		    setresuid(conf.hook_uid, conf.hook_uid, conf.hook_uid) != 0)
			_exit(126);
	}
	/* Its direct process dies with the helper even if the helper is killed outright. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	char *argv[] = { (char *)conf.hook, NULL };
	execve(conf.hook, argv, envp);
	_exit(127);
}

int hook_start(const uint8_t *blob, uint32_t len, uint32_t seq, struct priv_result *r)
{
	if (conf.hook == NULL) {
		result_line(r, '-', "no hook was configured");
		return -EINVAL;
	}
	if (h.pid != 0) {
		result_line(r, '-', "a hook is still running");
		return -EBUSY;
	}
	static char env_store[PRIV_MAX_BLOB + PRIV_HOOK_MAX_ENV];
	char *envp[PRIV_HOOK_MAX_ENV + 1];
	int nenv = 0;
	size_t used = 0;
	h.stdin_len = 0;
	for (uint32_t at = 0; at < len;) {
		if (len - at < 3) {
			result_line(r, '-', "a hook record is cut short");
			return -EINVAL;
		}
		uint8_t kind = blob[at];
		uint16_t n;
		memcpy(&n, blob + at + 1, 2);
		at += 3;
		if (n > len - at) {
			result_line(r, '-', "a hook record is longer than the message");
			return -EINVAL;
		}
		if (kind == 'E') {
			if (nenv >= PRIV_HOOK_MAX_ENV || !valid_env(blob + at, n)) {
				result_line(r, '-', "a hook environment entry is refused (name, NUL or count)");
				return -EINVAL;
			}
			memcpy(env_store + used, blob + at, n);
			env_store[used + n] = 0;
			envp[nenv++] = env_store + used;
			used += n + 1;
		} else if (kind == 'I') {
			memcpy(h.stdin_buf + h.stdin_len, blob + at, n);
			h.stdin_len += n;
		} else {
			result_line(r, '-', "an unknown hook record");
			return -EINVAL;
		}
		at += n;
	}
	envp[nenv] = NULL;
	int pin[2], pout[2], perr[2];
	if (pipe2(pin, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pout, O_CLOEXEC) < 0) {
		int e = -errno;
		close(pin[0]), close(pin[1]);
		return e;
	}
	if (pipe2(perr, O_CLOEXEC) < 0) {
		int e = -errno;
		close(pin[0]), close(pin[1]), close(pout[0]), close(pout[1]);
		return e;
	}
	pid_t pid = fork();
	if (pid == 0)
		exec_hook(pin[0], pout[1], perr[1], envp);
	int e = pid < 0 ? -errno : 0;
	close(pin[0]), close(pout[1]), close(perr[1]);
	if (pid < 0) {
		close(pin[1]), close(pout[0]), close(perr[0]);
		return e;
	}
	h.pid = pid;
	h.seq = seq;
	h.in = pin[1], h.out = pout[0], h.err = perr[0];
	for (int *fd = &h.in; fd <= &h.err; fd++)
		fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
	h.stdin_done = 0;
	h.started = now_ms();
	h.deadline = h.started + conf.hook_timeout_ms;
	h.kill_at = 0;
	h.exited_at = 0;
	h.status_known = 0;
	h.timed_out = 0;
	memset(&h.done, 0, sizeof h.done);
	if (h.stdin_len == 0)
		close_fd(&h.in);
	return 0;
}

int hook_pollfds(struct pollfd *fds, int *timeout_ms)
{
	int n = 0;
	if (h.pid == 0)
		return 0;
	if (h.in >= 0)
		fds[n++] = (struct pollfd){ .fd = h.in, .events = POLLOUT };
	if (h.out >= 0)
		fds[n++] = (struct pollfd){ .fd = h.out, .events = POLLIN };
	if (h.err >= 0)
		fds[n++] = (struct pollfd){ .fd = h.err, .events = POLLIN };
	int64_t next = h.exited_at ? h.exited_at + PIPE_GRACE_MS : h.kill_at ? h.kill_at : h.deadline;
	int64_t wait = next - now_ms();
	/* While it runs, look at it every 50 ms: SIGCHLD is not plumbed into poll(). */
	*timeout_ms = (int)(wait < 0 ? 0 : wait > 50 ? 50 : wait);
	return n;
}

static void drain(int *fd, int keep)
{
	uint8_t buf[4096];
	for (;;) {
		ssize_t n = read(*fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			close_fd(fd);
			return;
		}
		size_t room = keep ? PRIV_MAX_STDERR - h.done.len : 0;
		size_t take = (size_t)n < room ? (size_t)n : room;
		if (take) {
			memcpy(h.done.stderr_bytes + h.done.len, buf, take);
			h.done.len += (uint32_t)take;
		}
		if (keep)
			h.done.stderr_discarded += (uint32_t)((size_t)n - take);
	}
}

static void finish(int sock)
{
	close_fd(&h.in);
	close_fd(&h.out);
	close_fd(&h.err);
	h.done.ms = (uint32_t)(now_ms() - h.started);
	h.done.timed_out = (uint32_t)h.timed_out;
	if (WIFEXITED(h.wstatus)) {
		h.done.exit_code = WEXITSTATUS(h.wstatus);
	} else {
		h.done.exit_code = -1;
		h.done.signal = WIFSIGNALED(h.wstatus) ? WTERMSIG(h.wstatus) : 0;
	}
	if (sock >= 0)
		send_msg(sock, PRIV_HOOK_DONE, h.seq, &h.done, sizeof h.done);
	h.pid = 0;
}

void hook_service(int sock)
{
	if (h.pid == 0)
		return;
	if (h.in >= 0) {
		ssize_t n = write(h.in, h.stdin_buf + h.stdin_done, h.stdin_len - h.stdin_done);
		if (n > 0)
			h.stdin_done += (uint32_t)n;
		if ((n < 0 && errno != EAGAIN && errno != EINTR) || h.stdin_done >= h.stdin_len)
			close_fd(&h.in); /* done, or it closed its stdin: its business */
	}
	if (h.out >= 0)
		drain(&h.out, 0);
	if (h.err >= 0)
		drain(&h.err, 1);
	int64_t now = now_ms();
	if (!h.status_known && waitpid(h.pid, &h.wstatus, WNOHANG) == h.pid) {
		h.status_known = 1;
		h.exited_at = now;
	}
	if (!h.status_known) {
		if (!h.timed_out && now >= h.deadline) {
			h.timed_out = 1;
			kill(-h.pid, SIGTERM);
			h.kill_at = now + KILL_AFTER_MS;
		} else if (h.kill_at && now >= h.kill_at) {
			kill(-h.pid, SIGKILL);
			h.kill_at = 0;
		}
		return;
	}
	if (h.timed_out)
		kill(-h.pid, SIGKILL); /* what it started and left behind in its group */
	if ((h.out < 0 && h.err < 0) || now >= h.exited_at + PIPE_GRACE_MS)
		finish(sock);
}

void hook_end(int sock)
{
	if (h.pid == 0)
		return;
	kill(-h.pid, SIGTERM);
	int64_t until = now_ms() + KILL_AFTER_MS;
	while (!h.status_known && now_ms() < until) {
		if (waitpid(h.pid, &h.wstatus, WNOHANG) == h.pid)
			h.status_known = 1;
		else
			usleep(10 * 1000);
	}
	/* The whole group, whatever is left of it (a child that ignored SIGTERM). */
	kill(-h.pid, SIGKILL);
	if (!h.status_known && waitpid(h.pid, &h.wstatus, 0) == h.pid)
		h.status_known = 1;
	h.timed_out = 1;
	finish(sock);
}
