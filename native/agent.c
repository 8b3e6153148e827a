/*
 * tsproc seccomp-agent: sysinfo(2) answered for runc containers whose seccomp profile sends the call to
 * a listenerPath (SCMP_ACT_NOTIFY). runc connects once per process it starts with such a filter, sends
 * the process's state (JSON: its pid among the rest) with the filter's listener (SCM_RIGHTS) and
 * closes. Each listener gets a process of its own, in a session of its own, that answers as the
 * monitor answers tsproc's containers (sysinfo.c) and ends when the filter's processes are gone: the
 * agent itself may be stopped and started again without taking running containers' answers along.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper.h"

#define STATE_MAX (1 << 20) /* runc's state with its annotations: far less */

/* Has buf a whole JSON object yet (its braces closed, strings skipped)? */
static int whole_json(const char *buf, size_t len)
{
	int depth = 0, string = 0, escaped = 0, started = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];
		if (string) {
			if (escaped)
				escaped = 0;
			else if (ch == '\\')
				escaped = 1;
			else if (ch == '"')
				string = 0;
		} else if (ch == '"')
			string = 1;
		else if (ch == '{')
			depth++, started = 1;
		else if (ch == '}' && --depth == 0 && started)
			return 1;
	}
	return 0;
}

/* runc's message: its state as one JSON object, with the listener (SCM_RIGHTS). runc keeps the
 * connection open while it runs, so the object's end, not the connection's, ends the message. */
static int read_state(int conn, char *buf, size_t size, int *fd)
{
	size_t len = 0;
	*fd = -1;
	while (len < size - 1) {
		union {
			char buf[CMSG_SPACE(4 * sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = buf + len, .iov_len = size - 1 - len };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
		ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int got;
				memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (*fd < 0)
					*fd = got;
				else
					close(got);
			}
		}
		len += (size_t)n;
		if (whole_json(buf, len))
			break;
	}
	buf[len] = '\0';
	return whole_json(buf, len) ? 0 : -1;
}

/* One container process's listener, until its filter has no process left. */
static int serve(int conn)
{
	static char state[STATE_MAX];
	int fd;
	/* not the agent's terminal's: Ctrl-C on the agent leaves running containers answered */
	setsid();
	signal(SIGCHLD, SIG_DFL); /* its readers are waited for */
	if (read_state(conn, state, sizeof(state), &fd) < 0 || fd < 0) {
		fprintf(stderr, "tsproc: seccomp-agent: a connection without a seccomp listener: ignored\n");
		return 1;
	}
	close(conn);
	/* runc's specs.ContainerProcessState: "pid" (the process's) comes before the nested state's */
	const char *p = strstr(state, "\"pid\":");
	pid_t pid = p ? (pid_t)strtol(p + 6, NULL, 10) : 0;
	struct sysinfo_server *s = sysinfo_server_new(NULL, -1);
	if (pid <= 0 || !s || sysinfo_server_add_listener(s, fd) < 0 || sysinfo_server_started(s, pid, 1) < 0) {
		fprintf(stderr, "tsproc: seccomp-agent: cannot answer for pid %d (%s): its sysinfo calls fail with ENOSYS\n", pid, strerror(errno));
		return 1;
	}
	fprintf(stderr, "tsproc: seccomp-agent: answering sysinfo for pid %d (server pid %d)\n", pid, getpid());
	while (sysinfo_server_listeners(s) > 0) {
		struct pollfd fds[SYSINFO_MAX_FDS];
		int n = sysinfo_server_pollfds(s, fds, SYSINFO_MAX_FDS);
		int ready = poll(fds, (nfds_t)n, sysinfo_server_timeout(s));
		sysinfo_server_handle(s, fds, ready < 0 ? 0 : n);
	}
	return 0;
}

int agent_main(const char *path)
{
	/* a socket left by an agent that is gone is replaced; one that answers is another agent's */
	int other = unix_socket_at(path, SOCK_STREAM, 0);
	if (other >= 0) {
		fprintf(stderr, "tsproc: seccomp-agent: another agent listens on %s\n", path);
		return 1;
	}
	unlink(path);
	int sock = unix_socket_at(path, SOCK_STREAM, 1);
	if (sock < 0 || fcntl(sock, F_SETFL, 0) < 0) {
		fprintf(stderr, "tsproc: seccomp-agent: cannot listen on %s: %s\n", path, strerror(errno));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN); /* the servers are nobody's to wait for */
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "tsproc: seccomp-agent: listening on %s\n", path);
	for (;;) {
		int conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "tsproc: seccomp-agent: accept on %s failed: %s\n", path, strerror(errno));
			return 1;
		}
		struct ucred cred;
		socklen_t len = sizeof(cred);
		pid_t pid = getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == 0 ? fork() : -1;
		if (pid == 0) {
			close(sock);
			_exit(serve(conn));
		}
		close(conn);
	}
}
