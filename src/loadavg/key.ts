// Which cgroup a container's load is counted on, and when that is the whole host.
import type { CgroupPaths } from '../cgroup/driver.js';

/** The table key of a container: the cgroup whose threads are counted. */
export const loadKey = (cg: CgroupPaths): string => cg.cpu;

/**
 * A container without a cgroup of its own for its threads (the root): its tasks are every task of
 * the host, whose figures the kernel keeps already; the views show the host's rather than walk them all.
 */
export const countsWholeHost = (cg: CgroupPaths): boolean => loadKey(cg) === '/';
