// The inode API between the FUSE protocol (protocol/, dispatcher.ts) and a tree of content (tree/).
import type { Attr, Kstatfs } from './protocol/structs.js';

/** Who made a request, from the request header: the calling thread's id in the daemon's pid namespace (0 when it cannot see it). */
export interface Caller {
  pid: number;
  uid: number;
  gid: number;
}

/** An errno answered to the kernel (positive, as in <errno.h>). Anything else thrown becomes EIO. */
export class FsError extends Error {
  constructor(
    readonly errno: number,
    message?: string,
  ) {
    super(message ?? `errno ${errno}`);
    this.name = 'FsError';
  }
}

export interface Entry {
  nodeid: bigint;
  attr: Attr;
}

export interface DirEntry extends Entry {
  name: string;
}

export interface Opened {
  fh: bigint;
  /** FOPEN_DIRECT_IO: every read goes to the daemon, never to the page cache */
  directIo: boolean;
}

/** What a filesystem offers the dispatcher. Methods throw FsError to answer an errno. */
export interface Filesystem {
  lookup(parent: bigint, name: string): Entry;
  /**
   * A file's size is the length of what this caller reads: of the open handle's snapshot when `fh`
   * is given (fstat), else of a render for the caller; never 0 (docs/decisions.md, "sendfile readers").
   */
  getattr(nodeid: bigint, caller: Caller, fh?: bigint): Attr;
  open(nodeid: bigint, flags: number, caller: Caller): Opened;
  read(nodeid: bigint, fh: bigint, offset: number, size: number, caller: Caller): Buffer;
  release(nodeid: bigint, fh: bigint): void;
  opendir(nodeid: bigint): void;
  /** Entries from index `offset` on, "." and ".." included. */
  readdir(nodeid: bigint, offset: number): DirEntry[];
  access(nodeid: bigint, mask: number): void;
  statfs(): Kstatfs;
}
