/* The container's seccomp filter (compiled by runner/seccomp/compile.ts), installed by the command's
 * process itself; with --lxcfs its listener goes to the container's monitor. And the unix sockets the
 * monitor takes exec's listeners on. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "helper.h"

/* -1: the filter was refused; -2: installed, but its listener could not be handed over (errno). A
 * listener nobody holds would make every call it takes fail with ENOSYS, so that is a failure too. */
int seccomp_install(const struct config *c, int listener_sock)
{
	struct sock_fprog prog = { .len = c->seccomp_len, .filter = c->seccomp };
	unsigned long flags = c->seccomp_flags | (c->seccomp_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (fd < 0)
		return -1;
	if (!c->seccomp_listener)
		return 0;
	int r = fd_send(listener_sock, (int)fd);
	int saved = errno;
	close((int)fd); /* the monitor's copy (in flight, or received) is the only one left */
	close(listener_sock);
	errno = saved;
	return r < 0 ? -2 : 0;
}

/* A socket of this type bound (and listening, non-blocking) or connected at path, reached through an
 * O_PATH descriptor of its directory: /proc/self/fd/N/NAME fits in sun_path where the path may not. */
int unix_socket_at(const char *path, int type, int listening)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (!slash || (size_t)(slash - path) >= sizeof(dir)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	int dfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	int s = -1;
	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", dfd, slash + 1) >= sizeof(a.sun_path))
		errno = ENAMETOOLONG;
	else if ((s = socket(AF_UNIX, type | SOCK_CLOEXEC | (listening ? SOCK_NONBLOCK : 0), 0)) >= 0) {
		int r = listening ? bind(s, (struct sockaddr *)&a, sizeof(a)) : connect(s, (struct sockaddr *)&a, sizeof(a));
		if (r == 0 && listening)
			r = fchmodat(dfd, slash + 1, 0600, 0) < 0 || listen(s, 16) < 0 ? -1 : 0;
		if (r < 0) {
			int saved = errno;
			close(s);
			s = -1;
			errno = saved;
		}
	}
	int saved = errno;
	close(dfd);
	errno = saved;
	return s;
}
