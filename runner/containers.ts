// Containers as other commands see them: found by name, id or id prefix; created, running, exited or dead.
// One that no process owns any more (container-owner.ts) and that recorded no exit is dead, wherever its
// `run` or its monitor stopped; it is settled here: its leftovers go (teardown.ts) and its record gets an
// exit status that says what happened.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { TsprocError } from '../src/errors.js';
import { hostOwners, type OwnerProbe, ownership } from './container-owner.js';
import { exitStatus } from './exit-status.js';
import { type ExitNote, type ExitRecord, formatExitFile, parseExitFile } from './exit-file.js';
import { Staging } from './image/staging.js';
import { StorePaths } from './image/store-paths.js';
import { shortId } from './names.js';
import { humanDuration } from '../src/human.js';
import { paths, type Roots } from './roots.js';
import { type ContainerRecord, RECORD_FILES, RECORD_FORMAT } from './state.js';
import { removeRecord, tearDown } from './teardown.js';

/** created: being set up by a live `run` (or its monitor); dead: no owner, no exit recorded, not yet settled. */
export type Status = 'created' | 'running' | 'exited' | 'dead';

export interface ContainerInfo {
  record: ContainerRecord;
  status: Status;
  monitorPid?: number;
  /** the container's first process, as the host numbers it */
  pid?: number;
  startedAt?: Date;
  finishedAt?: Date;
  exit?: { code: number; oomKilled: boolean; monitorLost: boolean; note?: ExitNote };
}

const readNumber = (path: string) => {
  try {
    return Number(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
};

/** A container's exit as its exit file records it (runner/exit-file.ts); undefined while there is none. */
export function readExit(file: string): ContainerInfo['exit'] {
  let e: ExitRecord | undefined;
  try {
    e = parseExitFile(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  return e ? exitInfo(e) : undefined;
}

function exitInfo(e: ExitRecord): NonNullable<ContainerInfo['exit']> {
  const status = exitStatus({ kind: 'exit', ...e });
  return {
    code: status.code,
    oomKilled: status.message !== undefined,
    monitorLost: e.note === 'monitor lost',
    ...(e.note ? { note: e.note } : {}),
  };
}

export function inspectContainer(roots: Roots, id: string, probe: OwnerProbe = hostOwners): ContainerInfo | undefined {
  const data = paths.record(roots, id);
  let record: ContainerRecord;
  try {
    record = JSON.parse(readFileSync(`${data}/${RECORD_FILES.record}`, 'utf8')) as ContainerRecord;
  } catch {
    return undefined;
  }
  if (typeof record.format === 'number' && record.format > RECORD_FORMAT) {
    throw new TsprocError(
      `container ${shortId(id)} was made by a newer tsproc (record format ${record.format}; this one reads up to ${RECORD_FORMAT}): use that release to control it`,
      { code: 'EPROTO', path: data },
    );
  }
  const exitFile = `${data}/${RECORD_FILES.exit}`;
  const info: ContainerInfo = { record, status: 'created' };
  // Its owners first, what they write second: a monitor writes the container's pid when it starts, and
  // records the exit (with --rm removes the record) before it ends, so an owner seen gone has left all
  // it will.
  const owner = ownership(roots, record, probe);
  if (owner.monitorPid !== undefined) info.monitorPid = owner.monitorPid;
  const pid = readNumber(`${data}/${RECORD_FILES.containerPid}`);
  const started = pid ? statSync(`${data}/${RECORD_FILES.containerPid}`, { throwIfNoEntry: false }) : undefined;
  if (started) info.startedAt = started.mtime;
  if (exited(info, exitFile)) return info;
  if (owner.owned) {
    info.status = pid ? 'running' : 'created';
    if (pid) info.pid = pid;
    return info;
  }
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
 * Finish what its dead owner could not: remove its leftovers (tasks, cgroups, state), then record how it
 * ended: SIGKILL if it had started (the kernel killed it when its monitor died: 137, monitor lost), else
 * 125 as `run` itself exits when the set-up fails (set-up interrupted); with --rm, remove its record.
 * A cgroup that will not go leaves it dead, and says nothing: rm says why.
 */
export function settleDead(roots: Roots, info: ContainerInfo): ContainerInfo {
  if (info.status !== 'dead') return info;
  const { id } = info.record;
  const ending: ExitRecord = info.startedAt
    ? { how: 'signal', value: 9, oomKills: 0, note: 'monitor lost' }
    : { how: 'code', value: 125, oomKills: 0, note: 'set-up interrupted' };
  try {
    tearDown(roots, info.record);
    if (info.record.plan.autoRemove) {
      removeRecord(roots, info.record);
      return { ...info, status: 'exited', exit: exitInfo(ending), finishedAt: new Date() };
    }
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
 * Every container with a record, newest first; dead ones settled on the way, and the scratch of runs
 * killed before their record was in place removed.
 */
export function listContainers(roots: Roots): ContainerInfo[] {
  Staging.sweep(new StorePaths(roots.dataRoot).tmp, 'create');
  const dir = paths.records(roots);
  const ids = existsSync(dir) ? readdirSync(dir) : [];
  return ids
    .flatMap((id) => {
      let info: ContainerInfo | undefined;
      try {
        info = inspectContainer(roots, id);
      } catch (err) {
        if (err instanceof TsprocError && err.code === 'EPROTO') return []; // a newer release's: not ours to list or settle
        throw err;
      }
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
    if (matches.length > 1)
      throw new TsprocError(`${ref} names several containers (${matches.map(shortId).join(', ')}): give more of the id`, {
        code: 'EINVAL',
      });
    id = matches[0];
  }
  const info = id ? inspectContainer(roots, id) : undefined;
  if (!info) throw new TsprocError(`no such container: ${ref}`, { code: 'ENOENT' });
  return settleDead(roots, info);
}

/** "Up 3 minutes", "Exited (137) 2 seconds ago", docker's words. */
export function describeStatus(info: ContainerInfo, now = Date.now()): string {
  if (info.status === 'running') return `Up ${humanDuration(now - info.startedAt!.getTime())}`;
  if (info.status === 'created') return 'Created';
  if (info.status === 'dead') return 'Dead';
  const note = info.exit!.note ?? (info.exit!.oomKilled ? 'out of memory' : undefined);
  return `Exited (${info.exit!.code}) ${humanDuration(now - info.finishedAt!.getTime())} ago${note ? ` (${note})` : ''}`;
}
