// Which cgroup a container's load is counted on, and when that is the whole host.
import type { CgroupDriver, CgroupPaths } from '../cgroup/driver.js';

export type ThreadsDriver = Pick<CgroupDriver, 'threadsCgroup'>;

/** The table key of a container: the cgroup whose threads are counted (v1: in the hierarchy the driver lists them from). */
export const loadKey = (driver: ThreadsDriver, cg: CgroupPaths): string => driver.threadsCgroup(cg);

/**
 * A container without a cgroup of its own for its threads (the root): its tasks are every task of
 * the host, whose figures the kernel keeps already; the views show the host's rather than walk them all.
 */
export const countsWholeHost = (driver: ThreadsDriver, cg: CgroupPaths): boolean => loadKey(driver, cg) === '/';
