// /proc/stat: cpu and cpuN lines from the container's own CPU time on its visible CPUs; its task counts.
import type { CpuUsage } from '../cgroup/driver.js';
import { ONE_RECORD } from '../io/file-source.js';
import { countsWholeHost } from '../loadavg/key.js';
import type { Reader } from '../reader/resolver.js';
import { cpuTimes, gatherCpuLimits, hidesCpus, visibleCpus } from './cpu-figures.js';
import { HOST_FILE, uptimeTicks, type HostFile, type View, type ViewEnv } from './view.js';

export interface StatSnapshot {
  /** the host's /proc/stat */
  host: string;
  usage: CpuUsage;
  visible: number[];
  cpuset: number[];
  /** clock ticks since the container's init started (since boot for a host reader) */
  elapsed: number;
  /** the container's task counts; undefined: the host's lines (a container counting every host task) */
  running: number | undefined;
  blocked: number | undefined;
}

function gather(env: ViewEnv, reader: Reader): StatSnapshot | HostFile {
  const limits = gatherCpuLimits(env, reader);
  if (reader.scope === 'host' && !hidesCpus(limits)) return HOST_FILE;
  const usage = env.driver.cpuUsage(reader.cgroup);
  const host = env.host('/proc/stat', ONE_RECORD);
  const elapsed = uptimeTicks(env.host('/proc/uptime', ONE_RECORD)) - reader.start;
  const load = countsWholeHost(env.driver, reader.cgroup) ? undefined : env.load(reader);
  return { host, usage, visible: visibleCpus(limits), cpuset: limits.cpuset, elapsed, running: load?.running, blocked: load?.blocked };
}

function render(s: StatSnapshot): string {
  const times = cpuTimes(s.usage, s.visible, s.cpuset, s.elapsed);
  const sum = times.reduce((a, t) => ({ user: a.user + t.user, system: a.system + t.system, idle: a.idle + t.idle }), {
    user: 0,
    system: 0,
    idle: 0,
  });
  // user nice system idle iowait irq softirq steal guest guest_nice: the cgroup keeps user and system only.
  const fields = (t: { user: number; system: number; idle: number }) => `${t.user} 0 ${t.system} ${t.idle} 0 0 0 0 0 0`;
  let out = `cpu  ${fields(sum)}\n`;
  times.forEach((t, i) => (out += `cpu${i} ${fields(t)}\n`));
  for (const l of s.host.split('\n')) {
    if (l === '' || l.startsWith('cpu')) continue;
    // The reader itself is running while it reads.
    if (s.running !== undefined && l.startsWith('procs_running ')) out += `procs_running ${Math.max(1, s.running)}\n`;
    else if (s.blocked !== undefined && l.startsWith('procs_blocked ')) out += `procs_blocked ${s.blocked}\n`;
    else out += `${l}\n`;
  }
  return out;
}

export const stat: View<StatSnapshot> = { name: 'stat', gather, render };
