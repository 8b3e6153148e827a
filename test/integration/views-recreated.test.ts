// A cgroup removed and made again under the same name with other limits (a container replaced by a new
// one under the same cgroup path), read from a new container at once: the new limits, never the old
// ones from a held descriptor or a cached setting. And a limit changed under a running container shows
// once the settings' age (SETTING_AGE_MS, a second) has passed.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { SETTING_AGE_MS } from '../../src/daemon/cgroup/driver.js';
import { hostLayout } from '../../src/cgroup-layout.js';
import { SETTLING_MS } from '../../src/daemon/reader/resolver.js';
import { makeCgroup, removeStaleCgroups, startContainer, uniqueName, type Container, type TestCgroup } from '../helpers/container.js';
import { startDaemon } from '../helpers/daemon.js';
import { fields } from '../helpers/fixtures.js';
import { startLxcfs } from '../helpers/lxcfs.js';

const MiB = 2 ** 20;
const ROOT = process.getuid?.() === 0 ? false : 'needs root: it mounts FUSE, makes cgroups and pid namespaces';
if (!ROOT) removeStaleCgroups();

const processors = (text: string) => [...text.matchAll(/^processor\s*: (\d+)$/gm)].map((m) => Number(m[1]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Every CPU of the host (on a one-CPU host the two cpusets are the same: then memory and quota differ). */
const hostCpus = () => processors(readFileSync('/proc/cpuinfo', 'latin1'));

/**
 * Run a shell script as the init of a new pid namespace in `cg` (a container that lives as long as the
 * script), synchronously: a few milliseconds from one container to the next, as a runtime replacing a
 * container is. Its output.
 */
function inContainer(cg: TestCgroup, script: string): string {
  const join = cg.procs.map((f) => `echo $$ > ${f}`).join(' && ');
  const r = spawnSync('sh', ['-c', `${join} && exec unshare --pid --fork --kill-child sh -c "$1"`, 'sh', script], {
    encoding: 'latin1',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`the container's script failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A script printing MemTotal, the cpuinfo processor count and cpu/online, as `M C O` lines, `n` times. */
const figures = (dir: string, n: number) =>
  `for i in $(seq ${n}); do echo "$(awk '/^MemTotal:/ { print $2 }' ${dir}/proc/meminfo) $(grep -c '^processor' ${dir}/proc/cpuinfo) $(cat ${dir}/sys/devices/system/cpu/online)"; done`;

t.test('a cgroup removed and made again under the same name: a new container reads its new limits at once', { skip: ROOT }, async (t) => {
  const d = await startDaemon(t);
  const lxcfs = await startLxcfs(t);
  const name = uniqueName('recreated');
  const all = hostCpus();
  const allOnline = all.length === 1 ? '0' : `0-${all.length - 1}`;
  /*
   * tsproc-test-views-recreated-PID
   * └── ctr     first: memory 300 MiB, every CPU           then: memory 128 MiB, cpuset 0, half a CPU
   *     └── (pid namespace) init: a shell that reads (a new one for the second container)
   */
  let cg: TestCgroup | undefined = makeCgroup(name, { memory: 300 * MiB, cpus: all.join(',') });
  t.teardown(() => cg?.remove());
  // The first container lives past SETTLING_MS (a new container's settings are read at every render
  // until then), and reads often at its end, so that every worker thread holds its descriptors and
  // keeps its settings (SETTING_AGE_MS) when it ends.
  const first = inContainer(cg, `${figures(d.dir, 1)}; sleep ${(SETTLING_MS + 300) / 1000}; ${figures(d.dir, 20)}`);
  t.same(
    new Set(first.trim().split('\n')),
    new Set([`${300 * 1024} ${all.length} ${allOnline}`]),
    'the first container: 300 MiB, every CPU, at every read',
  );
  // At once: its cgroup removed and made again with other limits, a new container reads.
  cg.remove();
  cg = makeCgroup(name, { memory: 128 * MiB, cpus: '0', quota: 0.5 });
  const second = inContainer(cg, figures(d.dir, 20)).trim().split('\n');
  t.equal(second[0], `${128 * 1024} 1 0`, "the new container's first read: the new cgroup's 128 MiB and one CPU, not the old 300 MiB");
  t.same(new Set(second), new Set([`${128 * 1024} 1 0`]), 'and every read after it, whichever worker thread answers');
  if (lxcfs) t.equal(inContainer(cg, figures(lxcfs, 1)).trim(), `${128 * 1024} 1 0`, 'lxcfs agrees');
});

t.test('a limit changed under a running container shows once a second has passed', { skip: ROOT }, async (t) => {
  const d = await startDaemon(t);
  const cg = makeCgroup(uniqueName('changed'), { memory: 300 * MiB });
  let c: Container | undefined;
  t.teardown(async () => {
    await c?.stop();
    cg.remove();
  });
  c = await startContainer(cg);
  await sleep(SETTLING_MS + 200);
  for (let i = 0; i < 20; i++) await c.read(`${d.dir}/proc/meminfo`);
  t.equal(fields(await c.read(`${d.dir}/proc/meminfo`)).MemTotal, 300 * 1024, 'before: 300 MiB');
  const v2 = hostLayout().kind === 'v2';
  const limit = cg.file('memory', v2 ? 'memory.max' : 'memory.limit_in_bytes');
  writeFileSync(limit, String(200 * MiB));
  // The age is a bound on staleness, not a speed: wait it out (a little more), then every read must agree.
  await sleep(SETTING_AGE_MS + 100);
  const totals = new Set<number>();
  for (let i = 0; i < 20; i++) totals.add(fields(await c.read(`${d.dir}/proc/meminfo`)).MemTotal!);
  t.same([...totals], [200 * 1024], 'after the change: 200 MiB at every read');
});
