// Constants of the FUSE kernel protocol, transcribed from linux/fuse.h (protocol 7.38).

/** The protocol version tsproc implements; INIT negotiates min(kernel's, this). */
export const FUSE_KERNEL_VERSION = 7;
export const FUSE_KERNEL_MINOR_VERSION = 38;
/** Oldest minor whose struct layouts (fuse_attr with blksize, 80-byte statfs) tsproc emits. */
export const FUSE_MIN_SUPPORTED_MINOR = 12;

export const FUSE_ROOT_ID = 1n;

/** enum fuse_opcode */
export const Opcode = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  LINK: 13,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  SETXATTR: 21,
  GETXATTR: 22,
  LISTXATTR: 23,
  REMOVEXATTR: 24,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  GETLK: 31,
  SETLK: 32,
  SETLKW: 33,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  BMAP: 37,
  DESTROY: 38,
  IOCTL: 39,
  POLL: 40,
  NOTIFY_REPLY: 41,
  BATCH_FORGET: 42,
  FALLOCATE: 43,
  READDIRPLUS: 44,
  RENAME2: 45,
  LSEEK: 46,
  COPY_FILE_RANGE: 47,
  SETUPMAPPING: 48,
  REMOVEMAPPING: 49,
  SYNCFS: 50,
  TMPFILE: 51,
} as const;
export type OpcodeName = keyof typeof Opcode;

const opcodeNames = new Map<number, OpcodeName>(Object.entries(Opcode).map(([name, code]) => [code, name as OpcodeName]));
/** The opcode's name for logs, or `OP<n>` for one this header does not know. */
export function opcodeName(code: number): string {
  return opcodeNames.get(code) ?? `OP${code}`;
}

/** INIT flags (fuse_init_in.flags / fuse_init_out.flags). */
export const InitFlag = {
  ASYNC_READ: 1 << 0,
  ATOMIC_O_TRUNC: 1 << 3,
  BIG_WRITES: 1 << 5,
  DO_READDIRPLUS: 1 << 13,
  READDIRPLUS_AUTO: 1 << 14,
  PARALLEL_DIROPS: 1 << 18,
  MAX_PAGES: 1 << 22,
} as const;

/** fuse_open_out.open_flags */
export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_KEEP_CACHE = 1 << 1;
/** no FLUSH at close (kernel 5.16+; older kernels ignore the bit) */
export const FOPEN_NOFLUSH = 1 << 5;

/**
 * fuse_read_in.read_flags: lock_owner is valid. The kernel sets it on every READ made for a read(2),
 * pread, readv or io_uring read of a direct-I/O file (fuse_send_read gets current->files), and on none
 * it makes to fill the page cache (fuse_do_readfolio, fuse_send_readpages: splice on kernels 6.5 to
 * the 2026 fix, mmap, readahead). docs/decisions.md, "sendfile readers".
 */
export const FUSE_READ_LOCKOWNER = 1 << 1;

/** fuse_getattr_in.getattr_flags: fh is valid (fstat of an open file) */
export const FUSE_GETATTR_FH = 1 << 0;

/** Notifications the daemon sends unasked (fuse_notify_code): in fuse_out_header.error, unique 0. */
export const NotifyCode = {
  /**
   * FUSE_NOTIFY_RESEND (kernel 6.9): the kernel queues again every request a reader took and did not
   * answer, for whoever reads next (a serving process that died with requests in hand). No body.
   */
  RESEND: 7,
} as const;

/** The kernel refuses read buffers smaller than this. */
export const FUSE_MIN_READ_BUFFER = 8192;

/** Struct sizes in bytes (the layouts are in structs.ts). */
export const Size = {
  IN_HEADER: 40,
  OUT_HEADER: 16,
  ATTR: 88,
  ENTRY_OUT: 128,
  ATTR_OUT: 104,
  OPEN_OUT: 16,
  INIT_IN_MIN: 16,
  INIT_OUT: 64,
  KSTATFS: 80,
  GETXATTR_OUT: 8,
  DIRENT_HEADER: 24,
} as const;

/** File type bits of st_mode, and the dirent type derived from them. */
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFMT = 0o170000;
export function direntType(mode: number): number {
  return (mode & S_IFMT) >> 12;
}
