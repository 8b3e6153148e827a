/* One descriptor over a unix socket (SCM_RIGHTS, with a one-byte message): -t's terminal master, and
 * the seccomp listeners the monitor answers sysinfo(2) on (--lxcfs). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "helper.h"

/* A one-byte message with room for one descriptor. */
struct fd_message {
	char byte;
	struct iovec iov;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg;
};

static struct msghdr *fd_message(struct fd_message *m)
{
	memset(m, 0, sizeof(*m));
	m->byte = 'f';
	m->iov = (struct iovec){ .iov_base = &m->byte, .iov_len = 1 };
	m->msg = (struct msghdr){ .msg_iov = &m->iov, .msg_iovlen = 1, .msg_control = m->u.buf, .msg_controllen = sizeof(m->u.buf) };
	return &m->msg;
}

int fd_send(int sock, int fd)
{
	struct fd_message m;
	struct msghdr *msg = fd_message(&m);
	struct cmsghdr *cm = CMSG_FIRSTHDR(msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	ssize_t n;
	while ((n = sendmsg(sock, msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

int fd_receive(int sock, int flags)
{
	struct fd_message m;
	struct msghdr *msg = fd_message(&m);
	ssize_t n;
	int fd = -1;
	while ((n = recvmsg(sock, msg, flags | MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -1;
	struct cmsghdr *cm = n == 1 ? CMSG_FIRSTHDR(msg) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	else
		errno = ENOMSG;
	return fd;
}
