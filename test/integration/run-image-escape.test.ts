// An image's root is untrusted: the working directory and volume mount points made in it follow its symlinks
// only inside it (openat2 RESOLVE_IN_ROOT), never out to the host; its device nodes, and nodes a container
// makes with CAP_MKNOD, cannot be opened (the root is mounted nodev; --privileged lifts it, as in docker).
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratch, tarBytes } from '../helpers/images.js';
import { baseLayer, importImages } from '../helpers/run-images.js';
import { busyboxRoot, cannotRun, sandbox } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

t.test("-w and volume mount points through the image's symlinks stay inside the root", async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'run-image');
  const host = join(work, 'host'); // a host directory the image's links name
  mkdirSync(host);
  await importImages(s, work, [
    {
      ref: 'tsproc-test/links:1',
      layers: [
        baseLayer(t),
        tarBytes([
          { path: 'abs-etc', type: 'SymbolicLink', linkpath: '/etc' },
          { path: 'rel-etc', type: 'SymbolicLink', linkpath: '../../../../../../etc' },
          { path: 'to-host', type: 'SymbolicLink', linkpath: host },
          { path: 'rel-host', type: 'SymbolicLink', linkpath: `../../../../../..${host}` },
        ]),
      ],
    },
  ]);
  const vol = join(work, 'vol');
  mkdirSync(vol);
  writeFileSync(join(vol, 'f'), 'v\n');
  const r = await s.run([
    '-w',
    '/abs-etc/tsproc-test-wd',
    '-v',
    `${vol}:/rel-etc/tsproc-test-vol`,
    '--name',
    'tsproc-test-links',
    'tsproc-test/links:1',
    'sh',
    '-c',
    'pwd; cat /etc/tsproc-test-vol/f',
  ]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '/etc/tsproc-test-wd\nv\n', "/etc, the container's own: the links resolved inside its root");
  t.notOk(existsSync('/etc/tsproc-test-wd') || existsSync('/etc/tsproc-test-vol'), "the host's /etc untouched");
  const id = JSON.parse((await s.cli(['inspect', 'tsproc-test-links'])).stdout)[0].Id as string;
  t.same(
    readdirSync(join(s.dataRoot, 'containers', id, 'upper/etc')).sort(),
    ['tsproc-test-vol', 'tsproc-test-wd'],
    'both made in its writable layer',
  );
  for (const flags of [
    ['-w', '/to-host/x'],
    ['-w', '/rel-host/x'],
    ['-v', `${vol}:/to-host/x`],
    ['-v', `${vol}:/rel-host/x`],
  ]) {
    const out = await s.run(['--rm', ...flags, 'tsproc-test/links:1', 'true']);
    t.equal(out.status, 125, flags.join(' '));
    t.match(
      out.stderr,
      /^tsproc: cannot create the directory \/(to|rel)-host\/x: ENOENT \(no such file or directory\)\n$/,
      `${flags.join(' ')}: the link leads nowhere inside the root; refused`,
    );
  }
  t.same(readdirSync(host), [], 'nothing made in the host directory the links name');
  t.equal((await s.cli(['rm', 'tsproc-test-links'])).status, 0);
  t.same(s.leftovers(), []);
});

t.test("device nodes: an image's, and one made with mknod, cannot be opened; --privileged can (as docker)", async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'run-image');
  await importImages(s, work, [
    {
      ref: 'tsproc-test/dev:1',
      layers: [
        baseLayer(t),
        tarBytes([{ path: 'opt/' }, { path: 'opt/null', type: 'CharacterDevice', devmaj: 1, devmin: 3, mode: 0o666 }]),
      ],
    },
  ]);
  const probe =
    'ls -l /opt/null | cut -c1; echo x > /opt/null && echo image-node-opened; mknod /made c 1 3 && echo made; echo x > /made && echo made-node-opened; echo x > /dev/null && echo dev-null-works';
  const plain = await s.run(['--rm', 'tsproc-test/dev:1', 'sh', '-c', probe]);
  t.equal(
    plain.stdout,
    'c\nmade\ndev-null-works\n',
    "the image's node is there, mknod works (CAP_MKNOD, as docker allows), neither opens; /dev/null does",
  );
  t.match(plain.stderr, /can't create \/opt\/null: Permission denied[\s\S]*can't create \/made: Permission denied/);
  const vfs = await s.run(['--rm', '--storage-driver', 'vfs', 'tsproc-test/dev:1', 'sh', '-c', probe]);
  t.equal(vfs.stdout, 'c\nmade\ndev-null-works\n', 'the same with the vfs driver');
  const privileged = await s.run(['--rm', '--privileged', 'tsproc-test/dev:1', 'sh', '-c', probe]);
  t.equal(
    privileged.stdout,
    'c\nimage-node-opened\nmade\nmade-node-opened\ndev-null-works\n',
    '--privileged: devices open, as docker gives it every device',
  );
  const root = busyboxRoot(t);
  const rootfs = await s.run(['--rm', '--rootfs', root, 'sh', '-c', 'mknod /made c 1 3 && echo x > /made && echo opened']);
  t.equal(rootfs.stdout, '', 'a --rootfs root is nodev too');
  t.match(rootfs.stderr, /can't create \/made: Permission denied/);
  t.same(s.leftovers(), []);
});
