// The files tsproc serves, by their path below the mountpoint (src/served-files.ts), and the host file each stands for.
import { SERVED_FILES, type ServedFile } from '../../served-files.js';

interface ViewPath {
  path: string;
  host: string;
  oneRecord: boolean;
}

/** `oneRecord`: the host file is one record, whole in one read (see ReadOptions). Every served file has a view, and no other. */
export const VIEW_PATHS = {
  cpuinfo: { path: SERVED_FILES.cpuinfo, host: '/proc/cpuinfo', oneRecord: false },
  meminfo: { path: SERVED_FILES.meminfo, host: '/proc/meminfo', oneRecord: true },
  stat: { path: SERVED_FILES.stat, host: '/proc/stat', oneRecord: true },
  uptime: { path: SERVED_FILES.uptime, host: '/proc/uptime', oneRecord: true },
  loadavg: { path: SERVED_FILES.loadavg, host: '/proc/loadavg', oneRecord: true },
  swaps: { path: SERVED_FILES.swaps, host: '/proc/swaps', oneRecord: false },
  diskstats: { path: SERVED_FILES.diskstats, host: '/proc/diskstats', oneRecord: false },
  'cpu-online': { path: SERVED_FILES['cpu-online'], host: '/sys/devices/system/cpu/online', oneRecord: true },
} as const satisfies Record<ServedFile, ViewPath>;

export type ViewName = keyof typeof VIEW_PATHS;
export const VIEW_NAMES = Object.keys(VIEW_PATHS) as ViewName[];
