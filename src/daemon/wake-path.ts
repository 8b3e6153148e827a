// A path to one of the connection's files that a process of ours can stat: under the mountpoint while
// it is mounted, or else through a container's bind of it (/proc/PID/root/...), as when DIR was
// unmounted from outside and only the containers' binds are left.
import { readdirSync } from 'node:fs';
import { mountsAt, readMountinfo } from '../mountinfo.js';

/** A file below each directory of the tree, for a bind of a directory. */
const FILE_BELOW: Record<string, string> = {
  '/': '/proc/meminfo',
  '/proc': '/meminfo',
  '/sys': '/devices/system/cpu/online',
  '/sys/devices': '/system/cpu/online',
  '/sys/devices/system': '/cpu/online',
  '/sys/devices/system/cpu': '/online',
};

export function wakePath(mountpoint: string, connection: number): string | undefined {
  const ours = (e: { major: number; minor: number }) => e.major === 0 && e.minor === connection;
  if (mountsAt(mountpoint).some(ours)) return `${mountpoint}/proc/meminfo`;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    try {
      // a bind of a file (root /proc/meminfo...) or of a directory of the tree (root /, /proc...)
      const bind = readMountinfo(`/proc/${pid}/mountinfo`).find(ours);
      if (bind) return `/proc/${pid}/root${bind.mountpoint}${FILE_BELOW[bind.root] ?? ''}`;
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}
