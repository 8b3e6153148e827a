// One decode or encode function per kernel struct of linux/fuse.h, byte offsets in comments.
import { NotifyCode, Size } from './kernel.js';

// ---- Request side: what the kernel sends ----------------------------------------------------

/** struct fuse_in_header (40 bytes) */
export interface InHeader {
  len: number;
  opcode: number;
  unique: bigint;
  nodeid: bigint;
  uid: number;
  gid: number;
  pid: number;
  totalExtlen: number;
}
export function decodeInHeader(b: Buffer): InHeader {
  return {
    len: b.readUInt32LE(0), //         0  u32 len
    opcode: b.readUInt32LE(4), //      4  u32 opcode
    unique: b.readBigUInt64LE(8), //   8  u64 unique
    nodeid: b.readBigUInt64LE(16), // 16  u64 nodeid
    uid: b.readUInt32LE(24), //       24  u32 uid
    gid: b.readUInt32LE(28), //       28  u32 gid
    pid: b.readUInt32LE(32), //       32  u32 pid
    totalExtlen: b.readUInt16LE(36), // 36 u16 total_extlen (8-byte units), 38 u16 padding
  };
}
export function encodeInHeader(h: InHeader): Buffer {
  const b = Buffer.alloc(Size.IN_HEADER);
  b.writeUInt32LE(h.len, 0);
  b.writeUInt32LE(h.opcode, 4);
  b.writeBigUInt64LE(h.unique, 8);
  b.writeBigUInt64LE(h.nodeid, 16);
  b.writeUInt32LE(h.uid, 24);
  b.writeUInt32LE(h.gid, 28);
  b.writeUInt32LE(h.pid, 32);
  b.writeUInt16LE(h.totalExtlen, 36);
  return b;
}

/** struct fuse_init_in (16 bytes up to 7.35, 64 bytes from 7.36) */
export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  flags2: number;
}
export function decodeInitIn(b: Buffer, off: number, len: number): InitIn {
  return {
    major: b.readUInt32LE(off), //              0 u32 major
    minor: b.readUInt32LE(off + 4), //          4 u32 minor
    maxReadahead: b.readUInt32LE(off + 8), //   8 u32 max_readahead
    flags: b.readUInt32LE(off + 12), //        12 u32 flags
    flags2: len >= 20 ? b.readUInt32LE(off + 16) : 0, // 16 u32 flags2, then 11 unused u32
  };
}

/** struct fuse_getattr_in (16 bytes) */
export function decodeGetattrIn(b: Buffer, off: number): { getattrFlags: number; fh: bigint } {
  return { getattrFlags: b.readUInt32LE(off), fh: b.readBigUInt64LE(off + 8) }; // 0 flags, 4 dummy, 8 fh
}

/** struct fuse_open_in (8 bytes) */
export function decodeOpenIn(b: Buffer, off: number): { flags: number; openFlags: number } {
  return { flags: b.readUInt32LE(off), openFlags: b.readUInt32LE(off + 4) }; // 0 flags, 4 open_flags
}

/** struct fuse_read_in (40 bytes) */
export interface ReadIn {
  fh: bigint;
  offset: bigint;
  size: number;
  readFlags: number;
  flags: number;
}
export function decodeReadIn(b: Buffer, off: number): ReadIn {
  return {
    fh: b.readBigUInt64LE(off), //          0 u64 fh
    offset: b.readBigUInt64LE(off + 8), //  8 u64 offset
    size: b.readUInt32LE(off + 16), //     16 u32 size
    readFlags: b.readUInt32LE(off + 20), // 20 u32 read_flags, 24 u64 lock_owner
    flags: b.readUInt32LE(off + 32), //    32 u32 flags, 36 u32 padding
  };
}

/** struct fuse_release_in (24 bytes) */
export function decodeReleaseIn(b: Buffer, off: number): { fh: bigint; flags: number } {
  return { fh: b.readBigUInt64LE(off), flags: b.readUInt32LE(off + 8) }; // 0 fh, 8 flags, 12 release_flags, 16 lock_owner
}

/** struct fuse_forget_in (8 bytes) */
export function decodeForgetIn(b: Buffer, off: number): { nlookup: bigint } {
  return { nlookup: b.readBigUInt64LE(off) };
}

/** struct fuse_batch_forget_in (8 bytes) followed by count x struct fuse_forget_one (16 bytes) */
export function decodeBatchForgetIn(b: Buffer, off: number): Array<{ nodeid: bigint; nlookup: bigint }> {
  const count = b.readUInt32LE(off); // 0 u32 count, 4 u32 dummy
  const out = [];
  for (let i = 0, p = off + 8; i < count && p + 16 <= b.length; i++, p += 16) {
    out.push({ nodeid: b.readBigUInt64LE(p), nlookup: b.readBigUInt64LE(p + 8) }); // 0 nodeid, 8 nlookup
  }
  return out;
}

/** struct fuse_getxattr_in (8 bytes) followed by the NUL-terminated name */
export function decodeGetxattrIn(b: Buffer, off: number, end: number): { size: number; name: string } {
  return { size: b.readUInt32LE(off), name: decodeName(b, off + 8, end) }; // 0 size, 4 padding
}

/** struct fuse_access_in (8 bytes) */
export function decodeAccessIn(b: Buffer, off: number): { mask: number } {
  return { mask: b.readUInt32LE(off) }; // 0 mask, 4 padding
}

/** struct fuse_interrupt_in (8 bytes) */
export function decodeInterruptIn(b: Buffer, off: number): { unique: bigint } {
  return { unique: b.readBigUInt64LE(off) };
}

/** A NUL-terminated name (LOOKUP, GETXATTR, ...), ending at the NUL or at `end`. */
export function decodeName(b: Buffer, off: number, end: number): string {
  const nul = b.indexOf(0, off);
  return b.toString('utf8', off, nul >= 0 && nul < end ? nul : end);
}

// ---- Reply side: what tsproc writes back -----------------------------------------------------

/** struct fuse_out_header (16 bytes) */
export function encodeOutHeader(b: Buffer, len: number, error: number, unique: bigint): void {
  b.writeUInt32LE(len, 0); //        0 u32 len (header included)
  b.writeInt32LE(error, 4); //       4 i32 error (0 or a negative errno)
  b.writeBigUInt64LE(unique, 8); //  8 u64 unique
}

/** A whole FUSE_NOTIFY_RESEND message: the out header alone (unique 0, error = the notify code). */
export function encodeNotifyResend(b: Buffer): number {
  encodeOutHeader(b, Size.OUT_HEADER, NotifyCode.RESEND, 0n);
  return Size.OUT_HEADER;
}

/** The attributes of a node, as tsproc keeps them. */
export interface Attr {
  ino: bigint;
  size: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  /** seconds since the epoch; used for atime, mtime and ctime */
  time: number;
}

/** struct fuse_attr (88 bytes) */
export function encodeAttr(b: Buffer, off: number, a: Attr): number {
  const blocks = Math.ceil(a.size / 512);
  b.writeBigUInt64LE(a.ino, off); //                  0 u64 ino
  b.writeBigUInt64LE(BigInt(a.size), off + 8); //     8 u64 size
  b.writeBigUInt64LE(BigInt(blocks), off + 16); //   16 u64 blocks
  b.writeBigUInt64LE(BigInt(a.time), off + 24); //   24 u64 atime
  b.writeBigUInt64LE(BigInt(a.time), off + 32); //   32 u64 mtime
  b.writeBigUInt64LE(BigInt(a.time), off + 40); //   40 u64 ctime
  b.writeUInt32LE(0, off + 48); //                   48 u32 atimensec
  b.writeUInt32LE(0, off + 52); //                   52 u32 mtimensec
  b.writeUInt32LE(0, off + 56); //                   56 u32 ctimensec
  b.writeUInt32LE(a.mode, off + 60); //              60 u32 mode
  b.writeUInt32LE(a.nlink, off + 64); //             64 u32 nlink
  b.writeUInt32LE(a.uid, off + 68); //               68 u32 uid
  b.writeUInt32LE(a.gid, off + 72); //               72 u32 gid
  b.writeUInt32LE(0, off + 76); //                   76 u32 rdev
  b.writeUInt32LE(4096, off + 80); //                80 u32 blksize
  b.writeUInt32LE(0, off + 84); //                   84 u32 flags
  return off + Size.ATTR;
}

/** Cache timeouts handed to the kernel with entries and attributes. */
export interface Validity {
  seconds: number;
  nsec: number;
}

/** struct fuse_entry_out (128 bytes) */
export function encodeEntryOut(b: Buffer, off: number, nodeid: bigint, entry: Validity, attrValid: Validity, a: Attr): number {
  b.writeBigUInt64LE(nodeid, off); //                       0 u64 nodeid
  b.writeBigUInt64LE(0n, off + 8); //                       8 u64 generation
  b.writeBigUInt64LE(BigInt(entry.seconds), off + 16); //  16 u64 entry_valid
  b.writeBigUInt64LE(BigInt(attrValid.seconds), off + 24); // 24 u64 attr_valid
  b.writeUInt32LE(entry.nsec, off + 32); //                32 u32 entry_valid_nsec
  b.writeUInt32LE(attrValid.nsec, off + 36); //            36 u32 attr_valid_nsec
  return encodeAttr(b, off + 40, a); //                    40 struct fuse_attr
}

/** struct fuse_attr_out (104 bytes) */
export function encodeAttrOut(b: Buffer, off: number, attrValid: Validity, a: Attr): number {
  b.writeBigUInt64LE(BigInt(attrValid.seconds), off); //  0 u64 attr_valid
  b.writeUInt32LE(attrValid.nsec, off + 8); //            8 u32 attr_valid_nsec
  b.writeUInt32LE(0, off + 12); //                       12 u32 dummy
  return encodeAttr(b, off + 16, a); //                  16 struct fuse_attr
}

/** struct fuse_open_out (16 bytes) */
export function encodeOpenOut(b: Buffer, off: number, fh: bigint, openFlags: number): number {
  b.writeBigUInt64LE(fh, off); //          0 u64 fh
  b.writeUInt32LE(openFlags, off + 8); //  8 u32 open_flags
  b.writeUInt32LE(0, off + 12); //        12 u32 padding
  return off + Size.OPEN_OUT;
}

/** struct fuse_init_out (64 bytes) */
export interface InitOut {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  maxBackground: number;
  congestionThreshold: number;
  maxWrite: number;
  timeGran: number;
  maxPages: number;
}
export function encodeInitOut(b: Buffer, off: number, o: InitOut): number {
  b.fill(0, off, off + Size.INIT_OUT);
  b.writeUInt32LE(o.major, off); //                  0 u32 major
  b.writeUInt32LE(o.minor, off + 4); //              4 u32 minor
  b.writeUInt32LE(o.maxReadahead, off + 8); //       8 u32 max_readahead
  b.writeUInt32LE(o.flags >>> 0, off + 12); //      12 u32 flags
  b.writeUInt16LE(o.maxBackground, off + 16); //    16 u16 max_background
  b.writeUInt16LE(o.congestionThreshold, off + 18); // 18 u16 congestion_threshold
  b.writeUInt32LE(o.maxWrite, off + 20); //         20 u32 max_write
  b.writeUInt32LE(o.timeGran, off + 24); //         24 u32 time_gran
  b.writeUInt16LE(o.maxPages, off + 28); //         28 u16 max_pages
  //                                                30 u16 map_alignment, 32 u32 flags2, 36 u32 unused[7]
  return off + Size.INIT_OUT;
}

/** struct fuse_statfs_out = struct fuse_kstatfs (80 bytes) */
export interface Kstatfs {
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  bsize: number;
  namelen: number;
  frsize: number;
}
export function encodeKstatfs(b: Buffer, off: number, s: Kstatfs): number {
  b.fill(0, off, off + Size.KSTATFS);
  b.writeBigUInt64LE(BigInt(s.blocks), off); //       0 u64 blocks
  b.writeBigUInt64LE(BigInt(s.bfree), off + 8); //    8 u64 bfree
  b.writeBigUInt64LE(BigInt(s.bavail), off + 16); // 16 u64 bavail
  b.writeBigUInt64LE(BigInt(s.files), off + 24); //  24 u64 files
  b.writeBigUInt64LE(BigInt(s.ffree), off + 32); //  32 u64 ffree
  b.writeUInt32LE(s.bsize, off + 40); //             40 u32 bsize
  b.writeUInt32LE(s.namelen, off + 44); //           44 u32 namelen
  b.writeUInt32LE(s.frsize, off + 48); //            48 u32 frsize, 52 u32 padding, 56 u32 spare[6]
  return off + Size.KSTATFS;
}

/** struct fuse_getxattr_out (8 bytes): the size a GETXATTR/LISTXATTR with size 0 asks for */
export function encodeGetxattrOut(b: Buffer, off: number, size: number): number {
  b.writeUInt32LE(size, off); //  0 u32 size
  b.writeUInt32LE(0, off + 4); // 4 u32 padding
  return off + Size.GETXATTR_OUT;
}

/** One directory entry as READDIR lists it. */
export interface Dirent {
  ino: bigint;
  /** the offset of the entry after this one */
  nextOffset: number;
  type: number;
  name: string;
}

/** Bytes a struct fuse_dirent with this name takes, padded to 8. */
export function direntSize(nameBytes: number): number {
  return (Size.DIRENT_HEADER + nameBytes + 7) & ~7;
}

/** struct fuse_dirent (24 bytes + name, padded to 8); returns the new offset, or -1 if it does not fit before `end`. */
export function encodeDirent(b: Buffer, off: number, end: number, d: Dirent): number {
  const nameLen = Buffer.byteLength(d.name);
  const next = off + direntSize(nameLen);
  if (next > end) return -1;
  b.writeBigUInt64LE(d.ino, off); //                    0 u64 ino
  b.writeBigUInt64LE(BigInt(d.nextOffset), off + 8); // 8 u64 off
  b.writeUInt32LE(nameLen, off + 16); //               16 u32 namelen
  b.writeUInt32LE(d.type, off + 20); //                20 u32 type
  b.write(d.name, off + 24); //                        24 char name[]
  b.fill(0, off + 24 + nameLen, next);
  return next;
}

/** struct fuse_direntplus (struct fuse_entry_out then struct fuse_dirent); -1 if it does not fit. */
export function encodeDirentplus(
  b: Buffer,
  off: number,
  end: number,
  d: Dirent,
  entry: { nodeid: bigint; entryValid: Validity; attrValid: Validity; attr: Attr },
): number {
  if (off + Size.ENTRY_OUT + direntSize(Buffer.byteLength(d.name)) > end) return -1;
  const p = encodeEntryOut(b, off, entry.nodeid, entry.entryValid, entry.attrValid, entry.attr);
  return encodeDirent(b, p, end, d);
}
