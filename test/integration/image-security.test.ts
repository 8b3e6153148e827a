// Security regressions, one test per attack: hostile layer entries and archives must never write outside the
// layer directory (or the import's scratch directory); each is refused (or, for absolute paths, contained).
import t, { type Test } from 'tap';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore } from '../../runner/image/index.js';
import { buildVfsRoot } from '../../runner/image/vfs.js';
import {
  type TarEntry,
  busyboxTree,
  listing,
  scratch,
  sha,
  storeFiles,
  tarBytes,
  tarDir,
  tsproc,
  writeOciLayout,
} from '../helpers/images.js';

if (process.getuid?.() !== 0) t.plan(0, 'unpacking layers as they would be needs root');

interface Attack {
  work: string;
  data: string;
  /** a directory outside everything tsproc may write, with a victim file */
  outside: string;
}

function setup(t: Test): Attack {
  const work = scratch(t, 'sec');
  const outside = join(work, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim'), 'precious\n');
  return { work, data: join(work, 'data'), outside };
}

/** Import an image whose last layer is `entries`; it must fail naming the entry, leaving nothing anywhere. */
function refused(t: Test, a: Attack, entries: TarEntry[], message: RegExp): void {
  const before = listing(a.outside, { times: true });
  const layout = join(a.work, 'layout');
  writeOciLayout(layout, [{ ref: 'v1', layers: [tarBytes([{ path: 'bin/' }, { path: 'bin/ok', data: 'ok' }]), tarBytes(entries)] }]);
  const r = tsproc(a.data, ['image', 'import', layout]);
  t.equal(r.status, 1, 'the import fails');
  t.match(r.stderr, message, 'naming the entry and the attack');
  t.match(r.stderr, /^tsproc: layout:v1: layer 2 \(sha256:[0-9a-f]{64}\): entry ".*": .*: refused\n$/);
  t.same(listing(a.outside, { times: true }), before, 'nothing outside changed');
  t.equal(statSync(join(a.outside, 'victim')).nlink, 1, 'no hard link to the victim');
  t.same(storeFiles(a.data), [], 'nothing left in the store');
}

t.test('path traversal: entries with ../ are refused', async (t) => {
  const a = setup(t);
  refused(t, a, [{ path: '../../../../../../../outside/pwned', data: 'x' }], /contains '\.\.' \(path traversal\)/);
  refused(t, a, [{ path: 'bin/../../../../../../../../outside/pwned', data: 'x' }], /path traversal/);
});

t.test('absolute paths are contained: /x lands at x inside the layer', async (t) => {
  const a = setup(t);
  const layout = join(a.work, 'layout');
  writeOciLayout(layout, [
    {
      ref: 'v1',
      layers: [
        tarBytes([
          { path: `${a.outside}/pwned`, data: 'x' },
          { path: '/bin/', mode: 0o755 },
        ]),
      ],
    },
  ]);
  const r = tsproc(a.data, ['image', 'import', layout]);
  t.equal(r.status, 0, r.stderr);
  t.same(Object.keys(listing(a.outside)).sort(), ['.', 'victim'], 'nothing written outside');
  const layer = new ImageStore(a.data).layerDirs(new ImageStore(a.data).resolve('layout:v1'))[0]!;
  t.equal(readFileSync(join(layer, a.outside, 'pwned'), 'utf8'), 'x', 'the file is in the layer, under the stripped path');
});

t.test('symlink escape: a file written through a symlink to outside is refused', async (t) => {
  const a = setup(t);
  refused(
    t,
    a,
    [
      { path: 'evil', type: 'SymbolicLink', linkpath: a.outside },
      { path: 'evil/pwned', data: 'x' },
    ],
    /goes through the symbolic link "evil" \(symlink escape\)/,
  );
  refused(
    t,
    a,
    [
      { path: 'evil', type: 'SymbolicLink', linkpath: a.outside },
      { path: 'evil/victim', data: 'overwritten' },
    ],
    /symlink escape/,
  );
});

t.test('symlink escape: a relative symlink climbing out, then a directory through it, is refused', async (t) => {
  const a = setup(t);
  refused(
    t,
    a,
    [
      { path: 'up', type: 'SymbolicLink', linkpath: '../../../../../../../../..' },
      { path: `up${a.outside}/newdir/`, type: 'Directory' },
    ],
    /symbolic link "up"/,
  );
});

t.test('symlink escape: a symlink swapped in for a directory, then written through, is refused', async (t) => {
  const a = setup(t);
  refused(
    t,
    a,
    [{ path: 'd/' }, { path: 'd', type: 'SymbolicLink', linkpath: a.outside }, { path: 'd/pwned', data: 'x' }],
    /symbolic link "d"/,
  );
});

t.test('hard link to a host file (absolute target) is refused', async (t) => {
  const a = setup(t);
  refused(t, a, [{ path: 'stolen', type: 'Link', linkpath: join(a.outside, 'victim') }], /not an earlier entry of this layer/);
});

t.test('hard link to a host file through ../ is refused', async (t) => {
  const a = setup(t);
  refused(t, a, [{ path: 'stolen', type: 'Link', linkpath: '../../../../../../../../outside/victim' }], /hard link target contains '\.\.'/);
});

t.test('hard link through a symlink to outside is refused', async (t) => {
  const a = setup(t);
  refused(
    t,
    a,
    [
      { path: 'evil', type: 'SymbolicLink', linkpath: a.outside },
      { path: 'stolen', type: 'Link', linkpath: 'evil/victim' },
    ],
    /hard link target goes through the symbolic link "evil"/,
  );
});

t.test('whiteout through a symlink (would make a device outside) is refused', async (t) => {
  const a = setup(t);
  refused(t, a, [{ path: 'evil', type: 'SymbolicLink', linkpath: a.outside }, { path: 'evil/.wh.victim' }], /symbolic link "evil"/);
});

t.test('opaque marker through a symlink (would set an xattr outside) is refused', async (t) => {
  const a = setup(t);
  refused(t, a, [{ path: 'evil', type: 'SymbolicLink', linkpath: a.outside }, { path: 'evil/.wh..wh..opq' }], /symbolic link "evil"/);
});

t.test('the layer root replaced by a symlink to / is refused', async (t) => {
  const a = setup(t);
  refused(t, a, [{ path: './', type: 'SymbolicLink', linkpath: '/' }], /replaces the layer root/);
});

t.test('docker manifest.json pointing outside the archive is refused', async (t) => {
  const a = setup(t);
  const dir = join(a.work, 'save');
  mkdirSync(dir);
  const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha(readFileSync(join(a.outside, 'victim')))] } }));
  writeFileSync(join(dir, `${sha(config).slice(7)}.json`), config);
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify([{ Config: `${sha(config).slice(7)}.json`, RepoTags: ['x:1'], Layers: ['../outside/victim'] }]),
  );
  const r = tsproc(a.data, ['image', 'import', dir]);
  t.equal(r.status, 1);
  t.match(r.stderr, /^tsproc: x:1: Layers\[0\]: "\.\.\/outside\/victim" points outside the archive: refused\n$/);
  t.same(storeFiles(a.data), []);
});

t.test('an OCI descriptor whose digest is a path is refused', async (t) => {
  const a = setup(t);
  const layout = join(a.work, 'layout');
  writeOciLayout(layout, [{ ref: 'v1', layers: [tarBytes([{ path: 'x', data: 'x' }])] }]);
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:../../../outside/victim', size: 9 }],
    }),
  );
  const r = tsproc(a.data, ['image', 'import', layout]);
  t.equal(r.status, 1);
  t.match(r.stderr, /index\.json manifests\[0\]: "sha256:\.\.\/\.\.\/\.\.\/outside\/victim" is not a digest \(sha256:<64 hex digits>\)/);
  t.same(storeFiles(a.data), []);
});

t.test('an image archive with ../ entries is refused while it is unpacked', async (t) => {
  const a = setup(t);
  const before = listing(a.outside, { times: true });
  const file = join(a.work, 'evil.tar');
  writeFileSync(
    file,
    tarBytes([
      { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      { path: '../../../../../../outside/pwned', data: 'x' },
    ]),
  );
  const r = tsproc(a.data, ['image', 'import', file]);
  t.equal(r.status, 1);
  t.match(r.stderr, /evil\.tar: unpacking the archive: .*'\.\.'/);
  t.same(listing(a.outside, { times: true }), before, 'nothing outside changed');
  t.same(storeFiles(a.data), []);
});

t.test('vfs never follows a lower layer symlink when an upper layer puts a directory there', async (t) => {
  const a = setup(t);
  const before = listing(a.outside, { times: true });
  const layout = join(a.work, 'layout');
  const base = tarDir(busyboxTree(join(a.work, 'base')));
  writeOciLayout(layout, [
    {
      ref: 'v1',
      layers: [
        base,
        tarBytes([{ path: 'data', type: 'SymbolicLink', linkpath: a.outside }]),
        tarBytes([{ path: 'data/' }, { path: 'data/victim', data: 'mine' }]),
      ],
    },
  ]);
  t.equal(tsproc(a.data, ['image', 'import', layout]).status, 0);
  const store = new ImageStore(a.data);
  const image = store.resolve('layout:v1');
  const root = join(a.work, 'vfs');
  buildVfsRoot(
    image.config.diffIds.map((d) => ({ dir: store.paths.layerDiff(d), opaques: [] })),
    root,
  );
  t.match(listing(root)['data'], /^dir /, 'the symlink was replaced, not followed');
  t.equal(readFileSync(join(root, 'data/victim'), 'utf8'), 'mine');
  t.same(listing(a.outside, { times: true }), before, 'the victim is untouched');
});

t.test('vfs never empties a host directory: an opaque directory where a lower layer has a symlink', async (t) => {
  const a = setup(t);
  const before = listing(a.outside, { times: true });
  const layout = join(a.work, 'layout');
  const base = tarDir(busyboxTree(join(a.work, 'base')));
  // layer 2: data -> the directory holding `outside`; layer 3: data/outside/ opaque, which hides lower content
  writeOciLayout(layout, [
    {
      ref: 'v1',
      layers: [
        base,
        tarBytes([{ path: 'data', type: 'SymbolicLink', linkpath: a.work }]),
        tarBytes([
          { path: 'data/' },
          { path: 'data/outside/' },
          { path: 'data/outside/.wh..wh..opq' },
          { path: 'data/outside/mine', data: 'mine' },
        ]),
      ],
    },
  ]);
  t.equal(tsproc(a.data, ['image', 'import', layout]).status, 0);
  const store = new ImageStore(a.data);
  const image = store.resolve('layout:v1');
  const root = join(a.work, 'vfs');
  buildVfsRoot(
    image.config.diffIds.map((d) => ({ dir: store.paths.layerDiff(d), opaques: store.layer(d).opaques })),
    root,
  );
  t.same(Object.keys(listing(join(root, 'data/outside'))).sort(), ['.', 'mine'], 'the root has the opaque directory with its own content');
  t.same(listing(a.outside, { times: true }), before, 'the victim is untouched: the link was replaced, not followed');
});
