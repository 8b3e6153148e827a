/* tsproc-helper: the helper config (helper.conf) as the helper reads it, and the few functions its files share. */
#ifndef TSPROC_HELPER_H
#define TSPROC_HELPER_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "steps.h"

struct sock_filter;

/* The in-root operations ("op" lines), done in the helper config's order before pivot_root. */
enum op_kind { OP_MKDIR, OP_FILE, OP_SYMLINK, OP_MOUNT, OP_REMOUNT, OP_MASK, OP_READONLY };
struct op {
	enum op_kind kind;
	int line; /* its config line, for the failure report */
	const char *path; /* in the root, absolute: the directory, file, link, mount's target */
	const char *source; /* mount: its source; symlink: what it points to */
	const char *fstype, *data; /* mount */
	unsigned long flags; /* mount, remount: MS_* */
	mode_t mode; /* mkdir */
};
/* A failed op reports the step named after its kind (steps.h lists them in this order). */
#define OP_STEP(kind) ((enum step)(STEP_MKDIR + (int)(kind)))
_Static_assert(OP_STEP(OP_FILE) == STEP_FILE && OP_STEP(OP_SYMLINK) == STEP_SYMLINK && OP_STEP(OP_MOUNT) == STEP_MOUNT &&
		       OP_STEP(OP_REMOUNT) == STEP_REMOUNT && OP_STEP(OP_MASK) == STEP_MASK && OP_STEP(OP_READONLY) == STEP_READONLY,
	       "steps.h lists the op steps in enum op_kind's order");

/* A host-side mount ("prepare-mount"), made before the root is opened: its bind, or its overlay. */
struct host_mount {
	const char *source, *target, *fstype, *data;
	unsigned long flags; /* MS_* */
	int line;
};

/* A host path the helper config names on a line of its own ("cgroup-procs", "device-filter"). */
struct config_path {
	const char *path;
	int line;
};

/* What the monitor undoes after the container ended ("cleanup-*" lines), in the helper config's order. */
enum cleanup_kind { CLEANUP_UMOUNT, CLEANUP_RMDIR, CLEANUP_NAME, CLEANUP_REMOVE };
struct cleanup_step {
	enum cleanup_kind kind;
	const char *path;
	const char *id; /* CLEANUP_NAME: the id the name must still point to */
};

/* A device the container may use (a "device" line); -1: any major or minor. */
struct device_rule {
	char type; /* 'c' or 'b' */
	long major, minor;
	unsigned access; /* BPF_DEVCG_ACC_* */
};
#define MAX_DEVICE_RULES 64

/* Everything the monitor and the container need, read once from the helper config. */
struct config {
	struct op *ops; /* each array in the helper config's order */
	size_t nops;
	struct host_mount *prepare;
	size_t nprepare;
	struct config_path *cgroup_procs; /* the cgroup.procs files the container joins */
	size_t ncgroup_procs;
	struct config_path *device_filters; /* cgroup2 directories the device filter goes on */
	size_t ndevice_filters;
	struct cleanup_step *cleanup;
	size_t ncleanup;
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
	int tty; /* -t: a pseudo-terminal, relayed by the monitor */
	int tty_stdin; /* -i with -t: relay our stdin to it */
	int stdin_pipe; /* -i without -t: relay our stdin to it through a pipe */
	const char *oom_counter; /* memory.events (v2) or memory.oom_control (v1) */
	const char *exit_file; /* where the monitor records the exit status */
	const char *wait_file; /* the same, written into this file in place: `tsproc wait` holds links to it */
	const char *monitor_pid_file; /* the monitor's pid, then the container's, for other commands */
	const char *container_pid_file;
	const char *log_path; /* the container's output, also when it runs in the foreground */
	long log_max;
	const char *control_path; /* a FIFO the monitor reads "kill N" from */
	pid_t target_pid; /* exec: the container's first process, whose namespaces we join */
	struct device_rule devices[MAX_DEVICE_RULES]; /* compiled into the cgroup2 device filter */
	size_t ndevices;
	struct sock_filter *seccomp; /* the filter the command installs last (NULL: none) */
	unsigned short seccomp_len;
	unsigned int seccomp_flags; /* SECCOMP_FILTER_FLAG_* of the profile */
	int seccomp_listener; /* its listener goes to the monitor (sysinfo, --lxcfs) */
	const char *sysinfo_socket; /* run: the monitor takes exec's listeners there; exec: where to send ours */
};

/* The status channel: fd 3, one line per event (see runner/helper-events.ts). */
#define STATUS_FD 3

/* Read and check the whole helper config before anything is done: -1 with errno (EINVAL: a malformed line,
 * *bad_line its number, or 0: something missing; ENOMEM), else 0. */
int config_read(const char *path, struct config *c, int *bad_line);
void status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void escape_to(char *out, size_t size, const char *s);

/* The descriptors the container's first process gets from the monitor. */
struct container_fds {
	int sync, error; /* the go signal, and where a failed step is reported */
	int tty_sock; /* -t: where the terminal's master goes, else -1 */
	int in, out, err; /* without -t: its stdio pipes (in: -1 without -i) */
	int listener_sock; /* --lxcfs: where the seccomp listener goes, else -1 */
};
/* The container side: everything from the go signal to execve (never returns). */
void container_main(const struct config *c, const struct container_fds *fds) __attribute__((noreturn));
int use_stdio(int in, int out, int err);
void process_main(const struct config *c, int err_fd, int cap_last, int pdeathsig, int listener_sock) __attribute__((noreturn));
int last_cap(void);
/* tsproc exec: join a running container and run a command in it. */
int exec_main(const struct config *c);
void forward_signals(void);
extern volatile pid_t container_pid;

/* The helper config's host mounts, then its in-root ops; 0, or -1 with errno and *failed the one that failed. */
int prepare_mounts(const struct config *c, const struct host_mount **failed);
int run_ops(const struct config *c, int root_fd, const struct op **failed);
int open_in_root(int root_fd, const char *path, int flags);

/* One descriptor over a unix socket (fdpass.c): fd_send 0 or -1; fd_receive the descriptor, or -1
 * with errno (EAGAIN with MSG_DONTWAIT: nothing yet; ENOMSG: a message, or the end, without one). */
int fd_send(int sock, int fd);
int fd_receive(int sock, int flags);

/* -t */
int container_tty(int sock, int console);
int tty_receive(int sock);
void tty_copy_size(int master);

/* The container's log (log.c) and the monitor's relay loop (relay.c). */
struct log_stream {
	char line[16384];
	size_t len;
};
struct log {
	const char *path;
	long max; /* rotate to PATH.1 past this size (0: never) */
	int fd;
	long size;
	struct log_stream streams[2]; /* stdout, stderr */
};
int log_open(struct log *l, const char *path, long max);
void log_write(struct log *l, int stream, const char *buf, size_t n);
void log_flush(struct log *l);

struct sysinfo_server;
struct relay {
	int master; /* -t: the terminal's master, else -1 */
	int in; /* -i: where our stdin goes (the master with -t), else -1 */
	int out, err; /* without -t: the read ends of the command's stdout and stderr pipes */
	int control; /* the control FIFO ("kill N"), or -1 */
	struct log *log;
	int sink_out, sink_out_sock, sink_err, sink_err_sock; /* the CLI's stdout and stderr, from relay_sink_fd */
	int lossy; /* a CLI reader that falls behind loses output (the log keeps it) rather than stop the loop */
	struct sysinfo_server *sysinfo; /* the monitor with --lxcfs: seccomp listeners it answers sysinfo(2) on */
};
int relay_sink_fd(int fd, int *sock);
int relay_run(const struct relay *r, pid_t child, int *status, size_t *dropped);
extern volatile sig_atomic_t tty_resized, relaying_tty;

/* seccomp (seccomp.c): install the helper config's filter; with a listener, send it on listener_sock and close
 * both. 0; -1 (the filter refused) or -2 (the listener not sent) with errno. unix_socket_at: a
 * SOCK_SEQPACKET socket listening or connected at path (through /proc/self/fd: the state directory's
 * paths may be longer than sockaddr_un takes); -1 with errno. */
int seccomp_install(const struct config *c, int listener_sock);
int unix_socket_at(const char *path, int type, int listening);

/* The answers to sysinfo(2) (sysinfo.c), served from the monitor's relay loop (or the agent's): the
 * listeners of the container's filters (the monitor's own through `inbox`, exec's through the socket
 * at `path`; the agent's added), figures read from the container's /proc by a short-lived process in
 * its namespaces. */
struct pollfd;
struct sysinfo_server *sysinfo_server_new(const char *path, int inbox);
int sysinfo_server_add_listener(struct sysinfo_server *s, int fd);
int sysinfo_server_started(struct sysinfo_server *s, pid_t container, int join_pid);
int sysinfo_server_listeners(const struct sysinfo_server *s);
int sysinfo_server_pollfds(struct sysinfo_server *s, struct pollfd *p, int max);
void sysinfo_server_handle(struct sysinfo_server *s, const struct pollfd *p, int n);
int sysinfo_server_timeout(const struct sysinfo_server *s); /* ms until it must act, -1: none */
#define SYSINFO_MAX_FDS 96

/* cgroup2: the device filter (BPF) on a cgroup directory; -1 with errno. */
int device_filter_attach(const struct config *c, const char *cgroup_dir);

/* The monitor: clone, join cgroups, wait, record, clean up. Returns the monitor's exit code. */
int monitor_main(const struct config *c);

/* tsproc seccomp-agent: sysinfo(2) for runc containers whose profile's listenerPath is this socket. */
int agent_main(const char *path);

/* The daemon's: binds of a dead tsproc mount in PID's mount namespace, covered by live ones. */
int rebind_main(pid_t pid);

#endif
