// The daemon's flags for real: lxcfs's accepted, --no-cpu-quota, --no-loadavg, -u (--no-swap).
// (A file of its own: each daemon takes seconds to start under QEMU's emulation in npm run test:cgroup2.)
import t from 'tap';
import { readFileSync } from 'node:fs';
import { makeCgroup, removeStaleCgroups, startContainer, uniqueName, type Container } from '../helpers/container.js';
import { startDaemon } from '../helpers/daemon.js';

const MiB = 2 ** 20;
const ROOT = process.getuid?.() === 0 ? false : 'needs root: it mounts FUSE, makes cgroups and pid namespaces';
if (!ROOT) removeStaleCgroups();

const processors = (text: string) => [...text.matchAll(/^processor\s*: (\d+)$/gm)].map((m) => Number(m[1]));
const cpuLines = (text: string) => text.split('\n').filter((l) => /^cpu[0-9]/.test(l));

t.test("flags: lxcfs's accepted, --no-cpu-quota, --no-loadavg, -u", { skip: ROOT }, async (t) => {
  const lx = await startDaemon(t, { args: ['--enable-cfs', '-l', '-u'] });
  t.match(lx.stderr(), /; no swap, CPU quota, loadavg\)/, '--enable-cfs and -l accepted (on anyway), -u is --no-swap');
  const d = await startDaemon(t, { args: ['--no-cpu-quota', '--no-loadavg'] });
  t.match(d.stderr(), /; swap, no CPU quota, no loadavg\)/);
  // Half a CPU of quota over every host CPU.
  const cg = makeCgroup(uniqueName('flags'), { memory: 256 * MiB, quota: 0.5 });
  let c: Container | undefined;
  t.teardown(async () => {
    await c?.stop();
    cg.remove();
  });
  c = await startContainer(cg);
  const all = processors(readFileSync('/proc/cpuinfo', 'utf8')).length;
  t.equal(processors(await c.read(`${lx.dir}/proc/cpuinfo`)).length, 1, 'quota-aware by default: one CPU');
  t.equal(processors(await c.read(`${d.dir}/proc/cpuinfo`)).length, all, `--no-cpu-quota: the ${all} CPUs of the cpuset`);
  t.equal(cpuLines(await c.read(`${d.dir}/proc/stat`)).length, all);
  const load = await c.read(`${d.dir}/proc/loadavg`);
  t.notMatch(load.split(' ')[3]!, /^1\/[0-9]$/, "--no-loadavg: the host's loadavg, not the container's few tasks");
});
