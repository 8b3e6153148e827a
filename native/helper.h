/* tsproc-helper: the container plan as the helper reads it, and the few functions its files share. */
#ifndef TSPROC_HELPER_H
#define TSPROC_HELPER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One line of the plan file: a key and its fields (already unescaped). */
struct line {
	char **f; /* f[0] is the key */
	size_t n; /* number of fields, key included */
	int number; /* line number in the file, 1-based */
};

/* Everything the monitor and the container need, read once from the plan file. */
struct config {
	struct line *lines; /* all lines, in order (ops, mounts, ...) */
	size_t nlines;
	const char *rootfs; /* the directory that becomes / */
	int unshare_flags; /* CLONE_NEW* except CLONE_NEWPID */
	int new_pid_ns;
	const char *hostname;
	int loopback;
	int readonly_root;
	int has_caps;
	uint64_t caps; /* capabilities kept in the bounding set */
	int no_new_privs;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	const char *cwd;
	char **env; /* NULL-terminated */
	char **argv; /* NULL-terminated */
	int init; /* a minimal init as PID 1 */
	const char *oom_counter; /* memory.events (v2) or memory.oom_control (v1) */
	const char *exit_file; /* where the monitor records the exit status */
	const char *monitor_pid_file; /* the monitor's pid, then the container's, for other commands */
	const char *container_pid_file;
};

/* The status channel: fd 3, one line per event (see runner/helper-events.ts). */
#define STATUS_FD 3

int config_read(const char *path, struct config *c, int *bad_line);
void status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void escape_to(char *out, size_t size, const char *s);

/* The container side: everything from the go signal to execve (never returns). */
void container_main(const struct config *c, int sync_fd, int error_fd) __attribute__((noreturn));
/* The in-root operations (op lines); returns 0, or -1 with *step set and errno. */
int prepare_mounts(const struct config *c, int *index);
int run_ops(const struct config *c, int root_fd, const char **step, int *index);
int open_in_root(int root_fd, const char *path, int flags);

/* The monitor: clone, join cgroups, wait, record, clean up. Returns the monitor's exit code. */
int monitor_main(const struct config *c);

#endif
