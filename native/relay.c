/* The relay loop while a command runs: its output to the CLI's stdout/stderr (and to the log), the
 * CLI's stdin to it (-i), commands from the control FIFO, the container's sysinfo(2) calls (the
 * monitor with --lxcfs, sysinfo.c), until it ends. No write may block the loop: what a sink cannot
 * take at once waits in its buffer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

volatile sig_atomic_t tty_resized;
/* set while relay_run relays a terminal: SIGWINCH is then for the relay (it copies the new size to the
 * container's terminal, and the kernel tells the command), not for the command itself */
volatile sig_atomic_t relaying_tty;

/* What a sink holds at most: past it a lossy sink drops (the log has everything). */
#define SINK_MAX (256 * 1024)

/* The sinks: the CLI's stdout and stderr, the command's input. */
enum { SINK_OUT, SINK_ERR, SINK_IN, NSINK };

/* Where output (or our stdin) goes: written without blocking, the rest kept in order. */
struct sink {
	int fd; /* -1: nowhere (never was, or its reader went away) */
	int sock; /* a socket: send(MSG_DONTWAIT) */
	int owned; /* we opened fd: close it when done */
	char *buf;
	size_t len;
	size_t dropped;
};

/* A descriptor to write fd's output to without blocking, and without O_NONBLOCK on the open file
 * description we share with the CLI and its shell: a socket takes MSG_DONTWAIT per call, a pipe or a
 * terminal is opened again through /proc (a description of our own), a file is written as it is. */
int relay_sink_fd(int fd, int *sock)
{
	struct stat st;
	char path[64];
	*sock = 0;
	if (fstat(fd, &st) < 0)
		return -1;
	if (S_ISSOCK(st.st_mode))
		return *sock = 1, fd;
	if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC); /* ENXIO: a pipe's reader is gone */
}

/* Each sink's buffer, one per kind, in the helper's own data: no allocation can fail here (a failed
 * one had made the sink write nowhere without a word). The helper relays once per process, on one thread. */
static char sink_room[NSINK][SINK_MAX];

static void sink_init(struct sink *s, int kind, int fd, int sock, int owned)
{
	*s = (struct sink){ .fd = fd, .sock = sock, .owned = owned, .buf = sink_room[kind] };
}

static void sink_close(struct sink *s)
{
	if (s->owned && s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->len = 0;
}

static ssize_t sink_send(struct sink *s, const char *b, size_t n)
{
	return s->sock ? send(s->fd, b, n, MSG_DONTWAIT | MSG_NOSIGNAL) : write(s->fd, b, n);
}

/* Write what it holds until it would block; a reader that went away ends it. */
static void sink_flush(struct sink *s)
{
	while (s->fd >= 0 && s->len > 0) {
		ssize_t w = sink_send(s, s->buf, s->len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			sink_close(s);
			return;
		}
		memmove(s->buf, s->buf + w, s->len - (size_t)w);
		s->len -= (size_t)w;
	}
}

/* Add output behind what it holds; a lossy sink drops what does not fit. */
static void sink_put(struct sink *s, const char *b, size_t n, int lossy)
{
	if (s->fd < 0)
		return;
	size_t room = SINK_MAX - s->len;
	if (n > room && lossy) {
		s->dropped += n - room;
		n = room;
	}
	memcpy(s->buf + s->len, b, n); /* a sink that must not lose is read into only when empty: it fits */
	s->len += n;
	sink_flush(s);
}

/* Wait until a sink has written all it holds (or its reader went away). */
static void sink_drain(struct sink *s)
{
	while (s->fd >= 0 && s->len > 0) {
		poll(&(struct pollfd){ .fd = s->fd, .events = POLLOUT }, 1, -1);
		sink_flush(s);
	}
}

/* Move what a source has to its sink (and the log): 1 when it did, -1 when it has nothing now,
 * 0 at EOF or error. */
static int pump(int from, struct sink *to, int lossy, struct log *log, int stream)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -1;
	if (n <= 0)
		return 0;
	sink_put(to, buf, (size_t)n, lossy);
	if (log && stream >= 0)
		log_write(log, stream, buf, (size_t)n);
	return 1;
}

/* "kill N": a signal for the container, sent by its parent, so its pid cannot have been reused. */
static void control(int fd, pid_t child)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int sig;
		if (sscanf(line, "kill %d", &sig) == 1 && sig > 0 && sig < NSIG)
			kill(child, sig);
	}
}

static void nothing(int sig)
{
	(void)sig;
}

enum { SRC_OUT, SRC_ERR, SRC_STDIN, SRC_CONTROL, NSRC };

int relay_run(const struct relay *r, pid_t child, int *status, size_t *dropped)
{
	struct termios saved;
	int raw = r->master >= 0 && r->in == r->master && isatty(0) && tcgetattr(0, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(0, TCSANOW, &t);
	}
	if (r->master >= 0)
		tty_copy_size(r->master);
	relaying_tty = r->master >= 0;
	struct sigaction wake = { .sa_handler = nothing };
	sigemptyset(&wake.sa_mask);
	sigaction(SIGCHLD, &wake, NULL); /* an ignored signal would not interrupt ppoll */
	/* SIGCHLD and SIGWINCH are let in only during ppoll, which they interrupt: one that came between
	 * the checks below and ppoll would otherwise wait there for the next event */
	sigset_t chld, during;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigaddset(&chld, SIGWINCH);
	sigprocmask(SIG_BLOCK, &chld, &during);
	sigdelset(&during, SIGCHLD);
	sigdelset(&during, SIGWINCH);
	/* sources: the container's stdout (or its terminal), its stderr, our stdin, the control FIFO */
	int fds[NSRC] = { r->master >= 0 ? r->master : r->out, r->master >= 0 ? -1 : r->err, r->in >= 0 ? 0 : -1, r->control };
	/* sinks: the CLI's stdout and stderr (what r->sink_* say), the command's input */
	struct sink sinks[NSINK];
	sink_init(&sinks[SINK_OUT], SINK_OUT, r->sink_out, r->sink_out_sock, r->sink_out != 1);
	sink_init(&sinks[SINK_ERR], SINK_ERR, r->sink_err, r->sink_err_sock, r->sink_err != 2);
	if (r->in >= 0 && r->in != r->master)
		fcntl(r->in, F_SETFL, O_NONBLOCK); /* our own pipe's write end */
	sink_init(&sinks[SINK_IN], SINK_IN, r->in, 0, r->in != r->master);
	struct sink *sink_of[NSRC] = { &sinks[SINK_OUT], &sinks[SINK_ERR], &sinks[SINK_IN], NULL };
	for (;;) {
		struct pollfd p[NSRC + NSINK + SYSINFO_MAX_FDS];
		for (int i = 0; i < NSRC; i++) {
			/* a source whose sink must not lose waits while the sink holds anything */
			int held = sink_of[i] && sink_of[i]->len > 0 && (i == SRC_STDIN || !r->lossy);
			p[i] = (struct pollfd){ .fd = held ? -1 : fds[i], .events = POLLIN };
		}
		for (int i = 0; i < NSINK; i++)
			p[NSRC + i] = (struct pollfd){ .fd = sinks[i].len > 0 ? sinks[i].fd : -1, .events = POLLOUT };
		if (waitpid(child, status, WNOHANG) == child)
			break;
		if (tty_resized && r->master >= 0) {
			tty_resized = 0;
			tty_copy_size(r->master);
		}
		int nsys = r->sysinfo ? sysinfo_server_pollfds(r->sysinfo, p + NSRC + NSINK, SYSINFO_MAX_FDS) : 0;
		int wait_ms = r->sysinfo ? sysinfo_server_timeout(r->sysinfo) : -1;
		struct timespec ts = { .tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000000L };
		int ready = ppoll(p, (nfds_t)(NSRC + NSINK + nsys), wait_ms < 0 ? NULL : &ts, &during);
		if (r->sysinfo)
			sysinfo_server_handle(r->sysinfo, p + NSRC + NSINK, ready < 0 ? 0 : nsys);
		if (ready <= 0)
			continue;
		for (int i = 0; i < NSINK; i++)
			if (p[NSRC + i].revents & (POLLOUT | POLLERR | POLLHUP))
				sink_flush(&sinks[i]);
		for (int i = 0; i < NSRC; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (i == SRC_CONTROL)
				control(fds[i], child);
			else if (pump(fds[i], sink_of[i], i != SRC_STDIN && r->lossy, i == SRC_STDIN ? NULL : r->log, i) == 0)
				fds[i] = -1; /* closed (a terminal's master reads EIO when no one holds it) */
		}
		/* our stdin ended: so does the command's, once it has had what we read (not a terminal's) */
		if (r->in >= 0 && r->in != r->master && fds[SRC_STDIN] < 0 && sinks[SINK_IN].len == 0)
			sink_close(&sinks[SINK_IN]);
	}
	/* what it wrote just before it ended (nothing now: nothing left; EOF/EIO: no writer left); a
	 * sink that must not lose is waited for, a lossy one takes what it can */
	for (int i = SRC_OUT; i <= SRC_ERR; i++) {
		if (fds[i] < 0)
			continue;
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		do
			if (!r->lossy)
				sink_drain(sink_of[i]);
		while (pump(fds[i], sink_of[i], r->lossy, r->log, i) == 1);
	}
	if (r->log)
		log_flush(r->log);
	*dropped = 0;
	for (int i = SINK_OUT; i <= SINK_ERR; i++) {
		/* lossy: what the reader has not taken by now is dropped (we clean up, not wait for it) */
		if (!r->lossy)
			sink_drain(&sinks[i]);
		sink_flush(&sinks[i]);
		*dropped += sinks[i].dropped + sinks[i].len;
		sink_close(&sinks[i]);
	}
	sink_close(&sinks[SINK_IN]);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
	relaying_tty = 0;
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	return 0;
}
