// A container's cgroup on each layout, and the limit files in each version's vocabulary.
//
//   hybrid (this machine's kind)              v2
//   /sys/fs/cgroup/cpu      (cpu)             /sys/fs/cgroup (cgroup2, every controller)
//   /sys/fs/cgroup/cpuacct  (cpuacct)
//   /sys/fs/cgroup/memory   ...               elsewhere v1 often has cpu,cpuacct together:
//   /sys/fs/cgroup/unified  (cgroup2, empty)  /sys/fs/cgroup/cpu,cpuacct (cpu, cpuacct)
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseMountinfo } from '../../src/mountinfo.js';
import { type CgroupLayout, detectLayout } from '../../src/cgroup-layout.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { limitWrites, planCgroup, procsFiles } from '../../runner/cgroup/cgroup-plan.js';

const v1 = (cpu: string, cpuacct: string): CgroupLayout => ({
  kind: 'hybrid',
  v1: {
    memory: '/sys/fs/cgroup/memory',
    cpu,
    cpuacct,
    cpuset: '/sys/fs/cgroup/cpuset',
    blkio: '/sys/fs/cgroup/blkio',
    pids: '/sys/fs/cgroup/pids',
  },
  unified: '/sys/fs/cgroup/unified',
});

t.test('hybrid: one cgroup per v1 hierarchy, and one in the unified hierarchy (it tracks processes)', async (t) => {
  const p = planCgroup(v1('/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpuacct'), 'tsproc', 'abc');
  t.equal(p.version, 1);
  t.same(
    p.hierarchies.map((h) => h.dir),
    ['memory', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'pids', 'unified'].map((c) => `/sys/fs/cgroup/${c}/tsproc/abc`),
  );
  t.same(p.hierarchies.at(-1), {
    mountpoint: '/sys/fs/cgroup/unified',
    controllers: [],
    dir: '/sys/fs/cgroup/unified/tsproc/abc',
    unified: true,
  });
  t.equal(p.oomCounter, '/sys/fs/cgroup/memory/tsproc/abc/memory.oom_control');
  t.equal(procsFiles(p)[0], '/sys/fs/cgroup/memory/tsproc/abc/cgroup.procs');
});

t.test('this machine: every v1 hierarchy is joined, devices and name=systemd too (runc does)', async (t) => {
  const layout = detectLayout(parseMountinfo(readFileSync(`${FIXTURES}cgroup-v1/host/proc/mountinfo`, 'utf8')));
  const p = planCgroup(layout, 'tsproc', 'abc');
  t.same(
    p.hierarchies.map((h) => `${h.mountpoint}:${h.controllers.join(',')}`),
    [
      '/sys/fs/cgroup/cpu:cpu',
      '/sys/fs/cgroup/cpuacct:cpuacct',
      '/sys/fs/cgroup/cpuset:cpuset',
      '/sys/fs/cgroup/memory:memory',
      '/sys/fs/cgroup/devices:devices',
      '/sys/fs/cgroup/freezer:freezer',
      '/sys/fs/cgroup/blkio:blkio',
      '/sys/fs/cgroup/pids:pids',
      '/sys/fs/cgroup/systemd:name=systemd',
      '/sys/fs/cgroup/unified:',
    ],
  );
  t.same(
    layout.v1,
    {
      cpu: '/sys/fs/cgroup/cpu',
      cpuacct: '/sys/fs/cgroup/cpuacct',
      cpuset: '/sys/fs/cgroup/cpuset',
      memory: '/sys/fs/cgroup/memory',
      blkio: '/sys/fs/cgroup/blkio',
      pids: '/sys/fs/cgroup/pids',
    },
    "the views' controllers are unchanged",
  );
});

t.test('v1 with cpu,cpuacct mounted together: one cgroup for both', async (t) => {
  const both = '/sys/fs/cgroup/cpu,cpuacct';
  const p = planCgroup(v1(both, both), 'a/b', 'abc');
  const h = p.hierarchies.find((x) => x.mountpoint === both)!;
  t.same(h.controllers, ['cpu', 'cpuacct']);
  t.equal(h.dir, `${both}/a/b/abc`);
  t.equal(p.hierarchies.length, 6, 'five v1 hierarchies and the unified one');
});

t.test('v2: one cgroup', async (t) => {
  const p = planCgroup({ kind: 'v2', v1: {}, unified: '/sys/fs/cgroup' }, 'tsproc', 'abc');
  t.same(p, {
    version: 2,
    parent: 'tsproc',
    hierarchies: [{ mountpoint: '/sys/fs/cgroup', controllers: [], dir: '/sys/fs/cgroup/tsproc/abc', unified: true }],
    oomCounter: '/sys/fs/cgroup/tsproc/abc/memory.events',
  });
});

t.test('limits: v1 files, memory before memory+swap; cpuset.mems always', async (t) => {
  const w = limitWrites(1, { memory: 256 << 20, memorySwap: 512 << 20, cpus: 1.5, cpusetCpus: '0', pidsLimit: 10 }, '0');
  t.same(
    w.map((x) => `${x.controller}:${x.file}=${x.value}`),
    [
      'cpuset:cpuset.cpus=0',
      'cpuset:cpuset.mems=0',
      'memory:memory.limit_in_bytes=268435456',
      'memory:memory.memsw.limit_in_bytes=536870912',
      'cpu:cpu.cfs_period_us=100000',
      'cpu:cpu.cfs_quota_us=150000',
      'pids:pids.max=10',
    ],
  );
  t.same(
    limitWrites(1, { memory: 1 << 30, memorySwap: 'max' }).map((x) => x.value),
    ['1073741824', '-1'],
  );
});

t.test("limits: v2 files; docker's memory+swap becomes swap alone", async (t) => {
  const w = limitWrites(2, { memory: 256 << 20, memorySwap: 512 << 20, cpus: 0.5, cpusetCpus: '1', pidsLimit: 'max' });
  t.same(
    w.map((x) => `${x.file}=${x.value}`),
    ['cpuset.cpus=1', 'memory.max=268435456', 'memory.swap.max=268435456', 'cpu.max=50000 100000', 'pids.max=max'],
  );
  t.same(
    limitWrites(2, { memory: 1 << 30, memorySwap: 1 << 30 }).map((x) => x.value),
    ['1073741824', '0'],
    'no swap at all',
  );
  t.same(
    limitWrites(2, { memory: 1 << 30, memorySwap: 'max' }).map((x) => x.value),
    ['1073741824', 'max'],
  );
  t.same(limitWrites(2, {}), [], 'no flags, no writes');
});
