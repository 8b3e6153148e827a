// Limits are written before the command starts and the kernel enforces them: memory (137, OOM),
// pids, CPU quota, cpuset, swap; on this host's layout (v1/hybrid here, v2 in the VM).
import t from 'tap';
import { existsSync } from 'node:fs';
import { hostLayout } from '../../src/cgroup-layout.js';
import { busyboxRoot, cannotRun, limitPaths, sandbox } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);
const v2 = !skip && hostLayout().kind === 'v2';

t.test('the container reads its limits at /sys/fs/cgroup from its first instruction', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const p = limitPaths();
  const r = await s.run([
    '--rootfs',
    root,
    '-m',
    '64m',
    '--cpus',
    '0.5',
    '--cpuset-cpus',
    '0',
    '--pids-limit',
    '32',
    'cat',
    p.memory,
    p.cpu,
    p.cpuset,
    p.pids,
  ]);
  t.equal(r.status, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), [String(64 << 20), v2 ? '50000 100000' : '50000', '0', '32']);
});

t.test("--memory-swap: docker's memory+swap, as v2's swap-only file or v1's memsw", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const file = v2 ? '/sys/fs/cgroup/memory.swap.max' : '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes';
  if (!v2 && !existsSync(`${hostLayout().v1.memory}/memory.memsw.limit_in_bytes`)) {
    t.comment('skipped: this kernel does not account swap (v1 without memsw)');
    return;
  }
  const r = await s.run(['--rootfs', root, '-m', '64m', '--memory-swap', '96m', 'cat', file]);
  t.equal(r.stdout.trim(), String(v2 ? 32 << 20 : 96 << 20));
  const unlimited = await s.run(['--rootfs', root, '-m', '64m', '--memory-swap', '-1', 'cat', file]);
  t.match(unlimited.stdout.trim(), v2 ? /^max$/ : /^9223372036854\d+$/);
  const dflt = await s.run(['--rootfs', root, '-m', '64m', 'cat', file]);
  t.equal(dflt.stdout.trim(), String(v2 ? 64 << 20 : 128 << 20), 'without --memory-swap: as much swap as memory');
});

t.test('over --memory the kernel kills it: 137, said plainly; nothing left', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  // memory and memory+swap equal: no swap to hide in
  const r = await s.run([
    '--rootfs',
    root,
    '-m',
    '16m',
    '--memory-swap',
    '16m',
    'sh',
    '-c',
    'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done',
  ]);
  t.equal(r.status, 137);
  t.match(r.stderr, /^tsproc: the container ran out of memory/m);
  t.same(s.leftovers(), []);
});

t.test('--pids-limit: forks past the limit fail', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const r = await s.run(['--rootfs', root, '--pids-limit', '4', 'sh', '-c', 'for i in 1 2 3 4 5 6; do sleep 1 & done; wait; echo forked']);
  t.match(r.stderr + r.stdout, /can't fork|Resource temporarily unavailable/);
  const ok = await s.run([
    '--rootfs',
    root,
    '--pids-limit',
    '16',
    'sh',
    '-c',
    'for i in 1 2 3 4 5 6; do sleep 0 & done; wait; echo forked',
  ]);
  t.equal(ok.stdout.trim(), 'forked', 'under the limit all is well');
  t.same(s.leftovers(), []);
});

t.test('--cpuset-cpus pins it; --cpus throttles it', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const r = await s.run(['--rootfs', root, '--cpuset-cpus', '0', 'sh', '-c', 'grep Cpus_allowed_list /proc/self/status']);
  t.match(r.stdout, /Cpus_allowed_list:\s+0$/m);
  const stat = v2 ? '/sys/fs/cgroup/cpu.stat' : '/sys/fs/cgroup/cpu/cpu.stat';
  const busy = await s.run([
    '--rootfs',
    root,
    '--cpus',
    '0.1',
    'sh',
    '-c',
    `i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; grep nr_throttled ${stat}`,
  ]);
  t.match(busy.stdout, /nr_throttled [1-9]/, 'the CFS quota held it back');
});
