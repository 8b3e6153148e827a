// The CPUs a container sees (cpuset, cut to its quota) and its CPU time spread over them: for cpuinfo, online, stat, uptime.
import { SETTING, type CpuUsage } from '../cgroup/driver.js';
import { parseCpuList } from '../cgroup/parse.js';
import type { Reader } from '../reader/resolver.js';
import { ticks, type ViewEnv } from './view.js';

export interface CpuLimits {
  /** the host's online CPUs */
  online: number[];
  /** the CPUs the cgroup may run on (its effective cpuset; the online CPUs when no cpuset applies) */
  cpuset: number[];
  /** the smallest CPU quota over the cgroup and its ancestors, in CPUs; Infinity for none or when quotas are ignored */
  quota: number;
}

export function gatherCpuLimits(env: ViewEnv, reader: Reader): CpuLimits {
  const online = parseCpuList(env.host('/sys/devices/system/cpu/online', SETTING));
  const set = env.driver.cpusEffective(reader.cgroup);
  const cpuset = set === undefined || set.length === 0 ? online : set;
  const quota = env.options.cpuQuota ? env.driver.cpuMax(reader.cgroup) : Infinity;
  return { online, cpuset, quota };
}

/** The host CPUs shown, in order: the cpuset's first ceil(quota) CPUs (at least one). */
export function visibleCpus(l: CpuLimits): number[] {
  const n = Math.max(1, Math.min(l.cpuset.length, Math.ceil(l.quota - 1e-9)));
  return l.cpuset.slice(0, n);
}

/** Whether the limits hide any CPU (a host reader without limits sees the host's files). */
export function hidesCpus(l: CpuLimits): boolean {
  return visibleCpus(l).length < l.online.length;
}

export interface CpuTime {
  user: number;
  system: number;
  idle: number;
}

/**
 * The container's CPU time on each visible CPU, in clock ticks. `elapsed` is the time since the
 * container's init started: each visible CPU's user + system + idle adds up to it, so `top` inside
 * shows busy time against the visible CPUs (half a CPU of quota used in full on one visible CPU is 50%).
 * When every cpuset CPU is visible and the kernel keeps per-CPU figures (v1), each CPU shows its own;
 * otherwise (v2, or fewer CPUs shown than the cpuset has) the time is spread evenly, which keeps every
 * CPU within its elapsed time as long as the quota holds.
 */
export function cpuTimes(usage: CpuUsage, visible: number[], cpuset: number[], elapsed: number): CpuTime[] {
  const n = visible.length;
  const own = usage.perCpu !== undefined && n === cpuset.length;
  const user = ticks(usage.user);
  const system = ticks(usage.system);
  const share = (total: number, i: number) => Math.floor(total / n) + (i < total % n ? 1 : 0);
  return visible.map((cpu, i) => {
    const u = own ? ticks(usage.perCpu![cpu]?.user ?? 0) : share(user, i);
    const s = own ? ticks(usage.perCpu![cpu]?.system ?? 0) : share(system, i);
    return { user: u, system: s, idle: Math.max(0, elapsed - u - s) };
  });
}
