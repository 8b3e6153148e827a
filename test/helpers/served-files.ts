// The files tsproc serves, written out as README.md lists them (not imported from the code under test).
export const EXPECTED_FILES = [
  'proc/cpuinfo',
  'proc/diskstats',
  'proc/loadavg',
  'proc/meminfo',
  'proc/stat',
  'proc/swaps',
  'proc/uptime',
  'sys/devices/system/cpu/online',
];
