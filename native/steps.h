/* The helper's steps: the names a `failed STEP ERRNO LINE` event carries (TSPROC_STEPS) and those a
 * `cleanup-failed STEP ERRNO PATH` event carries (TSPROC_CLEANUP_STEPS). runner/helper-events.ts has
 * the words for each; test/runner/helper-steps.test.ts reads both tables and fails when a list
 * differs from its TypeScript one. One X(ID, "name") a line. */
#ifndef TSPROC_STEPS_H
#define TSPROC_STEPS_H

#define TSPROC_STEPS(X)                                                                             \
	/* tsproc-helper (main.c) */                                                                 \
	X(STEP_CLOSE_FDS, "close-fds")                                                               \
	X(STEP_CONFIG, "config")                                                                     \
	X(STEP_FORK, "fork")                                                                         \
	/* the monitor (monitor.c) */                                                                \
	X(STEP_PID_NAMESPACE, "pid-namespace")                                                       \
	X(STEP_PIPE, "pipe")                                                                         \
	X(STEP_LOG, "log")                                                                           \
	X(STEP_SYSINFO, "sysinfo")                                                                   \
	X(STEP_DEVICES, "devices")                                                                   \
	X(STEP_CGROUP, "cgroup")                                                                     \
	X(STEP_SYNC, "sync")                                                                         \
	/* the container's first process (container.c, mounts.c) */                                  \
	X(STEP_DUMPABLE, "dumpable")                                                                 \
	X(STEP_PDEATHSIG, "pdeathsig")                                                               \
	X(STEP_STDIO, "stdio")                                                                       \
	X(STEP_UNSHARE, "unshare")                                                                   \
	X(STEP_PRIVATE, "private")                                                                   \
	X(STEP_PREPARE, "prepare")                                                                   \
	X(STEP_OPEN_ROOT, "open-root")                                                               \
	X(STEP_MKDIR, "mkdir") /* the op kinds, in enum op_kind's order */                           \
	X(STEP_FILE, "file")                                                                         \
	X(STEP_SYMLINK, "symlink")                                                                   \
	X(STEP_MOUNT, "mount")                                                                       \
	X(STEP_REMOUNT, "remount")                                                                   \
	X(STEP_MASK, "mask")                                                                         \
	X(STEP_READONLY, "readonly")                                                                 \
	X(STEP_PIVOT_ROOT, "pivot-root")                                                             \
	X(STEP_DETACH_OLD_ROOT, "detach-old-root")                                                   \
	X(STEP_READONLY_ROOT, "readonly-root")                                                       \
	X(STEP_TTY, "tty")                                                                           \
	X(STEP_HOSTNAME, "hostname")                                                                 \
	X(STEP_LOOPBACK, "loopback")                                                                 \
	/* it and exec's command (container.c process_main) */                                       \
	X(STEP_SECCOMP, "seccomp")                                                                   \
	X(STEP_SECCOMP_LISTENER, "seccomp-listener")                                                 \
	X(STEP_CAPS, "caps")                                                                         \
	X(STEP_SETGROUPS, "setgroups")                                                               \
	X(STEP_SETGID, "setgid")                                                                     \
	X(STEP_SETUID, "setuid")                                                                     \
	X(STEP_CWD, "cwd")                                                                           \
	X(STEP_NO_NEW_PRIVS, "no-new-privs")                                                         \
	X(STEP_INIT_FORK, "init-fork")                                                               \
	X(STEP_EXEC, "exec")                                                                         \
	/* tsproc exec (exec.c) */                                                                   \
	X(STEP_OPEN_NAMESPACE, "open-namespace")                                                     \
	X(STEP_SYSINFO_CONNECT, "sysinfo-connect")                                                   \
	X(STEP_SETNS, "setns")

/* What the monitor removes or restores after the container (monitor.c cleanup(), sysinfo.c). */
#define TSPROC_CLEANUP_STEPS(X)                                                                      \
	X(CLEANUP_STEP_UMOUNT, "umount") /* a host-side mount, first */                              \
	X(CLEANUP_STEP_RMDIR, "rmdir") /* a cgroup, once its mounts are gone */                      \
	X(CLEANUP_STEP_UNLINK, "unlink") /* --rm: the name */                                        \
	X(CLEANUP_STEP_REMOVE, "remove") /* --rm: the record; then the state directory */            \
	X(CLEANUP_STEP_RECORD, "record") /* the exit, pid and wait files */                          \
	X(CLEANUP_STEP_SETNS, "setns") /* the monitor back in its own namespaces (sysinfo's reader) */

enum step {
#define STEP_ENUM(id, name) id,
	TSPROC_STEPS(STEP_ENUM)
#undef STEP_ENUM
		STEP_COUNT
};

enum cleanup_step_name {
#define CLEANUP_STEP_ENUM(id, name) id,
	TSPROC_CLEANUP_STEPS(CLEANUP_STEP_ENUM)
#undef CLEANUP_STEP_ENUM
};

/* What crosses a child's error pipe to the process that reports it (one write: atomic). */
struct step_failure {
	int step; /* enum step */
	int err; /* errno */
	int line; /* the config line, 0: none */
};

const char *step_name(enum step s);
/* The one report of a failed step: `failed STEP ERRNO LINE` on the status channel. */
void step_failed(enum step s, int err, int line);
/* The one report of a failed cleanup step: `cleanup-failed STEP ERRNO PATH` (errno now). */
void cleanup_step_failed(enum cleanup_step_name s, const char *path);
/* A child's: send the failure (errno now) through its error pipe and end with 125. */
void step_fail_child(int error_fd, enum step s, int line) __attribute__((noreturn));
/* The parent's: 1 and *f when the child sent a failure, 0 at EOF (its execve succeeded). */
int step_failure_read(int error_fd, struct step_failure *f);

#endif
