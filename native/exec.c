/* tsproc exec: a process in a running container's namespaces and cgroups, with its privileges. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

static const struct {
	const char *name;
	int flag;
} namespaces[] = { { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
		   { "net", CLONE_NEWNET },	  { "pid", CLONE_NEWPID },  { "mnt", CLONE_NEWNS } };
#define NNS (sizeof(namespaces) / sizeof(namespaces[0]))

static int failed(enum step step, int line)
{
	step_failed(step, errno, line);
	return 1;
}

int exec_main(const struct config *c)
{
	int fds[NNS], error_pipe[2], tty_sock[2] = { -1, -1 }, in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, cap_last = last_cap(), status_code;
	char path[64];
	size_t dropped;
	/* 0. Our stdout and stderr, to relay the command's output to without blocking (through the
	 *    host's /proc, which joining its mount namespace hides). Nothing is lost: the command waits. */
	struct relay relay = { .master = -1, .in = -1, .out = -1, .err = -1, .control = -1, .log = NULL, .lossy = 0 };
	relay.sink_out = relay_sink_fd(1, &relay.sink_out_sock);
	relay.sink_err = relay_sink_fd(2, &relay.sink_err_sock);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC); /* the host's: the container's could be anything */
	/* 1. Open the container's namespaces before joining any (/proc is still the host's). */
	for (size_t i = 0; i < NNS; i++) {
		int wanted = namespaces[i].flag == CLONE_NEWPID ? c->new_pid_ns : c->unshare_flags & namespaces[i].flag;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", c->target_pid, namespaces[i].name);
		if ((fds[i] = wanted ? open(path, O_RDONLY | O_CLOEXEC) : -1) < 0 && wanted)
			return failed(STEP_OPEN_NAMESPACE, 0);
	}
	/* 2. Open its cgroups' cgroup.procs while the host's paths are ours to see: the command (our
	 *    child) joins them itself, so that this helper does not count against its limits. */
	int *cgroups = calloc(c->ncgroup_procs + 1, sizeof(int));
	if (!cgroups)
		return failed(STEP_CGROUP, 0);
	for (size_t i = 0; i < c->ncgroup_procs; i++)
		if ((cgroups[i] = open(c->cgroup_procs[i].path, O_WRONLY | O_CLOEXEC)) < 0)
			return failed(STEP_CGROUP, c->cgroup_procs[i].line);
	/* --lxcfs: the command's filter sends sysinfo(2) to the container's monitor (it outlives us): its
	 *    socket, connected while its path is ours to see */
	int listener_sock = c->sysinfo_socket ? unix_socket_at(c->sysinfo_socket, SOCK_SEQPACKET, 0) : -1;
	if (c->sysinfo_socket && listener_sock < 0)
		return failed(STEP_SYSINFO_CONNECT, 0);
	/* 3. Join the namespaces; the mount one last: its root and cwd become ours. */
	for (size_t i = 0; i < NNS; i++)
		if (fds[i] >= 0 && setns(fds[i], namespaces[i].flag) < 0)
			return failed(STEP_SETNS, 0);
	/* the command's stdio: a terminal of its own (-t), or pipes we relay; never our own descriptors */
	if (pipe2(error_pipe, O_CLOEXEC) < 0 || (c->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tty_sock) < 0) ||
	    (!c->tty && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || (c->stdin_pipe && pipe2(in, O_CLOEXEC) < 0))))
		return failed(STEP_PIPE, 0);
	forward_signals();
	/* 4. Fork: the child is in the container's PID namespace; it becomes the command. */
	pid_t child = fork();
	if (child < 0)
		return failed(STEP_FORK, 0);
	if (child == 0) {
		/* not dumpable until execve: the container's processes, root among them, may not ptrace
		 * us or open our /proc/PID/fd while we hold the host's descriptors */
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			step_fail_child(error_pipe[1], STEP_DUMPABLE, 0);
		close(error_pipe[0]);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		for (size_t i = 0; i < c->ncgroup_procs; i++) /* "0": the writer itself */
			if (write(cgroups[i], "0", 1) < 0)
				step_fail_child(error_pipe[1], STEP_CGROUP, c->cgroup_procs[i].line);
		/* a session of its own: no controlling terminal of ours (-t: its own pty becomes one) */
		if (c->tty && container_tty(tty_sock[1], 0) < 0)
			step_fail_child(error_pipe[1], STEP_TTY, 0);
		if (!c->tty && (use_stdio(in[0] >= 0 ? in[0] : null, out[1], err[1]) < 0 || setsid() < 0))
			step_fail_child(error_pipe[1], STEP_STDIO, 0);
		process_main(c, error_pipe[1], cap_last, 0, listener_sock);
	}
	container_pid = child;
	close(error_pipe[1]);
	if (listener_sock >= 0)
		close(listener_sock);
	close(null);
	if (!c->tty) {
		close(in[0]), close(out[1]), close(err[1]);
		relay.in = in[1], relay.out = out[0], relay.err = err[0];
	}
	if (c->tty) {
		close(tty_sock[1]);
		relay.master = tty_receive(tty_sock[0]);
		if (c->tty_stdin)
			relay.in = relay.master;
	}
	struct step_failure why;
	if (step_failure_read(error_pipe[0], &why)) {
		step_failed(why.step, why.err, why.line);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		return 1;
	}
	status("started %d", child);
	/* 5. Relay its stdio (or its terminal), forward signals, wait, report. */
	relay_run(&relay, child, &status_code, &dropped);
	if (WIFSIGNALED(status_code))
		status("exit signal %d 0", WTERMSIG(status_code));
	else
		status("exit code %d 0", WEXITSTATUS(status_code));
	return 0;
}
