// Counts a container's tasks by state, from its cgroup's thread list and each thread's /proc/TID/stat.
import type { CgroupDriver, CgroupPaths } from '../cgroup/driver.js';
import { ONE_RECORD, type FileSource } from '../io/file-source.js';
import { parseStartTime, parseState, parseStatus } from '../reader/proc-parse.js';

export interface TaskCounts {
  /** state R */
  running: number;
  /** state D (uninterruptible sleep; the load average counts these with the running ones) */
  blocked: number;
  total: number;
  /** the pid of the newest task, as the container's pid namespace numbers it */
  lastPid: number;
}

export interface CountOptions {
  /** where /proc is (tests give a fake one) */
  procRoot?: string;
  /** the thread whose read asked for the count: it waits for tsproc's answer (in S or D), so its state is not counted; the caller adds it as running */
  reader?: number;
  /** how deep the container's pid namespace is (the length of its tasks' NSpid lines); 1, the host's, by default */
  depth?: number;
}

/** Tasks looked at, newest first, for one of the container's pid namespace (others are host helpers). */
const LAST_PID_TRIES = 8;

/**
 * One pass over the threads of a cgroup and its descendants. The last pid is the newest task's (by
 * start time, so a pid counter that wrapped round does not matter) as the container's namespace
 * numbers it (NSpid at its depth; a task in a namespace nested inside has a pid there too); a task
 * outside that namespace (a helper the runtime put in the cgroup) is passed over. As the kernel's
 * figure is the last pid handed out, tasks that ended since are not seen: this is the newest alive.
 */
export function countTasks(files: FileSource, driver: CgroupDriver, cg: CgroupPaths, o: CountOptions = {}): TaskCounts {
  const procRoot = o.procRoot ?? '/proc';
  const depth = o.depth ?? 1;
  let running = 0;
  let blocked = 0;
  let total = 0;
  const started: [start: number, tid: number][] = [];
  for (const tid of driver.threads(cg)) {
    const text = files.readOnce(`${procRoot}/${tid}/stat`, ONE_RECORD);
    if (text === undefined) continue;
    total++;
    const state = parseState(text);
    // The reader waits for this answer: its state says nothing of it.
    if (tid !== o.reader && state === 'R') running++;
    else if (tid !== o.reader && state === 'D') blocked++;
    started.push([parseStartTime(text) ?? 0, tid]);
  }
  started.sort((a, b) => b[0] - a[0] || b[1] - a[1]);
  let lastPid = 0;
  for (const [, tid] of started.slice(0, LAST_PID_TRIES)) {
    const st = files.readOnce(`${procRoot}/${tid}/status`, ONE_RECORD);
    const nspid = st === undefined ? undefined : parseStatus(st)?.nspid;
    if (nspid && nspid.length >= depth) {
      lastPid = nspid[depth - 1]!;
      break;
    }
  }
  return { running, blocked, total, lastPid };
}
