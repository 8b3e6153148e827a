/* The in-root operations: every path is resolved inside the root (openat2 RESOLVE_IN_ROOT), so a
 * symlink in an untrusted root cannot send a mount or a mkdir outside it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

int open_in_root(int root_fd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

/* "/proc/self/fd/N" for a descriptor: how mount(2) is pointed at a path resolved in the root. */
static const char *fd_path(int fd, char buf[64])
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
	return buf;
}

/* mkdir -p inside the root. */
static int ensure_dir(int root_fd, const char *path, mode_t mode)
{
	char prefix[PATH_MAX];
	int parent = dup(root_fd), fd = -1;
	size_t len = strlen(path);
	if (len >= sizeof(prefix))
		return errno = ENAMETOOLONG, -1;
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		fd = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
		if (fd < 0 && errno == ENOENT) {
			const char *name = strrchr(prefix, '/') + 1;
			if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
				break;
			fd = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
		}
		if (fd < 0)
			break;
		close(parent);
		parent = fd;
	}
	int saved = errno;
	close(parent);
	errno = saved;
	return fd < 0 ? -1 : 0;
}

/* The directory a path is in, made if missing, as a descriptor resolved inside the root. */
static int open_parent(int root_fd, const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	if (ensure_dir(root_fd, dirname(dir), 0755) < 0)
		return -1;
	return open_in_root(root_fd, dir, O_PATH | O_DIRECTORY);
}

/* Where a symlink at `path` (in directory `parent`) points to nothing, the path of its target inside
 * the root (absolute: from the root; relative: from the link's directory); NULL otherwise. */
static const char *dangling_target(int root_fd, int parent, const char *path, char out[PATH_MAX])
{
	char target[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlinkat(parent, strrchr(path, '/') + 1, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	int fd = open_in_root(root_fd, path, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? (close(fd), NULL) : NULL;
	snprintf(dir, sizeof(dir), "%s", path);
	if (snprintf(out, PATH_MAX, "%s%s%s", target[0] == '/' ? "" : dirname(dir), target[0] == '/' ? "" : "/", target) >= PATH_MAX)
		return NULL;
	return out;
}

/* An empty file (a mount point for a bind of a file) or a symlink inside the root; one already
 * there is left as it is. A symlink to nothing gets its target made, inside the root, as runc does
 * (a root made on a host with systemd-resolved has /etc/resolv.conf ->
 * ../run/systemd/resolve/stub-resolv.conf): the bind then lands on the target. */
static int ensure_entry(int root_fd, const char *path, const char *link_target, int depth)
{
	int parent = open_parent(root_fd, path), r;
	const char *name = strrchr(path, '/') + 1;
	char next[PATH_MAX];
	if (parent < 0)
		return -1;
	if (link_target)
		r = symlinkat(link_target, parent, name);
	else if ((r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644)) >= 0)
		r = close(r);
	int saved = errno;
	if (r < 0 && saved == EEXIST && !link_target && depth < 40 && dangling_target(root_fd, parent, path, next)) {
		close(parent);
		return ensure_entry(root_fd, next, NULL, depth + 1);
	}
	close(parent);
	errno = saved;
	return r < 0 && errno != EEXIST ? -1 : 0;
}

/* The mount attributes (MOUNT_ATTR_*) of mount(2) flags. */
static uint64_t mount_attributes(unsigned long flags)
{
	return (flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) | (flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
	       (flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0) | (flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
}

/* Add the flags' attributes to the mount a descriptor (or path) is on; the others stay as they are. */
static int set_attributes(int dfd, const char *path, unsigned long flags, unsigned int at_flags)
{
	struct mount_attr attr = { .attr_set = mount_attributes(flags) };
	return attr.attr_set ? mount_setattr(dfd, path, at_flags | (*path ? 0 : AT_EMPTY_PATH), &attr, sizeof(attr)) : 0;
}

/* A bind mount of src onto target (each resolved from its descriptor; "" is the descriptor itself).
 * A detached clone of src (its whole tree with MS_REC) gets the flags' attributes while nothing can
 * reach it, recursively with MS_REC (a read-only volume is read-only all the way down, its submounts
 * too), and is only then attached: nothing is looked up again by path, nothing is writable for a
 * moment. */
static int bind_at(int src_dfd, const char *src, int target_dfd, const char *target, unsigned long flags)
{
	unsigned int rec = flags & MS_REC ? AT_RECURSIVE : 0;
	int tree = open_tree(src_dfd, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec | (*src ? 0 : AT_EMPTY_PATH));
	if (tree < 0)
		return -1;
	int r = set_attributes(tree, "", flags, rec);
	if (r == 0)
		r = move_mount(tree, "", target_dfd, target, MOVE_MOUNT_F_EMPTY_PATH | (*target ? 0 : MOVE_MOUNT_T_EMPTY_PATH));
	int saved = errno;
	close(tree);
	errno = saved;
	return r;
}

/* mount(2) onto a descriptor (or, target_fd < 0, a host path); binds go through bind_at. */
static int mount_at(const char *src, int target_fd, const char *target, const char *fstype, unsigned long flags, const char *data)
{
	char buf[64];
	if (flags & MS_BIND)
		return target_fd < 0 ? bind_at(AT_FDCWD, src, AT_FDCWD, target, flags) : bind_at(AT_FDCWD, src, target_fd, "", flags);
	return mount(*src ? src : NULL, target_fd < 0 ? target : fd_path(target_fd, buf), fstype, flags, *data ? data : NULL);
}

/* The helper config.s host mounts (prepare-mount), before the root's descriptor is opened: the root's own
 * bind, or its overlay. */
int prepare_mounts(const struct config *c, const struct host_mount **failed)
{
	for (size_t i = 0; i < c->nprepare; i++) {
		const struct host_mount *m = &c->prepare[i];
		*failed = m;
		if (mount_at(m->source, -1, m->target, m->fstype, m->flags, m->data) < 0)
			return -1;
	}
	return 0;
}

/* One op: make a directory, a file or a link; mount, remount, mask, make read-only. */
static int op(int root_fd, const struct op *o)
{
	char buf[64];
	int fd, r;
	if (o->kind == OP_MKDIR)
		return ensure_dir(root_fd, o->path, o->mode);
	if (o->kind == OP_FILE)
		return ensure_entry(root_fd, o->path, NULL, 0);
	if (o->kind == OP_SYMLINK)
		return ensure_entry(root_fd, o->path, o->source, 0);
	/* the others act on what is at the path; masking or protecting what is absent is done */
	if ((fd = open_in_root(root_fd, o->path, O_PATH)) < 0)
		return errno == ENOENT && (o->kind == OP_MASK || o->kind == OP_READONLY) ? 0 : -1;
	switch (o->kind) {
	case OP_MOUNT:
		r = mount_at(o->source, fd, NULL, o->fstype, o->flags, o->data);
		break;
	case OP_REMOUNT:
		r = set_attributes(fd, "", o->flags, 0);
		break;
	case OP_MASK: {
		/* a directory gets an empty read-only tmpfs, anything else /dev/null */
		struct stat st;
		r = fstat(fd, &st);
		if (r == 0 && S_ISDIR(st.st_mode))
			r = mount("tmpfs", fd_path(fd, buf), "tmpfs", MS_RDONLY, "size=0");
		else if (r == 0)
			r = bind_at(AT_FDCWD, "/dev/null", fd, "", MS_BIND);
		break;
	}
	case OP_READONLY:
		r = bind_at(fd, "", fd, "", MS_BIND | MS_REC | MS_RDONLY);
		break;
	default:
		r = -1;
		errno = EINVAL;
	}
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* The helper config.s ops, in order. */
int run_ops(const struct config *c, int root_fd, const struct op **failed)
{
	for (size_t i = 0; i < c->nops; i++) {
		*failed = &c->ops[i];
		if (op(root_fd, &c->ops[i]) < 0)
			return -1;
	}
	return 0;
}
