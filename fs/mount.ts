// Mounting and unmounting a FUSE connection with mount(8)/umount(8), resending and aborting it (whether a
// mount is live, dead or stuck: src/mount-probe.ts).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { TsprocError, wrapError } from '../src/errors.js';
import { mountsAt } from '../src/mountinfo.js';
import { nonBlockingClone } from './clone.js';
import { encodeNotifyResend } from './protocol/structs.js';

/** A mounted FUSE connection: the /dev/fuse descriptor and what the kernel calls it. */
export interface FuseConnection {
  fd: number;
  mountpoint: string;
  /** the connection's number under /sys/fs/fuse/connections (the minor of its st_dev) */
  id: number;
  /**
   * A non-blocking clone of fd for the workers' poller (fs/poller.ts), or -1. Held with fd by the
   * process that holds the connection: what a serving process that dies had taken on it is sent again.
   */
  spinFd: number;
}

export interface MountOptions {
  subtype: string;
  /** the source column of mountinfo */
  fsname?: string;
  allowOther?: boolean;
}

interface Ran {
  code: number | null;
  stderr: string;
}

/** Run a command with extra descriptors (fd 3, ...); collects stderr. */
function run(cmd: string, args: string[], extraFds: number[] = []): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe', ...extraFds] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(wrapError(err, `cannot run ${cmd}`)));
    child.on('close', (code) => resolve({ code, stderr: stderr.trim() }));
  });
}

/**
 * Open /dev/fuse and mount it on `dir` (which must exist) with mount(8), passing the descriptor as fd 3.
 * The mount is read-only: the VFS then refuses writes itself, and, since the kernel does not invalidate
 * atime on a read-only superblock, a read is not followed by a GETATTR round trip on every fstat.
 */
export async function mountFuse(dir: string, o: MountOptions): Promise<FuseConnection> {
  let fd: number;
  try {
    fd = openSync('/dev/fuse', 'r+');
  } catch (err) {
    const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (load the fuse module: modprobe fuse)' : '';
    throw wrapError(err, `cannot open /dev/fuse${hint}`);
  }
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const opts = [
    `fd=3`,
    'ro',
    `rootmode=40000`,
    `user_id=${uid}`,
    `group_id=${gid}`,
    ...(o.allowOther === false ? [] : ['allow_other']),
    `subtype=${o.subtype}`,
  ];
  const r = await run('mount', ['-i', '-t', 'fuse', '-o', opts.join(','), o.fsname ?? o.subtype, dir], [fd]).catch((err: unknown) => {
    closeSync(fd);
    throw err;
  });
  if (r.code !== 0) {
    closeSync(fd);
    throw new TsprocError(`cannot mount ${dir}: mount(8) exited ${r.code}: ${r.stderr || 'no message'}`, {
      syscall: 'mount',
      path: dir,
      code: 'EPERM',
    });
  }
  const entry = mountsAt(dir)
    .filter((e) => e.fstype === `fuse.${o.subtype}`)
    .pop();
  if (!entry) {
    closeSync(fd);
    throw new TsprocError(`mount(8) succeeded but no fuse.${o.subtype} mount shows at ${dir}`, { path: dir });
  }
  return { fd, mountpoint: dir, id: entry.minor, spinFd: nonBlockingClone(fd) };
}

/** Close a connection's descriptors (the mount stays until it is unmounted or aborted). */
export function closeConnection(conn: FuseConnection): void {
  for (const fd of [conn.fd, conn.spinFd]) {
    if (fd < 0) continue;
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

/** umount(8) the directory; a busy mount is detached lazily instead. */
export async function unmount(dir: string): Promise<void> {
  const r = await run('umount', [dir]);
  if (r.code === 0) return;
  const lazy = await run('umount', ['-l', dir]);
  if (lazy.code !== 0) throw new TsprocError(`cannot unmount ${dir}: ${lazy.stderr || r.stderr}`, { syscall: 'umount', path: dir });
}

const FUSECTL = '/sys/fs/fuse/connections';

/**
 * Have the kernel queue again the requests a dead reader took and never answered (FUSE_NOTIFY_RESEND,
 * kernel 6.9+). False where the kernel cannot: those readers would wait for ever.
 */
export function resendUnanswered(fd: number): boolean {
  const msg = Buffer.alloc(16);
  try {
    writeSync(fd, msg, 0, encodeNotifyResend(msg));
    return true;
  } catch {
    return false;
  }
}

/**
 * Abort a connection through the FUSE control filesystem (mounting it at its usual place if it is not
 * there, as systemd does at boot): every blocked reader gets ENOTCONN and the daemon's reads ENODEV.
 * The last resort for stuck readers, and how the daemon stops workers that a live mount keeps waiting.
 */
export async function abortConnection(id: number): Promise<boolean> {
  if (!existsSync(`${FUSECTL}/${id}`) && existsSync(FUSECTL) && readdirSync(FUSECTL).length === 0) {
    await run('mount', ['-t', 'fusectl', 'fusectl', FUSECTL]);
  }
  try {
    writeFileSync(`${FUSECTL}/${id}/abort`, '1');
    return true;
  } catch {
    return false;
  }
}
