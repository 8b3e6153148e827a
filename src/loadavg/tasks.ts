// Counts a container's tasks by state, from its cgroup's thread list and each thread's /proc/TID/stat.
import type { CgroupDriver, CgroupPaths } from '../cgroup/driver.js';
import { ONE_RECORD, type FileSource } from '../io/file-source.js';
import { parseState, parseStatus } from '../reader/proc-parse.js';

export interface TaskCounts {
  /** state R */
  running: number;
  /** state D (uninterruptible sleep; the load average counts these with the running ones) */
  blocked: number;
  total: number;
  /** the highest pid in use, as the container's own pid namespace numbers it */
  lastPid: number;
}

/**
 * One pass over the threads of a cgroup and its descendants. The newest thread holds the highest host
 * pid and, pids being handed out in order in every namespace at once, the highest pid inside too: its
 * NSpid line says which. `reader`, the thread whose read asked for the count, waits for tsproc's answer
 * (in S or D) but counts as running, as a reader of the kernel's /proc file would be.
 */
export function countTasks(files: FileSource, driver: CgroupDriver, cg: CgroupPaths, procRoot = '/proc', reader = 0): TaskCounts {
  let running = 0;
  let blocked = 0;
  let total = 0;
  let newest = 0;
  for (const tid of driver.threads(cg)) {
    const text = files.readOnce(`${procRoot}/${tid}/stat`, ONE_RECORD);
    if (text === undefined) continue;
    total++;
    const state = parseState(text);
    if (state === 'R' || tid === reader) running++;
    else if (state === 'D') blocked++;
    if (tid > newest) newest = tid;
  }
  let lastPid = 0;
  if (newest > 0) {
    const st = files.readOnce(`${procRoot}/${newest}/status`, ONE_RECORD);
    const ns = st === undefined ? undefined : parseStatus(st);
    lastPid = ns ? ns.nspid[ns.nspid.length - 1]! : newest;
  }
  return { running, blocked, total, lastPid };
}
