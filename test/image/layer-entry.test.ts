// The layer entry checks, without touching a disk: what is refused, what is contained, what is kept.
import t from 'tap';
import { LayerTree, normalizeEntryPath } from '../../runner/image/layer-entry.js';

t.test('paths are normalized: ./, //, a leading / (contained, as GNU tar and docker do)', async (t) => {
  t.equal(normalizeEntryPath('./bin/sh', 'path'), 'bin/sh');
  t.equal(normalizeEntryPath('bin//./sh/', 'path'), 'bin/sh');
  t.equal(normalizeEntryPath('/etc/passwd', 'path'), 'etc/passwd');
  t.equal(normalizeEntryPath('./', 'path'), '');
});

t.test('path traversal: any .. is refused, even one that would stay inside', async (t) => {
  for (const p of ['../x', 'a/../../x', 'a/../b', '/..', './..']) t.throws(() => normalizeEntryPath(p, 'path'), /contains '\.\.'/, p);
});

t.test('a NUL byte in a path is refused', async (t) => {
  t.throws(() => normalizeEntryPath('a\0b', 'path'), /NUL/);
});

t.test('symlink escape: an entry through a symbolic link the layer made is refused', async (t) => {
  const tree = new LayerTree();
  tree.place('etc', 'symlink');
  t.throws(() => tree.place('etc/passwd', 'file'), /goes through the symbolic link "etc"/);
  t.throws(() => tree.place('./etc/x/y', 'dir'), /symbolic link/);
  t.throws(() => tree.marker('etc/.wh..wh..opq'), /symbolic link/, 'an opaque marker too');
  t.throws(() => tree.place('etc/.wh.x', 'whiteout'), /symbolic link/, 'a whiteout too');
});

t.test('a path through a regular file is refused', async (t) => {
  const tree = new LayerTree();
  tree.place('a', 'file');
  t.throws(() => tree.place('a/b', 'file'), /not a directory/);
});

t.test('missing parents are made, and reported', async (t) => {
  const tree = new LayerTree();
  t.same(tree.place('usr/local/bin/x', 'file'), {
    path: 'usr/local/bin/x',
    parents: ['usr', 'usr/local', 'usr/local/bin'],
    replaces: undefined,
  });
  t.same(tree.place('usr/local/y', 'file').parents, []);
});

t.test('hard links: only to an earlier non-directory entry of the same layer', async (t) => {
  const tree = new LayerTree();
  tree.place('bin/busybox', 'file');
  tree.place('lnk', 'symlink');
  t.equal(tree.linkTarget('bin/sh', '/bin/busybox'), 'bin/busybox', 'an absolute target is contained');
  t.throws(() => tree.linkTarget('x', '/etc/shadow'), /not an earlier entry of this layer/, 'hard link to outside');
  t.throws(() => tree.linkTarget('x', '../../etc/shadow'), /contains '\.\.'/, 'hard link with ..');
  t.throws(() => tree.linkTarget('x', 'lnk/passwd'), /symbolic link/, 'hard link through a symlink');
  t.throws(() => tree.linkTarget('x', 'bin'), /a directory/, 'hard link to a directory');
  t.equal(tree.linkTarget('x', 'lnk'), 'lnk', 'a link to the symlink itself is fine');
});

t.test('the layer root may only be a directory', async (t) => {
  const tree = new LayerTree();
  t.same(tree.place('./', 'dir').path, '');
  t.throws(() => tree.place('.', 'symlink'), /layer root/);
});

t.test('whiteouts hide lower layers only: an entry of the same layer wins, before or after', async (t) => {
  const tree = new LayerTree();
  tree.place('a', 'file');
  tree.place('a', 'whiteout');
  t.equal(tree.kind('a'), 'file');
  tree.place('b', 'whiteout');
  tree.place('b', 'dir');
  t.equal(tree.kind('b'), 'dir');
  tree.place('c', 'whiteout');
  t.equal(tree.kind('c'), 'whiteout');
  tree.place('c/d', 'file');
  t.equal(tree.kind('c'), 'dir', 'a whiteout is no obstacle for a later path under it');
});

t.test('a directory replaced by a file takes its entries along', async (t) => {
  const tree = new LayerTree();
  tree.place('d/link', 'symlink');
  tree.place('d', 'file');
  tree.place('d', 'dir');
  t.doesNotThrow(() => tree.place('d/link/x', 'file'), 'the old symlink is gone');
});
