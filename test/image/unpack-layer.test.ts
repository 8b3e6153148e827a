// The layer unpacker on crafted tars: exact metadata, entries replacing entries, whiteouts of the same layer,
// malformed input refused. Needs root (it sets owners and makes devices).
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { unpackLayer } from '../../runner/image/unpack-layer.js';
import { type TarEntry, listing, tarBytes, xattrs } from '../helpers/images.js';

if (process.getuid?.() !== 0) t.plan(0, 'unpacking sets owners and makes device nodes: needs root');

async function unpack(t: Test, entries: TarEntry[] | Buffer) {
  const dir = mkdtempSync('/tmp/tsproc-test-unpack-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = Buffer.isBuffer(entries) ? entries : tarBytes(entries);
  // fed in 700-byte chunks: headers and data cross chunk boundaries
  const chunks = Array.from({ length: Math.ceil(bytes.length / 700) }, (_, i) => bytes.subarray(i * 700, (i + 1) * 700));
  return {
    dir,
    result: () =>
      unpackLayer(
        (async function* () {
          yield* chunks;
        })(),
        dir,
      ),
  };
}

t.test('exact metadata: owner, setuid/setgid/sticky modes, mtime, symlinks as written', async (t) => {
  const when = new Date('2020-02-03T04:05:06Z');
  const u = await unpack(t, [
    { path: 'bin/', mode: 0o555, mtime: when },
    { path: 'bin/su', mode: 0o4755, uid: 0, gid: 0, data: 'su', mtime: when },
    { path: 'bin/wall', mode: 0o2755, gid: 5, data: 'w', mtime: when },
    { path: 'tmp/', mode: 0o1777, mtime: when },
    { path: 'home/user/', mode: 0o700, uid: 1000, gid: 1000, mtime: when },
    { path: 'home/user/.profile', mode: 0o600, uid: 1000, gid: 1000, data: 'x'.repeat(2000), mtime: when },
    { path: 'bin/sh', type: 'SymbolicLink', linkpath: '/bin/busybox', uid: 7, gid: 8, mtime: when },
  ]);
  const r = await u.result();
  t.same([r.entries, r.size], [7, 2 + 1 + 2000]);
  const l = listing(u.dir, { times: true });
  t.match(l['bin'], /^dir 555 0:0 $/);
  t.match(l['bin/su'], /^file 4755 0:0 /);
  t.match(l['bin/wall'], /^file 2755 0:5 /);
  t.match(l['tmp'], /^dir 1777 /);
  t.match(l['home/user/.profile'], new RegExp(`^file 600 1000:1000 [0-9a-f]+ ${when.getTime()}$`));
  t.match(
    l['bin/sh'],
    new RegExp(`^link 777 7:8 /bin/busybox ${when.getTime()}$`),
    'absolute target kept, owner and time of the link itself',
  );
  t.equal(lstatSync(join(u.dir, 'bin')).mtimeMs, when.getTime(), 'directory times set after their content');
  t.match(l['home'], /^dir 755 0:0 $/, 'an implied parent: 0755 root');
});

t.test('later entries replace earlier ones of the same layer: file by dir, dir by file, link by file', async (t) => {
  const u = await unpack(t, [
    { path: 'a', data: 'file' },
    { path: 'a/', mode: 0o700 },
    { path: 'a/inner', data: 'i' },
    { path: 'b/' },
    { path: 'b/deep/x', data: 'x' },
    { path: 'b', data: 'now a file' },
    { path: 'c', type: 'SymbolicLink', linkpath: '/etc/passwd' },
    { path: 'c', data: 'plain' },
  ]);
  await u.result();
  t.same(readdirSync(join(u.dir, 'a')), ['inner']);
  t.equal(readFileSync(join(u.dir, 'b'), 'utf8'), 'now a file');
  t.ok(lstatSync(join(u.dir, 'c')).isFile(), 'the link was replaced, not written through');
});

t.test('whiteouts: 0/0 devices except where the layer has the name; opaque markers; hard links shared', async (t) => {
  const u = await unpack(t, [
    { path: 'etc/' },
    { path: 'etc/.wh.shadow' },
    { path: 'etc/kept', data: 'k' },
    { path: 'etc/.wh.kept' },
    { path: 'etc/.wh.later' },
    { path: 'etc/later', data: 'l' },
    { path: 'var/lib/.wh..wh..opq' },
    { path: 'var/lib/.wh..wh.plnk' },
    { path: 'etc/hard', type: 'Link', linkpath: './etc/kept' },
  ]);
  const r = await u.result();
  t.same([r.whiteouts, r.opaques], [['etc/shadow'], ['var/lib']]);
  t.same(readdirSync(join(u.dir, 'etc')).sort(), ['hard', 'kept', 'later', 'shadow']);
  t.ok(lstatSync(join(u.dir, 'etc/shadow')).isCharacterDevice());
  t.equal(lstatSync(join(u.dir, 'etc/kept')).ino, lstatSync(join(u.dir, 'etc/hard')).ino, 'a hard link');
  t.match(xattrs(join(u.dir, 'var/lib')), /trusted\.overlay\.opaque="y"/);
  t.same(readdirSync(join(u.dir, 'var/lib')), [], 'aufs metadata (.wh..wh.plnk) is not written');
});

t.test('refused: unsupported entry types, whiteouts naming nothing, truncated and non-tar input', async (t) => {
  await t.rejects((await unpack(t, [{ path: 'x/.wh.' }])).result(), /entry "x\/\.wh\.": whiteout names nothing/);
  await t.rejects((await unpack(t, [{ path: 'x/.wh..' }])).result(), /whiteout names nothing/);
  const full = tarBytes([{ path: 'big', data: 'y'.repeat(5000) }]);
  await t.rejects((await unpack(t, full.subarray(0, 3000))).result(), /not a valid tar archive/);
  await t.rejects((await unpack(t, Buffer.from('hello, not a tar'.repeat(64)))).result(), /not a valid tar archive/);
  const sparse = tarBytes([{ path: 'f', data: 'z' }]);
  sparse[156] = 'S'.charCodeAt(0); // a GNU sparse file: node-tar does not know it
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : sparse[i]!;
  sparse.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  await t.rejects((await unpack(t, sparse)).result(), /entry "f": unsupported entry type/);
});

t.test("devices from GNU tar's own format keep their numbers (node-tar reads them from ustar headers only)", async (t) => {
  const src = mkdtempSync('/tmp/tsproc-test-gnudev-');
  t.teardown(() => rmSync(src, { recursive: true, force: true }));
  spawnSync('mknod', ['-m', '644', join(src, 'null'), 'c', '1', '3']);
  spawnSync('mknod', ['-m', '600', join(src, 'loop'), 'b', '7', '300']);
  for (const format of ['gnu', 'ustar', 'posix']) {
    const bytes = spawnSync('tar', [`--format=${format}`, '--create', '--file=-', '--numeric-owner', '-C', src, '.'], {
      maxBuffer: 1 << 20,
    }).stdout;
    const u = await unpack(t, bytes);
    const r = await u.result();
    t.same(r.whiteouts, [], `${format}: no device taken for a whiteout`);
    const l = listing(u.dir);
    t.equal(l.null, `chr 644 0:0 ${lstatSync(join(src, 'null')).rdev}`, `${format}: c 1 3`);
    t.equal(l.loop, `blk 600 0:0 ${lstatSync(join(src, 'loop')).rdev}`, `${format}: b 7 300`);
  }
});
