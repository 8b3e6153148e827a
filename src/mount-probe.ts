// What sits on a directory: nothing, a live mount, a dead FUSE mount or a stuck one. Shared: the daemon
// probes its DIR before mounting, `tsproc run --lxcfs` the mount it binds from.
import { spawn } from 'node:child_process';
import { wrapError } from './errors.js';
import { mountsAt, type MountEntry } from './mountinfo.js';

export type MountState =
  { state: 'none' } | { state: 'live'; entry: MountEntry } | { state: 'dead'; entry: MountEntry } | { state: 'stuck'; entry: MountEntry };

/**
 * What sits on `dir`: nothing, a live mount, a dead FUSE mount (its daemon gone: ENOTCONN), or one
 * that does not answer within `timeoutMs` (its daemon alive but stuck, or stopped).
 *
 * The probe is statfs(2), which the kernel always asks the daemon (a stat would be answered from
 * attributes it keeps for up to 60 s after the daemon died), made by a child process, `stat -f`: a
 * syscall stuck in our own process would keep it from ever exiting (Node joins its thread pool at
 * exit), while a stuck child is killed, or left behind for the kernel to end when the connection is.
 */
export async function probeMount(dir: string, timeoutMs = 2000): Promise<MountState> {
  const entry = mountsAt(dir).pop();
  if (!entry) return { state: 'none' };
  const child = spawn('stat', ['-f', '-c', '%t', '--', dir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const probe = new Promise<'ok' | 'dead'>((resolve, reject) => {
    child.on('error', (err) => reject(wrapError(err, 'cannot run stat(1) to probe the mount', { path: dir })));
    // other failures (EACCES, ...) mean the kernel reached a filesystem that answers
    child.on('close', (code) =>
      resolve(code !== 0 && /Transport endpoint is not connected|Software caused connection abort/.test(stderr) ? 'dead' : 'ok'),
    );
  });
  const r = await Promise.race([probe, timeout]);
  clearTimeout(timer);
  if (r === 'timeout') {
    child.kill('SIGKILL');
    child.unref();
    child.stderr!.destroy();
    return { state: 'stuck', entry };
  }
  return r === 'dead' ? { state: 'dead', entry } : { state: 'live', entry };
}
