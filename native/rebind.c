/*
 * tsproc-helper rebind PID: repair a mount namespace's binds of a dead tsproc mount.
 *
 * stdin holds pairs of NUL-terminated paths: SOURCE (a file of the live mount, in our namespace)
 * and TARGET (where a dead bind sits, as the process PID sees its own root). For each pair a
 * detached clone of SOURCE is made here (open_tree), then, inside PID's mount namespace and root,
 * it is attached on top of TARGET (move_mount): the dead bind below is covered, and readers of
 * TARGET reach the live mount from their next open. One line per pair on stdout: "ok TARGET" or
 * "failed TARGET STEP ERRNO". Exit 0 when every pair is done.
 *
 * A process, not the daemon: setns(CLONE_NEWNS) needs a single-threaded caller.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "helper.h"

#define MAX_PAIRS 4096

static char *read_all(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	for (ssize_t r; buf;) {
		if (n == cap) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

int rebind_main(pid_t pid)
{
	size_t len;
	char *in = read_all(0, &len);
	char *src[MAX_PAIRS], *dst[MAX_PAIRS];
	int tree[MAX_PAIRS];
	size_t n = 0;
	char path[64];

	if (!in) {
		fprintf(stderr, "tsproc-helper rebind: reading stdin: %s\n", strerror(errno));
		return 1;
	}
	for (size_t off = 0; off < len && n < MAX_PAIRS;) {
		char *a = in + off, *a_end = memchr(a, '\0', len - off);
		if (!a_end)
			break;
		char *b = a_end + 1, *b_end = b < in + len ? memchr(b, '\0', (size_t)(in + len - b)) : NULL;
		if (!b_end)
			break;
		src[n] = a;
		dst[n] = b;
		n++;
		off = (size_t)(b_end + 1 - in);
	}
	/* 1. Clones of the live files, made in our own namespace, where the live mount is. */
	for (size_t i = 0; i < n; i++)
		tree[i] = open_tree(AT_FDCWD, src[i], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	/* 2. The target's namespace and root, opened before entering: its /proc paths are ours. */
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ns < 0 || root < 0) {
		int e = errno;
		for (size_t i = 0; i < n; i++)
			printf("failed %s open-namespace %d\n", dst[i], e);
		return 1;
	}
	/* 3. Enter it, and take the process's root as ours (setns gives the namespace's root mount). */
	if (setns(ns, CLONE_NEWNS) < 0 || fchdir(root) < 0 || chroot(".") < 0) {
		int e = errno;
		for (size_t i = 0; i < n; i++)
			printf("failed %s setns %d\n", dst[i], e);
		return 1;
	}
	/* 4. Each clone, read-only and inert as runtimes bind these files (ro, nosuid, nodev, noexec), on
	 *    top of its dead bind. */
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (tree[i] < 0) {
			printf("failed %s open_tree %d\n", dst[i], errno);
			failed = 1;
		} else if (mount_setattr(tree[i], "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
			printf("failed %s mount_setattr %d\n", dst[i], errno);
			failed = 1;
		} else if (move_mount(tree[i], "", AT_FDCWD, dst[i], MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			printf("failed %s move_mount %d\n", dst[i], errno);
			failed = 1;
		} else
			printf("ok %s\n", dst[i]);
	}
	return failed;
}
