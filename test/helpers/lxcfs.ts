// Debian's lxcfs (`lxcfs --enable-cfs -l`) mounted on a tsproc-test directory, to compare figures with.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { forceUnmount, mountedAt } from './daemon.js';

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export const LXCFS = '/usr/bin/lxcfs';

/** The mountpoint, or undefined when lxcfs is not installed (the comparisons then say they skip). */
export async function startLxcfs(t: Teardown): Promise<string | undefined> {
  if (!existsSync(LXCFS)) return undefined;
  const dir = mkdtempSync('/tmp/tsproc-test-lxcfs-');
  const proc = spawn(LXCFS, ['-f', '--enable-cfs', '-l', '-p', `${dir}.pid`, dir], { stdio: ['ignore', 'ignore', 'ignore'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  t.teardown(async () => {
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    forceUnmount(dir);
    rmSync(`${dir}.pid`, { force: true });
    if (existsSync(dir)) rmdirSync(dir);
  });
  // Generous: under QEMU's emulation (npm run test:cgroup2) everything starts slowly.
  for (const end = Date.now() + 90_000; Date.now() < end;) {
    if (mountedAt(dir) && spawnSync('cat', [`${dir}/proc/meminfo`], { timeout: 10_000 }).status === 0) return dir;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('lxcfs did not mount in 90 s');
}
