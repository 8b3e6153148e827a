// A read-only tree of directories and rendered files: inodes, lookups, directory listings, handles.
import { constants } from 'node:os';
import { Buffer } from 'node:buffer';
import { FsError, type Caller, type DirEntry, type Entry, type Filesystem, type Opened } from '../filesystem.js';
import { FUSE_ROOT_ID, S_IFDIR, S_IFREG } from '../protocol/kernel.js';
import type { Attr, Kstatfs } from '../protocol/structs.js';
import { HandleStore } from './handle-store.js';

const E = constants.errno;
const O_ACCMODE = 3;
const O_TRUNC = 0o1000;
const W_OK = 2;
/**
 * A file's smallest size. The kernel keeps one size per inode, and splice (sendfile) stops at it on
 * kernels 6.5 up to the 2026 fuse fix: at 0, busybox cat would see an empty file instead of failing
 * over to read(2). A LOOKUP's size is this; a stat's is its reader's length (getattr).
 */
const MIN_FILE_SIZE = 1;
/** Room over a fresh render's length when the caller's own snapshot cannot be found (getattr). */
export const SIZE_SLACK = 64;

/** A file of the tree: its path below the mountpoint and how to render it for a caller. */
export interface FileSpec {
  path: string;
  render(caller: Caller): string | Buffer;
}

interface Node {
  nodeid: bigint;
  name: string;
  parent: Node | undefined;
  attr: Attr;
  children?: Map<string, Node>;
  file?: FileSpec;
}

export interface TreeOptions {
  /** seconds since the epoch, used as every node's time */
  time?: number;
  /** told once when snapshots cannot be kept (the handle store is full) */
  warn?: (message: string) => void;
}

export class VirtualTree implements Filesystem {
  private readonly nodes = new Map<bigint, Node>();
  private readonly root: Node;
  private readonly time: number;
  private warned = false;

  /** Node ids are given in sorted path order, so the same files give the same ids in every daemon. */
  constructor(
    files: FileSpec[],
    private readonly handles: HandleStore,
    private readonly options: TreeOptions = {},
  ) {
    this.time = options.time ?? Math.floor(Date.now() / 1000);
    this.root = this.makeNode(FUSE_ROOT_ID, '', undefined, true);
    let next = FUSE_ROOT_ID + 1n;
    const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const spec of sorted) {
      const parts = spec.path.split('/').filter((p) => p !== '');
      if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) throw new Error(`bad file path ${JSON.stringify(spec.path)}`);
      let dir = this.root;
      for (const part of parts.slice(0, -1)) {
        let child = dir.children!.get(part);
        if (!child) {
          child = this.makeNode(next++, part, dir, true);
          dir.children!.set(part, child);
          dir.attr.nlink++;
        }
        if (!child.children) throw new Error(`${spec.path}: ${part} is a file`);
        dir = child;
      }
      const name = parts[parts.length - 1]!;
      if (dir.children!.has(name)) throw new Error(`${spec.path}: listed twice`);
      const node = this.makeNode(next++, name, dir, false);
      node.file = spec;
      dir.children!.set(name, node);
    }
  }

  private makeNode(nodeid: bigint, name: string, parent: Node | undefined, isDir: boolean): Node {
    const node: Node = {
      nodeid,
      name,
      parent,
      attr: {
        ino: nodeid,
        size: isDir ? 0 : MIN_FILE_SIZE,
        mode: isDir ? S_IFDIR | 0o555 : S_IFREG | 0o444,
        nlink: isDir ? 2 : 1,
        uid: 0,
        gid: 0,
        time: this.time,
      },
    };
    if (isDir) node.children = new Map();
    this.nodes.set(nodeid, node);
    return node;
  }

  private node(nodeid: bigint): Node {
    const n = this.nodes.get(nodeid);
    if (!n) throw new FsError(E.ENOENT, `no node ${nodeid}`);
    return n;
  }

  private file(nodeid: bigint): FileSpec {
    const n = this.node(nodeid);
    if (!n.file) throw new FsError(E.EISDIR);
    return n.file;
  }

  lookup(parent: bigint, name: string): Entry {
    const dir = this.node(parent);
    if (!dir.children) throw new FsError(E.ENOTDIR);
    const child = name === '.' ? dir : name === '..' ? (dir.parent ?? dir) : dir.children.get(name);
    if (!child) throw new FsError(E.ENOENT);
    return { nodeid: child.nodeid, attr: child.attr };
  }

  /**
   * A file's size: the length of the caller's own snapshot, that of the handle named (FUSE_GETATTR_FH)
   * or of the one its thread last opened on the file (the kernel sends fstat's GETATTR without a
   * handle); else a render for it, plus SIZE_SLACK: the caller may hold the file open in another
   * thread with a snapshot a few digits longer, and Node's readFile reads no more than st_size.
   */
  getattr(nodeid: bigint, caller: Caller, fh?: bigint): Attr {
    const node = this.node(nodeid);
    if (!node.file) return node.attr;
    const own = fh !== undefined ? this.handles.load(fh) : this.handles.openedBy(caller.pid, Number(nodeid));
    const length = own ? own.length : this.render(node.file, caller).length + SIZE_SLACK;
    // Never 0: a size of 0 would make a concurrent sendfile reader of the inode see an empty file
    return { ...node.attr, size: Math.max(length, MIN_FILE_SIZE) };
  }

  /**
   * Opening renders the file for the caller and keeps it as the handle's snapshot, which the first
   * read takes; fstat tells its length.
   */
  open(nodeid: bigint, flags: number, caller: Caller): Opened {
    const spec = this.file(nodeid);
    if ((flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0) throw new FsError(E.EROFS);
    const fh = this.handles.open();
    if (fh === 0n) this.warnOnce('every handle slot is taken: reads of newly opened files are rendered each time');
    const content = this.render(spec, caller);
    this.keep(spec, fh, content, true);
    this.handles.noteOpener(fh, caller.pid, Number(nodeid));
    return { fh, directIo: true };
  }

  /**
   * The first read takes the snapshot made at open; a later read at offset 0 (top and htop keep the
   * file open and read it again from the start) renders anew and keeps that. Other offsets are served
   * from the snapshot, so a file read in pieces is whole.
   */
  read(nodeid: bigint, fh: bigint, offset: number, size: number, caller: Caller): Buffer {
    const spec = this.file(nodeid);
    const fresh = this.handles.takeFresh(fh);
    let content = offset === 0 && !fresh ? undefined : this.handles.load(fh);
    if (!content) {
      content = this.render(spec, caller);
      this.keep(spec, fh, content, false);
    }
    return content.subarray(Math.min(offset, content.length), Math.min(offset + size, content.length));
  }

  private render(spec: FileSpec, caller: Caller): Buffer {
    const rendered = spec.render(caller);
    return typeof rendered === 'string' ? Buffer.from(rendered) : rendered;
  }

  private keep(spec: FileSpec, fh: bigint, content: Buffer, fresh: boolean): void {
    if (!this.handles.store(fh, content, fresh) && fh !== 0n)
      this.warnOnce(`no snapshot room for ${content.length} bytes: reads of ${spec.path} are rendered each time`);
  }

  release(_nodeid: bigint, fh: bigint): void {
    this.handles.release(fh);
  }

  opendir(nodeid: bigint): void {
    if (!this.node(nodeid).children) throw new FsError(E.ENOTDIR);
  }

  readdir(nodeid: bigint, offset: number): DirEntry[] {
    const dir = this.node(nodeid);
    if (!dir.children) throw new FsError(E.ENOTDIR);
    const all: DirEntry[] = [
      { name: '.', nodeid: dir.nodeid, attr: dir.attr },
      { name: '..', nodeid: (dir.parent ?? dir).nodeid, attr: (dir.parent ?? dir).attr },
      ...[...dir.children.values()].map((c) => ({ name: c.name, nodeid: c.nodeid, attr: c.attr })),
    ];
    return all.slice(offset);
  }

  access(nodeid: bigint, mask: number): void {
    this.node(nodeid);
    if (mask & W_OK) throw new FsError(E.EROFS);
  }

  statfs(): Kstatfs {
    return { blocks: 0, bfree: 0, bavail: 0, files: this.nodes.size, ffree: 0, bsize: 4096, namelen: 255, frsize: 4096 };
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.warn?.(message);
  }
}
