// Containers as other commands see them: found by name, id or id prefix; created, running, exited or dead.
// One that no process owns any more (container-owner.ts) and that recorded no exit is dead, wherever its
// `run` or its monitor stopped. Reading only: nothing here changes a container; a dead one is settled by
// an explicit call (teardown.ts: settleDead, settleContainers).
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { TsprocError } from '../src/errors.js';
import { hostOwners, type OwnerProbe, ownership } from './container-owner.js';
import { exitStatus } from './exit-status.js';
import { type ExitNote, type ExitRecord, parseExitFile } from './exit-file.js';
import { shortId } from './names.js';
import { humanDuration } from '../src/human.js';
import { paths, type Roots } from './roots.js';
import { type ContainerRecord, readRecord, RECORD_FILES } from './state.js';

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

export function exitInfo(e: ExitRecord): NonNullable<ContainerInfo['exit']> {
  const status = exitStatus({ kind: 'exit', ...e });
  return {
    code: status.code,
    oomKilled: status.message !== undefined,
    monitorLost: e.note === 'monitor lost',
    ...(e.note ? { note: e.note } : {}),
  };
}

/** The container as it is now, from its record, its owners and its files; undefined when it has no record. */
export function inspectContainer(roots: Roots, id: string, probe: OwnerProbe = hostOwners): ContainerInfo | undefined {
  const data = paths.record(roots, id);
  const record = readRecord(roots, id);
  if (!record) return undefined;
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

/** Every container with a record, newest first, as it is now (a newer release's are not ours to list). */
export function listContainers(roots: Roots): ContainerInfo[] {
  const dir = paths.records(roots);
  const ids = existsSync(dir) ? readdirSync(dir) : [];
  return ids
    .flatMap((id) => {
      try {
        return inspectContainer(roots, id) ?? [];
      } catch (err) {
        if (err instanceof TsprocError && err.code === 'EPROTO') return [];
        throw err;
      }
    })
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
  return info;
}

/** Running, or being created (by a live `run` or its monitor): neither it nor what it uses may be touched. */
export const isLive = (i: ContainerInfo) => i.status === 'running' || i.status === 'created';

/** "is running: stop it first", or for one being set up, who sets it up. */
export function liveError(info: ContainerInfo, hint = ''): TsprocError {
  const { id, name, creator } = info.record;
  const what =
    info.status === 'created'
      ? `is being created${creator && info.monitorPid === undefined ? ` by tsproc run (pid ${creator.pid})` : ''}: wait for it`
      : 'is running: stop it first';
  return new TsprocError(`container ${name} (${shortId(id)}) ${what}${hint}`, { code: 'EBUSY' });
}

/** "Up 3 minutes", "Exited (137) 2 seconds ago", docker's words. */
export function describeStatus(info: ContainerInfo, now = Date.now()): string {
  if (info.status === 'running') return `Up ${humanDuration(now - info.startedAt!.getTime())}`;
  if (info.status === 'created') return 'Created';
  if (info.status === 'dead') return 'Dead';
  const note = info.exit!.note ?? (info.exit!.oomKilled ? 'out of memory' : undefined);
  return `Exited (${info.exit!.code}) ${humanDuration(now - info.finishedAt!.getTime())} ago${note ? ` (${note})` : ''}`;
}
