// The cgroup driver interface, in cgroup v2's vocabulary; v1-driver.ts translates, v2-driver.ts reads.
import { ONE_RECORD, type ReadOptions } from '../io/file-source.js';
import type { IoCounters } from './parse.js';

/**
 * How long a setting (a limit, a cpuset, a quota) may be reused before it is read again, in ms. Usage
 * figures are read at every render; settings change rarely, and a change shows within this time.
 */
export const SETTING_AGE_MS = 1000;

/** How settings are read: one record (every cgroup file is but the thread lists), reused for up to SETTING_AGE_MS. */
export const SETTING: ReadOptions = { ...ONE_RECORD, maxAgeMs: SETTING_AGE_MS };

/** A process's cgroup for each resource: on v2 the same path for all, on v1 one per controller. */
export interface CgroupPaths {
  memory: string;
  cpu: string;
  cpuacct: string;
  cpuset: string;
  io: string;
  pids: string;
}

/** Keys of v2 memory.stat the views use (v1's total_* figures are renamed to these). Bytes. */
export interface MemoryStat {
  anon?: number;
  file?: number;
  shmem?: number;
  file_mapped?: number;
  file_dirty?: number;
  file_writeback?: number;
  anon_thp?: number;
  file_thp?: number;
  shmem_thp?: number;
  active_anon?: number;
  inactive_anon?: number;
  active_file?: number;
  inactive_file?: number;
  unevictable?: number;
  slab_reclaimable?: number;
  slab_unreclaimable?: number;
  kernel_stack?: number;
  pagetables?: number;
  sec_pagetables?: number;
  swapcached?: number;
  zswap?: number;
  zswapped?: number;
}

/** CPU time used by a cgroup and its descendants, in nanoseconds. */
export interface CpuUsage {
  user: number;
  system: number;
  /** per host CPU, indexed by CPU number, where the kernel keeps it (v1 cpuacct); v2 has only totals */
  perCpu?: { user: number; system: number }[];
}

/**
 * What the views need from a cgroup, in v2 terms. Limits are "effective": the smallest over the cgroup
 * and its ancestors, Infinity when none is set. Methods return undefined when the kernel does not
 * provide an optional figure (swap accounting off, no cpuset) and throw MissingFileError when a file
 * that must exist is not there (a controller not enabled, the cgroup removed): the caller then serves
 * the host's file.
 */
export interface CgroupDriver {
  readonly version: 1 | 2;
  /** the cgroups of a process, from the text of /proc/PID/cgroup as FileSource gives it (bytes, latin1) */
  paths(procCgroup: string): CgroupPaths;
  /** memory.current (v1 memory.usage_in_bytes) */
  memoryCurrent(cg: CgroupPaths): number;
  /** memory.stat, recursive (v1: the total_* lines) */
  memoryStat(cg: CgroupPaths): MemoryStat;
  /** smallest memory.max (v1 memory.limit_in_bytes) */
  memoryMax(cg: CgroupPaths): number;
  /** smallest memory.swap.max (v1: memory.memsw.limit_in_bytes minus the memory limit); undefined without swap accounting */
  swapMax(cg: CgroupPaths): number | undefined;
  /** memory.swap.current (v1: the total_swap of memory.stat); undefined without swap accounting */
  swapCurrent(cg: CgroupPaths): number | undefined;
  /** v1 memory.swappiness (v2 has none) */
  swappiness(cg: CgroupPaths): number | undefined;
  /** smallest cpu.max quota/period over the tree (v1 cpu.cfs_quota_us / cpu.cfs_period_us), in CPUs */
  cpuMax(cg: CgroupPaths): number;
  /** cpuset.cpus.effective (v1 cpuset.effective_cpus); undefined when no cpuset applies */
  cpusEffective(cg: CgroupPaths): number[] | undefined;
  /** cpu.stat usage (v1 cpuacct.usage_all) */
  cpuUsage(cg: CgroupPaths): CpuUsage;
  /** io.stat (v1 blkio.throttle.io_service_bytes_recursive and io_serviced_recursive), by "MAJ:MIN" */
  ioStat(cg: CgroupPaths): Map<string, IoCounters>;
  /** the thread ids of the cgroup and its descendants (cgroup.threads, v1 tasks) */
  threads(cg: CgroupPaths): number[];
  /** the path of the cgroup whose threads `threads` lists (v1: in the cpu hierarchy, else pids', else memory's) */
  threadsCgroup(cg: CgroupPaths): string;
  /** the cgroup directory used for a resource, for messages */
  describe(cg: CgroupPaths): string;
}
