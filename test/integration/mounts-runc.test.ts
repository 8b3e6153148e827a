// Debian's runc with a bundle whose config.json gets its mounts from `tsproc mounts --format oci`: procps
// free and top inside show the bundle's memory limit (and its CPU quota's one CPU), each container its own.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cgroupsNamed, checkFigures, FIGURES_SCRIPT, figures, hostMemTotal, mountsWith, removeCgroups, tsprocMounts } from '../helpers/clients.js';
import { startDaemon } from '../helpers/daemon.js';
import { cannotRun, tempDir, usrRoot } from '../helpers/runner.js';

const RUNC = '/usr/sbin/runc';
const skip = cannotRun() ?? (existsSync(RUNC) ? undefined : 'runc is not installed (Debian package runc)') ?? (existsSync('/usr/bin/free') ? undefined : 'procps is not installed');
if (skip) t.plan(0, skip);

const MiB = 1024 * 1024;
/** A deadline for one container (a hang, not a speed). */
const RUN_LIMIT_MS = 60_000;

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** runc with its own state directory, containers named tsproc-test-..., their cgroups under a tsproc-test parent. */
function runcSandbox(t: Test) {
  const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const parent = `tsproc-test-runc-${suffix}`;
  const state = tempDir(t, 'runc-state');
  const ids: string[] = [];
  const runc = (args: string[]) => spawnSync(RUNC, ['--root', state, ...args], { encoding: 'utf8', timeout: RUN_LIMIT_MS });
  const cleanup = async () => {
    for (const id of ids) runc(['delete', '--force', id]);
    await removeCgroups(parent);
  };
  t.teardown(cleanup);
  /** `runc run` of a bundle for `args` with these mounts and resources, to its end. */
  const run = async (name: string, o: { args: string[]; mounts: object[]; memory: number; cpuQuota?: number }): Promise<Ran> => {
    const bundle = tempDir(t, 'runc-bundle');
    const spec = runc(['spec', '--bundle', bundle]);
    if (spec.status !== 0) throw new Error(`runc spec: ${spec.stderr}`);
    const config = JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8'));
    config.root = { path: usrRoot(t), readonly: true };
    config.process.terminal = false;
    config.process.args = o.args;
    // procps (free, top) from the host's /usr: the root is an empty usr-merged one
    config.mounts.push({ destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro'] }, ...o.mounts);
    config.linux.resources = { ...config.linux.resources, memory: { limit: o.memory }, ...(o.cpuQuota ? { cpu: { quota: o.cpuQuota * 100_000, period: 100_000 } } : {}) };
    config.linux.cgroupsPath = `/${parent}/${name}`;
    writeFileSync(`${bundle}/config.json`, JSON.stringify(config, null, 2));
    const id = `tsproc-test-${suffix}-${name}`;
    ids.push(id);
    const child = spawn(RUNC, ['--root', state, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => runc(['kill', id, 'KILL']), RUN_LIMIT_MS);
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    clearTimeout(timer);
    return { status, stdout, stderr };
  };
  /** What is left: containers runc knows, cgroups, mounts. */
  const leftovers = () => [
    ...runc(['list', '--quiet']).stdout.split('\n').filter(Boolean).map((id) => `container: ${id}`),
    ...cgroupsNamed(parent).map((d) => `cgroup: ${d}`),
    ...mountsWith(suffix).map((l) => `mount: ${l}`),
  ];
  return { run, cleanup, leftovers };
}

t.test('free and top -bn1 show the bundle\'s memory limit, cpuinfo and cpu/online its quota\'s one CPU; without the mounts, the host\'s', async (t) => {
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
});

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
