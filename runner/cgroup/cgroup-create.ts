// Creates a container's cgroup with its limits written (before anything runs in it), or removes it.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { TsprocError, wrapError } from '../../src/errors.js';
import type { Limits } from '../plan.js';
import { testPoint } from '../test-hooks.js';
import { type CgroupHierarchy, type CgroupPlan, limitWrites, V2_CONTROLLERS } from './cgroup-plan.js';
import { type DeviceRule, v1DeviceWrites } from './device-rules.js';

const read = (path: string) => readFileSync(path, 'utf8').trim();

/** The directories from the hierarchy's root down to the container's parent, top first. */
function parentDirs(h: CgroupHierarchy, parent: string): string[] {
  const parts = parent.split('/');
  return parts.map((_, i) => posix.join(h.mountpoint, ...parts.slice(0, i + 1)));
}

/** v1 cpuset: a new cgroup starts with no CPUs and no memory nodes; give it its parent's. */
function inheritCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems'])
    if (read(`${dir}/${f}`) === '') writeFileSync(`${dir}/${f}`, read(`${posix.dirname(dir)}/${f}`));
}

/** v2: a cgroup's controllers are those its parent enables in cgroup.subtree_control. */
function enableControllers(dir: string): void {
  const available = read(`${dir}/cgroup.controllers`).split(' ');
  const enabled = read(`${dir}/cgroup.subtree_control`).split(' ');
  const missing = V2_CONTROLLERS.filter((c) => available.includes(c) && !enabled.includes(c));
  if (missing.length > 0) writeFileSync(`${dir}/cgroup.subtree_control`, missing.map((c) => `+${c}`).join(' '));
}

/**
 * Make the parents (kept, as docker keeps its own) and the container's cgroup, then write the limits
 * and, on v1, the devices it may use (cgroup2's device filter is the helper's: a BPF program).
 */
export function createCgroup(plan: CgroupPlan, limits: Limits, devices?: DeviceRule[]): { warnings: string[] } {
  const warnings: string[] = [];
  const made: string[] = [];
  try {
    for (const h of plan.hierarchies) {
      const cpuset = h.controllers.includes('cpuset');
      if (plan.version === 2) enableControllers(h.mountpoint);
      for (const dir of parentDirs(h, plan.parent)) {
        if (!existsSync(dir)) mkdirSync(dir);
        if (cpuset) inheritCpuset(dir);
        if (plan.version === 2) enableControllers(dir);
      }
      mkdirSync(h.dir);
      made.push(h.dir);
      if (made.length === 1) testPoint('cgroup'); // the first of several on v1
      const parentDir = posix.dirname(h.dir);
      const own: Limits = cpuset ? { ...limits, cpusetCpus: limits.cpusetCpus ?? read(`${parentDir}/cpuset.cpus`) } : limits;
      const mems = cpuset ? read(`${parentDir}/cpuset.mems`) : '';
      for (const w of limitWrites(plan.version, own, mems)) {
        if (plan.version === 1 && !h.controllers.includes(w.controller)) continue;
        const file = `${h.dir}/${w.file}`;
        if ((w.file === 'memory.memsw.limit_in_bytes' || w.file === 'memory.swap.max') && !existsSync(file)) {
          warnings.push('this kernel does not account swap (no swap limit): memory is limited, swap is not');
          continue;
        }
        write(h.dir, w);
      }
      if (devices && h.controllers.includes('devices')) for (const w of v1DeviceWrites(devices)) write(h.dir, w);
    }
  } catch (err) {
    removeCgroup(plan, made);
    throw err instanceof TsprocError ? err : wrapError(err, "cannot create the container's cgroup", { exitCode: 125 });
  }
  return { warnings };
}

function write(dir: string, w: { file: string; value: string }): void {
  try {
    writeFileSync(`${dir}/${w.file}`, w.value);
  } catch (err) {
    throw wrapError(err, `cannot set ${w.file} to ${w.value} in the container's cgroup`, { exitCode: 125 });
  }
}

/** Remove the container's cgroups (not the parents). */
export function removeCgroup(plan: CgroupPlan, dirs = plan.hierarchies.map((h) => h.dir)): void {
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw wrapError(err, "cannot remove the container's cgroup");
    }
  }
}
