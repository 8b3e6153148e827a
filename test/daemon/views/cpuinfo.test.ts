// cpuinfo: the cpuset's CPUs, renumbered, cut to the quota; the host's blocks otherwise untouched.
import t from 'tap';
import { cpuinfo } from '../../../src/daemon/views/cpuinfo.js';
import { cpuOnline } from '../../../src/daemon/views/cpu-online.js';
import { copyFixture, fixture, show } from '../../helpers/fixtures.js';

const processors = (text: string) => [...text.matchAll(/^processor\s*: (\d+)$/gm)].map((m) => Number(m[1]));

/* Both fixtures: ctr1 has cpuset 0 (of 0-1) and a quota of half a CPU. */
t.test('one CPU, the host block of CPU 0; online says 0', async (t) => {
  for (const kind of ['v1', 'v2'] as const) {
    const f = fixture(kind);
    const text = show(f, cpuinfo);
    t.same(processors(text), [0], kind);
    const hostBlock = f.env.host('/proc/cpuinfo').split('\n\n')[0]!;
    t.equal(text, `${hostBlock}\n\n`, `${kind}: the host block, byte for byte`);
    t.equal(show(f, cpuOnline), '0\n');
  }
});

/*
 *   cpuset/tsproc-fixture/ctr1      cpus 1 (the second CPU)
 *   cpu/tsproc-fixture/ctr1         no quota
 */
t.test('the second CPU shows as processor 0, with its own block', async (t) => {
  const f = fixture('v1', { root: copyFixture(t, 'v1') });
  f.write('cgroup/cpuset/tsproc-fixture/ctr1/cpuset.effective_cpus', '1\n');
  f.write('cgroup/cpu/tsproc-fixture/ctr1/cpu.cfs_quota_us', '-1\n');
  const text = show(f, cpuinfo);
  t.same(processors(text), [0]);
  t.match(text, /^apicid\s*: 1$/m, "CPU 1's own lines");
});

/*
 *   cpuset ctr1                     cpus 0-1
 *   cpu ctr1                        quota 50000/100000, then -1; the parent 150000/100000
 */
t.test('the quota cuts the cpuset; ancestors count; --no-cpu-quota shows the cpuset', async (t) => {
  const root = copyFixture(t, 'v1');
  const f = fixture('v1', { root });
  f.write('cgroup/cpuset/tsproc-fixture/ctr1/cpuset.effective_cpus', '0-1\n');
  t.same(processors(show(f, cpuinfo)), [0], 'half a CPU: one');
  t.equal(show(f, cpuOnline), '0\n');
  f.write('cgroup/cpu/tsproc-fixture/ctr1/cpu.cfs_quota_us', '-1\n');
  f.write('cgroup/cpu/tsproc-fixture/cpu.cfs_quota_us', '150000\n');
  t.same(processors(show(f, cpuinfo)), [0, 1], "the parent's 1.5 CPUs: two");
  t.equal(show(f, cpuOnline), '0-1\n');
  f.write('cgroup/cpu/tsproc-fixture/cpu.cfs_quota_us', '100000\n');
  t.same(processors(show(f, cpuinfo)), [0], 'exactly one CPU of quota: one');
  const noQuota = fixture('v1', { root, options: { cpuQuota: false } });
  t.same(processors(show(noQuota, cpuinfo)), [0, 1], '--no-cpu-quota');
  t.equal(show(noQuota, cpuOnline), '0-1\n');
});

t.test("the host's blocks are read at most once a second, as the settings are", async (t) => {
  let ms = 0;
  const f = fixture('v1', { root: copyFixture(t, 'v1'), clock: () => ms });
  const first = show(f, cpuinfo);
  f.write('host/proc/cpuinfo', f.env.host('/proc/cpuinfo').replace(/^cpu MHz\s*: .*$/gm, 'cpu MHz\t\t: 1234.000'));
  ms = 1000;
  const before = f.files.syscalls;
  t.equal(show(f, cpuinfo), first, 'within the second: the blocks read before');
  t.equal(f.files.syscalls, before, 'and no file read');
  ms = 1001;
  t.match(show(f, cpuinfo), /^cpu MHz\t\t: 1234.000$/m, 'then read again');
});

t.test('a host reader: the host file unless a CPU is hidden from it', async (t) => {
  const f = fixture('v2', { scope: 'host' });
  const unlimited = { ...f.reader, cgroup: { ...f.reader.cgroup, cpu: '/', cpuset: '/' } };
  t.equal(show(f, cpuinfo, unlimited), 'HOST');
  t.equal(show(f, cpuOnline, unlimited), 'HOST');
  t.same(processors(show(f, cpuinfo)), [0], 'limited: its view');
});

t.test('other architectures: blocks that are not a CPU stay, after the CPUs', async (t) => {
  const host =
    'processor\t: 0\nBogoMIPS\t: 48.00\n\nprocessor\t: 1\nBogoMIPS\t: 48.00\n\nprocessor\t: 2\nBogoMIPS\t: 48.00\n\nHardware\t: BCM2835\nRevision\t: c03111\n';
  const text = cpuinfo.render({ host, visible: [2] });
  t.equal(text, 'processor\t: 0\nBogoMIPS\t: 48.00\n\nHardware\t: BCM2835\nRevision\t: c03111\n');
});

/** s390x's /proc/cpuinfo for 4 CPUs (arch/s390/kernel/processor.c): a summary, then a block per CPU. */
const S390 = [
  'vendor_id       : IBM/S390\n# processors    : 4\nbogomips per cpu: 3241.00\nmax thread id   : 0\nfeatures\t: esan3 zarch stfle msa\n',
  'cache0          : level=1 type=Data scope=Private size=128K line_size=256 associativity=8\n',
  [0, 1, 2, 3].map((n) => `processor ${n}: version = FF,  identification = 0${n}33E8,  machine = 2964\n`).join(''),
  [0, 1, 2, 3]
    .map(
      (n) =>
        `\ncpu number      : ${n}\nphysical id     : ${n}\naddress         : ${n}\nidentification  : 0${n}33E8\ncpu MHz static  : 5000\n`,
    )
    .join(''),
].join('');

t.test("s390x: the summary's count and processor lines, the blocks of the CPUs shown, renumbered", async (t) => {
  const text = cpuinfo.render({ host: S390, visible: [2, 3] });
  t.equal(
    text,
    [
      'vendor_id       : IBM/S390\n# processors    : 2\nbogomips per cpu: 3241.00\nmax thread id   : 0\nfeatures\t: esan3 zarch stfle msa\n',
      'cache0          : level=1 type=Data scope=Private size=128K line_size=256 associativity=8\n',
      'processor 0: version = FF,  identification = 0233E8,  machine = 2964\nprocessor 1: version = FF,  identification = 0333E8,  machine = 2964\n',
      '\ncpu number      : 0\nphysical id     : 2\naddress         : 2\nidentification  : 0233E8\ncpu MHz static  : 5000\n',
      '\ncpu number      : 1\nphysical id     : 3\naddress         : 3\nidentification  : 0333E8\ncpu MHz static  : 5000\n',
    ].join(''),
  );
});

t.test('no block for a CPU shown (a format not known, a CPU the file lacks): an error, so the host file goes out', async (t) => {
  const x86 = 'processor\t: 0\nvendor_id\t: GenuineIntel\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n\n';
  t.throws(() => cpuinfo.render({ host: x86, visible: [3] }), /cannot parse \/proc\/cpuinfo \(0 blocks of the 1 CPUs shown\)/);
  t.throws(() => cpuinfo.render({ host: x86.replace(/processor\t/g, 'cpu id\t'), visible: [0] }), /0 blocks of the 1 CPUs/);
  t.equal(cpuinfo.render({ host: x86, visible: [1] }), 'processor\t: 0\nvendor_id\t: GenuineIntel\n\n');
});
