// /proc/uptime: time since the container's init started, and idle time consistent with its /proc/stat.
import type { CpuUsage } from '../cgroup/driver.js';
import { ONE_RECORD } from '../io/file-source.js';
import type { Reader } from '../reader/resolver.js';
import { cpuTimes, gatherCpuLimits, visibleCpus } from './cpu-figures.js';
import { HOST_FILE, formatTicks, uptimeTicks, type HostFile, type View, type ViewEnv } from './view.js';

export interface UptimeSnapshot {
  /** clock ticks since the container's init started */
  elapsed: number;
  usage: CpuUsage;
  visible: number[];
  cpuset: number[];
}

function gather(env: ViewEnv, reader: Reader): UptimeSnapshot | HostFile {
  // A host reader's namespace init is the host's: its uptime is the host's.
  if (reader.scope === 'host') return HOST_FILE;
  const elapsed = uptimeTicks(env.host('/proc/uptime', ONE_RECORD)) - reader.start;
  const limits = gatherCpuLimits(env, reader);
  return { elapsed, usage: env.driver.cpuUsage(reader.cgroup), visible: visibleCpus(limits), cpuset: limits.cpuset };
}

function render(s: UptimeSnapshot): string {
  // As the kernel's, idle is summed over the CPUs: the sum of the idle columns of /proc/stat.
  const idle = cpuTimes(s.usage, s.visible, s.cpuset, s.elapsed).reduce((a, t) => a + t.idle, 0);
  return `${formatTicks(s.elapsed)} ${formatTicks(idle)}\n`;
}

export const uptime: View<UptimeSnapshot> = { name: 'uptime', gather, render };
