// Telling v1, hybrid and v2 hosts apart from mountinfo; /proc/PID/cgroup; paths and ancestors.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseMountinfo } from '../../src/mountinfo.js';
import { pruneInitScope, selfAndAncestors, v1Paths, v2Paths, cgroupFile } from '../../src/daemon/cgroup/cgroup-paths.js';
import { detectLayout, parseProcCgroup } from '../../src/cgroup-layout.js';
import { FIXTURES } from '../helpers/fixtures.js';

t.test('this machine: v1 controllers and an empty v2 mount is hybrid', async (t) => {
  const l = detectLayout(parseMountinfo(readFileSync(`${FIXTURES}cgroup-v1/host/proc/mountinfo`, 'utf8')));
  t.equal(l.kind, 'hybrid');
  t.equal(l.v1.memory, '/sys/fs/cgroup/memory');
  t.equal(l.v1.cpuacct, '/sys/fs/cgroup/cpuacct');
  t.equal(l.unified, '/sys/fs/cgroup/unified');
});

t.test('the VM: one cgroup2 mount is pure v2', async (t) => {
  const l = detectLayout(parseMountinfo(readFileSync(`${FIXTURES}cgroup-v2/host/proc/mountinfo`, 'utf8')));
  t.equal(l.kind, 'v2');
  t.equal(l.unified, '/sys/fs/cgroup');
  t.same(l.v1, {});
});

t.test('v1 only, cpu and cpuacct sharing a mount', async (t) => {
  const l = detectLayout(
    parseMountinfo(
      '25 20 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n26 20 0:23 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n',
    ),
  );
  t.equal(l.kind, 'v1');
  t.equal(l.v1.cpu, '/sys/fs/cgroup/cpu,cpuacct');
  t.equal(l.v1.cpuacct, '/sys/fs/cgroup/cpu,cpuacct');
});

t.test('a container-scoped cgroup mount (root not /) does not count', async (t) => {
  t.throws(() => detectLayout(parseMountinfo('30 20 0:40 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n')), /no cgroup filesystem/);
});

t.test('/proc/PID/cgroup into paths, /init.scope stripped', async (t) => {
  const v1 = readFileSync(`${FIXTURES}cgroup-v1/pid/cgroup`, 'utf8');
  t.equal(parseProcCgroup(v1).get('memory'), '/tsproc-fixture/ctr1');
  t.same(v1Paths(v1), {
    memory: '/tsproc-fixture/ctr1',
    cpu: '/tsproc-fixture/ctr1',
    cpuacct: '/tsproc-fixture/ctr1',
    cpuset: '/tsproc-fixture/ctr1',
    io: '/tsproc-fixture/ctr1',
    pids: '/tsproc-fixture/ctr1',
  });
  t.equal(v2Paths('0::/system.slice/docker-abc.scope/init.scope\n').memory, '/system.slice/docker-abc.scope');
  t.equal(v2Paths('0::/init.scope\n').cpu, '/', 'the host init.scope is the root');
  t.equal(v1Paths('4:memory:/lxc/c1/init.scope\n').memory, '/lxc/c1');
  t.equal(v1Paths('4:memory:/lxc/c1\n').cpu, '/', 'a controller missing from the file is at the root');
  t.equal(pruneInitScope('/a/init.scope.d'), '/a/init.scope.d');
});

t.test('ancestors and files', async (t) => {
  t.same(selfAndAncestors('/a/b/c'), ['/a/b/c', '/a/b', '/a']);
  t.same(selfAndAncestors('/'), []);
  t.equal(cgroupFile('/sys/fs/cgroup', '/', 'cpu.stat'), '/sys/fs/cgroup/cpu.stat');
  t.equal(cgroupFile('/sys/fs/cgroup', '/a', 'cpu.stat'), '/sys/fs/cgroup/a/cpu.stat');
});
