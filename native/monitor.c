/* The monitor (tsproc's conmon): starts the container, forwards signals, waits, records, cleans up. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

volatile pid_t container_pid;

/* Signals the monitor (or exec's helper) receives go to the container (the CLI forwards its own here),
 * but SIGWINCH while relay_run relays a terminal. */
static void forward(int sig)
{
	if (sig == SIGWINCH && relaying_tty)
		tty_resized = 1; /* the relay copies the new size; the kernel tells the container */
	else if (container_pid > 0)
		kill(container_pid, sig);
}

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };

void forward_signals(void)
{
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

/* The oom_kill count in memory.events (v2) or memory.oom_control (v1); 0 if unknown. */
static long oom_kills(const char *path)
{
	char line[256];
	long n = 0;
	FILE *fp = path ? fopen(path, "re") : NULL;
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	fclose(fp);
	return n;
}

/*
 * Remove a tree (a --rm container's record: its writable layer or vfs copy, as deep as the container made it).
 * fts changes into each directory (no FTS_NOCHDIR), so fts_accpath, relative to the current directory, names each
 * entry however deep the tree: nftw's whole paths fail past PATH_MAX. Links are removed, not followed
 * (FTS_PHYSICAL); a mount point is not entered (FTS_XDEV) and its rmdir fails. Missing is not an error.
 */
static int remove_tree(const char *path)
{
	char *roots[] = { (char *)path, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_XDEV, NULL);
	if (!fts)
		return -1;
	int err = 0;
	for (;;) {
		errno = 0;
		FTSENT *e = fts_read(fts);
		if (!e) {
			if (errno && !err)
				err = errno;
			break;
		}
		int r;
		if (e->fts_info == FTS_D)
			continue; /* removed once its entries are (FTS_DP) */
		else if (e->fts_info == FTS_DP)
			r = rmdir(e->fts_accpath);
		else if (e->fts_info == FTS_DNR || e->fts_info == FTS_ERR || e->fts_info == FTS_NS)
			r = (errno = e->fts_errno, -1);
		else
			r = unlink(e->fts_accpath);
		if (r < 0 && errno != ENOENT && !err)
			err = errno;
	}
	fts_close(fts);
	errno = err;
	return err ? -1 : 0;
}

/* The helper config.s cleanup, in its order: unmount first, then the cgroups (which cannot go while they
 * hold tasks), then the name and the state. */
static void cleanup(const struct config *c)
{
	for (size_t i = 0; i < c->ncleanup; i++) {
		const struct cleanup_step *s = &c->cleanup[i];
		switch (s->kind) {
		case CLEANUP_UMOUNT:
			if (umount2(s->path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
				cleanup_step_failed(CLEANUP_STEP_UMOUNT, s->path);
			break;
		case CLEANUP_RMDIR: {
			/* The last tasks may still be leaving: retry EBUSY for up to 2 s. */
			int tries = 0;
			while (rmdir(s->path) < 0 && errno != ENOENT) {
				if (errno != EBUSY || ++tries > 200) {
					cleanup_step_failed(CLEANUP_STEP_RMDIR, s->path);
					break;
				}
				nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
			}
			break;
		}
		case CLEANUP_NAME: {
			/* --rm: our name, unless it was released meanwhile and is another container's now */
			char target[256];
			ssize_t n = readlink(s->path, target, sizeof(target) - 1);
			if (n >= 0 && (target[n] = '\0', strcmp(target, s->id) == 0) && unlink(s->path) < 0 && errno != ENOENT)
				cleanup_step_failed(CLEANUP_STEP_UNLINK, s->path);
			break;
		}
		case CLEANUP_REMOVE:
			if (remove_tree(s->path) < 0)
				cleanup_step_failed(CLEANUP_STEP_REMOVE, s->path);
			break;
		}
	}
}

/* Write a small file atomically (tmp file, rename): the exit status, the pid files. */
static void record(const char *path, const char *text)
{
	char tmp[4096];
	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) < 0 || close(fd) < 0 || rename(tmp, path) < 0)
		cleanup_step_failed(CLEANUP_STEP_RECORD, path);
}

static void record_pid(const char *path, pid_t pid)
{
	char text[32];
	snprintf(text, sizeof(text), "%d\n", pid);
	record(path, text);
}

/* The container failed before it ran its command: report, reap, clean up. */
static int failed(const struct config *c, pid_t child, enum step step, int err, int line)
{
	step_failed(step, err, line);
	if (child > 0) {
		kill(child, SIGKILL);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	cleanup(c);
	return 1;
}

/* The pipes the container's stdout and stderr (and with -i its stdin) go through (not with -t),
 * and the control FIFO. */
static int open_channels(const struct config *c, int in[2], int out[2], int err[2], int *control)
{
	if (!c->tty && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || (c->stdin_pipe && pipe2(in, O_CLOEXEC) < 0)))
		return -1;
	if (c->control_path) {
		if (mkfifo(c->control_path, 0600) < 0 && errno != EEXIST)
			return -1;
		/* read-write: the monitor never sees EOF when a writer goes */
		if ((*control = open(c->control_path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
			return -1;
	}
	return 0;
}

int monitor_main(const struct config *c)
{
	int sync_pipe[2], error_pipe[2], tty_sock[2] = { -1, -1 }, in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, status_code;
	int listener_sock[2] = { -1, -1 };
	pid_t child;
	struct log log;
	struct relay relay = { .master = -1, .in = -1, .out = -1, .err = -1, .control = -1, .log = &log, .lossy = 1 };
	size_t dropped;

	/* Signals first: SIGPIPE ignored before the first event, so that a CLI killed before the monitor
	 * reported in (its end of the status channel closed) does not take the monitor with it. The
	 * monitor owns the container from its pid file on (runner/container-owner.ts). */
	forward_signals();
	record_pid(c->monitor_pid_file, getpid());
	status("monitor %d", getpid());
	/* 3. The container's PID namespace: the monitor's next child is its PID 1. */
	if (c->new_pid_ns && unshare(CLONE_NEWPID) < 0)
		return failed(c, 0, STEP_PID_NAMESPACE, errno, 0);
	if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(error_pipe, O_CLOEXEC) < 0 ||
	    (c->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tty_sock) < 0) || open_channels(c, in, out, err, &relay.control) < 0)
		return failed(c, 0, STEP_PIPE, errno, 0);
	if (log_open(&log, c->log_path, c->log_max) < 0)
		return failed(c, 0, STEP_LOG, errno, 0);
	/*    --lxcfs: the container's sysinfo(2) calls come to us. Its first process hands us its filter's
	 *    listener through a socketpair before its command runs; exec'd processes, through the socket. */
	if (c->sysinfo_socket && (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, listener_sock) < 0 ||
				  !(relay.sysinfo = sysinfo_server_new(c->sysinfo_socket, listener_sock[0]))))
		return failed(c, 0, STEP_SYSINFO, errno, 0);
	/* 4. The container's first process; it waits for the go before touching anything. */
	child = fork();
	if (child < 0)
		return failed(c, 0, STEP_FORK, errno, 0);
	if (child == 0) {
		close(sync_pipe[1]);
		close(error_pipe[0]);
		if (c->tty)
			close(tty_sock[0]);
		else
			close(out[0]), close(err[0]), close(in[1]);
		if (c->sysinfo_socket)
			close(listener_sock[0]);
		struct container_fds fds = { .sync = sync_pipe[0], .error = error_pipe[1], .tty_sock = tty_sock[1], .in = in[0], .out = out[1], .err = err[1], .listener_sock = listener_sock[1] };
		container_main(c, &fds);
	}
	container_pid = child;
	close(sync_pipe[0]);
	close(error_pipe[1]);
	if (c->sysinfo_socket)
		close(listener_sock[1]);
	if (c->tty)
		close(tty_sock[1]);
	else {
		close(out[1]), close(err[1]), close(in[0]);
		relay.out = out[0], relay.err = err[0], relay.in = in[1];
	}
	/* 5. Its cgroup2 device filter, then its cgroups, before it runs anything (its memory and pids
	 *    count from here; it never is in its cgroup without the filter). */
	for (size_t i = 0; i < c->ndevice_filters; i++)
		if (device_filter_attach(c, c->device_filters[i].path) < 0)
			return failed(c, child, STEP_DEVICES, errno, c->device_filters[i].line);
	for (size_t i = 0; i < c->ncgroup_procs; i++) {
		char pid[32];
		snprintf(pid, sizeof(pid), "%d", child);
		if (write_file(c->cgroup_procs[i].path, pid) < 0)
			return failed(c, child, STEP_CGROUP, errno, c->cgroup_procs[i].line);
	}
	/* 6. Go; then the error pipe says why it failed, or closes when execve succeeds. */
	if (write(sync_pipe[1], "g", 1) != 1)
		return failed(c, child, STEP_SYNC, errno, 0);
	if (c->tty) {
		relay.master = tty_receive(tty_sock[0]); /* -1 if it failed before: the error pipe says why */
		close(tty_sock[0]);
		if (c->tty_stdin)
			relay.in = relay.master;
	}
	struct step_failure why;
	int child_failed = step_failure_read(error_pipe[0], &why);
	close(error_pipe[0]);
	close(sync_pipe[1]); /* held until now: its hang-up tells the container we died (container.c) */
	if (child_failed)
		return failed(c, child, why.step, why.err, why.line);
	record_pid(c->container_pid_file, child);
	if (relay.sysinfo)
		sysinfo_server_started(relay.sysinfo, child, 0); /* if it fails, calls go on to the kernel */
	status("started %d", child);
	/* 7. Relay its output (to the CLI and the log) and the control FIFO's commands until it ends.
	 *    The log and the FIFO are always served: a CLI reader that stops reading loses output. */
	relay.sink_out = relay_sink_fd(1, &relay.sink_out_sock);
	relay.sink_err = relay_sink_fd(2, &relay.sink_err_sock);
	relay_run(&relay, child, &status_code, &dropped);
	container_pid = 0;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		dup2(null, fd);
	/* 8. Record the exit, clean up, and only then tell the CLI (so it returns to a clean host). */
	char event[128];
	if (WIFSIGNALED(status_code))
		snprintf(event, sizeof(event), "signal %d %ld\n", WTERMSIG(status_code), oom_kills(c->oom_counter));
	else
		snprintf(event, sizeof(event), "code %d %ld\n", WEXITSTATUS(status_code), oom_kills(c->oom_counter));
	record(c->exit_file, event);
	/* written in place, not renamed over: a waiter's hard link to it sees it after --rm's cleanup */
	int wait_fd = c->wait_file ? open(c->wait_file, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
	if (wait_fd >= 0 && (write(wait_fd, event, strlen(event)) < 0 || close(wait_fd) < 0))
		cleanup_step_failed(CLEANUP_STEP_RECORD, c->wait_file);
	cleanup(c);
	if (dropped > 0)
		status("dropped %zu", dropped);
	event[strcspn(event, "\n")] = '\0';
	status("exit %s", event);
	return 0;
}
