// `tsproc mount --takeover DIR`, the new daemon's side: copy the live /dev/fuse from the daemon serving
// DIR, start a serving process on it that waits, ask the old daemon for its hand-over (it drains: every
// request it took is answered), and let the new one read. Readers wait in the kernel meanwhile.
import { nonBlockingClone } from '../../fs/clone.js';
import { closeConnection, type FuseConnection } from '../../fs/mount.js';
import { probeMount } from '../mount-probe.js';
import { logLine } from '../../fs/log-line.js';
import { TsprocError, wrapError } from '../errors.js';
import { requestHandover } from './control-socket.js';
import { SUBTYPE } from './mountpoint.js';
import { copyDescriptor } from './pidfd.js';
import type { ServeOptions } from './server-main.js';
import { ServerProcess } from './server-process.js';
import { readServingRecord } from './serving-record.js';

/** How long the old daemon may take to drain and hand over. */
const HANDOVER_LIMIT_MS = 60_000;

export interface TakenOver {
  conn: FuseConnection;
  server: ServerProcess;
  time: number;
  /** the previous supervisor's pid */
  from: number;
}

/**
 * Take DIR's connection over; undefined when no live tsproc mount is there (then it is a plain mount).
 * Fails, leaving the old daemon serving, when the old one cannot hand over.
 */
export async function takeOver(
  dir: string,
  stuckMs: number,
  servingDir: string | undefined,
  serve: Omit<ServeOptions, 'gated' | 'time' | 'mountpoint' | 'connection'>,
): Promise<TakenOver | undefined> {
  const found = await probeMount(dir, stuckMs);
  if (found.state !== 'live') return undefined;
  if (found.entry.fstype !== `fuse.${SUBTYPE}`)
    throw new TsprocError(`--takeover: ${dir} holds a ${found.entry.fstype} mount, not tsproc's`, { path: dir, code: 'EBUSY' });
  const id = found.entry.minor;
  const record = readServingRecord(id, servingDir);
  if (!record || typeof record.socket !== 'string' || typeof record.fd !== 'number') {
    throw new TsprocError(
      `--takeover: ${dir} is served by a tsproc that cannot hand over (no serving record for connection ${id}: an older version?); stop it and mount again`,
      { path: dir, code: 'EBUSY' },
    );
  }
  let fd: number;
  try {
    fd = await copyDescriptor(record.pid, record.fd);
  } catch (err) {
    throw wrapError(err, `--takeover: cannot copy /dev/fuse from tsproc pid ${record.pid}`);
  }
  let server: ServerProcess | undefined;
  let spinFd = -1;
  try {
    spinFd = nonBlockingClone(fd);
    server = await ServerProcess.start({ fd, spinFd }, { ...serve, gated: true, time: record.time, mountpoint: dir, connection: id });
    const handover = await requestHandover(record.socket, HANDOVER_LIMIT_MS);
    server.open(handover.handover);
    handover.done();
    logLine(`took ${dir} (connection ${id}) over from tsproc pid ${record.pid} (version ${record.version})`);
    return { conn: { fd, mountpoint: dir, id, spinFd }, server, time: record.time, from: record.pid };
  } catch (err) {
    server?.kill();
    closeConnection({ fd, mountpoint: dir, id, spinFd });
    throw wrapError(err, `--takeover: ${dir} stays with tsproc pid ${record.pid}`);
  }
}
