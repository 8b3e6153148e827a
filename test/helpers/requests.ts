// Builds raw FUSE requests, as the kernel would send them, for dispatcher tests.
import { FUSE_GETATTR_FH, FUSE_READ_LOCKOWNER, Opcode, Size } from '../../fs/protocol/kernel.js';
import { encodeInHeader } from '../../fs/protocol/structs.js';

let unique = 1n;

export function request(opcode: number, nodeid: bigint, body: Buffer = Buffer.alloc(0), caller = { pid: 1234, uid: 0, gid: 0 }): Buffer {
  const header = encodeInHeader({ len: Size.IN_HEADER + body.length, opcode, unique: unique++, nodeid, ...caller, totalExtlen: 0 });
  return Buffer.concat([header, body]);
}

export function nameBody(name: string): Buffer {
  return Buffer.from(`${name}\0`);
}

export function initBody(minor = 38, flags = 0xffffffff): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(7, 0);
  b.writeUInt32LE(minor, 4);
  b.writeUInt32LE(0x20000, 8);
  b.writeUInt32LE(flags >>> 0, 12);
  return b;
}

export function openBody(flags = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(flags, 0);
  return b;
}

/** A READ as read(2) sends it (a lock owner); `pageCache`: as splice, mmap and readahead send it (none). */
export function readBody(fh: bigint, offset: number, size: number, opts: { pageCache?: boolean } = {}): Buffer {
  const b = Buffer.alloc(40);
  b.writeBigUInt64LE(fh, 0);
  b.writeBigUInt64LE(BigInt(offset), 8);
  b.writeUInt32LE(size, 16);
  if (!opts.pageCache) {
    b.writeUInt32LE(FUSE_READ_LOCKOWNER, 20);
    b.writeBigUInt64LE(0x5eedn, 24);
  }
  return b;
}

/** A GETATTR: of a path (stat), or of an open file's handle (fstat) */
export function getattrBody(fh?: bigint): Buffer {
  const b = Buffer.alloc(16);
  if (fh !== undefined) {
    b.writeUInt32LE(FUSE_GETATTR_FH, 0);
    b.writeBigUInt64LE(fh, 8);
  }
  return b;
}

export function releaseBody(fh: bigint): Buffer {
  const b = Buffer.alloc(24);
  b.writeBigUInt64LE(fh, 0);
  return b;
}

export { Opcode };
