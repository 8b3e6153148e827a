/* The container's first process: namespaces, mounts, pivot_root, identity, privileges, execve. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

extern char **environ;

static int error_fd = -1;
/* The sync pipe's read end (the container's first process): the monitor holds its write end until
 * our execve, so a hang-up means the monitor is gone. */
static int monitor_fd = -1;

/* Tell the monitor (or exec's parent) which step failed and why, and end. */
static void __attribute__((noreturn)) fail(enum step step, int line)
{
	step_fail_child(error_fd, step, line);
}

/* A PR_SET_PDEATHSIG set after the monitor died never fires: end if it is gone already. */
static void set_pdeathsig(void)
{
	struct pollfd p = { .fd = monitor_fd, .events = POLLIN };
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(STEP_PDEATHSIG, 0);
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
		_exit(125);
}

int last_cap(void)
{
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	char buf[16] = { 0 };
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return CAP_LAST_CAP;
	close(fd);
	return atoi(buf);
}

static int loopback_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	int saved = errno;
	close(s);
	errno = saved;
	return r;
}

/* Keep only the helper config.s capabilities in the bounding set; inheritable and ambient empty (docker's
 * default since CVE-2022-24769). Execve then gives root exactly the bounding set, others nothing. */
static void drop_bounding(const struct config *c, int cap_last)
{
	for (int cap = 0; c->has_caps && cap <= cap_last; cap++)
		if (!(c->caps & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			fail(STEP_CAPS, 0);
}

static void clear_inheritable(const struct config *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		fail(STEP_CAPS, 0);
	for (int i = 0; i < 2; i++) {
		data[i].inheritable = 0;
		if (c->has_caps && c->uid == 0) {
			data[i].effective &= (uint32_t)(c->caps >> (32 * i));
			data[i].permitted &= (uint32_t)(c->caps >> (32 * i));
		}
	}
	if (syscall(SYS_capset, &hdr, data) < 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		fail(STEP_CAPS, 0);
}

static volatile pid_t command_pid;

static void forward(int sig)
{
	if (command_pid > 0)
		kill(command_pid, sig);
}

/* --init: PID 1 runs the command as its child, forwards signals to it and reaps every orphan;
 * it ends with the command's status (128+N for a signal, as a shell reports it). */
static void __attribute__((noreturn)) init_main(pid_t command)
{
	int st;
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	command_pid = command;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGCHLD && sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	for (;;) {
		pid_t pid = waitpid(-1, &st, 0);
		if (pid == command)
			_exit(WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st));
		if (pid < 0 && errno == ECHILD)
			_exit(125);
	}
}

/* The command's stdio without -t: the relay's pipes, and in (the relay's pipe with -i, else
 * /dev/null): never a descriptor of the CLI's, whose terminal it could type into (TIOCSTI). */
int use_stdio(int in, int out, int err)
{
	return dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ? -1 : 0;
}

void container_main(const struct config *c, const struct container_fds *fds)
{
	char go = 0;
	int root_fd, cap_last, sync_fd = fds->sync;
	const struct host_mount *mount_failed = NULL;
	const struct op *op_failed = NULL;

	error_fd = fds->error;
	/* 0. Not dumpable until execve (which resets it): nothing in the container may ptrace us or
	 *    open our /proc/PID/fd while we hold the monitor's descriptors (the --init stays so). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail(STEP_DUMPABLE, 0);
	/*    If the monitor dies from here on, the kernel kills us: a container set up and started
	 *    after its monitor is gone would run unaccounted for (set again at 10: a uid change
	 *    clears it). */
	monitor_fd = sync_fd;
	set_pdeathsig();
	/* Default signal handling (the monitor's handlers and ignored SIGPIPE are not ours). */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Its stdio: pipes to and from the monitor (which relays and logs them), or a terminal (-t). */
	if (!c->tty && use_stdio(fds->in >= 0 ? fds->in : open("/dev/null", O_RDONLY | O_CLOEXEC), fds->out, fds->err) < 0)
		fail(STEP_STDIO, 0);
	/* 1. Wait until the monitor has put us in the cgroups (EOF: the monitor died). */
	if (read(sync_fd, &go, 1) != 1 || go != 'g')
		_exit(125);
	cap_last = last_cap();
	/* 2. The other namespaces; the cgroup one now, so that our cgroup is its root. */
	if (unshare(c->unshare_flags) < 0)
		fail(STEP_UNSHARE, 0);
	/* 3. Nothing we mount may propagate back to the host. */
	if ((c->unshare_flags & CLONE_NEWNS) && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail(STEP_PRIVATE, 0);
	/* 4. The root as a mount of its own (pivot_root needs one): a bind of the directory, or an overlay. */
	if (prepare_mounts(c, &mount_failed) < 0)
		fail(STEP_PREPARE, mount_failed->line);
	if ((root_fd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		fail(STEP_OPEN_ROOT, 0);
	/* 5. /proc, /dev, /sys, cgroups, volumes, /etc files, masks: the helper config.s ops, in order. */
	if (run_ops(c, root_fd, &op_failed) < 0)
		fail(OP_STEP(op_failed->kind), op_failed->line);
	/* 6. pivot_root into the root and detach the old one (pivot_root(".", ".") as runc does). */
	if (fchdir(root_fd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		fail(STEP_PIVOT_ROOT, 0);
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		fail(STEP_DETACH_OLD_ROOT, 0);
	close(root_fd);
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	if (c->readonly_root && mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
		fail(STEP_READONLY_ROOT, 0);
	/* 7. -t: a pseudo-terminal of the container's devpts; the monitor gets its master. */
	if (c->tty && container_tty(fds->tty_sock, 1) < 0)
		fail(STEP_TTY, 0);
	/* 8. Hostname and loopback. */
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
		fail(STEP_HOSTNAME, 0);
	if (c->loopback && loopback_up() < 0)
		fail(STEP_LOOPBACK, 0);
	/* 9.-12. */
	process_main(c, fds->error, cap_last, 1, fds->listener_sock);
}

/* The seccomp filter (and its listener to the monitor); a failure ends the process with the step. */
static void seccomp_step(const struct config *c, int listener_sock)
{
	int r = seccomp_install(c, listener_sock);
	if (r == -1)
		fail(STEP_SECCOMP, 0);
	if (r == -2)
		fail(STEP_SECCOMP_LISTENER, 0);
}

/* The last steps of a container's first process, and of a process `tsproc exec` starts in it:
 * privileges, identity, working directory, the seccomp filter, then the command. */
void process_main(const struct config *c, int err_fd, int cap_last, int pdeathsig, int listener_sock)
{
	error_fd = err_fd;
	/* 9. Privileges: the bounding set while we may, then the identity, then the rest. Without
	 *    no_new_privs (--privileged) the kernel takes a filter only from CAP_SYS_ADMIN, which a
	 *    non-root user loses at setuid: the filter goes on first then (as runc does), and the
	 *    identity calls pass through it. */
	if (c->seccomp && !c->no_new_privs)
		seccomp_step(c, listener_sock);
	drop_bounding(c, cap_last);
	if (setgroups(c->ngroups, c->groups) < 0)
		fail(STEP_SETGROUPS, 0);
	if (setresgid(c->gid, c->gid, c->gid) < 0)
		fail(STEP_SETGID, 0);
	if (setresuid(c->uid, c->uid, c->uid) < 0)
		fail(STEP_SETUID, 0);
	clear_inheritable(c);
	if (c->cwd && chdir(c->cwd) < 0)
		fail(STEP_CWD, 0);
	if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(STEP_NO_NEW_PRIVS, 0);
	/* 10. If the monitor dies, the kernel kills the container (again: the uid change cleared it). */
	if (pdeathsig)
		set_pdeathsig();
	/* 11. The seccomp filter, as late as can be: only execve (and --init's fork) of ours pass it;
	 *     with --lxcfs its listener is the monitor's before the command runs. */
	if (c->seccomp && c->no_new_privs)
		seccomp_step(c, listener_sock);
	/* 12. The command (as PID 1, or as the child of a minimal init); execvp searches the helper config.s PATH. */
	environ = c->env;
	if (c->init) {
		pid_t pid = fork();
		if (pid < 0)
			fail(STEP_INIT_FORK, 0);
		if (pid > 0) {
			/* the init never execs: it keeps its stdio and nothing else (no status channel, log
			 * or control FIFO of the monitor's for the container to reach through /proc/1/fd) */
			close_range(3, ~0U, 0);
			init_main(pid);
		}
	}
	/* Only stdio crosses execve (the error pipe, already close-on-exec, still reports a failure). */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		fail(STEP_CLOSE_FDS, 0);
	execvp(c->argv[0], c->argv);
	fail(STEP_EXEC, 0);
}
