// tsproc and lxcfs mounted on tsproc-test temp dirs for a bench, and taken down again.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVED_FILES } from '../src/served-files.js';

export const BIN = fileURLToPath(new URL('../../bin/tsproc.js', import.meta.url));
export const LXCFS = '/usr/bin/lxcfs';

/** The files a mount serves (src/served-files.ts), in the order the benches print them. */
export const BENCH_FILES: readonly string[] = (
  ['meminfo', 'cpuinfo', 'stat', 'uptime', 'loadavg', 'swaps', 'diskstats', 'cpu-online'] as const
).map((name) => SERVED_FILES[name]);

/** A numeric flag's value (`--reads 1000`), or `def` when it is not given. */
export const numberArg = (name: string, def: number): number =>
  process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : def;

export interface Mount {
  name: string;
  dir: string;
  proc: ChildProcess;
}

/** Start `cmd args(dir)` on a new tsproc-test directory; resolves once a read of it works. `stderr`: a descriptor for its messages. */
export async function mount(name: string, cmd: string, args: (dir: string) => string[], stderr?: number): Promise<Mount> {
  const dir = mkdtempSync(`/tmp/tsproc-test-bench-${name}-`);
  const proc = spawn(cmd, args(dir), { stdio: ['ignore', 'ignore', stderr ?? 'ignore'] });
  for (let i = 0; i < 300; i++) {
    if (spawnSync('cat', [`${dir}/proc/meminfo`], { timeout: 2000 }).status === 0) return { name, dir, proc };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not mount`);
}

/** `tsproc mount DIR` with extra flags. */
export const mountTsproc = (flags: string[] = [], stderr?: number): Promise<Mount> =>
  mount('tsproc', process.execPath, (d) => [BIN, 'mount', d, ...flags], stderr);

/** Debian's lxcfs as the earlier figures ran it (`lxcfs -f --enable-cfs -l`). */
export const mountLxcfs = (): Promise<Mount> => mount('lxcfs', LXCFS, (d) => ['-f', '--enable-cfs', '-l', '-p', `${d}.pid`, d]);

/** SIGTERM, then unmount (lazily, if it is still there) and remove its directory. */
export async function unmount(m: Mount): Promise<void> {
  const exited = new Promise((r) => (m.proc.exitCode !== null || m.proc.signalCode !== null ? r(undefined) : m.proc.once('exit', r)));
  m.proc.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  spawnSync('umount', ['-l', m.dir]);
  rmSync(`${m.dir}.pid`, { force: true });
  if (existsSync(m.dir)) rmdirSync(m.dir);
}
