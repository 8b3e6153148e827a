// The v2 driver against the v2 fixture: figures, limits up the tree, max, controllers not enabled.
import t from 'tap';
import { rmSync } from 'node:fs';
import { MissingFileError } from '../../../src/daemon/cgroup/errors.js';
import { copyFixture, fixture } from '../../helpers/fixtures.js';

/*
 * The v2 fixture (test/fixtures/cgroup-v2):
 *
 *   /                               cpuset.cpus.effective 0-1
 *   └── tsproc                      memory.max 1 GiB, memory.swap.max max, cpu.max max
 *       └── ctr1                    memory.max 256 MiB, memory.swap.max 64 MiB, cpu.max 50000 100000,
 *                                   cpuset 0; current 165 MiB (111 MiB anon, 52.6 MiB file)
 */
const ctr1 = (f: ReturnType<typeof fixture>) => f.reader.cgroup;

t.test('memory and swap', async (t) => {
  const f = fixture('v2');
  const d = f.driver;
  t.equal(d.version, 2);
  t.equal(ctr1(f).memory, '/tsproc/ctr1');
  t.equal(d.memoryCurrent(ctr1(f)), 172961792);
  const s = d.memoryStat(ctr1(f));
  t.equal(s.anon, 116690944);
  t.equal(s.file, 55128064);
  t.equal(s.file_mapped, 35753984);
  t.equal(s.slab_reclaimable, 173920);
  t.equal(s.kernel_stack, 98304);
  t.equal(d.memoryMax(ctr1(f)), 268435456);
  t.equal(d.memoryMax({ ...ctr1(f), memory: '/tsproc' }), 1073741824);
  t.equal(d.memoryMax({ ...ctr1(f), memory: '/' }), Infinity, 'the root has no memory.max');
  t.equal(d.swapMax(ctr1(f)), 67108864);
  t.equal(d.swapMax({ ...ctr1(f), memory: '/tsproc' }), Infinity, 'max');
  t.equal(d.swapMax({ ...ctr1(f), memory: '/' }), undefined, 'no swap figures at the root');
  t.equal(d.swapCurrent(ctr1(f)), 0);
  t.equal(d.swappiness(ctr1(f)), undefined);
});

/*
 *   tsproc                          memory.max 128 MiB, memory.swap.max 16 MiB
 *   └── ctr1                        memory.max max, memory.swap.max 64 MiB
 */
t.test('the smallest limit over the ancestors', async (t) => {
  const f = fixture('v2', { root: copyFixture(t, 'v2') });
  f.write('cgroup/tsproc/memory.max', '134217728\n');
  f.write('cgroup/tsproc/memory.swap.max', '16777216\n');
  f.write('cgroup/tsproc/ctr1/memory.max', 'max\n');
  f.files.beginRender();
  t.equal(f.driver.memoryMax(ctr1(f)), 134217728);
  t.equal(f.driver.swapMax(ctr1(f)), 16777216);
});

t.test('cpu: quota, cpuset walked up to where the controller is, usage in ns', async (t) => {
  const f = fixture('v2', { root: copyFixture(t, 'v2') });
  t.equal(f.driver.cpuMax(ctr1(f)), 0.5);
  t.equal(f.driver.cpuMax({ ...ctr1(f), cpu: '/tsproc' }), Infinity);
  t.same(f.driver.cpusEffective(ctr1(f)), [0]);
  t.same(f.driver.cpuUsage(ctr1(f)), { user: 944532000, system: 1055393000 }, 'no per-CPU figures on v2');
  // (Held descriptors keep reading a deleted fixture file, where a cgroup file's give ENODEV: look again with a new fixture.)
  rmSync(`${f.root}/cgroup/tsproc/ctr1/cpuset.cpus.effective`);
  rmSync(`${f.root}/cgroup/tsproc/cpuset.cpus.effective`);
  f.write('cgroup/tsproc/cpu.max', '25000 100000\n');
  const g = fixture('v2', { root: f.root });
  t.same(g.driver.cpusEffective(ctr1(g)), [0, 1], "the cpuset controller not enabled below the root: the root's");
  t.equal(g.driver.cpuMax(ctr1(g)), 0.25, "the parent's smaller quota");
});

t.test('io.stat; a controller not enabled is a MissingFileError', async (t) => {
  const f = fixture('v2', { root: copyFixture(t, 'v2') });
  t.equal(f.driver.ioStat(ctr1(f)).size, 0, 'no disks in the VM');
  f.write('cgroup/tsproc/ctr1/io.stat', '254:0 rbytes=1048576 wbytes=2097152 rios=16 wios=32 dbytes=0 dios=0\n');
  f.files.beginRender();
  t.same(f.driver.ioStat(ctr1(f)).get('254:0'), { rbytes: 1048576, wbytes: 2097152, rios: 16, wios: 32, dbytes: 0, dios: 0 });
  rmSync(`${f.root}/cgroup/tsproc/ctr1/io.stat`);
  rmSync(`${f.root}/cgroup/tsproc/ctr1/memory.current`);
  const g = fixture('v2', { root: f.root });
  t.throws(() => g.driver.ioStat(ctr1(g)), MissingFileError);
  t.throws(() => g.driver.memoryCurrent(ctr1(g)), { name: 'MissingFileError', path: `${f.root}/cgroup/tsproc/ctr1/memory.current` });
});

t.test('threads from cgroup.threads, descendants included', async (t) => {
  const f = fixture('v2');
  t.same(f.driver.threads(ctr1(f)), [139, 144, 145, 146, 147, 148, 151]);
  t.same(f.driver.threads({ ...ctr1(f), pids: '/tsproc' }), [139, 144, 145, 146, 147, 148, 151], 'tsproc has no threads of its own');
});
