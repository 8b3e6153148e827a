// Container roots from an image, for real: the init layer, copy-on-write between two containers over one image,
// --read-only, the vfs driver (forced, and chosen when the container's directory is on overlayfs), cleanup.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  chooseDriver,
  ImageStore,
  overlayMountData,
  overlayRoot,
  plannedRoot,
  prepareContainerRoot,
  removeContainerRoot,
  type EtcFiles,
  type OverlayRoot,
  type StorageDriver,
} from '../../runner/image/index.js';
import {
  busyboxTree,
  listing,
  mountOverlay,
  mountsUnder,
  scratch,
  sh,
  tarBytes,
  tarDir,
  tsproc,
  writeOciLayout,
  xattrs,
} from '../helpers/images.js';

if (process.getuid?.() !== 0) t.plan(0, 'preparing roots and mounting overlayfs need root');

const etc = { hosts: '127.0.0.1\tlocalhost\n10.1.2.3\tdb\n', hostname: 'box', resolvConf: 'nameserver 192.0.2.53\n' };

function imageStore(work: string): ImageStore {
  const base = tarDir(busyboxTree(join(work, 'base')));
  const top = tarBytes([{ path: 'etc/' }, { path: 'etc/motd', data: 'original\n' }, { path: 'etc/.wh.group' }]);
  writeOciLayout(join(work, 'layout'), [
    {
      ref: 'v1',
      layers: [base, top],
      config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'], Env: ['PATH=/bin', 'A=1'], WorkingDir: '/tmp', User: 'nobody' },
    },
  ]);
  const r = tsproc(join(work, 'data'), ['image', 'import', join(work, 'layout'), '--name', 'bb']);
  if (r.status !== 0) throw new Error(r.stderr);
  return new ImageStore(join(work, 'data'));
}

/**
 * As `tsproc run` does it: the driver chosen for the container's directory (or forced) while planning, the
 * planned root, then that root made. `notice`: why vfs was chosen.
 */
function prepare(
  store: ImageStore,
  ref: string,
  containerDir: string,
  o: { etc?: EtcFiles; readOnly?: boolean; driver?: StorageDriver } = {},
) {
  const layers = store.layerDirs(store.resolve(ref));
  const choice = chooseDriver(containerDir, overlayMountData(overlayRoot(containerDir, layers, o.readOnly ?? false)).length, o.driver);
  const root = plannedRoot(containerDir, layers, o.readOnly ?? false, choice.driver);
  return { ...prepareContainerRoot(store, ref, { containerDir, etc: o.etc ?? etc, root }), notice: choice.reason };
}

function mount(root: OverlayRoot): string {
  sh('mount', ['-t', 'overlay', 'overlay', '-o', overlayMountData(root), root.target]);
  return root.target;
}

/** Every byte and attribute of the layer store, to prove it never changes. */
const fingerprint = (store: ImageStore) => JSON.stringify(listing(store.paths.layers, { times: true })) + xattrs(store.paths.layers);

t.test('overlay: the init layer above the image, the image config, a root busybox runs in', async (t) => {
  const work = scratch(t, 'root');
  const store = imageStore(work);
  const c = prepare(store, 'bb', join(work, 'c1'));
  t.equal(c.root.kind, 'overlay');
  t.equal(c.notice, undefined, 'no message when overlayfs is used');
  const root = c.root as OverlayRoot;
  t.same(root.lowerdirs, [join(work, 'c1/init'), ...store.layerDirs(c.image)], 'init layer on top of the image, top layer first');
  t.same([root.upperdir, root.workdir], [join(work, 'c1/upper'), join(work, 'c1/work')]);
  t.same(c.config, { entrypoint: ['/bin/sh', '-c'], cmd: ['echo hi'], env: ['PATH=/bin', 'A=1'], workingDir: '/tmp', user: 'nobody' });
  const merged = mount(root);
  t.equal(readFileSync(join(merged, 'etc/hosts'), 'utf8'), etc.hosts);
  t.equal(readFileSync(join(merged, 'etc/hostname'), 'utf8'), 'box\n');
  t.equal(readFileSync(join(merged, 'etc/resolv.conf'), 'utf8'), etc.resolvConf);
  for (const d of ['proc', 'sys', 'dev/pts', 'dev/shm']) t.ok(existsSync(join(merged, d)), `mount point /${d}`);
  t.equal(readFileSync(join(merged, 'etc/motd'), 'utf8'), 'original\n');
  t.notOk(existsSync(join(merged, 'etc/group')), 'the image whiteout holds');
  const run = spawnSync('chroot', [merged, '/bin/sh', '-c', 'cat /etc/hostname; echo written > /tmp/file; ls /tmp'], { encoding: 'utf8' });
  t.equal(run.stdout, 'box\nfile\n', 'busybox runs in the merged root and writes to it');
  t.throws(() => removeContainerRoot(join(work, 'c1')), { code: 'EBUSY', message: /still mounted/ }, 'removal refused while mounted');
  sh('umount', [merged]);
  removeContainerRoot(join(work, 'c1'));
  t.same(readdirSync(join(work, 'c1')), [], 'then it goes');
});

t.test('copy-on-write: one container writes, another sees the image, the layer store is unchanged', async (t) => {
  const work = scratch(t, 'root');
  const store = imageStore(work);
  const before = fingerprint(store);
  const one = mount(prepare(store, 'bb', join(work, 'c1')).root as OverlayRoot);
  const two = mount(prepare(store, 'bb', join(work, 'c2'), { etc: { ...etc, hostname: 'other' } }).root as OverlayRoot);
  writeFileSync(join(one, 'etc/motd'), 'changed\n');
  writeFileSync(join(one, 'etc/hosts'), 'rewritten\n');
  rmSync(join(one, 'bin/cat'));
  mkdirSync(join(one, 'srv'));
  sh('chmod', ['700', join(one, 'tmp')]);
  t.equal(readFileSync(join(one, 'etc/motd'), 'utf8'), 'changed\n', 'the writer sees its write');
  t.notOk(existsSync(join(one, 'bin/cat')), 'and its deletion');
  t.equal(readFileSync(join(two, 'etc/motd'), 'utf8'), 'original\n', 'the other container sees the image');
  t.ok(existsSync(join(two, 'bin/cat')));
  t.notOk(existsSync(join(two, 'srv')));
  t.equal(readFileSync(join(two, 'etc/hostname'), 'utf8'), 'other\n', 'each its own init layer');
  t.equal(readFileSync(join(two, 'etc/hosts'), 'utf8'), etc.hosts);
  t.match(listing(join(work, 'c1/upper'))['bin/cat'], /^chr 0 0:0 0$/, 'the deletion is a whiteout in the upper layer');
  t.equal(readFileSync(join(work, 'c1/upper/etc/motd'), 'utf8'), 'changed\n', 'the write is in the upper layer');
  t.equal(readFileSync(join(work, 'c1/init/etc/hosts'), 'utf8'), etc.hosts, 'the init layer is not written either');
  t.same(readdirSync(join(work, 'c2/upper')), [], 'the reader wrote nothing');
  sh('umount', [one]);
  sh('umount', [two]);
  t.equal(fingerprint(store), before, 'the layer store is byte for byte, attribute for attribute, unchanged');
  removeContainerRoot(join(work, 'c1'));
  t.same(readdirSync(work).sort(), ['base', 'c1', 'c2', 'data', 'layout'].sort());
  t.same(readdirSync(join(work, 'c1')), [], 'removeContainerRoot leaves nothing it made');
});

t.test('--read-only: no upper layer, the mount refuses writes', async (t) => {
  const work = scratch(t, 'root');
  const store = imageStore(work);
  const c = prepare(store, 'bb', join(work, 'c1'), { readOnly: true });
  const root = c.root as OverlayRoot;
  t.equal(root.upperdir, undefined);
  t.notOk(existsSync(join(work, 'c1/upper')));
  const merged = mount(root);
  t.throws(() => writeFileSync(join(merged, 'etc/motd'), 'x'), { code: 'EROFS' });
  t.equal(readFileSync(join(merged, 'etc/hostname'), 'utf8'), 'box\n');
});

t.test('vfs: forced, a full copy with the init layer; chosen by itself on overlayfs, with a message', async (t) => {
  const work = scratch(t, 'root');
  const store = imageStore(work);
  const ref = mount(prepare(store, 'bb', join(work, 'ref'), { readOnly: true }).root as OverlayRoot);
  const forced = prepare(store, 'bb', join(work, 'forced'), { driver: 'vfs' });
  t.same(forced.root, { kind: 'dir', path: join(work, 'forced/rootfs') });
  t.equal(forced.notice, undefined, 'forced: nothing to explain');
  t.same(listing(join(work, 'forced/rootfs')), listing(ref), 'the copy is the overlay, init layer included');
  // a container directory on overlayfs cannot hold an upper layer
  const lower = join(work, 'ovl-lower');
  const up = { upperdir: join(work, 'ovl-upper'), workdir: join(work, 'ovl-work') };
  for (const d of [lower, up.upperdir, up.workdir, join(work, 'ovl')]) mkdirSync(d);
  mountOverlay(join(work, 'ovl'), [lower], up);
  const auto = prepare(store, 'bb', join(work, 'ovl/c1'));
  t.equal(auto.root.kind, 'dir');
  t.match(auto.notice, /ovl\/c1 is on overlayfs, which cannot hold an overlayfs upper directory: using the vfs storage driver/);
  t.throws(() => prepare(store, 'bb', join(work, 'ovl/c2'), { driver: 'overlay' }), /--storage-driver overlay: .* is on overlayfs/);
  t.notOk(existsSync(join(work, 'ovl/c2/init')), 'a refused root leaves nothing');
  const run = spawnSync('chroot', [join(work, 'ovl/c1/rootfs'), '/bin/sh', '-c', 'echo ok > /tmp/x; cat /tmp/x /etc/hostname'], {
    encoding: 'utf8',
  });
  t.equal(run.stdout, 'ok\nbox\n', 'busybox runs in the vfs root');
  t.same(mountsUnder(join(work, 'forced')), [], 'vfs mounts nothing');
});

t.test('unknown image, missing layer: clear errors, nothing made', async (t) => {
  const work = scratch(t, 'root');
  const store = imageStore(work);
  t.throws(
    () =>
      prepareContainerRoot(store, 'nope', {
        containerDir: join(work, 'c1'),
        etc,
        root: plannedRoot(join(work, 'c1'), [], false, 'overlay'),
      }),
    /no such image: nope/,
  );
  const diffId = store.resolve('bb').config.diffIds[1]!;
  rmSync(store.paths.layer(diffId), { recursive: true });
  t.throws(() => prepare(store, 'bb', join(work, 'c1')), /image bb: layer sha256:[0-9a-f]{64} is missing from the store/);
  t.notOk(existsSync(join(work, 'c1')));
});
