// The dispatcher fed raw request bytes, no mount: every opcode's reply and the error paths.
import t from 'tap';
import { constants } from 'node:os';
import { Dispatcher, bufferSizes } from '../../fs/dispatcher.js';
import { FsError } from '../../fs/filesystem.js';
import { FOPEN_DIRECT_IO, FOPEN_NOFLUSH, InitFlag, Size } from '../../fs/protocol/kernel.js';
import { encodeInHeader } from '../../fs/protocol/structs.js';
import { HandleStore } from '../../fs/tree/handle-store.js';
import { SIZE_SLACK, VirtualTree } from '../../fs/tree/virtual-tree.js';
import { Opcode, getattrBody, initBody, nameBody, openBody, readBody, releaseBody, request } from '../helpers/requests.js';

const E = constants.errno;

function setup(opts: { debug?: (l: string) => void; error?: (l: string) => void } = {}) {
  const calls: number[] = [];
  const tree = new VirtualTree(
    [
      { path: 'proc/meminfo', render: (c) => (calls.push(c.pid), `MemTotal: 1 kB\npid ${c.pid}\n`) },
      {
        path: 'proc/boom',
        render: () => {
          throw new Error('kaboom');
        },
      },
      {
        path: 'proc/gone',
        render: () => {
          throw new FsError(E.ENOENT);
        },
      },
      { path: 'sys/devices/system/cpu/online', render: () => '0-1\n' },
    ],
    new HandleStore(HandleStore.create(8)),
    { time: 100 },
  );
  const d = new Dispatcher(tree, opts);
  const out = Buffer.alloc(bufferSizes().reply);
  const send = (req: Buffer) => {
    const n = d.dispatch(req, req.length, out);
    if (n === 0) return undefined;
    t.equal(out.readUInt32LE(0), n, 'out header len is the reply length');
    t.equal(out.readBigUInt64LE(8), req.readBigUInt64LE(8), 'unique echoed');
    return { error: -out.readInt32LE(4), body: Buffer.from(out.subarray(16, n)) };
  };
  return { d, send, calls };
}

function lookup(send: ReturnType<typeof setup>['send'], parent: bigint, name: string): bigint {
  const r = send(request(Opcode.LOOKUP, parent, nameBody(name)))!;
  return r.body.readBigUInt64LE(0);
}

t.test('INIT negotiates the minor version and the flags tsproc wants', async (t) => {
  const { send, d } = setup();
  const r = send(request(Opcode.INIT, 0n, initBody(42)))!;
  t.equal(r.error, 0);
  t.equal(r.body.length, 64);
  t.equal(r.body.readUInt32LE(0), 7);
  t.equal(r.body.readUInt32LE(4), 38, 'min(kernel 42, ours 38)');
  const flags = r.body.readUInt32LE(12);
  t.ok(flags & InitFlag.DO_READDIRPLUS);
  t.ok(flags & InitFlag.MAX_PAGES);
  t.notOk(flags & (1 << 16), 'no writeback cache');
  t.equal(r.body.readUInt16LE(28), 256, 'max_pages');
  t.equal(d.minor, 38);
  const old = setup().send(request(Opcode.INIT, 0n, initBody(31, InitFlag.ASYNC_READ)))!;
  t.equal(old.body.readUInt32LE(4), 31, 'an older kernel keeps its minor');
  t.equal(old.body.readUInt32LE(12), InitFlag.ASYNC_READ, 'only flags the kernel offered');
  t.equal(setup().send(request(Opcode.INIT, 0n, initBody(8)))!.error, E.EPROTO, 'too old a kernel');
});

t.test('LOOKUP, GETATTR and their errors', async (t) => {
  const { send } = setup();
  const proc = lookup(send, 1n, 'proc');
  const r = send(request(Opcode.LOOKUP, 1n, nameBody('proc')))!;
  t.equal(r.body.readUInt32LE(40 + 60), 0o40555, 'directory mode');
  t.equal(r.body.readBigUInt64LE(16), 60n, 'entry_valid');
  t.equal(r.body.readBigUInt64LE(24), 60n, "a directory's attr_valid");
  const mem = send(request(Opcode.LOOKUP, proc, nameBody('meminfo')))!;
  t.equal(mem.body.readUInt32LE(40 + 60), 0o100444, 'read-only regular file');
  t.equal(mem.body.readBigUInt64LE(40 + 8), 1n, 'size 1 until a stat: never 0, which stops a splice reader');
  t.equal(mem.body.readBigUInt64LE(24), 0n, "a file's attr_valid is 0: its size is each reader's");
  t.equal(send(request(Opcode.LOOKUP, proc, nameBody('nope')))!.error, E.ENOENT);
  t.equal(send(request(Opcode.LOOKUP, 999n, nameBody('x')))!.error, E.ENOENT);
  const attr = send(request(Opcode.GETATTR, 1n, Buffer.alloc(16)))!;
  t.equal(attr.body.length, 104);
  t.equal(attr.body.readUInt32LE(16 + 60), 0o40555);
  t.equal(attr.body.readUInt32LE(16 + 64), 4, 'root nlink: 2 + proc + sys');
});

t.test("GETATTR of a file: its size is the caller's length, of its own open handle's snapshot when there is one", async (t) => {
  const { send, calls } = setup();
  const proc = lookup(send, 1n, 'proc');
  const mem = lookup(send, proc, 'meminfo');
  const size = (r: { body: Buffer }) => Number(r.body.readBigUInt64LE(16 + 8));
  const byPath = send(request(Opcode.GETATTR, mem, getattrBody(), { pid: 7, uid: 0, gid: 0 }))!;
  t.equal(
    size(byPath),
    'MemTotal: 1 kB\npid 7\n'.length + SIZE_SLACK,
    'stat with nothing open: a render for the caller, measured, with room to spare',
  );
  t.equal(byPath.body.readBigUInt64LE(0), 0n, 'attr_valid 0');
  t.same(calls, [7]);
  const fh = send(request(Opcode.OPEN, mem, openBody(0), { pid: 12345, uid: 0, gid: 0 }))!.body.readBigUInt64LE(0);
  // the kernel sends fstat's GETATTR without the handle, from the thread that opened it
  const byOpener = send(request(Opcode.GETATTR, mem, getattrBody(), { pid: 12345, uid: 0, gid: 0 }))!;
  t.equal(size(byOpener), 'MemTotal: 1 kB\npid 12345\n'.length, "fstat by the opening thread: its handle's snapshot, exactly");
  const byHandle = send(request(Opcode.GETATTR, mem, getattrBody(fh), { pid: 8, uid: 0, gid: 0 }))!;
  t.equal(size(byHandle), 'MemTotal: 1 kB\npid 12345\n'.length, 'GETATTR naming the handle: its snapshot');
  t.same(calls, [7, 12345], 'no render for either');
  send(request(Opcode.RELEASE, mem, releaseBody(fh)));
  t.equal(
    size(send(request(Opcode.GETATTR, mem, getattrBody(), { pid: 12345, uid: 0, gid: 0 }))!),
    'MemTotal: 1 kB\npid 12345\n'.length + SIZE_SLACK,
    'once released, a render again',
  );
  const cpu = lookup(send, lookup(send, lookup(send, 1n, 'sys'), 'devices'), 'system');
  t.equal(size(send(request(Opcode.GETATTR, cpu, getattrBody()))!), 0, 'a directory: 0');
});

t.test('OPEN is direct I/O and renders; the first READ takes that, later offsets the snapshot, offset 0 again renders', async (t) => {
  const { send, calls } = setup();
  const mem = lookup(send, lookup(send, 1n, 'proc'), 'meminfo');
  const o = send(request(Opcode.OPEN, mem, openBody(0), { pid: 77, uid: 5, gid: 6 }))!;
  t.equal(o.error, 0);
  t.equal(o.body.readUInt32LE(8), FOPEN_DIRECT_IO | FOPEN_NOFLUSH, 'direct I/O, no FLUSH at close');
  const fh = o.body.readBigUInt64LE(0);
  const first = send(request(Opcode.READ, mem, readBody(fh, 0, 5), { pid: 88, uid: 5, gid: 6 }))!;
  t.equal(first.body.toString(), 'MemTo');
  const rest = send(request(Opcode.READ, mem, readBody(fh, 5, 4096), { pid: 88, uid: 0, gid: 0 }))!;
  t.equal(rest.body.toString(), 'tal: 1 kB\npid 77\n', 'the rest of the same snapshot, though another pid asks');
  t.same(calls, [77], 'rendered once, for the opener');
  t.equal(send(request(Opcode.READ, mem, readBody(fh, 1000, 10)))!.body.length, 0, 'EOF');
  send(request(Opcode.READ, mem, readBody(fh, 0, 4096), { pid: 99, uid: 0, gid: 0 }));
  t.same(calls, [77, 99], 'a read at offset 0 renders afresh (top keeps /proc/stat open)');
  t.equal(send(request(Opcode.RELEASE, mem, releaseBody(fh)))!.error, 0);
  const stale = send(request(Opcode.READ, mem, readBody(fh, 3, 4096), { pid: 5, uid: 0, gid: 0 }))!;
  t.equal(stale.body.toString(), 'Total: 1 kB\npid 5\n', 'an unknown handle (released, or from a previous daemon) renders');
});

// splice (sendfile) on kernels 6.5 to the 2026 fix, mmap and readahead fill the inode's page cache,
// which every reader shares: one container's content there would be served to another.
t.test('a READ for the page cache (no lock owner) is refused with EINVAL and renders nothing', async (t) => {
  const { send, calls } = setup();
  const mem = lookup(send, lookup(send, 1n, 'proc'), 'meminfo');
  const fh = send(request(Opcode.OPEN, mem, openBody(0), { pid: 77, uid: 0, gid: 0 }))!.body.readBigUInt64LE(0);
  const r = send(request(Opcode.READ, mem, readBody(fh, 0, 4096, { pageCache: true })))!;
  t.same([r.error, r.body.length], [E.EINVAL, 0], 'EINVAL: sendfile fails, and busybox cat falls back to read(2)');
  t.equal(
    send(request(Opcode.READ, mem, readBody(fh, 0, 4096)))!.body.toString(),
    'MemTotal: 1 kB\npid 77\n',
    'the same handle read(2): its own snapshot, whole',
  );
  t.same(calls, [77], 'rendered once, at open');
});

t.test('writes and every tree change are refused with EROFS', async (t) => {
  const { send } = setup();
  const proc = lookup(send, 1n, 'proc');
  const mem = lookup(send, proc, 'meminfo');
  t.equal(send(request(Opcode.OPEN, mem, openBody(1)))!.error, E.EROFS, 'O_WRONLY');
  t.equal(send(request(Opcode.OPEN, mem, openBody(2)))!.error, E.EROFS, 'O_RDWR');
  t.equal(send(request(Opcode.OPEN, mem, openBody(0o1000)))!.error, E.EROFS, 'O_TRUNC');
  for (const op of [
    'WRITE',
    'SETATTR',
    'CREATE',
    'MKDIR',
    'UNLINK',
    'RMDIR',
    'RENAME',
    'RENAME2',
    'SYMLINK',
    'MKNOD',
    'LINK',
    'SETXATTR',
    'REMOVEXATTR',
    'FALLOCATE',
    'COPY_FILE_RANGE',
    'TMPFILE',
  ] as const) {
    t.equal(send(request(Opcode[op], proc, Buffer.alloc(64)))!.error, E.EROFS, op);
  }
  t.equal(send(request(Opcode.ACCESS, mem, Buffer.from([2, 0, 0, 0, 0, 0, 0, 0])))!.error, E.EROFS, 'access(W_OK)');
  t.equal(send(request(Opcode.ACCESS, mem, Buffer.from([4, 0, 0, 0, 0, 0, 0, 0])))!.error, 0, 'access(R_OK)');
});

t.test('READDIR and READDIRPLUS list . and .. and the children, resuming at an offset', async (t) => {
  const { send } = setup();
  const proc = lookup(send, 1n, 'proc');
  t.equal(send(request(Opcode.OPENDIR, proc, openBody(0)))!.error, 0);
  const names = (body: Buffer, plus: boolean) => {
    const out: string[] = [];
    for (let p = 0; p < body.length;) {
      const d = plus ? p + 128 : p;
      const len = body.readUInt32LE(d + 16);
      out.push(body.toString('utf8', d + 24, d + 24 + len));
      p = d + ((24 + len + 7) & ~7);
    }
    return out;
  };
  t.same(names(send(request(Opcode.READDIR, proc, readBody(0n, 0, 4096)))!.body, false), ['.', '..', 'boom', 'gone', 'meminfo']);
  t.same(names(send(request(Opcode.READDIR, proc, readBody(0n, 3, 4096)))!.body, false), ['gone', 'meminfo']);
  const plus = send(request(Opcode.READDIRPLUS, proc, readBody(0n, 0, 4096)))!.body;
  t.same(names(plus, true), ['.', '..', 'boom', 'gone', 'meminfo']);
  t.equal(plus.readBigUInt64LE(0), 0n, '"." carries node id 0 in READDIRPLUS');
  t.same(names(send(request(Opcode.READDIR, proc, readBody(0n, 0, 64)))!.body, false), ['.', '..'], 'stops at the size the kernel gave');
  const mem = lookup(send, proc, 'meminfo');
  t.equal(send(request(Opcode.OPENDIR, mem, openBody(0)))!.error, E.ENOTDIR);
  t.equal(send(request(Opcode.OPEN, proc, openBody(0)))!.error, E.EISDIR);
  t.equal(send(request(Opcode.RELEASEDIR, proc, releaseBody(0n)))!.error, 0);
});

t.test('a throwing render answers EIO and the dispatcher keeps serving; FsError keeps its errno', async (t) => {
  const errors: string[] = [];
  const { send } = setup({ error: (l) => errors.push(l) });
  const proc = lookup(send, 1n, 'proc');
  const boom = lookup(send, proc, 'boom');
  t.equal(send(request(Opcode.OPEN, boom, openBody(0)))!.error, E.EIO, 'the render runs at OPEN');
  t.match(errors[0], /OPEN node \d+ from pid 1234 failed: Error: kaboom/);
  t.equal(send(request(Opcode.READ, boom, readBody(0n, 0, 10)))!.error, E.EIO, 'and at a READ of an unknown handle');
  const gone = lookup(send, proc, 'gone');
  t.equal(send(request(Opcode.READ, gone, readBody(0n, 0, 10)))!.error, E.ENOENT);
  t.equal(lookup(send, proc, 'meminfo') > 0n, true, 'still serving');
});

t.test('the rest: STATFS, xattrs, FLUSH, FORGET, INTERRUPT, unknown opcodes, short bodies, DESTROY', async (t) => {
  const lines: string[] = [];
  const { send, d } = setup({ debug: (l) => lines.push(l) });
  const st = send(request(Opcode.STATFS, 1n))!;
  t.equal(st.body.length, 80);
  t.equal(st.body.readUInt32LE(44), 255, 'namelen');
  const gx = Buffer.concat([Buffer.alloc(8), nameBody('user.x')]);
  t.equal(send(request(Opcode.GETXATTR, 1n, gx))!.error, E.ENODATA);
  const lx = send(request(Opcode.LISTXATTR, 1n, Buffer.alloc(8)))!;
  t.same([lx.error, lx.body.length, lx.body.readUInt32LE(0)], [0, 8, 0], 'no attributes, size 0');
  t.equal(send(request(Opcode.FLUSH, 1n, Buffer.alloc(24)))!.error, 0);
  t.equal(send(request(Opcode.FORGET, 1n, Buffer.alloc(8))), undefined, 'FORGET takes no reply');
  t.equal(send(request(Opcode.BATCH_FORGET, 0n, Buffer.alloc(8))), undefined);
  t.equal(send(request(Opcode.INTERRUPT, 0n, Buffer.alloc(8))), undefined);
  for (const op of [Opcode.READLINK, Opcode.FSYNC, Opcode.GETLK, Opcode.IOCTL, Opcode.POLL, Opcode.LSEEK, Opcode.BMAP, 4096, 9999])
    t.equal(send(request(op, 1n, Buffer.alloc(64)))!.error, E.ENOSYS, `opcode ${op}`);
  t.equal(send(request(Opcode.READ, 1n, Buffer.alloc(8)))!.error, E.EINVAL, 'a body shorter than the struct');
  t.equal(d.dispatch(Buffer.alloc(10), 10, Buffer.alloc(100)), 0, 'a request shorter than a header is dropped');
  t.equal(send(request(Opcode.DESTROY, 0n))!.error, 0);
  t.equal(d.destroyed, true);
  t.match(lines.join('\n'), /STATFS unique=\d+ node=1 pid=1234 uid=0 -> 80 bytes/);
  t.match(lines.join('\n'), /GETXATTR .* -> error -61/);
});

// The kernel's rule (Documentation/filesystems/fuse.rst, "Interrupting filesystem operations"): the
// filesystem answers the interrupted request (normally, or with EINTR) and never the INTERRUPT itself,
// whose unique is the request's with FUSE_INT_REQ_BIT; a reply to it other than EAGAIN (send it again)
// or ENOSYS (interrupts unsupported: the kernel stops sending them) is ignored.
t.test('INTERRUPT: no reply to it, and the request it names is still answered in full', async (t) => {
  const { send } = setup();
  send(request(Opcode.INIT, 0n, initBody()));
  const node = lookup(send, lookup(send, 1n, 'proc'), 'meminfo');
  const fh = send(request(Opcode.OPEN, node, openBody()))!.body.readBigUInt64LE(0);
  const read = request(Opcode.READ, node, readBody(fh, 0, 4096));
  const interrupt = (unique: bigint) => {
    const body = Buffer.alloc(8);
    body.writeBigUInt64LE(unique, 0); // struct fuse_interrupt_in: the unique of the request to interrupt
    return Buffer.concat([
      encodeInHeader({
        len: Size.IN_HEADER + 8,
        opcode: Opcode.INTERRUPT,
        unique: unique | 1n,
        nodeid: 0n,
        pid: 1234,
        uid: 0,
        gid: 0,
        totalExtlen: 0,
      }),
      body,
    ]);
  };
  // as the kernel sends them: the interrupt reaches a worker before or after the request it names
  t.equal(send(interrupt(read.readBigUInt64LE(8))), undefined, 'the interrupt: no reply');
  const r = send(read)!;
  t.same([r.error, r.body.toString()], [0, 'MemTotal: 1 kB\npid 1234\n'], 'the interrupted READ: its data, not EINTR nor an error');
  t.equal(send(interrupt(read.readBigUInt64LE(8))), undefined, 'an interrupt for a request already answered: no reply');
  t.equal(send(interrupt(0xdead0n)), undefined, 'for a request never seen: none either');
  const again = send(request(Opcode.READ, node, readBody(fh, 0, 4096)))!;
  t.same([again.error, again.body.toString()], [0, 'MemTotal: 1 kB\npid 1234\n'], 'and the handle serves on');
});

t.test('the opcode table covers what the protocol needs', async (t) => {
  const { d } = setup();
  const have = new Set(d.opcodes());
  for (const op of [
    'INIT',
    'LOOKUP',
    'FORGET',
    'BATCH_FORGET',
    'GETATTR',
    'OPEN',
    'READ',
    'RELEASE',
    'FLUSH',
    'OPENDIR',
    'READDIR',
    'READDIRPLUS',
    'RELEASEDIR',
    'STATFS',
    'ACCESS',
    'GETXATTR',
    'LISTXATTR',
    'INTERRUPT',
    'DESTROY',
  ] as const)
    t.ok(have.has(Opcode[op]), op);
});
