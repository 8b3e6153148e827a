/*
 * tsproc-helper: the few system calls Node lacks, for `tsproc run`.
 *
 *   tsproc-helper run CONFIG    fd 3: the status channel (one event a line)
 *   tsproc-helper exec CONFIG   the same channel; a process in a running container
 *   tsproc-helper rebind PID    the daemon's: repair binds of a dead tsproc mount (rebind.c)
 *   tsproc-helper seccomp-agent SOCKET   sysinfo(2) for runc's listenerPath (agent.c)
 *
 * The helper forks the monitor and returns at once: the monitor is never a child of the CLI. The
 * monitor starts the container, waits for it, records its exit and cleans up. Events name the step
 * and the errno; the words are TypeScript's (runner/helper-events.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

/* Write one event line to the status channel; a reader that went away is not an error. */
void status(const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	for (ssize_t off = 0, w; off < n; off += w) {
		w = write(STATUS_FD, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			w = 0;
		else if (w <= 0)
			return;
	}
}

/* The encoding runner/helper-config.ts uses: bytes <= 0x20, '%' and 0x7f as %XX, "" as "%". */
void escape_to(char *out, size_t size, const char *s)
{
	size_t o = 0;
	if (!*s && size > 1)
		out[o++] = '%';
	for (; *s && o + 4 < size; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch <= 0x20 || ch == '%' || ch == 0x7f)
			o += (size_t)snprintf(out + o, size - o, "%%%02X", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

int main(int argc, char **argv)
{
	struct config c;
	int bad_line;

	if (argc == 3 && strcmp(argv[1], "rebind") == 0)
		return rebind_main((pid_t)atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "seccomp-agent") == 0)
		return close_range(3, ~0U, 0) < 0 ? 1 : agent_main(argv[2]);

	if (argc != 3 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "exec") != 0)) {
		fprintf(stderr, "usage: tsproc-helper run|exec CONFIG (fd 3: status channel)\n");
		return 2;
	}
	if (fcntl(STATUS_FD, F_GETFD) < 0) {
		fprintf(stderr, "tsproc-helper: fd 3 (the status channel) is not open\n");
		return 2;
	}
	fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);
	/* 0. Nothing our caller left open goes further (a directory fd would let the container reach
	 *    the host's files through /proc/self/fd): stdio and the status channel only. */
	if (close_range(STATUS_FD + 1, ~0U, 0) < 0) {
		step_failed(STEP_CLOSE_FDS, errno, 0);
		return 1;
	}
	/* 1. The whole helper config, checked, before anything is forked or made (config.c). */
	if (config_read(argv[2], &c, &bad_line) < 0) {
		step_failed(STEP_CONFIG, errno, bad_line);
		return 1;
	}
	if (strcmp(argv[1], "exec") == 0)
		return exec_main(&c);
	/* 2. Fork the monitor and return: the CLI is not its parent (a killed CLI leaves it running). */
	pid_t pid = fork();
	if (pid < 0) {
		step_failed(STEP_FORK, errno, 0);
		return 1;
	}
	if (pid > 0)
		return 0;
	setsid();
	return monitor_main(&c);
}
