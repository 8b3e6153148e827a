// stat: the container's CPU time on its visible CPUs, idle from its uptime, its task counts.
import t from 'tap';
import { cpuTimes } from '../../../src/daemon/views/cpu-figures.js';
import { stat } from '../../../src/daemon/views/stat.js';
import { uptime } from '../../../src/daemon/views/uptime.js';
import { copyFixture, fixture, show } from '../../helpers/fixtures.js';

const cpuLines = (text: string) => text.split('\n').filter((l) => l.startsWith('cpu'));

/*
 * v1 fixture: ctr1 visible CPU 0 (cpuset 0, quota 0.5); cpuacct.usage_percpu 515148668 ns on cpu0,
 * split as usage_all's sampled user 475986030 / system 72000000 ns: 44 and 6 ticks; its process started
 * at tick 204871, the host's uptime is 2050.39 s: 168 ticks.
 */
t.test('v1: per-CPU figures of the one visible CPU; idle = elapsed - busy', async (t) => {
  const f = fixture('v1', { load: { avg: [0, 0, 0], running: 2, blocked: 1, total: 7, lastPid: 7 } });
  const text = show(f, stat);
  t.same(cpuLines(text), ['cpu  44 0 6 118 0 0 0 0 0 0', 'cpu0 44 0 6 118 0 0 0 0 0 0']);
  t.match(text, /^procs_running 2$/m);
  t.match(text, /^procs_blocked 1$/m);
  const host = f.env.host('/proc/stat');
  for (const key of ['intr', 'ctxt', 'btime', 'processes', 'softirq']) {
    t.equal(
      text.split('\n').find((l) => l.startsWith(`${key} `)),
      host.split('\n').find((l) => l.startsWith(`${key} `)),
      `${key}: the host's`,
    );
  }
  t.equal(show(f, uptime), '1.68 1.18\n', 'uptime: 168 ticks since the init started, idle the sum of the idle column');
});

/*
 * v2 fixture: cpu.stat user_usec 944532, system_usec 1055393 (no per-CPU figures); started at tick
 * 249, uptime 14.03 s: 1154 ticks.
 */
t.test('v2: the container CPU time (lxcfs shows the host here)', async (t) => {
  const f = fixture('v2');
  t.same(cpuLines(show(f, stat)), ['cpu  94 0 105 955 0 0 0 0 0 0', 'cpu0 94 0 105 955 0 0 0 0 0 0']);
  t.match(show(f, stat), /^procs_running 1$/m);
  t.equal(show(f, uptime), '11.54 9.55\n');
});

/*
 *   cpuset ctr1                     cpus 0-1
 *   cpu ctr1                        no quota, then the parent 150000/100000
 */
t.test('two visible CPUs: their own per-CPU time; cut by a quota, the time spread evenly', async (t) => {
  const root = copyFixture(t, 'v1');
  const f = fixture('v1', { root });
  f.write('cgroup/cpuset/tsproc-fixture/ctr1/cpuset.effective_cpus', '0-1\n');
  f.write('cgroup/cpu/tsproc-fixture/ctr1/cpu.cfs_quota_us', '-1\n');
  f.write('cgroup/cpuacct/tsproc-fixture/ctr1/cpuacct.usage_all', 'cpu user system\n0 300000000 100000000\n1 100000000 50000000\n');
  f.write('cgroup/cpuacct/tsproc-fixture/ctr1/cpuacct.usage_percpu', '400000000 150000000 \n');
  t.same(cpuLines(show(f, stat)), ['cpu  40 0 15 281 0 0 0 0 0 0', 'cpu0 30 0 10 128 0 0 0 0 0 0', 'cpu1 10 0 5 153 0 0 0 0 0 0']);
  f.write('cgroup/cpuset/tsproc-fixture/ctr1/cpuset.effective_cpus', '0-1,3\n');
  f.write('cgroup/cpu/tsproc-fixture/cpu.cfs_quota_us', '150000\n');
  t.same(
    cpuLines(show(f, stat)),
    ['cpu  40 0 15 281 0 0 0 0 0 0', 'cpu0 20 0 8 140 0 0 0 0 0 0', 'cpu1 20 0 7 141 0 0 0 0 0 0'],
    '3 CPUs in the cpuset, 2 shown: spread',
  );
});

t.test('what top sees: half a CPU of quota used in full on one visible CPU is 50% busy', async (t) => {
  // Two samples one second (100 ticks) apart; the container used 0.5 s of CPU in between.
  const a = cpuTimes({ user: 1e9, system: 0 }, [0], [0], 1000)[0]!;
  const b = cpuTimes({ user: 1.5e9, system: 0 }, [0], [0], 1100)[0]!;
  const busy = b.user + b.system - (a.user + a.system);
  const total = busy + (b.idle - a.idle);
  t.equal(busy / total, 0.5);
  // 1.5 CPUs of quota over two visible CPUs, all used: 75% of each.
  const c = cpuTimes({ user: 0, system: 0 }, [0, 1], [0, 1, 2], 1000);
  const d = cpuTimes({ user: 1.5e9, system: 0 }, [0, 1], [0, 1, 2], 1100);
  const sum = (x: typeof c) => x.reduce((s, v) => s + v.user + v.system + v.idle, 0);
  const used = (x: typeof c) => x.reduce((s, v) => s + v.user + v.system, 0);
  t.equal((used(d) - used(c)) / (sum(d) - sum(c)), 0.75);
  t.same(
    cpuTimes({ user: 5e9, system: 0 }, [0], [0], 100),
    [{ user: 500, system: 0, idle: 0 }],
    'more time than elapsed: idle 0, never negative',
  );
});

t.test('a host reader: the host file unless CPUs are hidden; uptime always the host', async (t) => {
  const f = fixture('v1', { scope: 'host' });
  const free = { ...f.reader, cgroup: { ...f.reader.cgroup, cpu: '/', cpuset: '/', cpuacct: '/' } };
  t.equal(show(f, stat, free), 'HOST');
  t.equal(show(f, uptime), 'HOST');
  const limited = show(f, stat, { ...f.reader, start: 0 });
  t.match(limited, /^cpu0 44 0 6 204989 /m, 'limited: its own time, idle from the host uptime');
});

t.test("a container whose threads' cgroup is the root: the host's procs lines, no walk", async (t) => {
  const f = fixture('v1');
  f.env.load = () => t.fail('no count') as never;
  const text = show(f, stat, { ...f.reader, cgroup: { ...f.reader.cgroup, cpu: '/' } });
  const host = f.env.host('/proc/stat');
  for (const key of ['procs_running', 'procs_blocked'])
    t.equal(
      text.split('\n').find((l) => l.startsWith(`${key} `)),
      host.split('\n').find((l) => l.startsWith(`${key} `)),
      `${key}: the host's`,
    );
  t.match(text, /^cpu0 44 0 6 /m, 'its own CPU time');
});
