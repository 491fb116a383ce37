/*
 * The kernel's account of each of our threads, for the check after a privilege drop
 * (native/privilege.ts): every thread listed in /proc/self/task, its /proc/TID/status read
 * once, here, and the fields that matter handed back as numbers. JS then judges them;
 * nothing is decided here.
 *
 * dt_task_status(out, outlen) writes one row of TASK_ROW int32s per thread:
 *   [0] tid
 *   [1..4] Uid (real, effective, saved, fs)      [5..8] Gid (the same four)
 *   [9] how many supplementary groups            [10..17] the first eight of them
 *   [18..27] CapInh, CapPrm, CapEff, CapBnd, CapAmb, each as (low 32 bits, high 32 bits)
 *   [28] NoNewPrivs (0/1)                        [29] Seccomp (0, 1, 2; -1 when not said)
 * Returns the number of rows, -ENOSPC when the threads do not fit, or -errno. A thread that
 * ends while we look is skipped.
 */
#define _GNU_SOURCE
#include "shim.h"

#include <dirent.h>
#include <stdio.h>

#define TASK_ROW 30
#define TASK_GROUPS 8

static void ids(const char *v, int32_t *out, int n, int32_t *count)
{
	int i = 0;
	char *end;
	for (;;) {
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v < '0' || *v > '9')
			break;
		unsigned long x = strtoul(v, &end, 10);
		if (i < n)
			out[i] = (int32_t)x;
		i++;
		v = end;
	}
	if (count != NULL)
		*count = i;
}

static void caps(const char *v, int32_t *out)
{
	while (*v == ' ' || *v == '\t')
		v++;
	unsigned long long x = strtoull(v, NULL, 16);
	out[0] = (int32_t)(uint32_t)x;
	out[1] = (int32_t)(uint32_t)(x >> 32);
}

static void parse_status(char *text, int32_t *row, int32_t *tgid)
{
	row[29] = -1;
	for (char *line = text; line != NULL && *line;) {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = 0;
		char *colon = strchr(line, ':');
		if (colon != NULL) {
			*colon = 0;
			const char *v = colon + 1;
			if (strcmp(line, "Tgid") == 0)
				*tgid = (int32_t)strtol(v, NULL, 10);
			else if (strcmp(line, "Uid") == 0)
				ids(v, row + 1, 4, NULL);
			else if (strcmp(line, "Gid") == 0)
				ids(v, row + 5, 4, NULL);
			else if (strcmp(line, "Groups") == 0)
				ids(v, row + 10, TASK_GROUPS, row + 9);
			else if (strcmp(line, "CapInh") == 0)
				caps(v, row + 18);
			else if (strcmp(line, "CapPrm") == 0)
				caps(v, row + 20);
			else if (strcmp(line, "CapEff") == 0)
				caps(v, row + 22);
			else if (strcmp(line, "CapBnd") == 0)
				caps(v, row + 24);
			else if (strcmp(line, "CapAmb") == 0)
				caps(v, row + 26);
			else if (strcmp(line, "NoNewPrivs") == 0)
				row[28] = (int32_t)strtol(v, NULL, 10);
			else if (strcmp(line, "Seccomp") == 0)
				row[29] = (int32_t)strtol(v, NULL, 10);
		}
		line = next;
	}
}

EXPORT int dt_task_status(int32_t *out, int outlen)
{
	if (out == NULL || outlen < TASK_ROW)
		return -EINVAL;
	DIR *d = opendir("/proc/self/task");
	if (d == NULL)
		return -errno;
	int rows = 0, err = 0;
	struct dirent *e;
	char path[64], text[8192];
	while ((e = readdir(d)) != NULL) {
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid <= 0)
			continue;
		if ((rows + 1) * TASK_ROW > outlen) {
			err = -ENOSPC;
			break;
		}
		/*
		 * /proc/TID/status, not /proc/self/task/TID/status: the same per-thread account, but a
		 * dentry under our own /proc/PID/task makes the exit of this process (its release in
		 * the parent's wait4, racing the threads' own) cost up to a millisecond or more of
		 * dcache invalidation. A TID is not ours once it is reused: Tgid says whose it is.
		 */
		snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* a thread that just ended */
		size_t len = 0;
		ssize_t n;
		while (len < sizeof text - 1 && ((n = read(fd, text + len, sizeof text - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
			if (n > 0)
				len += (size_t)n;
		close(fd);
		if (len == 0)
			continue;
		text[len] = 0;
		int32_t *row = out + rows * TASK_ROW;
		memset(row, 0, TASK_ROW * sizeof *row);
		row[0] = (int32_t)tid;
		int32_t tgid = -1;
		parse_status(text, row, &tgid);
		if (tgid != (int32_t)getpid())
			continue; /* the thread ended and its id went to another process */
		rows++;
	}
	closedir(d);
	return err ? err : rows;
}
