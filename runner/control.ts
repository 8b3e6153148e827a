// Acting on a running container from the side: signals through its monitor's control FIFO (the
// monitor is its parent, so the pid it signals cannot have been reused), and waiting for its end.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, openSync, rmSync, writeSync } from 'node:fs';
import { constants as os } from 'node:os';
import { TsprocError } from '../src/errors.js';
import { monitorRunning } from './container-owner.js';
import { type ContainerInfo, findContainer, inspectContainer, readExit } from './containers.js';
import { shortId } from './names.js';
import { paths, type Roots } from './roots.js';
import { STATE_FILES } from './state.js';
import { settleDead } from './teardown.js';

/** "KILL", "SIGKILL", "kill" or "9" → 9. */
export function signalNumber(flag: string, value: string): number {
  if (/^[0-9]+$/.test(value) && Number(value) > 0 && Number(value) < 65) return Number(value);
  const name = value.toUpperCase().replace(/^SIG/, '');
  const n = (os.signals as Record<string, number>)[`SIG${name}`];
  if (n === undefined) throw new TsprocError(`${flag}: unknown signal ${JSON.stringify(value)}`, { code: 'EINVAL' });
  return n;
}

export function sendSignal(roots: Roots, info: ContainerInfo, sig: number): void {
  const notRunning = () => new TsprocError(`container ${info.record.name} (${shortId(info.record.id)}) is not running`, { code: 'ESRCH' });
  if (info.status !== 'running') throw notRunning();
  let fd: number;
  try {
    // non-blocking: with no reader (the monitor is gone) this fails at once with ENXIO
    fd = openSync(`${paths.container(roots, info.record.id)}/${STATE_FILES.control}`, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    throw notRunning();
  }
  try {
    writeSync(fd, `kill ${sig}\n`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Resolves when the container has ended and its monitor has cleaned up, or is gone without (dead, or
 * killed while cleaning up: teardown.ts finishes it); at the deadline, false.
 */
export async function waitForEnd(roots: Roots, id: string, timeoutMs = Infinity): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const info = inspectContainer(roots, id);
    if (!info || info.status === 'dead' || (info.status === 'exited' && !cleaning(roots, info))) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Its monitor recorded the exit and still removes what the container used. */
const cleaning = (roots: Roots, info: ContainerInfo) =>
  stateExists(roots, info.record.id) && info.monitorPid !== undefined && monitorRunning(info.monitorPid, info.record.id);

/**
 * Ends a live container for `rm -f`: SIGKILL through its monitor while it runs; one being created is
 * waited for, as its `run` owns it until its monitor takes over (or the run dies). Resolves with the
 * container as it is then, settled (undefined: its record went with it, --rm).
 */
export async function forceEnd(roots: Roots, id: string): Promise<ContainerInfo | undefined> {
  for (;;) {
    const info = inspectContainer(roots, id);
    if (info?.status === 'running') {
      try {
        sendSignal(roots, info, 9);
      } catch {
        /* it ended meanwhile */
      }
    }
    if (await waitForEnd(roots, id, 500)) {
      const now = inspectContainer(roots, id);
      return now && settleDead(roots, now);
    }
  }
}

/**
 * The exit status of a container, once it has ended and its monitor has cleaned up. Read through a
 * hard link to its state's `wait` file, which the monitor writes in place as it ends: with --rm the
 * record and the exit in it go at once, the link keeps what the monitor wrote.
 */
export async function waitForExit(roots: Roots, info: ContainerInfo): Promise<number> {
  const id = info.record.id;
  const link = `${paths.containers(roots)}/.wait-${id}-${randomBytes(4).toString('hex')}`;
  let linked = true;
  try {
    linkSync(`${paths.container(roots, id)}/${STATE_FILES.wait}`, link);
  } catch {
    linked = false; // it has ended and its state is gone already: its record says how
  }
  try {
    await waitForEnd(roots, id);
    const seen = linked ? readExit(link) : undefined;
    if (seen) return seen.code;
  } finally {
    if (linked) rmSync(link, { force: true });
  }
  // its record (a dead one is settled as lost: 137); with --rm and no link, it is gone: no such container
  return settleDead(roots, findContainer(roots, id)).exit?.code ?? 137;
}

function stateExists(roots: Roots, id: string): boolean {
  try {
    closeSync(openSync(paths.container(roots, id), 'r'));
    return true;
  } catch {
    return false;
  }
}
