// What a container's cgroup says it uses: CPU time, memory (less reclaimable file cache, as docker
// counts it) against its limit, and its number of tasks; v1 and v2 vocabularies.
import { readFileSync } from 'node:fs';
import type { CgroupPlan } from './cgroup-plan.js';

export interface Usage {
  /** CPU time used since it started, nanoseconds */
  cpuNs: number;
  memory: number;
  /** undefined: no limit */
  memoryLimit: number | undefined;
  pids: number;
}

const read = (path: string) => readFileSync(path, 'utf8').trim();
const stat = (path: string, key: string) => Number(new RegExp(`^${key} ([0-9]+)$`, 'm').exec(read(path))?.[1] ?? 0);
/** v1 writes "no limit" as a huge page-aligned number, v2 as "max" */
const limit = (text: string) => (text === 'max' || Number(text) >= 2 ** 62 ? undefined : Number(text));

/** undefined when the cgroup is gone (the container ended meanwhile). */
export function readUsage(cg: CgroupPlan): Usage | undefined {
  try {
    if (cg.version === 2) {
      const dir = cg.hierarchies[0]!.dir;
      return {
        cpuNs: stat(`${dir}/cpu.stat`, 'usage_usec') * 1000,
        memory: Math.max(0, Number(read(`${dir}/memory.current`)) - stat(`${dir}/memory.stat`, 'inactive_file')),
        memoryLimit: limit(read(`${dir}/memory.max`)),
        pids: Number(read(`${dir}/pids.current`)),
      };
    }
    const dir = (c: string) => cg.hierarchies.find((h) => h.controllers.includes(c))!.dir;
    return {
      cpuNs: Number(read(`${dir('cpuacct')}/cpuacct.usage`)),
      memory: Math.max(
        0,
        Number(read(`${dir('memory')}/memory.usage_in_bytes`)) - stat(`${dir('memory')}/memory.stat`, 'total_inactive_file'),
      ),
      memoryLimit: limit(read(`${dir('memory')}/memory.limit_in_bytes`)),
      pids: Number(read(`${dir('pids')}/pids.current`)),
    };
  } catch {
    return undefined;
  }
}

/** The pids of its tasks (host pids). */
export function cgroupPids(cg: CgroupPlan): number[] {
  const h = cg.version === 2 ? cg.hierarchies[0] : (cg.hierarchies.find((x) => x.controllers.includes('pids')) ?? cg.hierarchies[0]);
  try {
    return read(`${h!.dir}/cgroup.procs`).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
