// A FUSE daemon that does no work, for bench/floor.ts: every name is found (proc, sys, devices, system
// and cpu are directories), every file says the same short line. What four FUSE requests cost (OPEN, READ,
// READ at EOF, RELEASE) for any daemon on this machine, whatever it is written in.
// usage: null-fuse DIR THREADS
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int fd;
static const char CONTENT[] = "0.00 0.00 0.00 1/100 1000\n";
static const char *DIRS[] = {"proc", "sys", "devices", "system", "cpu", NULL};

static void attr(struct fuse_attr *a, uint64_t ino) {
  memset(a, 0, sizeof *a);
  a->ino = ino;
  int dir = ino < 100;
  a->mode = dir ? S_IFDIR | 0555 : S_IFREG | 0444;
  a->nlink = dir ? 2 : 1;
  a->size = dir ? 0 : sizeof CONTENT - 1;
  a->blksize = 4096;
}

static void *serve(void *arg) {
  (void)arg;
  size_t cap = 1 << 20;
  char *in = malloc(cap), *out = malloc(cap);
  for (;;) {
    ssize_t n = read(fd, in, cap);
    if (n < 0) {
      if (errno == ENOENT || errno == EINTR || errno == EAGAIN) continue;
      if (errno == ENODEV) exit(0);
      perror("read");
      exit(1);
    }
    struct fuse_in_header *h = (void *)in;
    void *body = in + sizeof *h;
    struct fuse_out_header *o = (void *)out;
    char *ob = out + sizeof *o;
    size_t len = 0;
    int err = 0;
    switch (h->opcode) {
    case FUSE_INIT: {
      struct fuse_init_in *i = body;
      struct fuse_init_out *r = (void *)ob;
      memset(r, 0, sizeof *r);
      r->major = FUSE_KERNEL_VERSION;
      r->minor = i->minor < FUSE_KERNEL_MINOR_VERSION ? i->minor : FUSE_KERNEL_MINOR_VERSION;
      r->max_readahead = i->max_readahead;
      r->flags = i->flags & (FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_MAX_PAGES);
      r->max_background = 64;
      r->congestion_threshold = 48;
      r->max_write = 131072;
      r->time_gran = 1;
      r->max_pages = 256;
      len = sizeof *r;
      break;
    }
    case FUSE_LOOKUP: {
      const char *name = body;
      uint64_t ino = 100 + (uint8_t)name[0];
      for (int k = 0; DIRS[k]; k++)
        if (!strcmp(name, DIRS[k])) ino = 2 + k;
      struct fuse_entry_out *e = (void *)ob;
      memset(e, 0, sizeof *e);
      e->nodeid = ino;
      e->entry_valid = 60;
      e->attr_valid = ino < 100 ? 60 : 0;
      attr(&e->attr, ino);
      len = sizeof *e;
      break;
    }
    case FUSE_GETATTR: {
      struct fuse_attr_out *a = (void *)ob;
      memset(a, 0, sizeof *a);
      a->attr_valid = h->nodeid < 100 ? 60 : 0;
      attr(&a->attr, h->nodeid);
      len = sizeof *a;
      break;
    }
    case FUSE_OPEN: {
      struct fuse_open_out *r = (void *)ob;
      memset(r, 0, sizeof *r);
      r->fh = 1;
      r->open_flags = FOPEN_DIRECT_IO | FOPEN_NOFLUSH;
      len = sizeof *r;
      break;
    }
    case FUSE_OPENDIR: {
      struct fuse_open_out *r = (void *)ob;
      memset(r, 0, sizeof *r);
      len = sizeof *r;
      break;
    }
    case FUSE_READ: {
      struct fuse_read_in *r = body;
      size_t total = sizeof CONTENT - 1;
      size_t off = r->offset < total ? r->offset : total;
      size_t k = total - off < r->size ? total - off : r->size;
      memcpy(ob, CONTENT + off, k);
      len = k;
      break;
    }
    case FUSE_RELEASE:
    case FUSE_RELEASEDIR:
    case FUSE_FLUSH:
      break;
    case FUSE_FORGET:
    case FUSE_BATCH_FORGET:
    case FUSE_INTERRUPT:
      continue;
    case FUSE_DESTROY:
      break;
    default:
      err = -ENOSYS;
    }
    o->len = sizeof *o + (err ? 0 : len);
    o->error = err;
    o->unique = h->unique;
    if (write(fd, out, o->len) < 0 && errno != ENOENT) {
      if (errno == ENODEV) exit(0);
      perror("write");
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  fd = open("/dev/fuse", O_RDWR);
  if (fd < 0) return perror("/dev/fuse"), 1;
  char opts[128];
  snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fd);
  if (mount("nullfuse", argv[1], "fuse.nullfuse", MS_NOSUID | MS_NODEV, opts) < 0) return perror("mount"), 1;
  int threads = atoi(argv[2]);
  pthread_t t;
  for (int i = 1; i < threads; i++) pthread_create(&t, NULL, serve, NULL);
  serve(NULL);
}
