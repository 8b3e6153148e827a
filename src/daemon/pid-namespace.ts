// Whether the daemon may serve from the pid namespace it runs in: the host's (the initial one) only,
// unless --allow-nested-pid-namespace says this namespace is the host of the containers it serves.
import { readlinkSync } from 'node:fs';
import { TsprocError } from '../errors.js';

/**
 * The initial pid namespace's inode: a constant of the kernel's (PROC_PID_INIT_INO, 0xEFFFFFFC, in
 * include/linux/proc_ns.h); every other namespace gets one from PROC_DYNAMIC_FIRST (0xF0000000) up.
 */
export const INITIAL_PID_NAMESPACE = 0xeffffffc;

const FLAG = '--allow-nested-pid-namespace';

export type PidNamespaceVerdict = { serve: true; warning?: string } | { serve: false; message: string };

/**
 * `link` is what readlink /proc/self/ns/pid gave (`pid:[4026531836]`), or the error it failed with.
 * The kernel gives a FUSE daemon each reader's pid as seen from the daemon's own pid namespace, and 0
 * for a reader it cannot see there: from a child namespace every container's reader would be pid 0,
 * and all of them would get the host's figures, with nothing to say so.
 */
export function judgePidNamespace(link: string | Error, allowNested: boolean): PidNamespaceVerdict {
  const inode = typeof link === 'string' ? /^pid:\[(\d+)\]$/.exec(link)?.[1] : undefined;
  if (inode !== undefined && Number(inode) === INITIAL_PID_NAMESPACE) return { serve: true };
  const where =
    inode !== undefined
      ? `the daemon runs in a pid namespace that is not the host's (${link}; the host's is pid:[${INITIAL_PID_NAMESPACE}])`
      : `cannot tell which pid namespace the daemon runs in (readlink /proc/self/ns/pid: ${typeof link === 'string' ? `"${link}"` : ((link as NodeJS.ErrnoException).code ?? link.message)})`;
  if (allowNested)
    return {
      serve: true,
      warning: `warning: ${where}; started anyway (${FLAG}): readers outside it arrive as pid 0 and get the host's files`,
    };
  return {
    serve: false,
    message:
      `${where}: readers outside it would arrive as pid 0, and every container would get the host's figures. ` +
      `Run it in the host's pid namespace (docker run --pid host; Kubernetes: hostPID: true), ` +
      `or pass ${FLAG} if this namespace is the host of the containers it serves (a nested host)`,
  };
}

/** Refuses (exit 1) outside the host's pid namespace unless allowed; returns a warning to log, if any. */
export function checkPidNamespace(allowNested: boolean): string | undefined {
  let link: string | Error;
  try {
    link = readlinkSync('/proc/self/ns/pid');
  } catch (err) {
    link = err as Error;
  }
  const verdict = judgePidNamespace(link, allowNested);
  if (!verdict.serve) throw new TsprocError(verdict.message, { code: 'EPERM', path: '/proc/self/ns/pid' });
  return verdict.warning;
}
