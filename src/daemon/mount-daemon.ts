// `tsproc mount DIR`: mount the FUSE filesystem, serve it from worker threads, unmount cleanly on a signal.
import { mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { abortConnection, mountFuse, probeMount, unmount, type FuseConnection } from '../../fs/mount.js';
import { mountsAt } from '../../fs/mountinfo.js';
import { FuseServer } from '../../fs/server.js';
import { logLine } from '../../fs/log-line.js';
import { closeSync } from 'node:fs';
import { TsprocError, wrapError } from '../errors.js';
import type { ContentOptions } from './content.js';

export const SUBTYPE = 'tsproc';

export interface DaemonOptions {
  dir: string;
  threads?: number;
  pidfile?: string;
  debug?: boolean;
  content?: ContentOptions;
}

/** Default worker count: one per core, at least 2 (a slow read never stalls all readers), at most 16. */
export function defaultThreads(): number {
  return Math.min(16, Math.max(2, availableParallelism()));
}

/** The absolute path of DIR with its parent's symlinks resolved, without touching DIR itself (it may be a dead mount). */
function resolveDir(dir: string): string {
  const abs = resolve(dir);
  if (abs === '/') throw new TsprocError('refusing to mount over /', { path: abs, code: 'EINVAL' });
  mkdirSync(dirname(abs), { recursive: true });
  return join(realpathSync(dirname(abs)), basename(abs));
}

/** Make sure nothing live sits on DIR; clean up a dead tsproc mount left by a crash. */
async function clearMountpoint(dir: string): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const found = await probeMount(dir);
    if (found.state === 'none') return;
    const what = `a ${found.entry.fstype} mount (source ${found.entry.source})`;
    if (found.state === 'live') throw new TsprocError(`${dir} already holds ${what}; unmount it first or choose another directory`, { path: dir, code: 'EBUSY' });
    if (found.state === 'stuck') {
      throw new TsprocError(`${dir} holds ${what} that does not answer; abort it with: echo 1 > /sys/fs/fuse/connections/${found.entry.minor}/abort, then umount -l ${dir}`, { path: dir, code: 'EBUSY' });
    }
    if (found.entry.fstype !== `fuse.${SUBTYPE}`) {
      throw new TsprocError(`${dir} holds a dead ${found.entry.fstype} mount that is not tsproc's; remove it with: umount -l ${dir}`, { path: dir, code: 'ENOTCONN' });
    }
    logLine(`${dir} holds a dead tsproc mount (Transport endpoint is not connected): unmounting it`);
    await unmount(dir);
  }
  throw new TsprocError(`${dir}: too many stacked dead mounts`, { path: dir, code: 'EBUSY' });
}

/** Runs until a signal or an external unmount; resolves with the process's exit status. */
export async function runMountDaemon(o: DaemonOptions): Promise<number> {
  const dir = resolveDir(o.dir);
  await clearMountpoint(dir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw wrapError(err, `cannot create the mountpoint ${dir}`);
  }
  const threads = o.threads ?? defaultThreads();
  const conn: FuseConnection = await mountFuse(dir, { subtype: SUBTYPE, fsname: SUBTYPE });
  let server: FuseServer;
  try {
    server = await FuseServer.start({
      fd: conn.fd,
      threads,
      contentModule: new URL('./content.js', import.meta.url).href,
      contentOptions: o.content ?? {},
      debug: o.debug ?? false,
    });
  } catch (err) {
    await abortConnection(conn.id);
    await unmount(dir).catch(() => undefined);
    closeSync(conn.fd);
    throw wrapError(err, 'cannot start the FUSE workers');
  }
  if (o.pidfile) {
    try {
      writeFileSync(o.pidfile, `${process.pid}\n`);
    } catch (err) {
      logLine(wrapError(err, `cannot write the pidfile ${o.pidfile}`).message);
    }
  }

  const workersGone = new Promise<void>((r) => server.once('stopped', () => r()));
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const finish = (code: number) => {
      clearInterval(watch);
      if (o.pidfile) rmSync(o.pidfile, { force: true });
      try {
        closeSync(conn.fd);
      } catch {
        // already closed
      }
      resolveExit(code);
    };
    // Unmount (if still mounted), then make sure every worker's blocked read returns.
    const stop = async (why: string, doUnmount: boolean) => {
      if (stopping) return;
      stopping = true;
      server.markEnding();
      logLine(`${why}: stopping`);
      if (doUnmount) await unmount(dir).catch((err: Error) => logLine(err.message));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 1000)));
      // Bind mounts of our files elsewhere (containers) keep the connection open after umount: abort it.
      if (!(await Promise.race([workersGone.then(() => true), timeout]))) {
        await abortConnection(conn.id);
        await workersGone;
      }
      clearTimeout(timer);
      finish(0);
    };
    void workersGone.then(() => {
      if (!stopping) {
        stopping = true;
        logLine('the kernel ended the connection (unmounted): exiting');
        finish(0);
      }
    });
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stop(`got ${sig}`, true));
    process.on('SIGHUP', () => logLine('SIGHUP ignored'));
    // An external `umount DIR` while containers still hold bind mounts keeps the connection alive:
    // notice the mount is gone from our namespace and stop.
    const watch = setInterval(() => {
      if (!mountsAt(dir).some((e) => e.minor === conn.id && e.major === 0)) void stop(`${dir} was unmounted`, false);
    }, 1000);
    // Only now, with the signal handlers in place: whoever waits for this line may signal at once.
    logLine(`serving ${dir} (connection ${conn.id}, ${threads} worker threads, pid ${process.pid})`);
  });
}
