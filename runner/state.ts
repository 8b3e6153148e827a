// A container's record (DATA/containers/ID: its plan, its creator, exit status, log; kept until `tsproc rm`),
// its state directory (STATE/containers/ID: the monitor's files, gone when it ends) and its name
// (DATA/names/NAME, a symlink to the id, made atomically: symlink(2) itself finds a clash).
// The record comes first and goes last, the name after it and before it: a name always leads to a record,
// and the record lists everything else, so nothing a killed `run` leaves is out of sight of ps, rm and gc.
import { existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { TsprocError, wrapError } from '../src/errors.js';
import type { ProcessIdentity } from '../src/process-identity.js';
import type { CgroupPlan } from './cgroup/cgroup-plan.js';
import { Staging } from './image/staging.js';
import { StorePaths } from './image/store-paths.js';
import { newName, shortId } from './names.js';
import type { RunPlan } from './plan.js';
import { paths, type Roots } from './roots.js';

/**
 * The shape of container.json this release writes. A record without `format` is the previous release's
 * (the same shape, `creator` optional): it lists, stops and removes as ours do. A newer format is another
 * release's to read: listed by none of our commands, refused by name (readRecord).
 */
export const RECORD_FORMAT = 1;

/** What other commands learn of a container from its record. */
export interface ContainerRecord {
  /** RECORD_FORMAT when written by this release; absent in the previous release's records */
  format?: number;
  id: string;
  name: string;
  created: string;
  plan: RunPlan;
  cgroup: CgroupPlan;
  /** -d: no CLI waits for it */
  detached: boolean;
  /** the `tsproc run` that creates it: until a monitor takes over, the container lives as long as this process */
  creator?: ProcessIdentity;
}

/** Files in the record directory (DATA) and in the state directory (STATE). */
export const RECORD_FILES = { record: 'container.json', exit: 'exit', log: 'container.log', containerPid: 'container.pid' };
export const STATE_FILES = {
  helperConfig: 'helper.conf',
  monitorPid: 'monitor.pid',
  control: 'control',
  wait: 'wait',
  sysinfoSocket: 'sysinfo.sock',
};

/**
 * The record directory DATA/containers/ID with its record, made whole in a scratch directory and renamed
 * into place: other commands never see a record directory without a record, nor one that names no creator.
 */
export function createRecord(roots: Roots, record: ContainerRecord): void {
  const dir = paths.record(roots, record.id);
  let staging: Staging | undefined;
  try {
    staging = new Staging(new StorePaths(roots.dataRoot).tmp, 'create');
    writeFileSync(`${staging.dir}/${RECORD_FILES.record}`, recordText(record));
    mkdirSync(paths.records(roots), { recursive: true, mode: 0o700 });
    staging.publish(dir);
  } catch (err) {
    staging?.remove();
    throw wrapError(err, `cannot create the container's record in ${dir}`, { exitCode: 125 });
  }
}

/** The record again (a name drawn anew, the root as prepared), replaced in one rename. */
export function writeRecord(roots: Roots, record: ContainerRecord): void {
  const file = `${paths.record(roots, record.id)}/${RECORD_FILES.record}`;
  try {
    writeFileSync(`${file}.tmp`, recordText(record));
    renameSync(`${file}.tmp`, file);
  } catch (err) {
    throw wrapError(err, `cannot write the container's record ${file}`, { exitCode: 125 });
  }
}

/**
 * The record of container `id`, undefined when there is none (or it cannot be read). A newer release's
 * format is refused, EPROTO: its containers are that release's to control. The previous release's (no
 * `format`) reads as ours.
 */
export function readRecord(roots: Roots, id: string): ContainerRecord | undefined {
  const dir = paths.record(roots, id);
  let record: ContainerRecord;
  try {
    record = JSON.parse(readFileSync(`${dir}/${RECORD_FILES.record}`, 'utf8')) as ContainerRecord;
  } catch {
    return undefined;
  }
  if (typeof record.format === 'number' && record.format > RECORD_FORMAT) {
    throw new TsprocError(
      `container ${shortId(id)} was made by a newer tsproc (record format ${record.format}; this one reads up to ${RECORD_FORMAT}): use that release to control it`,
      { code: 'EPROTO', path: dir },
    );
  }
  return record;
}

const recordText = (record: ContainerRecord) => JSON.stringify({ ...record, format: RECORD_FORMAT }, null, 2) + '\n';

/**
 * Take the record's name. A taken name is an error naming its container, unless the name was generated:
 * then another is drawn, written into the record first (a run killed at any moment leaves a record naming
 * the name it may hold). Returns the record as it now stands.
 */
export function takeName(roots: Roots, record: ContainerRecord, generated: boolean): ContainerRecord {
  for (let attempt = 1; ; attempt++) {
    try {
      reserveName(roots, record.name, record.id);
      return record;
    } catch (err) {
      if (!generated || !(err instanceof TsprocError && err.code === 'EEXIST') || attempt > 16) throw err;
    }
    const name = attempt < 8 ? newName() : `${newName()}_${shortId(record.id).slice(0, 4 + attempt - 8)}`;
    record = { ...record, name, plan: { ...record.plan, name } };
    writeRecord(roots, record);
  }
}

/**
 * Take the name for this id; a taken name is an error naming its container. A name that leads to no record
 * (left by a removal cut short before names went first) is free: it is released and taken.
 */
export function reserveName(roots: Roots, name: string, id: string): void {
  mkdirSync(paths.names(roots), { recursive: true, mode: 0o700 });
  for (let stale = false; ; stale = true) {
    try {
      symlinkSync(id, paths.name(roots, name));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw wrapError(err, `cannot reserve the name ${name}`, { exitCode: 125 });
    }
    let holder: string | undefined;
    try {
      holder = readlinkSync(paths.name(roots, name));
    } catch {
      /* removed meanwhile: still a clash for this attempt */
    }
    if (!stale && holder !== undefined && !existsSync(paths.record(roots, holder))) {
      releaseName(roots, name, holder);
      continue;
    }
    throw new TsprocError(
      `the name ${JSON.stringify(name)} is already in use by container ${holder ? shortId(holder) : 'unknown'}: remove it (tsproc rm) or choose another --name`,
      { code: 'EEXIST', exitCode: 125 },
    );
  }
}

/** The state directory, with what a --rootfs container binds from it (/etc/hosts, hostname, resolv.conf). */
export function createStateDir(roots: Roots, id: string, etcFiles: Record<string, string>): string {
  const dir = paths.container(roots, id);
  try {
    mkdirSync(paths.containers(roots), { recursive: true, mode: 0o700 });
    mkdirSync(dir, { mode: 0o700 });
    for (const [file, text] of Object.entries(etcFiles)) writeFileSync(`${dir}/${file}`, text, { mode: 0o644 });
    writeFileSync(`${dir}/${STATE_FILES.wait}`, '', { mode: 0o600 });
  } catch (err) {
    throw wrapError(err, `cannot create the container's state in ${dir}`, { exitCode: 125 });
  }
  return dir;
}

/**
 * Give up the name, if it is still this container's: once released (by its monitor, with --rm, or
 * by another rm) it may already be another container's.
 */
export function releaseName(roots: Roots, name: string, id: string): void {
  const link = paths.name(roots, name);
  try {
    if (readlinkSync(link) === id) rmSync(link, { force: true });
  } catch {
    /* no such name: nothing to release */
  }
}
