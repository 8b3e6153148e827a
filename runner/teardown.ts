// The runner's one teardown, for every container no process owns any more: a failed `run` undoing its set-up
// (executor.ts), a dead container settled (settleDead: ps, inspect, logs, wait, stop, kill, rm, gc call it),
// and rm or gc removing one that ended. In order: the tasks left in its cgroups, the cgroups in every
// hierarchy, its state directory; then its record, with its layers and its name. (While its monitor lives,
// the monitor removes the same in C, native/monitor.c: cleanup; docs/runner.md, "Cleanup", says who does
// what.) Every step takes what is already gone for done, so a removal cut short anywhere (a killed `run` or
// `rm`, a cgroup not yet empty) is finished by the next command that looks.
import { existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { wrapError } from '../src/errors.js';
import { monitorRunning } from './container-owner.js';
import { type ContainerInfo, exitInfo, inspectContainer, isLive, listContainers, liveError } from './containers.js';
import { type ExitRecord, formatExitFile } from './exit-file.js';
import { removeContainerRoot } from './image/prepare-root.js';
import { Staging } from './image/staging.js';
import { StorePaths } from './image/store-paths.js';
import { contentBytes } from './tree/tree-bytes.js';
import { removeTree } from './tree/remove-tree.js';
import { paths, type Roots } from './roots.js';
import { type ContainerRecord, RECORD_FILES, releaseName } from './state.js';

/** How long tasks may take to leave a cgroup after SIGKILL (the monitor allows as much). */
const BUSY_MS = 2000;

/**
 * Kills what runs in its cgroups (none once its monitor has ended: the kernel killed it then), removes
 * them, retrying EBUSY while the tasks leave, then its state directory. Throws if a cgroup stays. There
 * are no host mounts to undo first: every mount of a container is made in its own mount namespace.
 */
export function tearDown(roots: Roots, record: ContainerRecord): void {
  const dirs = record.cgroup.hierarchies.map((h) => h.dir);
  const end = Date.now() + BUSY_MS;
  killTasks(dirs);
  for (const dir of dirs) {
    for (;;) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || Date.now() > end) throw wrapError(err, "cannot remove the container's cgroup");
        killTasks(dirs);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
  }
  removeTree(paths.container(roots, record.id));
}

/**
 * SIGKILL to every task of these cgroups: cgroup.kill where the kernel has it (cgroup2, 5.14 on; no pid
 * can be reused under it), then each pid listed in any hierarchy (a set-up cut short may have put a
 * process in some hierarchies only).
 */
function killTasks(dirs: string[]): void {
  for (const dir of dirs) {
    if (existsSync(`${dir}/cgroup.kill`)) {
      try {
        writeFileSync(`${dir}/cgroup.kill`, '1');
      } catch {
        /* removed meanwhile */
      }
    }
    let pids: string[];
    try {
      pids = readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean);
    } catch {
      continue; // not made, or removed
    }
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/**
 * Removes its record directory: its layers first (refused while its root is mounted), then its name
 * (only while it is still this container's), then the rest. Cut short, it leaves a record that ps
 * lists and the next rm finishes: never a name without a record.
 */
export function removeRecord(roots: Roots, record: ContainerRecord): void {
  const dir = paths.record(roots, record.id);
  if (record.plan.image) removeContainerRoot(dir);
  releaseName(roots, record.name, record.id);
  removeTree(dir); // however deep a container's writes went
}

/**
 * The whole removal: what it left on the host (tearDown), unless its monitor still runs and removes that
 * itself, then its record (removeRecord).
 */
export function removeContainer(roots: Roots, record: ContainerRecord, monitorPid?: number): void {
  if (monitorPid === undefined || !monitorRunning(monitorPid, record.id)) tearDown(roots, record);
  removeRecord(roots, record);
}

/**
 * `rm` and gc: removes a container that ended or never started (record, exit status, log, and for an
 * image its init and writable layers or its vfs copy, its name; its cgroups and state unless its monitor
 * is still removing them). Returns the bytes of file content that went.
 */
export function removeEnded(roots: Roots, info: ContainerInfo): number {
  if (isLive(info)) throw liveError(info);
  const bytes = contentBytes(paths.record(roots, info.record.id));
  removeContainer(roots, info.record, info.monitorPid);
  return bytes;
}

/**
 * Finish what its dead owner could not: remove its leftovers (tasks, cgroups, state), then record how it
 * ended: SIGKILL if it had started (the kernel killed it when its monitor died: 137, monitor lost), else
 * 125 as `run` itself exits when the set-up fails (set-up interrupted); with --rm, remove its record.
 * A cgroup that will not go leaves it dead, and says nothing: rm says why. Anything but a dead container
 * is returned as it is.
 */
export function settleDead(roots: Roots, info: ContainerInfo): ContainerInfo {
  if (info.status !== 'dead') return info;
  const { id } = info.record;
  const ending: ExitRecord = info.startedAt
    ? { how: 'signal', value: 9, oomKills: 0, note: 'monitor lost' }
    : { how: 'code', value: 125, oomKills: 0, note: 'set-up interrupted' };
  try {
    if (info.record.plan.autoRemove) {
      removeContainer(roots, info.record);
      return { ...info, status: 'exited', exit: exitInfo(ending), finishedAt: new Date() };
    }
    tearDown(roots, info.record);
  } catch {
    return info;
  }
  try {
    // never over an exit its monitor recorded after all, nor into a record removed meanwhile
    writeFileSync(`${paths.record(roots, id)}/${RECORD_FILES.exit}`, formatExitFile(ending), { flag: 'wx' });
  } catch (err) {
    if (!['EEXIST', 'ENOENT'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  return inspectContainer(roots, id) ?? info;
}

/**
 * Every container settled (ps, gc, rmi): the scratch of runs killed before their record was in place
 * removed, each dead container settled; then the containers as they are, newest first.
 */
export function settleContainers(roots: Roots): ContainerInfo[] {
  Staging.sweep(new StorePaths(roots.dataRoot).tmp, 'create');
  return listContainers(roots)
    .map((i) => settleDead(roots, i))
    .filter((i) => existsSync(paths.record(roots, i.record.id))); // --rm: settled away
}
