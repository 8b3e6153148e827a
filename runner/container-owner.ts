// Whether a container that has recorded no exit still has an owner: the `tsproc run` creating it (the
// record names it: pid, start time, boot), the helper that run started (from its spawn until the monitor
// has written its pid file), then its monitor. A container none of them owns is dead, wherever its set-up
// stopped, and its leftovers may go (teardown.ts: settleDead); one that is owned is never touched.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isRunning, type ProcessIdentity } from '../src/process-identity.js';
import { paths, type Roots } from './roots.js';
import { type ContainerRecord, STATE_FILES } from './state.js';

/** How the processes are looked for (tests pass their own). */
export interface OwnerProbe {
  /** the creating CLI still runs */
  creator(p: ProcessIdentity): boolean;
  /** a monitor that still runs, for this container */
  monitor(pid: number, id: string): boolean;
  /** a `tsproc-helper run CONFIG` process (the helper, or the monitor it forks) runs */
  helper(configPath: string): boolean;
}

export interface Ownership {
  owned: boolean;
  /** the pid its monitor wrote, if it got that far */
  monitorPid?: number;
}

/** A monitor that still runs, for this container (a reused pid runs something else; a zombie has no cmdline). */
export function monitorRunning(pid: number, id: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(id);
  } catch {
    return false;
  }
}

/** A process started as `tsproc-helper run CONFIG`: the helper, the monitor it forked, or the container before its execve. */
export function helperRunning(configPath: string): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone
    }
    if (basename(argv[0] ?? '') === 'tsproc-helper' && argv[1] === 'run' && argv[2] === configPath) return true;
  }
  return false;
}

export const hostOwners: OwnerProbe = { creator: isRunning, monitor: monitorRunning, helper: helperRunning };

const readPid = (file: string) => {
  try {
    return Number(readFileSync(file, 'utf8')) || undefined;
  } catch {
    return undefined;
  }
};

/**
 * Who owns the container now. The monitor's pid file, once written, decides. Without it, a creator that
 * runs owns it. A creator seen gone starts nothing more, so any helper it started was started with the
 * config it wrote before (and that only cleanup removes): if the config is there, the helper or its
 * monitor is looked for, then the pid file once more, for a monitor that wrote it while we looked.
 */
export function ownership(roots: Roots, record: ContainerRecord, probe: OwnerProbe = hostOwners): Ownership {
  const state = paths.container(roots, record.id);
  const creating = record.creator !== undefined && probe.creator(record.creator);
  const pidFile = `${state}/${STATE_FILES.monitorPid}`;
  let monitorPid = readPid(pidFile);
  if (monitorPid === undefined && !creating) {
    const config = `${state}/${STATE_FILES.helperConfig}`;
    if (existsSync(config) && probe.helper(config)) return { owned: true };
    monitorPid = readPid(pidFile);
  }
  if (monitorPid !== undefined) return { owned: probe.monitor(monitorPid, record.id), monitorPid };
  return { owned: creating };
}
