// Debian's runc with a bundle whose config.json gets its mounts from `tsproc mounts --format oci`: procps
// free and top inside show the bundle's memory limit (and its CPU quota's one CPU), each container its own.
import t from 'tap';
import { existsSync } from 'node:fs';
import { checkFigures, FIGURES_SCRIPT, figures, hostMemTotal, tsprocMounts } from '../helpers/clients.js';
import { startDaemon } from '../helpers/daemon.js';
import { runcMissing, runcSandbox } from '../helpers/runc.js';
import { cannotRun } from '../helpers/runner.js';

const skip = cannotRun() ?? runcMissing() ?? (existsSync('/usr/bin/free') ? undefined : 'procps is not installed');
if (skip) t.plan(0, skip);

const MiB = 1024 * 1024;

t.test(
  "free and top -bn1 show the bundle's memory limit, cpuinfo and cpu/online its quota's one CPU; without the mounts, the host's",
  async (t) => {
    const d = await startDaemon(t);
    const mounts = JSON.parse(tsprocMounts('oci', d.dir)) as { destination: string }[];
    t.equal(mounts.length, 8, 'tsproc mounts: 8 binds');
    const r = runcSandbox(t);
    checkFigures(t, await r.run('a', { args: ['sh', '-c', FIGURES_SCRIPT], mounts, memory: 256 * MiB, cpuQuota: 1 }), 256 * MiB);
    const bare = await r.run('b', { args: ['sh', '-c', FIGURES_SCRIPT], mounts: [], memory: 256 * MiB });
    t.equal(bare.status, 0, bare.stderr);
    t.equal(figures(bare.stdout).free, hostMemTotal(), "without tsproc's mounts: the host's total");
    await r.cleanup();
    t.same(r.leftovers(), [], 'nothing left: containers, cgroups, mounts');
  },
);

t.test('two containers at once with different limits: each sees its own', async (t) => {
  const d = await startDaemon(t);
  const mounts = JSON.parse(tsprocMounts('oci', d.dir)) as object[];
  const r = runcSandbox(t);
  // both read twice, a second apart, so that their lives overlap
  const script = 'free -b; sleep 1; free -b';
  const [small, large] = await Promise.all([
    r.run('small', { args: ['sh', '-c', script], mounts, memory: 128 * MiB }),
    r.run('large', { args: ['sh', '-c', script], mounts, memory: 384 * MiB }),
  ]);
  const totals = (out: string) => [...out.matchAll(/^Mem:\s+([0-9]+)/gm)].map((m) => Number(m[1]));
  t.equal(small.status, 0, small.stderr);
  t.equal(large.status, 0, large.stderr);
  t.same(totals(small.stdout), [128 * MiB, 128 * MiB], '128 MiB, twice');
  t.same(totals(large.stdout), [384 * MiB, 384 * MiB], '384 MiB, twice');
  await r.cleanup();
  t.same(r.leftovers(), []);
});
