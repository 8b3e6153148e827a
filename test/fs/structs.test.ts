// Golden-byte tests of the kernel struct codecs.
import t from 'tap';
import * as S from '../../fs/protocol/structs.js';
import { Size } from '../../fs/protocol/kernel.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('fuse_in_header decodes field by field', async (t) => {
  // len=56 opcode=1 (LOOKUP) unique=0x0102030405060708 nodeid=1 uid=1000 gid=100 pid=4242 extlen=0
  const b = hex(`38000000 01000000 0807060504030201 0100000000000000 e8030000 64000000 92100000 0000 0000`);
  t.equal(b.length, Size.IN_HEADER);
  t.same(S.decodeInHeader(b), {
    len: 56,
    opcode: 1,
    unique: 0x0102030405060708n,
    nodeid: 1n,
    uid: 1000,
    gid: 100,
    pid: 4242,
    totalExtlen: 0,
  });
  t.same(S.encodeInHeader(S.decodeInHeader(b)), b, 'encode is the inverse');
});

t.test('fuse_out_header', async (t) => {
  const b = Buffer.alloc(16);
  S.encodeOutHeader(b, 16, -2, 7n);
  t.same(b, hex('10000000 feffffff 0700000000000000'));
});

t.test('FUSE_NOTIFY_RESEND: the out header alone, the notify code in error, unique 0', async (t) => {
  const b = Buffer.alloc(16);
  t.equal(S.encodeNotifyResend(b), 16);
  t.same(b, hex('10000000 07000000 0000000000000000'));
});

t.test('fuse_attr and fuse_entry_out', async (t) => {
  const b = Buffer.alloc(Size.ENTRY_OUT);
  const end = S.encodeEntryOut(
    b,
    0,
    5n,
    { seconds: 60, nsec: 0 },
    { seconds: 1, nsec: 500 },
    { ino: 5n, size: 1000, mode: 0o100444, nlink: 1, uid: 0, gid: 0, time: 0x10 },
  );
  t.equal(end, 128);
  t.same(
    b,
    hex(`
      0500000000000000 0000000000000000 3c00000000000000 0100000000000000 00000000 f4010000
      0500000000000000 e803000000000000 0200000000000000 1000000000000000 1000000000000000 1000000000000000
      00000000 00000000 00000000 24810000 01000000 00000000 00000000 00000000 00100000 00000000`),
  );
});

t.test('fuse_attr_out', async (t) => {
  const b = Buffer.alloc(Size.ATTR_OUT);
  t.equal(S.encodeAttrOut(b, 0, { seconds: 2, nsec: 0 }, { ino: 1n, size: 0, mode: 0o40555, nlink: 4, uid: 0, gid: 0, time: 0 }), 104);
  t.same(b.subarray(0, 16), hex('0200000000000000 00000000 00000000'));
  t.equal(b.readUInt32LE(16 + 60), 0o40555, 'mode at attr offset 60');
  t.equal(b.readUInt32LE(16 + 64), 4, 'nlink at attr offset 64');
});

t.test('fuse_init_in, short (7.35) and long (7.36+)', async (t) => {
  const short = hex('07000000 1f000000 00000200 ffffff0f');
  t.same(S.decodeInitIn(short, 0, 16), { major: 7, minor: 31, maxReadahead: 0x20000, flags: 0x0fffffff, flags2: 0 });
  const long = Buffer.concat([hex('07000000 2a000000 00000200 ffffffff 03000000'), Buffer.alloc(44)]);
  t.same(S.decodeInitIn(long, 0, 64), { major: 7, minor: 42, maxReadahead: 0x20000, flags: 0xffffffff, flags2: 3 });
});

t.test('fuse_init_out', async (t) => {
  const b = Buffer.alloc(Size.INIT_OUT, 0xaa);
  S.encodeInitOut(b, 0, {
    major: 7,
    minor: 38,
    maxReadahead: 0x20000,
    flags: 0x80000001,
    maxBackground: 64,
    congestionThreshold: 48,
    maxWrite: 0x20000,
    timeGran: 1,
    maxPages: 256,
  });
  t.same(b, Buffer.concat([hex('07000000 26000000 00000200 01000080 4000 3000 00000200 01000000 0001 0000'), Buffer.alloc(32)]));
});

t.test('fuse_read_in and fuse_release_in', async (t) => {
  const r = hex('0900000001000000 0010000000000000 00000200 00000000 0000000000000000 00800000 00000000');
  t.same(S.decodeReadIn(r, 0), { fh: 0x100000009n, offset: 4096n, size: 0x20000, readFlags: 0, flags: 0x8000 });
  t.same(S.decodeReleaseIn(hex('0900000001000000 00800000 00000000 0000000000000000'), 0), { fh: 0x100000009n, flags: 0x8000 });
});

t.test('fuse_dirent is padded to 8 bytes and refuses to overflow', async (t) => {
  const b = Buffer.alloc(64, 0xff);
  const end = S.encodeDirent(b, 0, 64, { ino: 3n, nextOffset: 1, type: 4, name: 'proc' });
  t.equal(end, 32);
  t.same(b.subarray(0, 32), hex('0300000000000000 0100000000000000 04000000 04000000 70726f6300000000'));
  t.equal(S.encodeDirent(b, 32, 64, { ino: 4n, nextOffset: 2, type: 8, name: 'a-name-that-is-too-long' }), -1);
  t.equal(S.direntSize(1), 32);
  t.equal(S.direntSize(8), 32);
  t.equal(S.direntSize(9), 40);
});

t.test('fuse_kstatfs and fuse_getxattr_out', async (t) => {
  const b = Buffer.alloc(Size.KSTATFS, 0xff);
  S.encodeKstatfs(b, 0, { blocks: 0, bfree: 0, bavail: 0, files: 11, ffree: 0, bsize: 4096, namelen: 255, frsize: 4096 });
  t.same(
    b,
    Buffer.concat([
      hex('0000000000000000 0000000000000000 0000000000000000 0b00000000000000 0000000000000000 00100000 ff000000 00100000'),
      Buffer.alloc(28),
    ]),
  );
  const x = Buffer.alloc(8, 0xff);
  S.encodeGetxattrOut(x, 0, 12);
  t.same(x, hex('0c000000 00000000'));
});

t.test('batch forget and names', async (t) => {
  const b = hex('02000000 00000000 0500000000000000 0100000000000000 0600000000000000 0200000000000000');
  t.same(S.decodeBatchForgetIn(b, 0), [
    { nodeid: 5n, nlookup: 1n },
    { nodeid: 6n, nlookup: 2n },
  ]);
  t.equal(S.decodeName(Buffer.from('meminfo\0junk'), 0, 12), 'meminfo');
  t.equal(S.decodeName(Buffer.from('nonul'), 0, 5), 'nonul');
});
