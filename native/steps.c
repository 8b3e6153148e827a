/* Reporting a failed step: the names (steps.h), the status lines, and the error pipe between a child
 * and the process that reports for it. */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "helper.h"

static const char *const names[] = {
#define STEP_NAME(id, name) [id] = name,
	TSPROC_STEPS(STEP_NAME)
#undef STEP_NAME
};

const char *step_name(enum step s)
{
	return (unsigned)s < STEP_COUNT ? names[s] : "unknown";
}

void step_failed(enum step s, int err, int line)
{
	status("failed %s %d %d", step_name(s), err, line);
}

static const char *const cleanup_names[] = {
#define CLEANUP_STEP_NAME(id, name) [id] = name,
	TSPROC_CLEANUP_STEPS(CLEANUP_STEP_NAME)
#undef CLEANUP_STEP_NAME
};

void cleanup_step_failed(enum cleanup_step_name s, const char *path)
{
	char esc[4096];
	int err = errno;
	escape_to(esc, sizeof(esc), path);
	status("cleanup-failed %s %d %s", cleanup_names[s], err, esc);
}

void step_fail_child(int error_fd, enum step s, int line)
{
	struct step_failure f = { .step = (int)s, .err = errno, .line = line };
	if (write(error_fd, &f, sizeof(f)) < 0) {
		/* the reader is gone: nobody to tell */
	}
	_exit(125);
}

int step_failure_read(int error_fd, struct step_failure *f)
{
	ssize_t n;
	while ((n = read(error_fd, f, sizeof(*f))) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return 0;
	if (n != sizeof(*f) || (unsigned)f->step >= STEP_COUNT) /* cannot happen: a write this small is atomic */
		*f = (struct step_failure){ .step = STEP_SYNC, .err = EPROTO, .line = 0 };
	return 1;
}
