// A container's record (DATA/containers/ID: its plan, exit status, log; kept until `tsproc rm`), its
// state directory (STATE/containers/ID: the monitor's files, gone when it ends) and its name
// (DATA/names/NAME, a symlink to the id, made atomically: symlink(2) itself finds a clash).
import { mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { TsprocError, wrapError } from '../src/errors.js';
import type { CgroupPlan } from './cgroup/cgroup-plan.js';
import { newName, shortId } from './names.js';
import type { RunPlan } from './plan.js';
import { paths, type Roots } from './roots.js';
import { removeTree } from './tree/remove-tree.js';

/** What other commands learn of a container from its record. */
export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  plan: RunPlan;
  cgroup: CgroupPlan;
  /** -d: no CLI waits for it */
  detached: boolean;
}

/** Files in the record directory (DATA) and in the state directory (STATE). */
export const RECORD_FILES = { record: 'container.json', exit: 'exit', log: 'container.log', containerPid: 'container.pid' };
export const STATE_FILES = { helperConfig: 'helper.conf', monitorPid: 'monitor.pid', control: 'control', wait: 'wait' };

/** Take the name for this id; a taken name is an error naming its container. */
export function reserveName(roots: Roots, name: string, id: string): void {
  mkdirSync(paths.names(roots), { recursive: true, mode: 0o700 });
  try {
    symlinkSync(id, paths.name(roots, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw wrapError(err, `cannot reserve the name ${name}`, { exitCode: 125 });
    let holder = 'unknown';
    try {
      holder = shortId(readlinkSync(paths.name(roots, name)));
    } catch {
      /* removed meanwhile: still a clash for this attempt */
    }
    throw new TsprocError(`the name ${JSON.stringify(name)} is already in use by container ${holder}: remove it (tsproc rm) or choose another --name`, { code: 'EEXIST', exitCode: 125 });
  }
}

/** A generated name that is free: try a few, then fall back to one with a suffix. */
export function reserveGeneratedName(roots: Roots, id: string): string {
  for (let i = 0; ; i++) {
    const name = i < 8 ? newName() : `${newName()}_${shortId(id).slice(0, 4 + i - 8)}`;
    try {
      reserveName(roots, name, id);
      return name;
    } catch (err) {
      if (!(err instanceof TsprocError && err.code === 'EEXIST') || i > 16) throw err;
    }
  }
}

/**
 * The record directory DATA/containers/ID, empty: an image's root is prepared in it before the record
 * is written, so other commands see no container until it is whole.
 */
export function createRecordDir(roots: Roots, id: string): string {
  const data = paths.record(roots, id);
  try {
    mkdirSync(paths.records(roots), { recursive: true, mode: 0o700 });
    mkdirSync(data, { mode: 0o700 });
  } catch (err) {
    throw wrapError(err, `cannot create the container's record in ${data}`, { exitCode: 125 });
  }
  return data;
}

/** The record (in the directory createRecordDir made), and the state directory with what a --rootfs container binds from it (/etc/hosts, hostname, resolv.conf). */
export function createContainerDirs(roots: Roots, record: ContainerRecord, etcFiles: Record<string, string>): string {
  const dir = paths.container(roots, record.id);
  const data = paths.record(roots, record.id);
  try {
    writeFileSync(`${data}/${RECORD_FILES.record}`, JSON.stringify(record, null, 2) + '\n');
    mkdirSync(paths.containers(roots), { recursive: true, mode: 0o700 });
    mkdirSync(dir, { mode: 0o700 });
    for (const [file, text] of Object.entries(etcFiles)) writeFileSync(`${dir}/${file}`, text, { mode: 0o644 });
    writeFileSync(`${dir}/${STATE_FILES.wait}`, '', { mode: 0o600 });
  } catch (err) {
    throw wrapError(err, `cannot create the container's state in ${dir} and ${data}`, { exitCode: 125 });
  }
  return dir;
}

/** Undo createRecordDir, createContainerDirs and reserveName (when the container never started). */
export function removeContainer(roots: Roots, id: string, name: string): void {
  removeTree(paths.container(roots, id));
  removeTree(paths.record(roots, id));
  releaseName(roots, name, id);
}

/**
 * Give up the name, if it is still this container's: once released (by its monitor, with --rm, or
 * by another rm) it may already be another container's (review finding 10).
 */
export function releaseName(roots: Roots, name: string, id: string): void {
  const link = paths.name(roots, name);
  try {
    if (readlinkSync(link) === id) rmSync(link, { force: true });
  } catch {
    /* no such name: nothing to release */
  }
}
