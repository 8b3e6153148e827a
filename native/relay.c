/* The monitor's loop while the container runs: its output to the CLI's stdout/stderr and to the log,
 * the CLI's stdin to its terminal (-t -i), commands from the control FIFO, until it ends. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "helper.h"

volatile sig_atomic_t tty_resized;

/* The CLI's terminal size (its stdout's, else its stdin's) onto the container's. */
static void copy_size(int master)
{
	struct winsize ws;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 || ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

static void write_all(int fd, const char *buf, size_t n)
{
	for (ssize_t off = 0, w; fd >= 0 && (size_t)off < n; off += w)
		if ((w = write(fd, buf + off, n - (size_t)off)) < 0) {
			if (errno != EINTR && errno != EAGAIN)
				return; /* the CLI went away: the log still gets everything */
			w = 0;
		}
}

/* Move what a source has to its sink (and the log); 0 at EOF or error. */
static int pump(int from, int to, struct log *log, int stream)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	write_all(to, buf, (size_t)n);
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

int relay_run(const struct relay *r, pid_t child, int *status)
{
	struct termios saved;
	int raw = r->master >= 0 && r->stdin_to_master && isatty(0) && tcgetattr(0, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(0, TCSANOW, &t);
	}
	if (r->master >= 0)
		copy_size(r->master);
	struct sigaction wake = { .sa_handler = nothing };
	sigemptyset(&wake.sa_mask);
	sigaction(SIGCHLD, &wake, NULL); /* an ignored signal would not interrupt ppoll */
	sigset_t chld, during;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &during);
	sigdelset(&during, SIGCHLD);
	/* sources: the container's stdout (or its terminal), its stderr, our stdin, the control FIFO */
	int fds[NSRC] = { r->master >= 0 ? r->master : r->out, r->master >= 0 ? -1 : r->err, r->master >= 0 && r->stdin_to_master ? 0 : -1, r->control };
	for (;;) {
		struct pollfd p[NSRC];
		for (int i = 0; i < NSRC; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (waitpid(child, status, WNOHANG) == child)
			break;
		if (tty_resized && r->master >= 0) {
			tty_resized = 0;
			copy_size(r->master);
		}
		if (ppoll(p, NSRC, NULL, &during) < 0)
			continue;
		for (int i = 0; i < NSRC; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (i == SRC_CONTROL)
				control(fds[i], child);
			else if (i == SRC_STDIN && !pump(0, r->master, NULL, -1))
				fds[i] = -1;
			else if ((i == SRC_OUT || i == SRC_ERR) && !pump(fds[i], i == SRC_OUT ? 1 : 2, r->log, i))
				fds[i] = -1; /* closed (a terminal's master reads EIO when no one holds it) */
		}
	}
	/* what it wrote just before it ended (EAGAIN: nothing left; EOF/EIO: no writer left) */
	for (int i = SRC_OUT; i <= SRC_ERR; i++) {
		if (fds[i] < 0)
			continue;
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		while (pump(fds[i], i == SRC_OUT ? 1 : 2, r->log, i) && errno != EAGAIN)
			errno = 0;
	}
	if (r->log)
		log_flush(r->log);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	return 0;
}
