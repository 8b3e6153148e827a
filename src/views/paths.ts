// The files tsproc serves, by their path below the mountpoint, and the host file each stands for.

export const VIEW_PATHS = {
  cpuinfo: { path: 'proc/cpuinfo', host: '/proc/cpuinfo' },
  meminfo: { path: 'proc/meminfo', host: '/proc/meminfo' },
  stat: { path: 'proc/stat', host: '/proc/stat' },
  uptime: { path: 'proc/uptime', host: '/proc/uptime' },
  loadavg: { path: 'proc/loadavg', host: '/proc/loadavg' },
  swaps: { path: 'proc/swaps', host: '/proc/swaps' },
  diskstats: { path: 'proc/diskstats', host: '/proc/diskstats' },
  'cpu-online': { path: 'sys/devices/system/cpu/online', host: '/sys/devices/system/cpu/online' },
} as const;

export type ViewName = keyof typeof VIEW_PATHS;
export const VIEW_NAMES = Object.keys(VIEW_PATHS) as ViewName[];
