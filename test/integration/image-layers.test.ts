// Layers for real: images of several layers with whiteouts, opaque directories, hard links, devices and setuid
// files, imported by tsproc, mounted as overlayfs and compared with what Debian's `umoci unpack` makes of them.
import t from 'tap';
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore } from '../../runner/image/index.js';
import { buildVfsRoot } from '../../runner/image/vfs.js';
import {
  busyboxTree,
  listing,
  mountOverlay,
  remadeLayer,
  scratch,
  sh,
  tarBytes,
  tarDir,
  tsproc,
  writeOciLayout,
  xattrs,
} from '../helpers/images.js';

if (process.getuid?.() !== 0) t.plan(0, 'unpacking layers and mounting overlayfs need root');

/** Import `layout:tag` into a fresh store; mount its layers (read-only overlay) at `merged`. */
function importAndMount(work: string, layout: string, tag: string): { store: ImageStore; merged: string; layers: string[] } {
  const data = join(work, 'data');
  const r = tsproc(data, ['image', 'import', layout, '--name', `test:${tag}`]);
  if (r.status !== 0) throw new Error(r.stderr);
  const store = new ImageStore(data);
  const layers = store.layerDirs(store.resolve(`test:${tag}`));
  const merged = join(work, 'merged');
  mkdirSync(merged);
  mountOverlay(merged, layers);
  return { store, merged, layers };
}

function umociUnpack(work: string, layout: string, tag: string): string {
  sh('umoci', ['unpack', '--image', `${layout}:${tag}`, join(work, 'reference')]);
  return join(work, 'reference/rootfs');
}

t.test('three layers made by umoci repack (deletions become whiteouts): the overlay is what umoci unpacks', async (t) => {
  const work = scratch(t, 'layers');
  const layout = join(work, 'layout');
  const bundle = join(work, 'bundle');
  sh('umoci', ['init', '--layout', layout]);
  sh('umoci', ['new', '--image', `${layout}:v1`]);
  sh('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
  const root = join(bundle, 'rootfs');
  busyboxTree(root);
  mkdirSync(join(root, 'etc/skel/deep'), { recursive: true });
  writeFileSync(join(root, 'etc/skel/deep/x'), 'x');
  mkdirSync(join(root, 'opt/app'), { recursive: true });
  for (const f of ['a', 'b']) writeFileSync(join(root, 'opt/app', f), f);
  sh('umoci', ['repack', '--refresh-bundle', '--image', `${layout}:v1`, bundle]);
  // layer 2: deletions (a file, a tree), a setuid binary, a hard link, a FIFO, a file owned by nobody
  rmSync(join(root, 'etc/group'));
  rmSync(join(root, 'etc/skel'), { recursive: true });
  writeFileSync(join(root, 'etc/motd'), 'welcome\n');
  chmodSync(join(root, 'bin/busybox'), 0o4755);
  linkSync(join(root, 'opt/app/a'), join(root, 'opt/app/a-again'));
  mkdirSync(join(root, 'run'));
  sh('mkfifo', ['-m', '0620', join(root, 'run/fifo')]);
  writeFileSync(join(root, 'opt/owned'), 'n');
  sh('chown', ['65534:65534', join(root, 'opt/owned')]);
  sh('umoci', ['repack', '--refresh-bundle', '--image', `${layout}:v1`, bundle]);
  // layer 3: a directory emptied and refilled, a file replaced by a directory, a symlink retargeted
  rmSync(join(root, 'opt/app'), { recursive: true });
  mkdirSync(join(root, 'opt/app'));
  writeFileSync(join(root, 'opt/app/c'), 'c');
  rmSync(join(root, 'etc/motd'));
  mkdirSync(join(root, 'etc/motd'));
  rmSync(join(root, 'bin/ls'));
  symlinkSync('/bin/busybox', join(root, 'bin/ls'));
  sh('umoci', ['repack', '--refresh-bundle', '--image', `${layout}:v1`, bundle]);

  const { merged, layers } = importAndMount(work, layout, 'v1');
  t.equal(layers.length, 3);
  const reference = umociUnpack(work, layout, 'v1');
  const ours = listing(merged, { times: true });
  t.same(ours, listing(reference, { times: true }), 'same paths, types, modes, owners, contents, link targets, times');
  t.notOk('etc/group' in ours, 'whiteout: etc/group is gone');
  t.notOk('etc/skel' in ours, 'whiteout: etc/skel is gone with its tree');
  t.same(readdirSync(join(merged, 'opt/app')), ['c']);
  t.match(ours['bin/busybox'], /^file 4755 0:0 /, 'setuid kept');
  t.match(ours['run/fifo'], /^fifo 620 /);
  t.match(ours['opt/owned'], /^file 644 65534:65534 /);
});

t.test('opaque directories, whiteouts of whole trees, devices and absolute links, from a hand-made layout', async (t) => {
  const work = scratch(t, 'layers');
  const base = busyboxTree(join(work, 'base'));
  mkdirSync(join(base, 'opt/app/sub'), { recursive: true });
  for (const f of ['a', 'b', 'sub/c']) writeFileSync(join(base, 'opt/app', f), f);
  mkdirSync(join(base, 'var/cache/apt'), { recursive: true });
  writeFileSync(join(base, 'var/cache/apt/pkg'), 'p');
  const t0 = new Date('2024-05-06T07:08:09Z');
  const layer2 = tarBytes([
    { path: 'opt/', mtime: t0 },
    { path: 'opt/app/', mode: 0o750, uid: 1000, gid: 1000, mtime: t0 },
    { path: 'opt/app/.wh..wh..opq' },
    { path: 'opt/app/new', data: 'new\n', mtime: t0 },
    { path: 'var/', mtime: t0 },
    { path: 'var/.wh.cache' },
    { path: 'etc/', mtime: t0 },
    { path: 'etc/.wh.passwd' },
    { path: 'etc/os-release', data: 'ID=test\n', mtime: t0 },
    { path: 'etc/os-release-link', type: 'Link', linkpath: 'etc/os-release', mtime: t0 },
    { path: 'etc/localtime', type: 'SymbolicLink', linkpath: '/usr/share/zoneinfo/UTC', mtime: t0 },
    { path: 'dev/', mtime: t0 },
    { path: 'dev/null', type: 'CharacterDevice', devmaj: 1, devmin: 3, mode: 0o666, mtime: t0 },
    { path: 'dev/loop9', type: 'BlockDevice', devmaj: 7, devmin: 9, mode: 0o660, gid: 6, mtime: t0 },
  ]);
  const layer3 = remadeLayer(t0);
  const layout = join(work, 'layout');
  writeOciLayout(layout, [{ ref: 'v1', layers: [tarDir(base), layer2, layer3], gzip: true }]);
  const { store, merged, layers } = importAndMount(work, layout, 'v1');
  const ours = listing(merged, { times: true });
  t.same(ours, listing(umociUnpack(work, layout, 'v1'), { times: true }), 'the overlay is what umoci unpacks');
  t.same(readdirSync(join(merged, 'opt/app')).sort(), ['newer'], 'opaque: nothing of layer 1 under opt/app; layer 3 whited out new');
  t.same(readdirSync(join(merged, 'var/cache')), ['fresh'], 'a whited-out tree, recreated above, holds only the new content');
  t.match(ours['dev/null'], /^chr 666 0:0 259 /, 'a character device 1:3');
  t.match(ours['etc/localtime'], /^link 777 0:0 \/usr\/share\/zoneinfo\/UTC /, 'an absolute symlink kept as it is');

  // how the layer store holds it: a 0/0 device per whiteout, the xattr on opaque directories, layer.json says both
  const l2 = layers[1]!;
  t.match(listing(l2)['var/cache'], /^chr 0 0:0 0$/);
  t.match(listing(l2)['etc/passwd'], /^chr 0 0:0 0$/);
  t.match(xattrs(join(l2, 'opt/app')), /trusted\.overlay\.opaque="y"/);
  const info = store.layer(store.resolve('test:v1').config.diffIds[1]!);
  t.same([info.whiteouts, info.opaques], [['etc/passwd', 'var/cache'], ['opt/app']]);

  // the vfs driver's copy is the same tree
  const vfs = join(work, 'vfs');
  const image = store.resolve('test:v1');
  buildVfsRoot(
    image.config.diffIds.map((d) => ({ dir: store.paths.layerDiff(d), opaques: store.layer(d).opaques })),
    vfs,
  );
  t.same(listing(vfs, { times: true }), ours, 'vfs copy = overlay');
});

t.test('a zstd layer and a plain one in one image', async (t) => {
  const work = scratch(t, 'layers');
  const base = tarDir(busyboxTree(join(work, 'base')));
  const top = tarBytes([{ path: 'etc/' }, { path: 'etc/zstd', data: 'z' }]);
  const layout = join(work, 'layout');
  const [paths] = writeOciLayout(layout, [{ ref: 'v1', layers: [base, top] }]);
  // recompress layer 1 with zstd and rewrite its descriptor
  sh('zstd', ['-q', '--rm', paths![0]!, '-o', `${paths![0]!}.zst`]);
  const zst = readFileSync(`${paths![0]!}.zst`);
  rmSync(`${paths![0]!}.zst`);
  const hex = createHash('sha256').update(zst).digest('hex');
  writeFileSync(join(layout, 'blobs/sha256', hex), zst);
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const mpath = join(layout, 'blobs/sha256', index.manifests[0].digest.slice(7));
  const manifest = JSON.parse(readFileSync(mpath, 'utf8'));
  manifest.layers[0] = { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: `sha256:${hex}`, size: zst.length };
  const mbytes = Buffer.from(JSON.stringify(manifest));
  const mhex = createHash('sha256').update(mbytes).digest('hex');
  writeFileSync(join(layout, 'blobs/sha256', mhex), mbytes);
  index.manifests[0] = { ...index.manifests[0], digest: `sha256:${mhex}`, size: mbytes.length };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  const { merged } = importAndMount(work, layout, 'v1');
  t.same(readdirSync(join(merged, 'etc')).sort(), ['group', 'passwd', 'zstd']);
});
