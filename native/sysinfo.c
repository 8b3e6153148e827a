/*
 * sysinfo(2) answered for the container (--lxcfs), from the monitor's relay loop. The container's
 * filters send the call here (SECCOMP_RET_USER_NOTIF); the answer is what the container's own
 * /proc/meminfo, /proc/uptime and /proc/loadavg say (the views the daemon renders for a reader in its
 * pid namespace), read by a short-lived process born in the container's mount and pid namespaces and
 * kept for CACHE_MS. The struct is written into the caller with process_vm_writev once the
 * notification is checked still valid. Anything that fails answers SECCOMP_USER_NOTIF_FLAG_CONTINUE:
 * the kernel's own sysinfo, never an error the caller would not get from it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#define NATIVE_ARCH 0 /* no call is answered: every one goes on to the kernel */
#endif

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS /* Linux 6.6; Debian 12's headers are 6.1's */
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

#define CACHE_MS 100 /* figures are reused this long */
#define READ_TIMEOUT_MS 2000 /* a reader that takes longer is killed: the waiting calls go on to the kernel */
#define MAX_INBOX 16
#define MAX_LISTENERS 64
#define MAX_PENDING 64

struct figures {
	unsigned long totalram, freeram, sharedram, bufferram, totalswap, freeswap, loads[3];
	long uptime;
	unsigned short procs;
};

/* A call waiting for the reader. */
struct pending {
	int listener;
	__u64 id;
	__u32 pid;
	__u64 addr;
};

struct sysinfo_server {
	int accept_fd; /* exec'd processes' listeners arrive through connections to it */
	int inbox[MAX_INBOX]; /* connections (and the container's socketpair) that will bring a listener */
	int ninbox;
	int listeners[MAX_LISTENERS];
	int nlisteners;
	int host_mnt, container_mnt; /* mount namespaces: ours, and the container's (from started) */
	int host_pid, container_pid; /* the agent's: pid namespaces for children, ours and the container's (-1: the monitor's children are the container's already) */
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	size_t req_size, resp_size;
	struct figures cache;
	long long cached_at;
	int cache_valid;
	pid_t reader; /* 0: none running */
	int reader_fd;
	long long deadline;
	char buf[32768];
	size_t len;
	struct pending pending[MAX_PENDING];
	int npending;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* path: the socket exec's listeners come through (NULL: none); inbox: a connection that brings one (-1: none). */
/* What sysinfo_server_new had made before it failed, given back; NULL with the failure's errno. */
static struct sysinfo_server *new_failed(struct sysinfo_server *s)
{
	int saved = errno;
	if (s->host_mnt >= 0)
		close(s->host_mnt);
	if (s->accept_fd >= 0)
		close(s->accept_fd);
	free(s->req);
	free(s->resp);
	free(s);
	errno = saved;
	return NULL;
}

struct sysinfo_server *sysinfo_server_new(const char *path, int inbox)
{
	struct seccomp_notif_sizes sizes;
	struct sysinfo_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->host_mnt = s->accept_fd = -1;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return new_failed(s);
	/* the kernel's structs may be larger than the headers' (newer kernels): allocate what it says */
	s->req_size = sizes.seccomp_notif > sizeof(*s->req) ? sizes.seccomp_notif : sizeof(*s->req);
	s->resp_size = sizes.seccomp_notif_resp > sizeof(*s->resp) ? sizes.seccomp_notif_resp : sizeof(*s->resp);
	s->req = calloc(1, s->req_size);
	s->resp = calloc(1, s->resp_size);
	s->container_mnt = s->host_pid = s->container_pid = -1;
	s->reader_fd = -1;
	s->host_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	s->accept_fd = path ? unix_socket_at(path, SOCK_SEQPACKET, 1) : -1;
	if (!s->req || !s->resp || s->host_mnt < 0 || (path && s->accept_fd < 0))
		return new_failed(s);
	if (inbox >= 0)
		s->inbox[s->ninbox++] = inbox;
	return s;
}

/* The container runs: its mount namespace is the one its /proc files are read in; join_pid (the
 * agent, whose children are not the container's): its pid namespace too. -1 with errno. */
int sysinfo_server_started(struct sysinfo_server *s, pid_t container, int join_pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", container);
	s->container_mnt = open(path, O_RDONLY | O_CLOEXEC);
	if (join_pid) {
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", container);
		s->container_pid = open(path, O_RDONLY | O_CLOEXEC);
		s->host_pid = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	}
	return s->container_mnt < 0 || (join_pid && (s->container_pid < 0 || s->host_pid < 0)) ? -1 : 0;
}

int sysinfo_server_listeners(const struct sysinfo_server *s)
{
	return s->nlisteners;
}

int sysinfo_server_pollfds(struct sysinfo_server *s, struct pollfd *p, int max)
{
	int n = 0;
	const int all = 1 + s->ninbox + s->nlisteners + (s->reader_fd >= 0);
	if (all > max)
		return 0; /* cannot happen: SYSINFO_MAX_FDS covers the limits */
	if (s->accept_fd >= 0)
		p[n++] = (struct pollfd){ .fd = s->accept_fd, .events = POLLIN };
	for (int i = 0; i < s->ninbox; i++)
		p[n++] = (struct pollfd){ .fd = s->inbox[i], .events = POLLIN };
	for (int i = 0; i < s->nlisteners; i++)
		p[n++] = (struct pollfd){ .fd = s->listeners[i], .events = POLLIN };
	if (s->reader_fd >= 0)
		p[n++] = (struct pollfd){ .fd = s->reader_fd, .events = POLLIN };
	return n;
}

int sysinfo_server_timeout(const struct sysinfo_server *s)
{
	if (!s->reader)
		return -1;
	long long left = s->deadline - now_ms();
	return left < 0 ? 0 : (int)left;
}

static int index_of(const int *fds, int n, int fd)
{
	for (int i = 0; i < n; i++)
		if (fds[i] == fd)
			return i;
	return -1;
}

static void remove_at(int *fds, int *n, int i)
{
	close(fds[i]);
	fds[i] = fds[--*n];
}

/* Only root's processes may hand us listeners (the socket is in a 0700 directory as well). */
static void accept_one(struct sysinfo_server *s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(s->accept_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0 || s->ninbox == MAX_INBOX) {
		close(fd);
		return;
	}
	s->inbox[s->ninbox++] = fd;
}

static int is_listener(int fd)
{
	char path[64], target[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, "anon_inode:seccomp notify") == 0;
}

/* Keep a listener (a seccomp one; no more than MAX_LISTENERS). One we cannot keep is closed: the
 * calls of its filter then fail with ENOSYS (the kernel's answer when nobody listens). */
int sysinfo_server_add_listener(struct sysinfo_server *s, int fd)
{
	if (!is_listener(fd) || s->nlisteners == MAX_LISTENERS) {
		close(fd);
		return -1;
	}
	/* the caller and we wake each other on the same CPU (6.6): a round trip costs less. Older
	 * kernels refuse the flag (EINVAL), which changes nothing else. */
	ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	s->listeners[s->nlisteners++] = fd;
	return 0;
}

/* One message, one listener; the connection is done with either way. */
static void inbox_read(struct sysinfo_server *s, int i)
{
	int fd = fd_receive(s->inbox[i], MSG_DONTWAIT);
	if (fd < 0 && errno == EAGAIN)
		return;
	if (fd >= 0)
		sysinfo_server_add_listener(s, fd);
	remove_at(s->inbox, &s->ninbox, i);
}

static void fill(struct sysinfo *si, const struct figures *f)
{
	memset(si, 0, sizeof(*si));
	si->uptime = f->uptime;
	for (int i = 0; i < 3; i++)
		si->loads[i] = f->loads[i];
	si->totalram = f->totalram;
	si->freeram = f->freeram;
	si->sharedram = f->sharedram;
	si->bufferram = f->bufferram;
	si->totalswap = f->totalswap;
	si->freeswap = f->freeswap;
	si->procs = f->procs;
	si->mem_unit = 1; /* bytes, as a 64-bit kernel answers whenever the totals fit */
}

/* The struct into the caller's buffer, once the notification is known to be still valid (the pid is
 * then the caller's). process_vm_writev fails where the kernel's own copy would (a read-only or
 * unmapped buffer: EFAULT then comes from the kernel's sysinfo). */
static int write_answer(const struct pending *p, const struct figures *f)
{
	struct sysinfo si;
	__u64 id = p->id;
	if (ioctl(p->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0)
		return -1;
	fill(&si, f);
	struct iovec local = { .iov_base = &si, .iov_len = sizeof(si) };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)p->addr, .iov_len = sizeof(si) };
	return process_vm_writev((pid_t)p->pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof(si) ? 0 : -1;
}

/* Answer one call: the figures (NULL: let the kernel answer). A caller gone meanwhile (ENOENT) needs nothing. */
static void answer(struct sysinfo_server *s, const struct pending *p, const struct figures *f)
{
	memset(s->resp, 0, s->resp_size);
	s->resp->id = p->id;
	if (!f || write_answer(p, f) < 0)
		s->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	ioctl(p->listener, SECCOMP_IOCTL_NOTIF_SEND, s->resp);
}

static void flush(struct sysinfo_server *s, const struct figures *f)
{
	for (int i = 0; i < s->npending; i++)
		answer(s, &s->pending[i], f);
	s->npending = 0;
}

/* "12345.67" → 12346: the kernel rounds its uptime up to the next second */
static int parse_uptime(const char *text, long *uptime)
{
	char *end;
	*uptime = strtol(text, &end, 10);
	if (end == text || *uptime < 0)
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			if (*end != '0') {
				++*uptime;
				break;
			}
	return 0;
}

/* "0.52" → 0.52 in 16-bit fixed point (SI_LOAD_SHIFT), rounded up so that tools that print it with
 * two decimals (busybox uptime: (x & 0xffff) * 100 >> 16) print 0.52 again */
static int parse_load(const char **text, unsigned long *load)
{
	char *end;
	unsigned long whole = strtoul(*text, &end, 10), frac = 0, scale = 1;
	if (end == *text || *end != '.')
		return -1;
	for (end++; *end >= '0' && *end <= '9'; end++)
		if (scale < 100)
			frac = frac * 10 + (unsigned long)(*end - '0'), scale *= 10;
	frac = frac * (100 / scale);
	*load = (whole << 16) + (frac * 65536 + 99) / 100;
	*text = end;
	return 0;
}

/* meminfo NUL uptime NUL loadavg NUL, as the reader wrote them. */
static int parse(char *buf, size_t len, struct figures *f)
{
	char *files[3];
	size_t at = 0;
	for (int i = 0; i < 3; i++) {
		char *nul = memchr(buf + at, '\0', len - at);
		if (!nul)
			return -1;
		files[i] = buf + at;
		at = (size_t)(nul - buf) + 1;
	}
	memset(f, 0, sizeof(*f));
	int have = 0;
	for (char *save = NULL, *line = strtok_r(files[0], "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		static const char *keys[] = { "MemTotal", "MemFree", "Shmem", "Buffers", "SwapTotal", "SwapFree" };
		unsigned long *to[] = { &f->totalram, &f->freeram, &f->sharedram, &f->bufferram, &f->totalswap, &f->freeswap };
		char key[64];
		unsigned long kb;
		if (sscanf(line, "%63[^:]: %lu kB", key, &kb) != 2)
			continue;
		for (int k = 0; k < 6; k++)
			if (strcmp(key, keys[k]) == 0)
				*to[k] = kb * 1024, have |= 1 << k;
	}
	if ((have & 3) != 3 || parse_uptime(files[1], &f->uptime) < 0)
		return -1; /* no MemTotal or MemFree, or no uptime: not a file we can answer from */
	const char *p = files[2];
	for (int i = 0; i < 3; i++)
		if (parse_load(&p, &f->loads[i]) < 0)
			return -1;
	unsigned long running, total;
	if (sscanf(p, " %lu/%lu", &running, &total) != 2)
		return -1;
	f->procs = (unsigned short)total; /* the kernel's u16, truncated as it truncates nr_threads */
	return 0;
}

/* The reader: the container's three files, NUL after each, to out; then it ends. */
static void __attribute__((noreturn)) reader_main(int out)
{
	static const char *files[] = { "/proc/meminfo", "/proc/uptime", "/proc/loadavg" };
	static char buf[16384];
	/* nothing of the monitor's for the container to reach (a process of its pid namespace may look
	 * at ours), no handler of the monitor's, and gone with the monitor */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || (out > 0 && close_range(0, (unsigned)out - 1, 0) < 0) || close_range((unsigned)out + 1, ~0U, 0) < 0)
		_exit(1);
	sigset_t none;
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() == 1)
		_exit(1);
	for (size_t i = 0; i < 3; i++) {
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		ssize_t n;
		size_t len = 0;
		if (fd < 0)
			_exit(1);
		while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				_exit(1);
			len += (size_t)n;
		}
		close(fd);
		buf[len++] = '\0';
		for (size_t off = 0; off < len;) {
			n = write(out, buf + off, len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				_exit(1);
			off += (size_t)n;
		}
	}
	_exit(0);
}

/* A reader born in the container's mount namespace: the monitor goes in for the fork and comes
 * back. Forked from our own namespace, the reader would show a container given CAP_SYS_PTRACE the
 * host's root at /proc/PID/root while it runs. It is in the container's pid namespace too (every
 * child of the monitor is; the agent goes in for the fork as well): the daemon renders the files for
 * a reader there. */
static int start_reader(struct sysinfo_server *s)
{
	int p[2];
	if (s->container_mnt < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* no signal handler of ours may run in the child before it has reset them */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if (setns(s->container_mnt, CLONE_NEWNS) < 0 || (s->container_pid >= 0 && setns(s->container_pid, CLONE_NEWPID) < 0)) {
		if (setns(s->host_mnt, CLONE_NEWNS) < 0)
			cleanup_step_failed(CLEANUP_STEP_SETNS, "/proc/self/ns/mnt");
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(p[0]), close(p[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0)
		reader_main(p[1]);
	int saved = errno;
	/* back (cannot fail: the same rights as the way in) */
	if (setns(s->host_mnt, CLONE_NEWNS) < 0)
		cleanup_step_failed(CLEANUP_STEP_SETNS, "/proc/self/ns/mnt");
	if (s->host_pid >= 0 && setns(s->host_pid, CLONE_NEWPID) < 0)
		cleanup_step_failed(CLEANUP_STEP_SETNS, "/proc/self/ns/pid_for_children");
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		errno = saved;
		return -1;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	s->reader = pid;
	s->reader_fd = p[0];
	s->len = 0;
	s->deadline = now_ms() + READ_TIMEOUT_MS;
	return 0;
}

/* The reader is done (EOF), or too slow (killed): figures for the waiting calls, or none. */
static void reader_done(struct sysinfo_server *s, int kill_it)
{
	int st = 0;
	if (kill_it)
		kill(s->reader, SIGKILL);
	close(s->reader_fd);
	s->reader_fd = -1;
	while (waitpid(s->reader, &st, 0) < 0 && errno == EINTR)
		;
	s->reader = 0;
	s->cache_valid = !kill_it && WIFEXITED(st) && WEXITSTATUS(st) == 0 && parse(s->buf, s->len, &s->cache) == 0;
	s->cached_at = now_ms();
	flush(s, s->cache_valid ? &s->cache : NULL);
}

static void reader_read(struct sysinfo_server *s)
{
	for (;;) {
		ssize_t n = s->len < sizeof(s->buf) ? read(s->reader_fd, s->buf + s->len, sizeof(s->buf) - s->len) : 0;
		if (n > 0) {
			s->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		reader_done(s, 0);
		return;
	}
}

static void notification(struct sysinfo_server *s, int listener)
{
	memset(s->req, 0, s->req_size);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, s->req) < 0)
		return; /* ENOENT: the caller went away (a signal) before we took it */
	struct pending p = { .listener = listener, .id = s->req->id, .pid = s->req->pid, .addr = s->req->data.args[0] };
	if (s->req->data.arch != NATIVE_ARCH || s->req->data.nr != SYS_sysinfo) {
		answer(s, &p, NULL);
		return;
	}
	if (s->cache_valid && now_ms() - s->cached_at < CACHE_MS) {
		answer(s, &p, &s->cache);
		return;
	}
	if (s->npending == MAX_PENDING) {
		answer(s, &p, NULL);
		return;
	}
	s->pending[s->npending++] = p;
	if (!s->reader && start_reader(s) < 0)
		flush(s, NULL);
}

/* A filter nobody uses any more (its processes are gone): its listener goes, with its waiting calls. */
static void drop_listener(struct sysinfo_server *s, int i)
{
	for (int j = 0; j < s->npending;)
		if (s->pending[j].listener == s->listeners[i])
			s->pending[j] = s->pending[--s->npending];
		else
			j++;
	remove_at(s->listeners, &s->nlisteners, i);
}

void sysinfo_server_handle(struct sysinfo_server *s, const struct pollfd *p, int n)
{
	for (int k = 0; k < n; k++) {
		int fd = p[k].fd, i;
		short ev = p[k].revents;
		if (!ev)
			continue;
		if (fd == s->accept_fd)
			accept_one(s);
		else if ((i = index_of(s->inbox, s->ninbox, fd)) >= 0)
			inbox_read(s, i);
		else if ((i = index_of(s->listeners, s->nlisteners, fd)) >= 0) {
			if (ev & POLLIN)
				notification(s, fd);
			else
				drop_listener(s, i);
		} else if (fd == s->reader_fd && s->reader_fd >= 0)
			reader_read(s);
	}
	if (s->reader && now_ms() >= s->deadline)
		reader_done(s, 1);
}
