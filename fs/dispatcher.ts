// The bridge: decodes one request from /dev/fuse, calls the filesystem, encodes the reply.
import { constants } from 'node:os';
import { FsError, type Caller, type Filesystem } from './filesystem.js';
import {
  FOPEN_DIRECT_IO,
  FOPEN_NOFLUSH,
  FUSE_GETATTR_FH,
  FUSE_KERNEL_MINOR_VERSION,
  FUSE_READ_LOCKOWNER,
  FUSE_KERNEL_VERSION,
  FUSE_MIN_SUPPORTED_MINOR,
  InitFlag,
  Opcode,
  S_IFMT,
  S_IFREG,
  Size,
  direntType,
  opcodeName,
} from './protocol/kernel.js';
import * as S from './protocol/structs.js';

const E = constants.errno;

/** What a handler gets: the header, where its body lies in the request buffer, the caller. */
export interface Request {
  header: S.InHeader;
  buf: Buffer;
  /** body start and end in buf */
  body: number;
  end: number;
  caller: Caller;
}

/** A handler writes its reply body at `out[16..]` and returns the body's length; NO_REPLY for none. */
type Handler = (req: Request, out: Buffer) => number;
export const NO_REPLY = -1;

interface OpEntry {
  opcode: number;
  /** smallest body the kernel sends for it */
  inSize: number;
  handler: Handler;
}

export interface DispatcherOptions {
  /** entry and attribute cache time given to the kernel (a file's attributes: none, see attrValidity) */
  validity?: S.Validity;
  /** largest read the kernel may send, in pages (FUSE_MAX_PAGES) */
  maxPages?: number;
  maxWrite?: number;
  /** one line per request when set */
  debug?: (line: string) => void;
  /** handler failures (answered EIO) */
  error?: (message: string) => void;
  /** told what was agreed at INIT, so that a daemon taking the connection over knows it */
  agreed?: (init: Agreement) => void;
}

/** What INIT settled between the kernel and this daemon; it holds for the connection's life. */
export interface Agreement {
  minor: number;
  /** the flags both sides took */
  flags: number;
  maxWrite: number;
  maxPages: number;
  /** what the kernel offered, flags and flags2 (FUSE_HAS_RESEND is bit 39: kernel 6.9+) */
  kernelFlags: number;
  kernelFlags2: number;
}

const NOW: S.Validity = { seconds: 0, nsec: 0 };

export const DEFAULT_MAX_PAGES = 256;
export const DEFAULT_MAX_WRITE = 128 * 1024;

/** Bytes a worker's request buffer needs, and a reply buffer, for these options. */
export function bufferSizes(o: DispatcherOptions = {}): { request: number; reply: number } {
  const maxWrite = o.maxWrite ?? DEFAULT_MAX_WRITE;
  const maxPages = o.maxPages ?? DEFAULT_MAX_PAGES;
  return { request: maxWrite + 4096, reply: Size.OUT_HEADER + Math.max(maxPages * 4096, 4096) };
}

/** Opcodes that would change the tree: a read-only filesystem answers EROFS. */
const MUTATING = [
  Opcode.SETATTR,
  Opcode.SYMLINK,
  Opcode.MKNOD,
  Opcode.MKDIR,
  Opcode.UNLINK,
  Opcode.RMDIR,
  Opcode.RENAME,
  Opcode.LINK,
  Opcode.WRITE,
  Opcode.SETXATTR,
  Opcode.REMOVEXATTR,
  Opcode.CREATE,
  Opcode.FALLOCATE,
  Opcode.RENAME2,
  Opcode.COPY_FILE_RANGE,
  Opcode.TMPFILE,
];

export class Dispatcher {
  private readonly table = new Map<number, OpEntry>();
  private readonly validity: S.Validity;
  private readonly maxPages: number;
  private readonly maxWrite: number;
  /** set by DESTROY: the worker stops after replying */
  destroyed = false;
  /** the minor version agreed at INIT (0 until then, in the worker that did not see it) */
  minor = 0;

  constructor(
    private readonly fs: Filesystem,
    private readonly options: DispatcherOptions = {},
  ) {
    this.validity = options.validity ?? { seconds: 60, nsec: 0 };
    this.maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    this.maxWrite = options.maxWrite ?? DEFAULT_MAX_WRITE;
    const op = (opcode: number, inSize: number, handler: Handler) => {
      if (this.table.has(opcode)) throw new Error(`opcode ${opcodeName(opcode)} listed twice`);
      this.table.set(opcode, { opcode, inSize, handler });
    };
    op(Opcode.INIT, Size.INIT_IN_MIN, (r, o) => this.init(r, o));
    op(Opcode.DESTROY, 0, () => ((this.destroyed = true), 0));
    op(Opcode.LOOKUP, 1, (r, o) => this.lookup(r, o));
    op(Opcode.FORGET, 8, () => NO_REPLY);
    op(Opcode.BATCH_FORGET, 8, () => NO_REPLY);
    op(Opcode.GETATTR, 16, (r, o) => this.getattr(r, o));
    op(Opcode.OPEN, 8, (r, o) => this.open(r, o));
    op(Opcode.READ, 40, (r, o) => this.read(r, o));
    op(Opcode.RELEASE, 24, (r) => (this.fs.release(r.header.nodeid, S.decodeReleaseIn(r.buf, r.body).fh), 0));
    op(Opcode.FLUSH, 24, () => 0);
    op(Opcode.OPENDIR, 8, (r, o) => (this.fs.opendir(r.header.nodeid), S.encodeOpenOut(o, Size.OUT_HEADER, 0n, 0) - Size.OUT_HEADER));
    op(Opcode.READDIR, 40, (r, o) => this.readdir(r, o, false));
    op(Opcode.READDIRPLUS, 40, (r, o) => this.readdir(r, o, true));
    op(Opcode.RELEASEDIR, 24, () => 0);
    op(Opcode.STATFS, 0, (_r, o) => S.encodeKstatfs(o, Size.OUT_HEADER, this.fs.statfs()) - Size.OUT_HEADER);
    op(Opcode.ACCESS, 8, (r) => (this.fs.access(r.header.nodeid, S.decodeAccessIn(r.buf, r.body).mask), 0));
    op(Opcode.GETXATTR, 8, (r, o) => this.getxattr(r, o));
    op(Opcode.LISTXATTR, 8, (r, o) => this.listxattr(r, o));
    // A request cannot be stopped once a worker runs it, and each is short: the interrupt is dropped.
    op(Opcode.INTERRUPT, 8, () => NO_REPLY);
    for (const code of MUTATING)
      op(code, 0, () => {
        throw new FsError(E.EROFS);
      });
  }

  /** Opcodes with a handler, for the start-up check and tests. */
  opcodes(): number[] {
    return [...this.table.keys()].sort((a, b) => a - b);
  }

  /**
   * Serve the request in buf[0..len); the reply goes to `out` and its length is returned (0 when the
   * request takes no reply). Never throws.
   */
  dispatch(buf: Buffer, len: number, out: Buffer): number {
    if (len < Size.IN_HEADER) return 0;
    const header = S.decodeInHeader(buf);
    const started = this.options.debug ? process.hrtime.bigint() : 0n;
    const req: Request = {
      header,
      buf,
      body: Size.IN_HEADER,
      end: Math.min(len, header.len) - header.totalExtlen * 8,
      caller: { pid: header.pid, uid: header.uid, gid: header.gid },
    };
    let error = 0;
    let bodyLen = 0;
    const entry = this.table.get(header.opcode);
    if (!entry) error = E.ENOSYS;
    else if (req.end - req.body < entry.inSize) error = E.EINVAL;
    else {
      try {
        bodyLen = entry.handler(req, out);
      } catch (err) {
        if (err instanceof FsError) error = err.errno;
        else {
          error = E.EIO;
          this.options.error?.(
            `${opcodeName(header.opcode)} node ${header.nodeid} from pid ${header.pid} failed: ${(err as Error)?.stack ?? err}`,
          );
        }
      }
    }
    if (this.options.debug) {
      const us = Number(process.hrtime.bigint() - started) / 1000;
      const outcome = bodyLen === NO_REPLY ? 'no reply' : error ? `error ${-error}` : `${bodyLen} bytes`;
      this.options.debug(
        `${opcodeName(header.opcode)} unique=${header.unique} node=${header.nodeid} pid=${header.pid} uid=${header.uid} -> ${outcome} (${us.toFixed(0)} us)`,
      );
    }
    if (bodyLen === NO_REPLY) return 0;
    if (error) bodyLen = 0;
    S.encodeOutHeader(out, Size.OUT_HEADER + bodyLen, -error, header.unique);
    return Size.OUT_HEADER + bodyLen;
  }

  private init(r: Request, o: Buffer): number {
    const kin = S.decodeInitIn(r.buf, r.body, r.end - r.body);
    if (kin.major < FUSE_KERNEL_VERSION) throw new FsError(E.EPROTO, `kernel protocol ${kin.major}.${kin.minor} is too old`);
    if (kin.major > FUSE_KERNEL_VERSION) {
      // The kernel speaks a newer major: answer ours only; it sends INIT again in our major.
      return (
        S.encodeInitOut(o, Size.OUT_HEADER, {
          major: FUSE_KERNEL_VERSION,
          minor: FUSE_KERNEL_MINOR_VERSION,
          maxReadahead: 0,
          flags: 0,
          maxBackground: 0,
          congestionThreshold: 0,
          maxWrite: 0,
          timeGran: 0,
          maxPages: 0,
        }) - Size.OUT_HEADER
      );
    }
    if (kin.minor < FUSE_MIN_SUPPORTED_MINOR)
      throw new FsError(E.EPROTO, `kernel protocol 7.${kin.minor} is older than 7.${FUSE_MIN_SUPPORTED_MINOR}`);
    const wanted =
      InitFlag.ASYNC_READ |
      InitFlag.ATOMIC_O_TRUNC |
      InitFlag.BIG_WRITES |
      InitFlag.DO_READDIRPLUS |
      InitFlag.READDIRPLUS_AUTO |
      InitFlag.PARALLEL_DIROPS |
      InitFlag.MAX_PAGES;
    this.minor = Math.min(kin.minor, FUSE_KERNEL_MINOR_VERSION);
    this.options.agreed?.({
      minor: this.minor,
      flags: kin.flags & wanted,
      maxWrite: this.maxWrite,
      maxPages: this.maxPages,
      kernelFlags: kin.flags,
      kernelFlags2: kin.flags2,
    });
    return (
      S.encodeInitOut(o, Size.OUT_HEADER, {
        major: FUSE_KERNEL_VERSION,
        minor: this.minor,
        maxReadahead: kin.maxReadahead,
        flags: kin.flags & wanted,
        maxBackground: 64,
        congestionThreshold: 48,
        maxWrite: this.maxWrite,
        timeGran: 1,
        maxPages: this.maxPages,
      }) - Size.OUT_HEADER
    );
  }

  /**
   * How long the kernel may keep a node's attributes. A file's size is its reader's length
   * (Filesystem.getattr), so the kernel asks at every stat; directories never change.
   */
  private attrValidity(a: S.Attr): S.Validity {
    return (a.mode & S_IFMT) === S_IFREG ? NOW : this.validity;
  }

  private lookup(r: Request, o: Buffer): number {
    const e = this.fs.lookup(r.header.nodeid, S.decodeName(r.buf, r.body, r.end));
    return S.encodeEntryOut(o, Size.OUT_HEADER, e.nodeid, this.validity, this.attrValidity(e.attr), e.attr) - Size.OUT_HEADER;
  }

  /** fstat(2) of an open file names its handle: the size is that handle's snapshot's. */
  private getattr(r: Request, o: Buffer): number {
    const gin = S.decodeGetattrIn(r.buf, r.body);
    const fh = gin.getattrFlags & FUSE_GETATTR_FH ? gin.fh : undefined;
    const attr = this.fs.getattr(r.header.nodeid, r.caller, fh);
    return S.encodeAttrOut(o, Size.OUT_HEADER, this.attrValidity(attr), attr) - Size.OUT_HEADER;
  }

  private open(r: Request, o: Buffer): number {
    const { flags } = S.decodeOpenIn(r.buf, r.body);
    const opened = this.fs.open(r.header.nodeid, flags, r.caller);
    // Nothing is ever written, so close(2) needs no FLUSH round trip.
    return S.encodeOpenOut(o, Size.OUT_HEADER, opened.fh, (opened.directIo ? FOPEN_DIRECT_IO : 0) | FOPEN_NOFLUSH) - Size.OUT_HEADER;
  }

  private read(r: Request, o: Buffer): number {
    const rin = S.decodeReadIn(r.buf, r.body);
    // A READ without a lock owner fills the page cache, which every reader of the inode shares: no
    // reader's content may go there (another container would be served it). EINVAL, as splice of a
    // /proc file gave before Linux 5.10: sendfile fails and busybox cat, Python and the like fall back
    // to read(2), which is direct I/O. docs/decisions.md, "sendfile readers".
    if ((rin.readFlags & FUSE_READ_LOCKOWNER) === 0) throw new FsError(E.EINVAL);
    const size = Math.min(rin.size, o.length - Size.OUT_HEADER);
    const data = this.fs.read(r.header.nodeid, rin.fh, Number(rin.offset), size, r.caller);
    return data.copy(o, Size.OUT_HEADER);
  }

  private readdir(r: Request, o: Buffer, plus: boolean): number {
    const rin = S.decodeReadIn(r.buf, r.body);
    const start = Number(rin.offset);
    const end = Size.OUT_HEADER + Math.min(rin.size, o.length - Size.OUT_HEADER);
    let p: number = Size.OUT_HEADER;
    const entries = this.fs.readdir(r.header.nodeid, start);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const d: S.Dirent = { ino: e.attr.ino, nextOffset: start + i + 1, type: direntType(e.attr.mode), name: e.name };
      // "." and ".." go with node id 0 in READDIRPLUS: the kernel takes no lookup reference for them.
      const dots = e.name === '.' || e.name === '..';
      const next = plus
        ? S.encodeDirentplus(o, p, end, d, {
            nodeid: dots ? 0n : e.nodeid,
            entryValid: this.validity,
            attrValid: this.attrValidity(e.attr),
            attr: e.attr,
          })
        : S.encodeDirent(o, p, end, d);
      if (next < 0) break;
      p = next;
    }
    return p - Size.OUT_HEADER;
  }

  /** No node has extended attributes. */
  private getxattr(r: Request, _o: Buffer): number {
    S.decodeGetxattrIn(r.buf, r.body, r.end);
    this.fs.access(r.header.nodeid, 0); // ENOENT for an unknown node
    throw new FsError(E.ENODATA);
  }

  private listxattr(r: Request, o: Buffer): number {
    const { size } = S.decodeGetxattrIn(r.buf, r.body, r.end);
    this.fs.access(r.header.nodeid, 0); // ENOENT for an unknown node
    return size === 0 ? S.encodeGetxattrOut(o, Size.OUT_HEADER, 0) - Size.OUT_HEADER : 0;
  }
}
