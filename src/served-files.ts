// The files a tsproc mount serves, by path below its directory: the one list that the daemon's views,
// `tsproc run --lxcfs` and `tsproc mounts` share. A leaf module (it imports nothing), as errors.ts.

/** The usual mountpoint: `tsproc run --lxcfs` and `tsproc mounts` use it when given none. */
export const DEFAULT_MOUNT_DIR = '/var/lib/tsproc';

/** Each file by the name of the view that renders it, in path order (the order binds are made). */
export const SERVED_FILES = {
  cpuinfo: 'proc/cpuinfo',
  diskstats: 'proc/diskstats',
  loadavg: 'proc/loadavg',
  meminfo: 'proc/meminfo',
  stat: 'proc/stat',
  swaps: 'proc/swaps',
  uptime: 'proc/uptime',
  'cpu-online': 'sys/devices/system/cpu/online',
} as const;

export type ServedFile = keyof typeof SERVED_FILES;

/** The paths below the mountpoint; each is bound over the container's file of the same path below /. */
export const SERVED_PATHS: readonly string[] = Object.values(SERVED_FILES);
