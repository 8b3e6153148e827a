// Trees deeper than the JavaScript stack, or than PATH_MAX (issue 10): a layer too deep to unpack is refused in one
// `tsproc:` line and leaves nothing; what a killed import left, however deep, is removed by the next import or gc;
// a legitimate 1900-deep image goes through import, the vfs driver, rm and gc; a container's own deep tree goes
// with rm and with --rm. Never a stack trace, never a store that every later command trips on.
import t from 'tap';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxTree, scratch, storeFiles, tarBytes, tarDir, type TarEntry, writeOciLayout } from '../helpers/images.js';
import { cappedCli, deepTree } from '../helpers/import-guards.js';
import { baseLayer, importImages } from '../helpers/run-images.js';
import { cannotRun, sandbox } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

/** A layer of DEPTH directories `d`, one in another, with a file at the bottom (entries as a tar lists them). */
function deepLayer(depth: number): Buffer {
  const entries: TarEntry[] = [];
  for (let i = 1; i <= depth; i++) entries.push({ path: 'd/'.repeat(i) });
  entries.push({ path: `${'d/'.repeat(depth)}bottom`, data: 'deep\n' });
  return tarBytes(entries);
}

/** A scratch directory a SIGKILLed import left (its owner long dead), holding a tree deeper than PATH_MAX. */
function deadImport(data: string, depth: number): void {
  const dir = join(data, 'tmp', 'import-999999999-tsprocTest');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: 999999999, start: '1' }));
  deepTree(join(dir, 'layers/0/diff'), depth);
}

t.test('a layer 3000 directories deep: refused in one line, nothing left; the next busybox import and gc work', async (t) => {
  const work = scratch(t, 'deep');
  const data = join(work, 'data');
  const layout = join(work, 'deep');
  writeOciLayout(layout, [{ ref: 'v1', layers: [tarDir(busyboxTree(join(work, 'base'))), deepLayer(3000)] }]);
  const r = cappedCli(data, ['image', 'import', layout], 120_000);
  t.notOk(r.hung, 'it ends by itself');
  t.equal(r.status, 1, r.signal ?? 'exit 1');
  t.match(
    r.stderr,
    /^tsproc: deep:v1: layer 2 \(sha256:[0-9a-f]{64}\): entry "[d/]+…[d/]+": path of \d+ bytes, longer than the 4063 a layer may have \(PATH_MAX\): refused\n$/,
    'one line: which entry, why',
  );
  t.same(readdirSync(join(data, 'tmp')), [], 'its scratch directory is gone');
  t.same(storeFiles(data), [], 'nothing in the store');

  writeFileSync(join(work, 'busybox.tar'), tarDir(join(work, 'base')));
  const next = cappedCli(data, ['image', 'import', join(work, 'busybox.tar'), '--name', 'busybox']);
  t.equal(next.status, 0, next.stderr);
  t.equal(next.stdout, 'Loaded image: busybox:latest\n');
  const gc = cappedCli(data, ['gc']);
  t.equal(gc.status, 0, gc.stderr);
  t.equal(gc.stdout, 'Total reclaimed space: 0B\n');
});

t.test('what a killed import left, 3000 deep: removed by the next gc, and by the next import', async (t) => {
  const work = scratch(t, 'deep');
  const data = join(work, 'data');
  writeFileSync(join(work, 'busybox.tar'), tarDir(busyboxTree(join(work, 'base'))));
  deadImport(data, 3000);
  const gc = cappedCli(data, ['gc']);
  t.equal(gc.status, 0, gc.stderr);
  t.equal(gc.stdout, 'Removed 1 unfinished import\nTotal reclaimed space: 0B\n');
  t.same(readdirSync(join(data, 'tmp')), [], 'gc removed it');
  deadImport(data, 3000);
  const r = cappedCli(data, ['image', 'import', join(work, 'busybox.tar'), '--name', 'busybox']);
  t.equal(r.status, 0, r.stderr);
  t.same(readdirSync(join(data, 'tmp')), [], 'the import removed it');
  t.equal(cappedCli(data, ['images', '-q']).stdout.trim().length, 12, 'and imported');
});

t.test('a legitimate 1900-deep image: imported, run with the vfs driver, rm, rmi, gc: nothing left', async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'deep');
  await importImages(s, work, [{ ref: 'tsproc-test/deep:1', layers: [baseLayer(t), deepLayer(1900)] }]);
  const bottom = 'p=/; i=0; while [ $i -lt 1900 ]; do p=${p}d/; i=$((i+1)); done; cat ${p}bottom';
  const run = await s.run(['--storage-driver', 'vfs', '--name', 'tsproc-test-deep', 'tsproc-test/deep:1', 'sh', '-c', bottom]);
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout, 'deep\n', 'the file at the bottom, in the vfs copy');
  const rm = await s.cli(['rm', 'tsproc-test-deep']);
  t.equal(rm.status, 0, rm.stderr);
  t.equal(rm.stderr, '');
  const rmi = await s.cli(['rmi', 'tsproc-test/deep:1']);
  t.equal(rmi.status, 0, rmi.stderr);
  const gc = await s.cli(['gc']);
  t.equal(gc.status, 0, gc.stderr);
  t.same(storeFiles(s.dataRoot), [], 'no layer, no image, no container, no scratch');
  t.same(s.leftovers(), []);
});

t.test("a container's own tree deeper than PATH_MAX goes with rm, and with --rm", async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'deep');
  await importImages(s, work, [{ ref: 'tsproc-test/bb:1', layers: [baseLayer(t)] }]);
  // 2500 levels in two goes of 1250 (a `cd` each: busybox looks the whole path up at every cd)
  const dig = 'p=$(printf "d/%.0s" $(seq 1250)); cd /tmp && mkdir -p $p && cd -P $p && mkdir -p $p && cd -P $p && echo deep > bottom';
  for (const driver of ['overlay', 'vfs']) {
    const kept = await s.run(['--storage-driver', driver, '--name', `tsproc-test-dig-${driver}`, 'tsproc-test/bb:1', 'sh', '-c', dig]);
    t.equal(kept.status, 0, kept.stderr);
    const rm = await s.cli(['rm', `tsproc-test-dig-${driver}`]);
    t.equal(rm.status, 0, `${driver}: rm: ${rm.stderr}`);
    t.equal(rm.stderr, '');
    const gone = await s.run(['--rm', '--storage-driver', driver, 'tsproc-test/bb:1', 'sh', '-c', dig]);
    t.equal(gone.status, 0, gone.stderr);
    t.equal(gone.stderr, '', `${driver}: --rm: its monitor removed it without a word`);
  }
  t.same(s.records(), [], 'no container record left');
  const gc = await s.cli(['gc']);
  t.equal(gc.status, 0, gc.stderr);
  t.same(s.leftovers(), []);
});
