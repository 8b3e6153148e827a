// Containers as other commands see them: found by name, id or id prefix; running, exited or dead.
// A container whose monitor died is settled here: its record gets an exit status, its cgroup and
// state go (the kernel already killed its processes: PR_SET_PDEATHSIG).
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { TsprocError } from '../src/errors.js';
import { cgroupPids } from './cgroup/cgroup-usage.js';
import { exitStatus } from './exit-status.js';
import { parseEvent } from './helper-events.js';
import { shortId } from './names.js';
import { paths, type Roots } from './roots.js';
import { type ContainerRecord, RECORD_FILES, releaseName, STATE_FILES } from './state.js';
import { removeTree } from './tree/remove-tree.js';

export type Status = 'created' | 'running' | 'exited' | 'dead';

export interface ContainerInfo {
  record: ContainerRecord;
  status: Status;
  monitorPid?: number;
  /** the container's first process, as the host numbers it */
  pid?: number;
  startedAt?: Date;
  finishedAt?: Date;
  exit?: { code: number; oomKilled: boolean; monitorLost: boolean };
}

/** A monitor that still runs, for this container (a reused pid runs something else; a zombie has no cmdline). */
function monitorAlive(pid: number, id: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(id);
  } catch {
    return false;
  }
}

const readNumber = (path: string) => {
  try {
    return Number(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
};

/** An exit status as the monitor records it ("code N OOM" or "signal N OOM", then "lost" if settled). */
export function readExit(file: string): ContainerInfo['exit'] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const e = parseEvent(`exit ${text.split('\n')[0]}`);
  if (e?.kind !== 'exit') return undefined;
  return { code: exitStatus(e).code, oomKilled: exitStatus(e).message !== undefined, monitorLost: text.includes('\nlost') };
}

/** How long a state directory without a monitor may be young (a container being created). */
const STARTING_MS = 60_000;

export function inspectContainer(roots: Roots, id: string, isMonitorAlive = monitorAlive): ContainerInfo | undefined {
  const data = paths.record(roots, id);
  const state = paths.container(roots, id);
  let record: ContainerRecord;
  try {
    record = JSON.parse(readFileSync(`${data}/${RECORD_FILES.record}`, 'utf8')) as ContainerRecord;
  } catch {
    return undefined;
  }
  const exitFile = `${data}/${RECORD_FILES.exit}`;
  const info: ContainerInfo = { record, status: 'created' };
  const monitorPid = readNumber(`${state}/${STATE_FILES.monitorPid}`);
  const pid = readNumber(`${data}/${RECORD_FILES.containerPid}`);
  if (monitorPid) info.monitorPid = monitorPid;
  if (pid) info.startedAt = statSync(`${data}/${RECORD_FILES.containerPid}`).mtime;
  if (exited(info, exitFile)) return info;
  const stateAge = existsSync(state) ? Date.now() - statSync(state).mtimeMs : Infinity;
  if (monitorPid !== undefined ? isMonitorAlive(monitorPid, id) : stateAge < STARTING_MS) {
    info.status = pid ? 'running' : 'created';
    if (pid) info.pid = pid;
    return info;
  }
  // No monitor now: it may have finished since we looked for its exit. It records the exit (and
  // with --rm removes the record) before it ends, so a second look settles it; only a container
  // whose monitor ended without that is dead (review finding 9).
  if (exited(info, exitFile)) return info;
  if (!existsSync(`${data}/${RECORD_FILES.record}`)) return undefined;
  info.status = 'dead';
  return info;
}

/** The exit its monitor recorded, if it did. */
function exited(info: ContainerInfo, exitFile: string): boolean {
  const exit = readExit(exitFile);
  if (!exit) return false;
  info.status = 'exited';
  info.exit = exit;
  try {
    info.finishedAt = statSync(exitFile).mtime;
  } catch {
    info.finishedAt = new Date(); // removed (rm, --rm) since we read it
  }
  return true;
}

/**
 * Finish what a dead monitor could not: record the exit (SIGKILL: the kernel killed the container
 * when its monitor died), remove its cgroup and state, and with --rm its record and name.
 */
export function settleDead(roots: Roots, info: ContainerInfo): ContainerInfo {
  if (info.status !== 'dead') return info;
  const { id, name } = info.record;
  for (const pid of cgroupPids(info.record.cgroup)) {
    try {
      process.kill(pid, 'SIGKILL'); // not reached in practice: PR_SET_PDEATHSIG did it
    } catch {
      /* gone */
    }
  }
  for (const h of info.record.cgroup.hierarchies) {
    try {
      rmdirSync(h.dir);
    } catch {
      /* gone, or tasks still leaving: the next command retries */
    }
  }
  removeTree(paths.container(roots, id));
  if (info.record.plan.autoRemove) {
    removeTree(paths.record(roots, id));
    releaseName(roots, name, id);
    return { ...info, status: 'exited' };
  }
  try {
    // never over an exit its monitor recorded after all, nor into a record removed meanwhile
    writeFileSync(`${paths.record(roots, id)}/${RECORD_FILES.exit}`, 'signal 9 0\nlost\n', { flag: 'wx' });
  } catch (err) {
    if (!['EEXIST', 'ENOENT'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  return inspectContainer(roots, id) ?? info;
}

/** Every container with a record, newest first; dead ones settled on the way. */
export function listContainers(roots: Roots): ContainerInfo[] {
  const dir = paths.records(roots);
  const ids = existsSync(dir) ? readdirSync(dir) : [];
  return ids
    .flatMap((id) => {
      const info = inspectContainer(roots, id);
      return info ? [settleDead(roots, info)] : [];
    })
    .filter((i) => existsSync(paths.record(roots, i.record.id)))
    .sort((a, b) => b.record.created.localeCompare(a.record.created));
}

/** NAME, the full id, or a unique prefix of it (docker's rule); exit status 1 when none or several. */
export function findContainer(roots: Roots, ref: string): ContainerInfo {
  let id: string | undefined;
  try {
    id = readlinkSync(paths.name(roots, ref));
  } catch {
    const dir = paths.records(roots);
    const matches = /^[0-9a-f]+$/.test(ref) && existsSync(dir) ? readdirSync(dir).filter((x) => x.startsWith(ref)) : [];
    if (matches.length > 1) throw new TsprocError(`${ref} names several containers (${matches.map(shortId).join(', ')}): give more of the id`, { code: 'EINVAL' });
    id = matches[0];
  }
  const info = id ? inspectContainer(roots, id) : undefined;
  if (!info) throw new TsprocError(`no such container: ${ref}`, { code: 'ENOENT' });
  return settleDead(roots, info);
}

/** "Up 3 minutes", "Exited (137) 2 seconds ago", docker's words. */
export function describeStatus(info: ContainerInfo, now = Date.now()): string {
  if (info.status === 'running') return `Up ${ago(now - info.startedAt!.getTime())}`;
  if (info.status === 'created') return 'Created';
  if (info.status === 'dead') return 'Dead';
  const lost = info.exit!.monitorLost ? ' (monitor lost)' : info.exit!.oomKilled ? ' (out of memory)' : '';
  return `Exited (${info.exit!.code}) ${ago(now - info.finishedAt!.getTime())} ago${lost}`;
}

export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s < 2 ? 'Less than a second' : `${s} seconds`;
  if (s < 3600) return `${Math.round(s / 60)} minute${Math.round(s / 60) === 1 ? '' : 's'}`;
  if (s < 86400) return `${Math.round(s / 3600)} hour${Math.round(s / 3600) === 1 ? '' : 's'}`;
  return `${Math.round(s / 86400)} days`;
}
