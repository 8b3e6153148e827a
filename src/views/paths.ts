// The files tsproc serves, by their path below the mountpoint, and the host file each stands for.

/** `oneRecord`: the host file is one record, whole in one read (see ReadOptions). */
export const VIEW_PATHS = {
  cpuinfo: { path: 'proc/cpuinfo', host: '/proc/cpuinfo', oneRecord: false },
  meminfo: { path: 'proc/meminfo', host: '/proc/meminfo', oneRecord: true },
  stat: { path: 'proc/stat', host: '/proc/stat', oneRecord: true },
  uptime: { path: 'proc/uptime', host: '/proc/uptime', oneRecord: true },
  loadavg: { path: 'proc/loadavg', host: '/proc/loadavg', oneRecord: true },
  swaps: { path: 'proc/swaps', host: '/proc/swaps', oneRecord: false },
  diskstats: { path: 'proc/diskstats', host: '/proc/diskstats', oneRecord: false },
  'cpu-online': { path: 'sys/devices/system/cpu/online', host: '/sys/devices/system/cpu/online', oneRecord: true },
} as const;

export type ViewName = keyof typeof VIEW_PATHS;
export const VIEW_NAMES = Object.keys(VIEW_PATHS) as ViewName[];
