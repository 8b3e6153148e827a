// A copy of another process's descriptor (pidfd_open(2) and pidfd_getfd(2), Linux 5.6), through the
// koffi FFI package, which ships its binary: how a new daemon takes a live /dev/fuse over.
import { closeSync } from 'node:fs';
import { errnoError, libc } from '../libc.js';

// The same numbers on every architecture (asm-generic's table, since 5.1)
const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_GETFD = 438;

/** Our own copy of descriptor `fd` of process `pid` (close-on-exec, like every descriptor Node opens). */
export async function copyDescriptor(pid: number, fd: number): Promise<number> {
  const { syscall: call, errno } = libc();
  const pidfd = call(SYS_PIDFD_OPEN, pid, 0, 0);
  if (pidfd < 0) throw errnoError(errno(), 'pidfd_open', `/proc/${pid}`);
  try {
    const copy = call(SYS_PIDFD_GETFD, pidfd, fd, 0);
    if (copy < 0) throw errnoError(errno(), 'pidfd_getfd', `/proc/${pid}/fd/${fd}`);
    return copy;
  } finally {
    closeSync(pidfd);
  }
}
