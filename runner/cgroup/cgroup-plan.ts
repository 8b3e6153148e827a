// A container's cgroup on this host's layout: its directories, the files its limits go to (in the
// layout's own vocabulary), and what the container sees at /sys/fs/cgroup. Pure: no I/O.
import { posix } from 'node:path';
import { type CgroupLayout, V1_CONTROLLERS, type V1Hierarchy } from '../../src/cgroup-layout.js';
import type { Limits } from '../plan.js';

export interface CgroupHierarchy {
  /** where the hierarchy is mounted on the host (/sys/fs/cgroup/memory, or /sys/fs/cgroup on v2) */
  mountpoint: string;
  /** its v1 controllers, or its name (name=systemd); empty on cgroup2 */
  controllers: string[];
  /** the container's cgroup: mountpoint/parent/id */
  dir: string;
  /** cgroup2: v2's only hierarchy, or hybrid's (no controllers, but it tracks processes) */
  unified?: true;
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
    return {
      version: 2,
      parent,
      hierarchies: [{ mountpoint: layout.unified!, controllers: [], dir, unified: true }],
      oomCounter: `${dir}/memory.events`,
    };
  }
  // v1 and hybrid: a cgroup in every hierarchy, as runc does: those holding the controllers tsproc
  // limits (cpu and cpuacct may share one), devices, the rest, named ones (name=systemd) and, in
  // hybrid, the unified one: otherwise the container stays in the caller's cgroup there, and a
  // session manager tracking processes by it (systemd, elogind) kills it with the caller's session.
  const hierarchies: CgroupHierarchy[] = v1Hierarchies(layout).map((h) => ({ ...h, dir: posix.join(h.mountpoint, parent, id) }));
  if (layout.unified)
    hierarchies.push({ mountpoint: layout.unified, controllers: [], dir: posix.join(layout.unified, parent, id), unified: true });
  const memory = hierarchies.find((h) => h.controllers.includes('memory'));
  return { version: 1, parent, hierarchies, ...(memory ? { oomCounter: `${memory.dir}/memory.oom_control` } : {}) };
}

/** Every v1 hierarchy the layout knows of (only the controllers tsproc limits when it lists no others). */
function v1Hierarchies(layout: CgroupLayout): V1Hierarchy[] {
  if (layout.v1Hierarchies) return layout.v1Hierarchies;
  const byMount = new Map<string, string[]>();
  for (const c of V1_CONTROLLERS) {
    const mp = layout.v1[c];
    if (mp) byMount.set(mp, [...(byMount.get(mp) ?? []), c]);
  }
  return [...byMount].map(([mountpoint, controllers]) => ({ mountpoint, controllers }));
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
  const add = (controller: string, file: string, value: string | number) =>
    w.push({ controller: version === 2 ? '' : controller, file, value: String(value) });
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
    if (limits.memorySwap !== undefined)
      add('memory', 'memory.swap.max', limits.memorySwap === 'max' ? 'max' : limits.memorySwap - limits.memory!);
    if (quota !== undefined) add('cpu', 'cpu.max', `${quota} ${PERIOD_US}`);
    if (limits.pidsLimit !== undefined) add('pids', 'pids.max', limits.pidsLimit);
  }
  return w;
}

/** The cgroup.procs files the monitor writes the container's pid to. */
export function procsFiles(plan: CgroupPlan): string[] {
  return plan.hierarchies.map((h) => `${h.dir}/cgroup.procs`);
}
