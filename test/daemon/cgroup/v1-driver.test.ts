// The v1 driver against the v1 fixture: v1 files read as v2 figures, ancestors' limits, missing files.
import t from 'tap';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createDriver } from '../../../src/daemon/cgroup/create-driver.js';
import { MissingFileError } from '../../../src/daemon/cgroup/errors.js';
import { DescriptorCache } from '../../../src/daemon/io/file-source.js';
import { countsWholeHost, loadKey } from '../../../src/daemon/loadavg/key.js';
import { copyFixture, fixture, fixtureLayout } from '../../helpers/fixtures.js';

/*
 * The v1 fixture (test/fixtures/cgroup-v1), one path in every controller:
 *
 *   /                               (no limits)
 *   └── tsproc-fixture              memory 1 GiB
 *       └── ctr1                    memory 256 MiB, quota 50000/100000, cpuset 0 (of 0-1)
 *                                   usage 129.6 MiB: 112 MiB rss, 16.2 MiB cache (8 MiB shmem)
 */
const ctr1 = (f: ReturnType<typeof fixture>) => f.reader.cgroup;

t.test('memory: usage, stat renamed to v2 keys, limits from hierarchical_memory_limit', async (t) => {
  const f = fixture('v1');
  const d = f.driver;
  t.equal(d.version, 1);
  t.equal(d.memoryCurrent(ctr1(f)), 135921664);
  const s = d.memoryStat(ctr1(f));
  t.equal(s.anon, 117768192, 'total_rss');
  t.equal(s.file, 17002496, 'total_cache');
  t.equal(s.shmem, 8388608);
  t.equal(s.inactive_file, 8613888);
  t.equal(s.active_anon, 4096);
  t.equal(s.file_dirty, 8392704);
  t.equal(s.swapcached, 0);
  t.equal(s.slab_reclaimable, undefined, 'v1 keeps no slab figures');
  t.equal(d.memoryMax(ctr1(f)), 268435456);
  t.equal(d.swapMax(ctr1(f)), Infinity, 'memsw unlimited');
  t.equal(d.swapCurrent(ctr1(f)), 0, 'total_swap');
  t.equal(d.swappiness(ctr1(f)), 60);
  const parent = { ...ctr1(f), memory: '/tsproc-fixture' };
  t.equal(d.memoryMax(parent), 1073741824);
});

t.test("memory: the hierarchical limits are settings (read once a second), memory.stat's usage is read at every render", async (t) => {
  const root = copyFixture(t, 'v1');
  const files = new DescriptorCache();
  const d = createDriver({ files, layout: fixtureLayout('v1', root) });
  const cg = fixture('v1', { root }).reader.cgroup;
  const path = `${root}/cgroup/memory/tsproc-fixture/ctr1/memory.stat`;
  files.beginRender();
  t.equal(d.memoryMax(cg), 268435456);
  files.beginRender();
  const before = files.syscalls;
  t.equal(d.memoryMax(cg), 268435456);
  t.equal(d.swapMax(cg), Infinity);
  t.equal(files.syscalls, before, 'the limits again: no read (a host reader under no limit pays none)');
  writeFileSync(
    path,
    readFileSync(path, 'utf8')
      .replace(/^total_cache \d+$/m, 'total_cache 4096')
      .replace(/hierarchical_memory_limit \d+/, 'hierarchical_memory_limit 1073741824'),
  );
  t.equal(d.memoryStat(cg).file, 4096, 'the usage figures: read now');
  t.equal(d.memoryMax(cg), 1073741824, 'and the limit of that read');
});

/*
 *   tsproc-fixture                  memory 1 GiB, memsw 1.25 GiB
 *   └── ctr1                        memory unlimited (its hierarchical limit is its parent's)
 */
t.test('memory: a limit set only on the parent; swap room under memsw', async (t) => {
  const f = fixture('v1', { root: copyFixture(t, 'v1') });
  const stat = f.files.read(`${f.root}/cgroup/memory/tsproc-fixture/ctr1/memory.stat`)!;
  f.write(
    'cgroup/memory/tsproc-fixture/ctr1/memory.stat',
    stat
      .replace(/hierarchical_memory_limit \d+/, 'hierarchical_memory_limit 1073741824')
      .replace(/hierarchical_memsw_limit \d+/, 'hierarchical_memsw_limit 1342177280')
      .replace(/total_swap 0/, 'total_swap 4096'),
  );
  f.files.beginRender();
  t.equal(f.driver.memoryMax(ctr1(f)), 1073741824);
  t.equal(f.driver.swapMax(ctr1(f)), 268435456, 'memsw less memory');
  t.equal(f.driver.swapCurrent(ctr1(f)), 4096);
});

t.test('memory: without hierarchical figures the limits are walked up the tree', async (t) => {
  const f = fixture('v1', { root: copyFixture(t, 'v1') });
  const stat = f.files.read(`${f.root}/cgroup/memory/tsproc-fixture/ctr1/memory.stat`)!;
  f.write('cgroup/memory/tsproc-fixture/ctr1/memory.stat', stat.replace(/^hierarchical_.*\n/gm, '').replace(/^(total_)?swap \d+\n/gm, ''));
  f.write('cgroup/memory/tsproc-fixture/ctr1/memory.limit_in_bytes', '9223372036854771712\n');
  rmSync(`${f.root}/cgroup/memory/tsproc-fixture/ctr1/memory.memsw.limit_in_bytes`);
  f.files.beginRender();
  t.equal(f.driver.memoryMax(ctr1(f)), 1073741824, "the parent's");
  t.equal(f.driver.swapMax(ctr1(f)), undefined, 'no memsw figure: no swap accounting');
  t.equal(f.driver.swapCurrent(ctr1(f)), 0, 'memsw usage less memory usage');
});

t.test('cpu: quota in CPUs, the smallest up the tree; cpuset; usage per CPU', async (t) => {
  const f = fixture('v1');
  t.equal(f.driver.cpuMax(ctr1(f)), 0.5);
  t.equal(f.driver.cpuMax({ ...ctr1(f), cpu: '/tsproc-fixture' }), Infinity, 'quota -1');
  t.same(f.driver.cpusEffective(ctr1(f)), [0]);
  t.same(f.driver.cpusEffective({ ...ctr1(f), cpuset: '/tsproc-fixture' }), [0, 1]);
  const u = f.driver.cpuUsage(ctr1(f));
  // usage_percpu's exact 515148668 ns on CPU 0, split as usage_all's sampled 475986030 / 72000000.
  t.same(u, {
    user: 447463176,
    system: 67685492,
    perCpu: [
      { user: 447463176, system: 67685492 },
      { user: 0, system: 0 },
    ],
  });
});

/*
 *   tsproc-fixture                  quota 150000/100000 (1.5 CPUs)
 *   └── ctr1                        quota -1
 */
t.test('cpu: a quota on the parent only; cpuacct without per-CPU figures', async (t) => {
  const f = fixture('v1', { root: copyFixture(t, 'v1') });
  f.write('cgroup/cpu/tsproc-fixture/cpu.cfs_quota_us', '150000\n');
  f.write('cgroup/cpu/tsproc-fixture/ctr1/cpu.cfs_quota_us', '-1\n');
  f.files.beginRender();
  t.equal(f.driver.cpuMax(ctr1(f)), 1.5);
  rmSync(`${f.root}/cgroup/cpuacct/tsproc-fixture/ctr1/cpuacct.usage_percpu`);
  const u = fixture('v1', { root: f.root }).driver.cpuUsage(ctr1(f));
  t.equal(u.user + u.system, 515148668, 'the total of cpuacct.usage');
  t.equal(u.user, Math.round((515148668 * 44) / 50), 'split as cpuacct.stat splits it');
  t.equal(u.perCpu, undefined);
});

t.test('io: the blkio throttle counters; a removed cgroup throws MissingFileError', async (t) => {
  const f = fixture('v1', { root: copyFixture(t, 'v1') });
  t.equal(f.driver.ioStat(ctr1(f)).size, 0, 'no I/O in the fixture');
  f.write(
    'cgroup/blkio/tsproc-fixture/ctr1/blkio.throttle.io_service_bytes_recursive',
    '254:0 Read 1048576\n254:0 Write 2097152\n254:0 Total 3145728\nTotal 3145728\n',
  );
  f.write(
    'cgroup/blkio/tsproc-fixture/ctr1/blkio.throttle.io_serviced_recursive',
    '254:0 Read 16\n254:0 Write 32\n254:0 Total 48\nTotal 48\n',
  );
  f.files.beginRender();
  t.same(f.driver.ioStat(ctr1(f)).get('254:0'), { rbytes: 1048576, wbytes: 2097152, rios: 16, wios: 32, dbytes: 0, dios: 0 });
  const gone = { ...ctr1(f), memory: '/tsproc-fixture/gone', io: '/tsproc-fixture/gone', cpu: '/tsproc-fixture/gone' };
  t.throws(() => f.driver.memoryCurrent(gone), MissingFileError);
  t.throws(() => f.driver.memoryStat(gone), MissingFileError);
  t.throws(() => f.driver.ioStat(gone), MissingFileError);
  t.throws(() => f.driver.threads(gone), MissingFileError);
});

t.test('threads of the cgroup and its children', async (t) => {
  const f = fixture('v1');
  const own = f.driver.threads(ctr1(f));
  t.equal(own.length, 7, 'the 7 threads of the fixture process');
  const all = f.driver.threads({ ...ctr1(f), cpu: '/tsproc-fixture' });
  t.ok(all.length >= own.length && own.every((x) => all.includes(x)), 'the parent lists its child too');
  t.equal(f.driver.describe(ctr1(f)), '/tsproc-fixture/ctr1');
});

t.test("without a cpu hierarchy the threads are the pids hierarchy's, and so is the load table's key", async (t) => {
  const root = copyFixture(t, 'v1');
  const layout = fixtureLayout('v1', root);
  delete layout.v1.cpu;
  const driver = createDriver({ files: new DescriptorCache(), layout });
  // The process's cpu line is gone with the hierarchy: its cpu path is the root.
  const cg = driver.paths(readFileSync(`${root}/pid/cgroup`, 'latin1').replace(/^1:cpu:.*\n/m, ''));
  t.equal(cg.cpu, '/');
  t.equal(driver.threadsCgroup(cg), '/tsproc-fixture/ctr1');
  t.equal(driver.threads(cg).length, 7);
  t.equal(loadKey(driver, cg), '/tsproc-fixture/ctr1');
  t.equal(countsWholeHost(driver, cg), false, 'not taken for a container of every host task');
  t.equal(
    fixture('v1').driver.threadsCgroup({ ...ctr1(fixture('v1')), pids: '/elsewhere' }),
    '/tsproc-fixture/ctr1',
    'with one: the cpu path',
  );
});
