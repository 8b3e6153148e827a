// Trees at any depth, by descriptor (runner/tree): removed and counted past PATH_MAX and past what the JavaScript
// stack would take, links removed or skipped and never followed, another filesystem refused and left as it is.
// The trees are made bottom up by renames (test/helpers), not by the code under test.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeTree } from '../../runner/tree/remove-tree.js';
import { contentBytes } from '../../runner/tree/tree-bytes.js';
import { walkTree } from '../../runner/tree/walk-tree.js';
import { deepTree, removeDir } from '../helpers/import-guards.js';

function workDir(t: Test): string {
  const dir = mkdtempSync('/tmp/tsproc-test-tree-');
  t.teardown(() => {
    spawnSync('umount', ['-l', join(dir, 'tree/mnt')], { stdio: 'ignore' });
    removeDir(dir);
  });
  return dir;
}

/** dir/tree: 3000 levels (paths of some 6000 bytes), a link out to dir/outside at level 2. */
function deepWithLinkOut(dir: string): { tree: string; victim: string } {
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim'), 'precious\n');
  deepTree(join(dir, 'tree'), 3000);
  symlinkSync(outside, join(dir, 'tree/d/d/out'));
  return { tree: join(dir, 'tree'), victim: join(outside, 'victim') };
}

t.test('a tree 3000 deep is removed whole; a link to outside is removed, not followed', async (t) => {
  const dir = workDir(t);
  const { tree, victim } = deepWithLinkOut(dir);
  removeTree(tree);
  t.notOk(existsSync(tree), 'gone');
  t.equal(readFileSync(victim, 'utf8'), 'precious\n', 'what the link pointed to is untouched');
});

t.test('nothing there: nothing to do; a file or a link: unlinked', async (t) => {
  const dir = workDir(t);
  t.doesNotThrow(() => removeTree(join(dir, 'nothing')));
  writeFileSync(join(dir, 'file'), 'x');
  symlinkSync(join(dir, 'file'), join(dir, 'link'));
  removeTree(join(dir, 'link'));
  t.notOk(existsSync(join(dir, 'link')));
  t.ok(existsSync(join(dir, 'file')), 'the link went, not its target');
  removeTree(join(dir, 'file'));
  t.notOk(existsSync(join(dir, 'file')));
});

t.test(
  'another filesystem mounted inside is refused, naming it, and left as it is',
  { skip: process.getuid?.() !== 0 && 'mounting needs root' },
  async (t) => {
    const dir = workDir(t);
    mkdirSync(join(dir, 'tree/mnt'), { recursive: true });
    spawnSync('mount', ['-t', 'tmpfs', 'tsproc-test-tree', join(dir, 'tree/mnt')]);
    writeFileSync(join(dir, 'tree/mnt/kept'), 'kept');
    t.throws(() => removeTree(join(dir, 'tree')), {
      message: new RegExp(`^removing ${dir}/tree: ${dir}/tree/mnt: another filesystem is mounted there: refused$`),
      code: 'EXDEV',
    });
    t.equal(readFileSync(join(dir, 'tree/mnt/kept'), 'utf8'), 'kept');
  },
);

t.test('bytes of content: regular files once per inode, at any depth, never through a link', async (t) => {
  const dir = workDir(t);
  const { tree } = deepWithLinkOut(dir);
  writeFileSync(join(tree, 'd/a'), 'x'.repeat(1000));
  linkSync(join(tree, 'd/a'), join(tree, 'd/d/b'));
  writeFileSync(join(dir, 'outside/big'), 'y'.repeat(5000));
  // 'deep\n' at the bottom (5), the 1000-byte file once; the outside files are behind a link
  t.equal(contentBytes(tree), 1005);
  t.equal(contentBytes(join(dir, 'nothing')), 0, 'nothing there: 0');
});

t.test('a walk visits a directory before its entries and leaves it after them', async (t) => {
  const dir = workDir(t);
  mkdirSync(join(dir, 'w/a/b'), { recursive: true });
  writeFileSync(join(dir, 'w/a/b/f'), '');
  writeFileSync(join(dir, 'w/a/g'), '');
  const seen: string[] = [];
  walkTree(join(dir, 'w'), {
    entry: (c, name, st) => (seen.push(`${c.depth}:${name}`), st.isDirectory()),
    leave: (c, name) => seen.push(`${c.depth}:/${name}`),
  });
  const order = (x: string) => seen.indexOf(x);
  t.same(seen.slice().sort(), ['0:/a', '0:a', '1:/b', '1:b', '1:g', '2:f'].sort(), 'everything once');
  t.ok(
    order('0:a') < order('1:b') && order('1:b') < order('2:f') && order('2:f') < order('1:/b') && order('1:/b') < order('0:/a'),
    seen.join(' '),
  );
});
