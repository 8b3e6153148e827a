// `tsproc mount DIR`: mount the FUSE filesystem, serve it from worker threads, unmount cleanly on a signal.
import { mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { abortConnection, mountFuse, probeMount, unmount, type FuseConnection } from '../../fs/mount.js';
import { mountsAt } from '../../fs/mountinfo.js';
import { FuseServer } from '../../fs/server.js';
import { logLine } from '../../fs/log-line.js';
import { closeSync } from 'node:fs';
import { createDriver } from '../cgroup/create-driver.js';
import { hostLayout, type CgroupLayout } from '../cgroup/layout.js';
import { TsprocError, wrapError } from '../errors.js';
import { DescriptorCache } from '../io/file-source.js';
import { LoadSampler } from '../loadavg/sampler.js';
import { LoadTable } from '../loadavg/table.js';
import type { ContentOptions, ContentShared } from './content.js';
import { OnceSet } from './once-set.js';
import { processState, readServingRecord, writeServingRecord } from './serving-record.js';

export const SUBTYPE = 'tsproc';

export interface DaemonOptions {
  dir: string;
  threads?: number;
  pidfile?: string;
  debug?: boolean;
  /** what the views show: --no-swap, --no-cpu-quota, --no-loadavg */
  content?: ContentOptions;
  /**
   * --stuck-timeout: a connection that gives no answer for this long is aborted, when this daemon
   * stops (SIGTERM) and when it finds one on DIR at start; nothing else ever aborts one
   */
  stuckTimeoutMs?: number;
  /** where the serving records are (tests) */
  servingDir?: string;
}

export const DEFAULT_STUCK_TIMEOUT_MS = 10_000;

/** The soft limit on open files (Node raises it to the hard limit at start). */
function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : 1 << 20;
  } catch {
    return 1024;
  }
}

export interface DescriptorBudget {
  /** each worker's held /proc and cgroup files */
  worker: number;
  /** each worker's containers remembered, one descriptor each (on the init's comm) */
  containers: number;
  /** the load sampler's held files */
  sampler: number;
}

/**
 * Descriptors the daemon may keep open: half the limit shared by the workers' files, an eighth by the
 * containers their resolvers remember, a fifth for the sampler; the rest (over a sixth) for
 * /dev/fuse, logs and the reads that open and close.
 */
export function descriptorBudget(threads: number, limit = openFileLimit()): DescriptorBudget {
  return {
    worker: Math.max(16, Math.min(4096, Math.floor(limit / 2 / threads))),
    containers: Math.max(4, Math.min(1024, Math.floor(limit / 8 / threads))),
    sampler: Math.max(16, Math.min(8192, Math.floor(limit / 5))),
  };
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

/**
 * Make sure nothing live sits on DIR; clean up a dead tsproc mount left by a crash, and abort a tsproc
 * connection that gave no answer for `stuckMs` (unless the daemon serving it is stopped: SIGSTOP makes
 * readers wait, and they go on when it is continued).
 */
async function clearMountpoint(dir: string, stuckMs: number, servingDir: string | undefined): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const found = await probeMount(dir, stuckMs);
    if (found.state === 'none') return;
    const what = `a ${found.entry.fstype} mount (source ${found.entry.source})`;
    if (found.state === 'live') throw new TsprocError(`${dir} already holds ${what}; unmount it first or choose another directory`, { path: dir, code: 'EBUSY' });
    if (found.state === 'stuck') {
      const id = found.entry.minor;
      if (found.entry.fstype !== `fuse.${SUBTYPE}`) {
        throw new TsprocError(`${dir} holds ${what} that gave no answer for ${stuckMs / 1000} s and is not tsproc's; abort it with: echo 1 > /sys/fs/fuse/connections/${id}/abort, then umount -l ${dir}`, { path: dir, code: 'EBUSY' });
      }
      const holder = readServingRecord(id, servingDir);
      const state = holder ? processState(holder.pid) : undefined;
      if (holder && (state === 'T' || state === 't')) {
        throw new TsprocError(`${dir} is served by tsproc pid ${holder.pid}, which is stopped: continue it (kill -CONT ${holder.pid}) or end it (kill ${holder.pid}) first`, { path: dir, code: 'EBUSY' });
      }
      logLine(`${dir}: connection ${id}${holder ? ` (tsproc pid ${holder.pid})` : ''} gave no answer for ${stuckMs / 1000} s: aborting it (--stuck-timeout)`);
      if (!(await abortConnection(id))) throw new TsprocError(`cannot abort connection ${id} through /sys/fs/fuse/connections/${id}/abort`, { path: dir, code: 'EBUSY' });
      continue;
    }
    if (found.entry.fstype !== `fuse.${SUBTYPE}`) {
      throw new TsprocError(`${dir} holds a dead ${found.entry.fstype} mount that is not tsproc's; remove it with: umount -l ${dir}`, { path: dir, code: 'ENOTCONN' });
    }
    logLine(`${dir} holds a dead tsproc mount (Transport endpoint is not connected): unmounting it`);
    await unmount(dir);
  }
  throw new TsprocError(`${dir}: too many stacked dead mounts`, { path: dir, code: 'EBUSY' });
}

/**
 * The kernel gives the daemon each caller's thread id as seen from the daemon's pid namespace, and 0 for
 * callers it cannot see: outside the host's namespace, readers in other namespaces could not be told apart.
 */
function warnIfNotHostPidNamespace(): void {
  try {
    const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]?.trim().split(/\s+/) ?? [];
    const nested = nspid.length > 1 || readlinkSync('/proc/self/ns/pid') !== readlinkSync('/proc/1/ns/pid');
    if (nested) logLine('warning: tsproc runs inside a child pid namespace; readers outside it arrive as pid 0 and get the host files');
  } catch {
    // no /proc to ask: nothing to tell
  }
}

/**
 * Unmount DIR; if that gets no answer from the connection for `stuckMs` (umount(8) looks at the
 * mountpoint, and a stuck connection never answers), abort the connection, which ends the wait.
 */
async function unmountOrAbort(dir: string, id: number, stuckMs: number): Promise<void> {
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

/** Runs until a signal or an external unmount; resolves with the process's exit status. */
export async function runMountDaemon(o: DaemonOptions): Promise<number> {
  const dir = resolveDir(o.dir);
  warnIfNotHostPidNamespace();
  const stuckMs = o.stuckTimeoutMs ?? DEFAULT_STUCK_TIMEOUT_MS;
  await clearMountpoint(dir, stuckMs, o.servingDir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw wrapError(err, `cannot create the mountpoint ${dir}`);
  }
  const threads = o.threads ?? defaultThreads();
  // The cgroup layout is read once, here, and handed to every worker.
  let layout: CgroupLayout;
  try {
    layout = o.content?.layout ?? hostLayout();
  } catch (err) {
    throw wrapError(err, 'cannot tell the cgroup layout from /proc/self/mountinfo');
  }
  const budget = descriptorBudget(threads);
  const content: ContentOptions = { descriptors: budget.worker, containers: budget.containers, ...o.content, layout };
  const shared: ContentShared = { once: OnceSet.create() };
  let sampler: LoadSampler | undefined;
  if (content.loadavg !== false) {
    shared.loadavg = LoadTable.create();
    const files = new DescriptorCache({ capacity: budget.sampler });
    sampler = new LoadSampler({ table: shared.loadavg, files, driver: createDriver({ files, layout }), ...(content.procRoot ? { procRoot: content.procRoot } : {}), log: logLine });
  }
  const conn: FuseConnection = await mountFuse(dir, { subtype: SUBTYPE, fsname: SUBTYPE });
  let server: FuseServer;
  try {
    server = await FuseServer.start({
      fd: conn.fd,
      threads,
      contentModule: new URL('./content.js', import.meta.url).href,
      contentOptions: content,
      contentShared: shared,
      ...(sampler ? { onContentMessage: (m: unknown) => sampler.handle(m) } : {}),
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
  let forgetServing = () => {};
  try {
    forgetServing = writeServingRecord(conn.id, dir, o.servingDir);
  } catch (err) {
    logLine(wrapError(err, 'cannot write the serving record (a stuck daemon cannot be told from a stopped one)').message);
  }
  sampler?.start();
  const shown = [content.swap === false ? 'no swap' : 'swap', content.cpuQuota === false ? 'no CPU quota' : 'CPU quota', content.loadavg === false ? 'no loadavg' : 'loadavg'];

  const workersGone = new Promise<void>((r) => server.once('stopped', () => r()));
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const finish = (code: number) => {
      clearInterval(watch);
      sampler?.stop();
      forgetServing();
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
      if (doUnmount) await unmountOrAbort(dir, conn.id, stuckMs);
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
    // systemctl reload sends lxcfs SIGUSR1; this is where a reload will go. Whatever listeners come and
    // go here, SIGUSR1 never opens Node's inspector: the bin holds it first (src/cli/inspector-signal.ts).
    for (const sig of ['SIGHUP', 'SIGUSR1'] as const) process.on(sig, () => logLine(`${sig} ignored`));
    // An external `umount DIR` while containers still hold bind mounts keeps the connection alive:
    // notice the mount is gone from our namespace and stop.
    const watch = setInterval(() => {
      if (!mountsAt(dir).some((e) => e.minor === conn.id && e.major === 0)) void stop(`${dir} was unmounted`, false);
    }, 1000);
    // Only now, with the signal handlers in place: whoever waits for this line may signal at once.
    logLine(`serving ${dir} (connection ${conn.id}, ${threads} worker threads, pid ${process.pid}; cgroup ${layout.kind}; ${shown.join(', ')})`);
  });
}
