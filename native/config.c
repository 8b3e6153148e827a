/* Reads the helper config that runner/helper-config.ts writes: one key and its %-escaped fields a line. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* In place: "%" alone is the empty string, "%XX" a byte. */
static int unescape(char *s)
{
	char *out = s;
	if (strcmp(s, "%") == 0) {
		*s = '\0';
		return 0;
	}
	for (char *p = s; *p; p++) {
		if (*p != '%') {
			*out++ = *p;
			continue;
		}
		int hi = hex(p[1]), lo = hi < 0 ? -1 : hex(p[2]);
		if (lo < 0 || (hi == 0 && lo == 0))
			return -1;
		*out++ = (char)(hi * 16 + lo);
		p += 2;
	}
	*out = '\0';
	return 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Room for one more element at the end of ARR (N of them), N counted up: its address, or NULL
 * (ENOMEM, ARR as it was). */
#define APPEND(arr, n)                                                                          \
	({                                                                                      \
		__typeof__(arr) _more = (n) < SIZE_MAX / sizeof(*(arr)) - 1 ? realloc((arr), ((n) + 1) * sizeof(*(arr))) : NULL; \
		_more ? ((arr) = _more, &_more[(n)++]) : (errno = ENOMEM, NULL);               \
	})

static int invalid(void)
{
	errno = EINVAL;
	return -1;
}

/* The fields of a line, split at spaces and unescaped in place; *f malloc'd. -1: EINVAL, ENOMEM. */
static int split(char *text, char ***f, size_t *n)
{
	*f = NULL;
	*n = 0;
	for (char *save = NULL, *tok = strtok_r(text, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char **field = APPEND(*f, *n);
		if (!field)
			return -1;
		if (unescape(tok) < 0)
			return invalid();
		*field = tok;
	}
	return *n > 0 ? 0 : invalid();
}

/* A whole number in BASE (8, 10 or 16), digits only (no sign, space or 0x), at most MAX. */
static int number(const char *s, int base, unsigned long long max, unsigned long long *out)
{
	char *end;
	for (const char *p = s; *p || p == s; p++)
		if (hex(*p) < 0 || hex(*p) >= base) /* "" too: hex('\0') is -1 */
			return invalid();
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return invalid();
	*out = v;
	return 0;
}

/* Append S to a NULL-terminated list of N strings. */
static int push(char ***list, size_t *n, char *s)
{
	char **more = realloc(*list, (*n + 2) * sizeof(char *));
	if (!more)
		return -1;
	*list = more;
	more[(*n)++] = s;
	more[*n] = NULL;
	return 0;
}

/* "namespaces mount,uts,...": tokenized in place (nothing else reads the field). */
static int namespaces(char *list, struct config *c)
{
	static const struct {
		const char *name;
		int flag;
	} table[] = { { "mount", CLONE_NEWNS }, { "uts", CLONE_NEWUTS }, { "ipc", CLONE_NEWIPC },
		      { "net", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP } };
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		if (strcmp(tok, "pid") == 0) {
			c->new_pid_ns = 1;
			continue;
		}
		for (i = 0; i < COUNT(table) && strcmp(table[i].name, tok) != 0; i++)
			;
		if (i == COUNT(table))
			return invalid();
		c->unshare_flags |= table[i].flag;
	}
	return 0;
}

/* "op KIND FIELDS": mkdir PATH MODE(octal), file PATH, symlink TARGET PATH,
 * mount SOURCE PATH FSTYPE FLAGS(hex) DATA, remount PATH FLAGS(hex), mask PATH, readonly PATH;
 * every PATH inside the root, absolute. */
static int op(struct config *c, char *const *f, size_t n, int line)
{
	static const struct {
		const char *name;
		enum op_kind kind;
		size_t fields; /* after the kind */
	} kinds[] = { { "mkdir", OP_MKDIR, 2 }, { "file", OP_FILE, 1 },	      { "symlink", OP_SYMLINK, 2 }, { "mount", OP_MOUNT, 5 },
		      { "remount", OP_REMOUNT, 2 }, { "mask", OP_MASK, 1 }, { "readonly", OP_READONLY, 1 } };
	unsigned long long v = 0;
	size_t k = 0;
	if (n < 2)
		return invalid();
	while (k < COUNT(kinds) && strcmp(kinds[k].name, f[1]) != 0)
		k++;
	if (k == COUNT(kinds) || n != 2 + kinds[k].fields)
		return invalid();
	struct op o = { .kind = kinds[k].kind, .line = line, .path = f[2] };
	switch (o.kind) {
	case OP_MKDIR:
		if (number(f[3], 8, 07777, &v) < 0)
			return -1;
		o.mode = (mode_t)v;
		break;
	case OP_SYMLINK:
		o.source = f[2];
		o.path = f[3];
		break;
	case OP_MOUNT:
		o.source = f[2];
		o.path = f[3];
		o.fstype = f[4];
		o.data = f[6];
		if (number(f[5], 16, ULONG_MAX, &v) < 0)
			return -1;
		o.flags = (unsigned long)v;
		break;
	case OP_REMOUNT:
		if (number(f[3], 16, ULONG_MAX, &v) < 0)
			return -1;
		o.flags = (unsigned long)v;
		break;
	default:
		break;
	}
	if (o.path[0] != '/')
		return invalid();
	struct op *slot = APPEND(c->ops, c->nops);
	return slot ? (*slot = o, 0) : -1;
}

/* "prepare-mount SOURCE TARGET FSTYPE FLAGS(hex) DATA": host paths. */
static int prepare_mount(struct config *c, char *const *f, int line)
{
	unsigned long long flags;
	if (number(f[4], 16, ULONG_MAX, &flags) < 0)
		return -1;
	struct host_mount *m = APPEND(c->prepare, c->nprepare);
	if (!m)
		return -1;
	*m = (struct host_mount){ .source = f[1], .target = f[2], .fstype = f[3], .flags = (unsigned long)flags, .data = f[5], .line = line };
	return 0;
}

static int add_path(struct config_path **list, size_t *n, const char *path, int line)
{
	struct config_path *p = APPEND(*list, *n);
	return p ? (*p = (struct config_path){ .path = path, .line = line }, 0) : -1;
}

static int cleanup_step(struct config *c, enum cleanup_kind kind, const char *path, const char *id)
{
	struct cleanup_step *s = APPEND(c->cleanup, c->ncleanup);
	return s ? (*s = (struct cleanup_step){ .kind = kind, .path = path, .id = id }, 0) : -1;
}

/* A major or minor number; "*" (any) leaves *out as it is (-1). */
static int device_number(const char *s, long *out)
{
	unsigned long long v;
	if (strcmp(s, "*") == 0)
		return 0;
	if (number(s, 10, UINT32_MAX, &v) < 0)
		return -1;
	*out = (long)v;
	return 0;
}

/* "device c|b MAJOR|* MINOR|* ACCESS" (ACCESS of r, w, m) */
static int device(struct config *c, char *const *f)
{
	struct device_rule r = { .type = f[1][0], .major = -1, .minor = -1, .access = 0 };
	if (c->ndevices == MAX_DEVICE_RULES || (strcmp(f[1], "c") != 0 && strcmp(f[1], "b") != 0))
		return invalid();
	if (device_number(f[2], &r.major) < 0 || device_number(f[3], &r.minor) < 0)
		return -1;
	for (const char *a = f[4]; *a; a++) {
		if (*a == 'r')
			r.access |= BPF_DEVCG_ACC_READ;
		else if (*a == 'w')
			r.access |= BPF_DEVCG_ACC_WRITE;
		else if (*a == 'm')
			r.access |= BPF_DEVCG_ACC_MKNOD;
		else
			return invalid();
	}
	c->devices[c->ndevices++] = r;
	return 0;
}

/* "seccomp HEX FLAGS": struct sock_filter[] as hex, whole instructions, no more than the kernel
 * takes; FLAGS (hex): SECCOMP_FILTER_FLAG_*. */
static int seccomp_filter(struct config *c, const char *text, const char *flags)
{
	size_t n = strlen(text) / 2;
	unsigned long long v;
	unsigned char *bytes;
	if (strlen(text) % 2 || n == 0 || n % sizeof(struct sock_filter) || n / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return invalid();
	if (number(flags, 16, UINT_MAX, &v) < 0)
		return -1;
	if (!(bytes = malloc(n)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex(text[2 * i]), lo = hex(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return free(bytes), invalid();
		bytes[i] = (unsigned char)(hi * 16 + lo);
	}
	c->seccomp = (struct sock_filter *)bytes;
	c->seccomp_len = (unsigned short)(n / sizeof(struct sock_filter));
	c->seccomp_flags = (unsigned int)v;
	return 0;
}

/* An id as the helper config writes it: decimal, not (uid_t)-1 (which means "no change" to the kernel). */
static int id_number(const char *s, unsigned int *out)
{
	unsigned long long v;
	if (number(s, 10, UINT32_MAX - 1, &v) < 0)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* Apply one line (its key f[0], n fields in all); -1 with errno: EINVAL if its key is unknown or
 * its fields wrong, ENOMEM. */
static int apply(struct config *c, char *const *f, size_t n, int line, size_t *nenv, size_t *nargv)
{
	const char *k = f[0];
	unsigned long long v;
	unsigned int id;
#define IS(key, fields) (strcmp(k, key) == 0 && n == (fields) + 1)
	if (strcmp(k, "op") == 0)
		return op(c, f, n, line);
	if (IS("prepare-mount", 5))
		return prepare_mount(c, f, line);
	if (IS("cgroup-procs", 1))
		return add_path(&c->cgroup_procs, &c->ncgroup_procs, f[1], line);
	if (IS("device-filter", 1))
		return add_path(&c->device_filters, &c->ndevice_filters, f[1], line);
	if (IS("cleanup-umount", 1))
		return cleanup_step(c, CLEANUP_UMOUNT, f[1], NULL);
	if (IS("cleanup-rmdir", 1))
		return cleanup_step(c, CLEANUP_RMDIR, f[1], NULL);
	if (IS("cleanup-name", 2))
		return cleanup_step(c, CLEANUP_NAME, f[1], f[2]);
	if (IS("cleanup-remove", 1))
		return cleanup_step(c, CLEANUP_REMOVE, f[1], NULL);
	if (IS("id", 1))
		return 0; /* for whoever reads the file; the helper has no use for it */
	if (IS("rootfs", 1))
		c->rootfs = f[1];
	else if (IS("namespaces", 1))
		return namespaces(f[1], c);
	else if (IS("hostname", 1))
		c->hostname = f[1];
	else if (IS("loopback", 0))
		c->loopback = 1;
	else if (IS("readonly-root", 0))
		c->readonly_root = 1;
	else if (IS("caps", 1)) {
		if (number(f[1], 16, UINT64_MAX, &v) < 0)
			return -1;
		c->has_caps = 1;
		c->caps = v;
	} else if (IS("no-new-privs", 0))
		c->no_new_privs = 1;
	else if (IS("user", 2)) {
		if (id_number(f[1], &id) < 0)
			return -1;
		c->uid = (uid_t)id;
		if (id_number(f[2], &id) < 0)
			return -1;
		c->gid = (gid_t)id;
	} else if (strcmp(k, "groups") == 0) {
		if (c->groups)
			return invalid(); /* once */
		if (!(c->groups = calloc(n, sizeof(gid_t))))
			return -1;
		for (size_t i = 1; i < n; i++) {
			if (id_number(f[i], &id) < 0)
				return -1;
			c->groups[i - 1] = (gid_t)id;
		}
		c->ngroups = n - 1;
	} else if (IS("cwd", 1))
		c->cwd = f[1];
	else if (IS("env", 1))
		return push(&c->env, nenv, f[1]);
	else if (IS("arg", 1))
		return push(&c->argv, nargv, f[1]);
	else if (IS("stdin", 0))
		c->stdin_pipe = 1;
	else if (IS("init", 0))
		c->init = 1;
	else if (IS("tty", 1)) {
		if (strcmp(f[1], "stdin") != 0 && strcmp(f[1], "output") != 0)
			return invalid();
		c->tty = 1;
		c->tty_stdin = strcmp(f[1], "stdin") == 0;
	} else if (IS("oom-counter", 1))
		c->oom_counter = f[1];
	else if (IS("exit-file", 1))
		c->exit_file = f[1];
	else if (IS("wait-file", 1))
		c->wait_file = f[1];
	else if (IS("monitor-pid-file", 1))
		c->monitor_pid_file = f[1];
	else if (IS("container-pid-file", 1))
		c->container_pid_file = f[1];
	else if (IS("log", 2)) {
		if (number(f[2], 10, LONG_MAX, &v) < 0)
			return -1;
		c->log_path = f[1];
		c->log_max = (long)v;
	} else if (IS("control", 1))
		c->control_path = f[1];
	else if (IS("device", 4))
		return device(c, f);
	else if (IS("target-pid", 1)) {
		if (number(f[1], 10, INT_MAX, &v) < 0 || v == 0)
			return invalid();
		c->target_pid = (pid_t)v;
	} else if (IS("seccomp", 2))
		return seccomp_filter(c, f[1], f[2]);
	else if (IS("seccomp-listener", 0))
		c->seccomp_listener = 1;
	else if (IS("sysinfo-socket", 1))
		c->sysinfo_socket = f[1];
	else
		return invalid();
	return 0;
#undef IS
}

/* Read and check the whole file: every line becomes a setting or an entry of a typed list, so a
 * malformed one fails here, before anything is forked or made. The strings point into the lines
 * read, which are kept for the helper's life. */
int config_read(const char *path, struct config *c, int *bad_line)
{
	FILE *fp = fopen(path, "re");
	char *text = NULL, **f = NULL;
	size_t len = 0, n = 0, nenv = 0, nargv = 0;
	int number = 0, r = 0;
	*bad_line = 0;
	if (!fp)
		return -1;
	memset(c, 0, sizeof(*c));
	if (!(c->env = calloc(1, sizeof(char *))) || !(c->argv = calloc(1, sizeof(char *))))
		r = -1;
	while (r == 0 && getline(&text, &len, fp) > 0) {
		number++;
		text[strcspn(text, "\n")] = '\0';
		r = split(text, &f, &n);
		if (r == 0 && number == 1)
			r = strcmp(f[0], "tsproc-helper-config") != 0 || n != 2 || strcmp(f[1], "1") != 0 ? invalid() : 0;
		else if (r == 0)
			r = apply(c, f, n, number, &nenv, &nargv);
		free(f);
		f = NULL;
		text = NULL; /* kept: the config points into it */
		len = 0;
	}
	int saved = errno;
	if (r == 0 && ferror(fp))
		r = -1;
	else if (r < 0 && saved == EINVAL)
		*bad_line = number;
	free(text);
	fclose(fp);
	errno = saved;
	if (r < 0)
		return -1;
	/* a listener with nowhere to go would leave its calls failing with ENOSYS */
	if ((!c->rootfs && !c->target_pid) || nargv == 0 || (c->seccomp_listener && (!c->seccomp || !c->sysinfo_socket)))
		return invalid();
	return 0;
}
