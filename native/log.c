/* The container's log: one record a line, "O|E|o|e TIME TEXT" (O stdout, E stderr; lower case when
 * the text continues on the next record, i.e. no newline ended it), rotated to PATH.1 past its cap. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

static int open_log(struct log *l)
{
	struct stat st;
	l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	l->size = l->fd >= 0 && fstat(l->fd, &st) == 0 ? st.st_size : 0;
	return l->fd;
}

int log_open(struct log *l, const char *path, long max)
{
	memset(l, 0, sizeof(*l));
	l->path = path;
	l->max = max;
	return path ? open_log(l) : 0;
}

static void record(struct log *l, char kind, const char *text, size_t n)
{
	char head[64], rotated[4096];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t h = strftime(head, sizeof(head), "  %Y-%m-%dT%H:%M:%S", &tm);
	head[0] = kind;
	h += (size_t)snprintf(head + h, sizeof(head) - h, ".%09ldZ ", ts.tv_nsec);
	struct iovec v[3] = { { head, h }, { (void *)text, n }, { "\n", 1 } };
	ssize_t w = writev(l->fd, v, 3);
	if (w > 0)
		l->size += w;
	if (l->max > 0 && l->size >= l->max) {
		/* rotate: the log never holds more than two caps' worth */
		snprintf(rotated, sizeof(rotated), "%s.1", l->path);
		close(l->fd);
		rename(l->path, rotated);
		open_log(l);
	}
}

/* Split what a stream wrote into records; a line longer than the buffer is cut. */
void log_write(struct log *l, int stream, const char *buf, size_t n)
{
	struct log_stream *s = &l->streams[stream];
	if (!l->path || l->fd < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			record(l, stream ? 'E' : 'O', s->line, s->len);
			s->len = 0;
			continue;
		}
		if (s->len == sizeof(s->line)) {
			record(l, stream ? 'e' : 'o', s->line, s->len);
			s->len = 0;
		}
		s->line[s->len++] = buf[i];
	}
}

/* At the end: what is left without a newline. */
void log_flush(struct log *l)
{
	for (int stream = 0; stream < 2 && l->path && l->fd >= 0; stream++) {
		if (l->streams[stream].len > 0)
			record(l, stream ? 'e' : 'o', l->streams[stream].line, l->streams[stream].len);
		l->streams[stream].len = 0;
	}
}
