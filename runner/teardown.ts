// What a container leaves on the host, removed once no process owns it any more (containers.ts settles a
// dead one; rm and gc remove one that ended; a failed `run` undoes its own): the tasks left in its cgroups,
// the cgroups in every hierarchy, its state directory; then its record, with its layers and its name.
// Every step takes what is already gone for done, so a removal cut short anywhere (a killed `run` or `rm`,
// a cgroup not yet empty) is finished by the next command that looks.
import { existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { wrapError } from '../src/errors.js';
import { removeContainerRoot } from './image/prepare-root.js';
import { removeTree } from './tree/remove-tree.js';
import { paths, type Roots } from './roots.js';
import { type ContainerRecord, releaseName } from './state.js';

/** How long tasks may take to leave a cgroup after SIGKILL (the monitor allows as much). */
const BUSY_MS = 2000;

/**
 * Kills what runs in its cgroups (none once its monitor has ended: the kernel killed it then), removes
 * them, retrying EBUSY while the tasks leave, then its state directory. Throws if a cgroup stays.
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
