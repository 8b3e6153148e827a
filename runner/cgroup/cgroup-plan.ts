// A container's cgroup on this host's layout: its directories, the files its limits go to (in the
// layout's own vocabulary), and what the container sees at /sys/fs/cgroup. Pure: no I/O.
import { posix } from 'node:path';
import { type CgroupLayout, V1_CONTROLLERS } from '../../src/cgroup/layout.js';
import type { Limits } from '../plan.js';

export interface CgroupHierarchy {
  /** where the hierarchy is mounted on the host (/sys/fs/cgroup/memory, or /sys/fs/cgroup on v2) */
  mountpoint: string;
  /** the v1 controllers tsproc uses on it (empty on v2) */
  controllers: string[];
  /** the container's cgroup: mountpoint/parent/id */
  dir: string;
}

export interface CgroupPlan {
  version: 1 | 2;
  parent: string;
  hierarchies: CgroupHierarchy[];
  /** the file counting OOM kills (oom_kill N) */
  oomCounter?: string;
}

/** v2 controllers a container's parent enables for it. */
export const V2_CONTROLLERS = ['cpu', 'cpuset', 'io', 'memory', 'pids'];

export function planCgroup(layout: CgroupLayout, parent: string, id: string): CgroupPlan {
  if (layout.kind === 'v2') {
    const dir = posix.join(layout.unified!, parent, id);
    return { version: 2, parent, hierarchies: [{ mountpoint: layout.unified!, controllers: [], dir }], oomCounter: `${dir}/memory.events` };
  }
  // v1 and hybrid: one cgroup in each hierarchy holding a controller tsproc uses (cpu and cpuacct may
  // share one); in hybrid the unified hierarchy holds no controllers and is left alone, as runc does.
  const byMount = new Map<string, string[]>();
  for (const c of V1_CONTROLLERS) {
    const mp = layout.v1[c];
    if (mp) byMount.set(mp, [...(byMount.get(mp) ?? []), c]);
  }
  const hierarchies = [...byMount].map(([mountpoint, controllers]) => ({ mountpoint, controllers, dir: posix.join(mountpoint, parent, id) }));
  const memory = hierarchies.find((h) => h.controllers.includes('memory'));
  return { version: 1, parent, hierarchies, ...(memory ? { oomCounter: `${memory.dir}/memory.oom_control` } : {}) };
}

export interface LimitWrite {
  /** the hierarchy's controller the file belongs to ('' on v2) */
  controller: string;
  file: string;
  value: string;
}

const PERIOD_US = 100000;

/** The limit files, in the order they must be written (v1: memory before memory+swap). */
export function limitWrites(version: 1 | 2, limits: Limits, parentCpusetMems = ''): LimitWrite[] {
  const w: LimitWrite[] = [];
  const add = (controller: string, file: string, value: string | number) => w.push({ controller: version === 2 ? '' : controller, file, value: String(value) });
  const quota = limits.cpus === undefined ? undefined : Math.round(limits.cpus * PERIOD_US);
  if (version === 1) {
    if (limits.cpusetCpus !== undefined) add('cpuset', 'cpuset.cpus', limits.cpusetCpus);
    if (parentCpusetMems !== '') add('cpuset', 'cpuset.mems', parentCpusetMems);
    if (limits.memory !== undefined) add('memory', 'memory.limit_in_bytes', limits.memory);
    if (limits.memorySwap !== undefined) add('memory', 'memory.memsw.limit_in_bytes', limits.memorySwap === 'max' ? -1 : limits.memorySwap);
    if (quota !== undefined) {
      add('cpu', 'cpu.cfs_period_us', PERIOD_US);
      add('cpu', 'cpu.cfs_quota_us', quota);
    }
    if (limits.pidsLimit !== undefined) add('pids', 'pids.max', limits.pidsLimit);
  } else {
    if (limits.cpusetCpus !== undefined) add('cpuset', 'cpuset.cpus', limits.cpusetCpus);
    if (limits.memory !== undefined) add('memory', 'memory.max', limits.memory);
    // v2's swap file counts swap alone: docker's memory+swap less the memory
    if (limits.memorySwap !== undefined) add('memory', 'memory.swap.max', limits.memorySwap === 'max' ? 'max' : limits.memorySwap - limits.memory!);
    if (quota !== undefined) add('cpu', 'cpu.max', `${quota} ${PERIOD_US}`);
    if (limits.pidsLimit !== undefined) add('pids', 'pids.max', limits.pidsLimit);
  }
  return w;
}

/** The cgroup.procs files the monitor writes the container's pid to. */
export function procsFiles(plan: CgroupPlan): string[] {
  return plan.hierarchies.map((h) => `${h.dir}/cgroup.procs`);
}
