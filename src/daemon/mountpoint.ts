// Where the daemon mounts: DIR made absolute, what already sits there cleared (a dead tsproc mount
// removed, a stuck one aborted), and the unmount at the end that a stuck connection cannot hang.
import { mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { abortConnection, unmount } from '../../fs/mount.js';
import { probeMount } from '../mount-probe.js';
import { logLine } from '../../fs/log-line.js';
import { TsprocError } from '../errors.js';
import { processState, readServingRecord } from './serving-record.js';

export const SUBTYPE = 'tsproc';

/** The absolute path of DIR with its parent's symlinks resolved, without touching DIR itself (it may be a dead mount). */
export function resolveDir(dir: string): string {
  const abs = resolve(dir);
  if (abs === '/') throw new TsprocError('refusing to mount over /', { path: abs, code: 'EINVAL' });
  mkdirSync(dirname(abs), { recursive: true });
  return join(realpathSync(dirname(abs)), basename(abs));
}

/**
 * Make sure nothing live sits on DIR; clean up a dead tsproc mount left by a crash, and abort a tsproc
 * connection that gave no answer for `stuckMs` (unless the daemon serving it is stopped: SIGSTOP makes
 * readers wait, and they go on when it is continued).
 */
export async function clearMountpoint(dir: string, stuckMs: number, servingDir: string | undefined): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const found = await probeMount(dir, stuckMs);
    if (found.state === 'none') return;
    const what = `a ${found.entry.fstype} mount (source ${found.entry.source})`;
    if (found.state === 'live') {
      // not FUSE: likely a container's volume at DIR itself (the mount must reach the host through DIR's parent)
      const volume = found.entry.fstype.startsWith('fuse')
        ? ''
        : " (in a container, make DIR's parent the volume, not DIR: docs/deploy.md)";
      throw new TsprocError(`${dir} already holds ${what}; unmount it first or choose another directory${volume}`, {
        path: dir,
        code: 'EBUSY',
      });
    }
    if (found.state === 'stuck') {
      const id = found.entry.minor;
      if (found.entry.fstype !== `fuse.${SUBTYPE}`) {
        throw new TsprocError(
          `${dir} holds ${what} that gave no answer for ${stuckMs / 1000} s and is not tsproc's; abort it with: echo 1 > /sys/fs/fuse/connections/${id}/abort, then umount -l ${dir}`,
          { path: dir, code: 'EBUSY' },
        );
      }
      const holder = readServingRecord(id, servingDir);
      // the supervisor, or the serving process that answers (records of older versions name no server)
      const stopped = holder ? [holder.pid, holder.server].find((p) => p && ['T', 't'].includes(processState(p) ?? '')) : undefined;
      if (holder && stopped) {
        throw new TsprocError(
          `${dir} is served by tsproc pid ${stopped}, which is stopped: continue it (kill -CONT ${stopped}) or end it (kill ${holder.pid}) first`,
          { path: dir, code: 'EBUSY' },
        );
      }
      logLine(
        `${dir}: connection ${id}${holder ? ` (tsproc pid ${holder.pid})` : ''} gave no answer for ${stuckMs / 1000} s: aborting it (--stuck-timeout)`,
      );
      if (!(await abortConnection(id)))
        throw new TsprocError(`cannot abort connection ${id} through /sys/fs/fuse/connections/${id}/abort`, { path: dir, code: 'EBUSY' });
      continue;
    }
    if (found.entry.fstype !== `fuse.${SUBTYPE}`) {
      throw new TsprocError(`${dir} holds a dead ${found.entry.fstype} mount that is not tsproc's; remove it with: umount -l ${dir}`, {
        path: dir,
        code: 'ENOTCONN',
      });
    }
    logLine(`${dir} holds a dead tsproc mount (Transport endpoint is not connected): unmounting it`);
    await unmount(dir);
  }
  throw new TsprocError(`${dir}: too many stacked dead mounts`, { path: dir, code: 'EBUSY' });
}

/**
 * Unmount DIR; if that gets no answer from the connection for `stuckMs` (umount(8) looks at the
 * mountpoint, and a stuck connection never answers), abort the connection, which ends the wait.
 */
export async function unmountOrAbort(dir: string, id: number, stuckMs: number): Promise<void> {
  const done = unmount(dir).then(
    () => true,
    (err: Error) => (logLine(err.message), true),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), stuckMs)));
  if (!(await Promise.race([done, late]))) {
    logLine(`connection ${id} gave no answer for ${stuckMs / 1000} s: aborting it (--stuck-timeout)`);
    await abortConnection(id);
    await done;
  }
  clearTimeout(timer);
}
