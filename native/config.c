/* Reads the plan file that runner/helper-config.ts writes: one key and its %-escaped fields a line. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <sched.h>
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

static int split(char *text, struct line *l)
{
	size_t cap = 8;
	l->f = malloc(cap * sizeof(char *));
	l->n = 0;
	for (char *save = NULL, *tok = strtok_r(text, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (l->n == cap)
			l->f = realloc(l->f, (cap *= 2) * sizeof(char *));
		if (unescape(tok) < 0)
			return -1;
		l->f[l->n++] = tok;
	}
	return l->n > 0 ? 0 : -1;
}

static char **push(char **list, size_t *n, char *s)
{
	list = realloc(list, (*n + 2) * sizeof(char *));
	list[(*n)++] = s;
	list[*n] = NULL;
	return list;
}

static int namespaces(const char *list, struct config *c)
{
	static const struct {
		const char *name;
		int flag;
	} table[] = { { "mount", CLONE_NEWNS }, { "uts", CLONE_NEWUTS }, { "ipc", CLONE_NEWIPC },
		      { "net", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP } };
	char *copy = strdup(list), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		if (strcmp(tok, "pid") == 0) {
			c->new_pid_ns = 1;
			continue;
		}
		for (i = 0; i < sizeof(table) / sizeof(table[0]) && strcmp(table[i].name, tok) != 0; i++)
			;
		if (i == sizeof(table) / sizeof(table[0]))
			return -1;
		c->unshare_flags |= table[i].flag;
	}
	free(copy);
	return 0;
}

/* "device c|b MAJOR|* MINOR|* ACCESS" (ACCESS of r, w, m) */
static int device(struct config *c, char *const *f)
{
	struct device_rule r = { .type = f[1][0], .major = -1, .minor = -1, .access = 0 };
	char *end;
	if (c->ndevices == MAX_DEVICE_RULES || (strcmp(f[1], "c") != 0 && strcmp(f[1], "b") != 0))
		return -1;
	if (strcmp(f[2], "*") != 0 && ((r.major = strtol(f[2], &end, 10)) < 0 || *end))
		return -1;
	if (strcmp(f[3], "*") != 0 && ((r.minor = strtol(f[3], &end, 10)) < 0 || *end))
		return -1;
	for (const char *a = f[4]; *a; a++) {
		if (*a == 'r')
			r.access |= BPF_DEVCG_ACC_READ;
		else if (*a == 'w')
			r.access |= BPF_DEVCG_ACC_WRITE;
		else if (*a == 'm')
			r.access |= BPF_DEVCG_ACC_MKNOD;
		else
			return -1;
	}
	c->devices[c->ndevices++] = r;
	return 0;
}

/* "seccomp HEX FLAGS": struct sock_filter[] as hex, whole instructions, no more than the kernel takes. */
static int seccomp_filter(struct config *c, const char *text, const char *flags)
{
	size_t n = strlen(text) / 2;
	unsigned char *bytes;
	if (strlen(text) % 2 || n == 0 || n % sizeof(struct sock_filter) || n / sizeof(struct sock_filter) > BPF_MAXINSNS || !(bytes = malloc(n)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex(text[2 * i]), lo = hex(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		bytes[i] = (unsigned char)(hi * 16 + lo);
	}
	c->seccomp = (struct sock_filter *)bytes;
	c->seccomp_len = (unsigned short)(n / sizeof(struct sock_filter));
	c->seccomp_flags = (unsigned int)strtoul(flags, NULL, 16);
	return 0;
}

/* Apply one line; -1 if its key is unknown or its fields wrong. */
static int apply(struct config *c, struct line *l, size_t *nenv, size_t *nargv)
{
	const char *k = l->f[0];
	char *const *f = l->f;
	size_t n = l->n;
#define IS(key, fields) (strcmp(k, key) == 0 && n == (fields) + 1)
	if (IS("id", 1) || strcmp(k, "op") == 0 || IS("cgroup-procs", 1) || IS("prepare-mount", 5) ||
	    IS("cleanup-umount", 1) || IS("cleanup-rmdir", 1) || IS("cleanup-remove", 1) || IS("cleanup-name", 2) ||
	    IS("device-filter", 1))
		return 0; /* used in order by the monitor and the container */
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
		c->has_caps = 1;
		c->caps = strtoull(f[1], NULL, 16);
	} else if (IS("no-new-privs", 0))
		c->no_new_privs = 1;
	else if (IS("user", 2)) {
		c->uid = (uid_t)strtoul(f[1], NULL, 10);
		c->gid = (gid_t)strtoul(f[2], NULL, 10);
	} else if (strcmp(k, "groups") == 0) {
		c->ngroups = n - 1;
		c->groups = calloc(n, sizeof(gid_t));
		for (size_t i = 1; i < n; i++)
			c->groups[i - 1] = (gid_t)strtoul(f[i], NULL, 10);
	} else if (IS("cwd", 1))
		c->cwd = f[1];
	else if (IS("env", 1))
		c->env = push(c->env, nenv, f[1]);
	else if (IS("arg", 1))
		c->argv = push(c->argv, nargv, f[1]);
	else if (IS("stdin", 0))
		c->stdin_pipe = 1;
	else if (IS("init", 0))
		c->init = 1;
	else if (IS("tty", 1)) {
		c->tty = 1;
		c->tty_stdin = strcmp(f[1], "stdin") == 0;
	}
	else if (IS("oom-counter", 1))
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
		c->log_path = f[1];
		c->log_max = strtol(f[2], NULL, 10);
	} else if (IS("control", 1))
		c->control_path = f[1];
	else if (IS("device", 4))
		return device(c, f);
	else if (IS("target-pid", 1))
		c->target_pid = (pid_t)strtol(f[1], NULL, 10);
	else if (IS("seccomp", 2))
		return seccomp_filter(c, f[1], f[2]);
	else if (IS("seccomp-listener", 0))
		c->seccomp_listener = 1;
	else if (IS("sysinfo-socket", 1))
		c->sysinfo_socket = f[1];
	else
		return -1;
	return 0;
#undef IS
}

/* Read and check the whole file. On failure: -1 with errno, *bad_line the offending line (0: the file). */
int config_read(const char *path, struct config *c, int *bad_line)
{
	FILE *fp = fopen(path, "re");
	char *text = NULL;
	size_t len = 0, nenv = 0, nargv = 0, cap = 0;
	*bad_line = 0;
	if (!fp)
		return -1;
	memset(c, 0, sizeof(*c));
	c->env = calloc(1, sizeof(char *));
	c->argv = calloc(1, sizeof(char *));
	for (int number = 1; getline(&text, &len, fp) > 0; number++, text = NULL, len = 0) {
		text[strcspn(text, "\n")] = '\0';
		if (c->nlines == cap)
			c->lines = realloc(c->lines, (cap = cap ? cap * 2 : 64) * sizeof(struct line));
		struct line *l = &c->lines[c->nlines++];
		l->number = number;
		if (split(text, l) < 0 || (number == 1 ? strcmp(l->f[0], "tsproc-helper-config") != 0 || l->n != 2 || strcmp(l->f[1], "1") != 0
						       : apply(c, l, &nenv, &nargv) < 0)) {
			*bad_line = number;
			fclose(fp);
			errno = EINVAL;
			return -1;
		}
	}
	free(text);
	fclose(fp);
	/* a listener with nowhere to go would leave its calls failing with ENOSYS */
	if ((!c->rootfs && !c->target_pid) || nargv == 0 || (c->seccomp_listener && (!c->seccomp || !c->sysinfo_socket))) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}
