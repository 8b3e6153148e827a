// runc for tests: its own state directory, containers named tsproc-test-..., their cgroups under a
// tsproc-test parent, bundles of an empty usr-merged root with the host's /usr bound read-only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cgroupsNamed, mountsWith, removeCgroups } from './clients.js';
import { tempDir, usrRoot } from './runner.js';

export const RUNC = '/usr/sbin/runc';
/** Why runc cannot run here, or undefined. */
export const runcMissing = (): string | undefined => (existsSync(RUNC) ? undefined : 'runc is not installed (Debian package runc)');

/** A deadline for one container (a hang, not a speed). */
const RUN_LIMIT_MS = 60_000;

interface Test {
  teardown(fn: () => void | Promise<void>): void;
}

/** The parts of `runc spec`'s config.json tests compare with. */
export interface RuncSpec {
  process: { capabilities: Record<'bounding' | 'effective' | 'permitted' | 'ambient', string[]>; noNewPrivileges: boolean };
  linux: { maskedPaths: string[]; readonlyPaths: string[] };
  mounts: { destination: string; options?: string[] }[];
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RuncRun {
  args: string[];
  mounts: object[];
  /** the memory limit in bytes (default: runc spec's, none) */
  memory?: number;
  cpuQuota?: number;
  /** past this the container is killed (a hang, not a speed): 60 s unless a test runs one longer */
  limitMs?: number;
  /** the root (default: an empty usr-merged one with the host's /usr bound read-only, for procps) */
  root?: string;
  /** config.json's linux.seccomp (default: runc spec's, none) */
  seccomp?: object;
}

/** runc with its own state directory, containers named tsproc-test-..., their cgroups under a tsproc-test parent. */
export function runcSandbox(t: Test) {
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
  /** `runc run` of a bundle for `args` with these mounts and resources, to its end; `spec`: the config
   *  `runc spec` wrote, before this run's changes (for tests that compare with runc's defaults). */
  const run = async (name: string, o: RuncRun): Promise<Ran & { spec: RuncSpec }> => {
    const bundle = tempDir(t, 'runc-bundle');
    const made = runc(['spec', '--bundle', bundle]);
    if (made.status !== 0) throw new Error(`runc spec: ${made.stderr}`);
    const spec = JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8')) as RuncSpec;
    const config = JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8'));
    config.root = { path: o.root ?? usrRoot(t), readonly: true };
    config.process.terminal = false;
    config.process.args = o.args;
    // procps (free, top) from the host's /usr: the default root is an empty usr-merged one
    if (!o.root) config.mounts.push({ destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro'] });
    config.mounts.push(...o.mounts);
    config.linux.resources = {
      ...config.linux.resources,
      ...(o.memory ? { memory: { limit: o.memory } } : {}),
      ...(o.cpuQuota ? { cpu: { quota: o.cpuQuota * 100_000, period: 100_000 } } : {}),
    };
    config.linux.cgroupsPath = `/${parent}/${name}`;
    if (o.seccomp) config.linux.seccomp = o.seccomp;
    writeFileSync(`${bundle}/config.json`, JSON.stringify(config, null, 2));
    const id = `tsproc-test-${suffix}-${name}`;
    ids.push(id);
    const child = spawn(RUNC, ['--root', state, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => runc(['kill', id, 'KILL']), o.limitMs ?? RUN_LIMIT_MS);
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    clearTimeout(timer);
    return { status, stdout, stderr, spec };
  };
  /** What is left: containers runc knows, cgroups, mounts. */
  const leftovers = () => [
    ...runc(['list', '--quiet'])
      .stdout.split('\n')
      .filter(Boolean)
      .map((id) => `container: ${id}`),
    ...cgroupsNamed(parent).map((d) => `cgroup: ${d}`),
    ...mountsWith(suffix).map((l) => `mount: ${l}`),
  ];
  /** The pid of a running container's first process, as `runc state` gives it. */
  const pid = (name: string): number | undefined => {
    const state = runc(['state', `tsproc-test-${suffix}-${name}`]);
    return state.status === 0 ? (JSON.parse(state.stdout) as { pid: number }).pid : undefined;
  };
  return { run, cleanup, leftovers, pid };
}
