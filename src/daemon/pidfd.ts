// A copy of another process's descriptor (pidfd_open(2) and pidfd_getfd(2), Linux 5.6), through the
// koffi FFI package, which ships its binary: how a new daemon takes a live /dev/fuse over.
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { TsprocError } from '../errors.js';

// The same numbers on every architecture (asm-generic's table, since 5.1)
const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_GETFD = 438;

type Syscall = (nr: number, a: number, b: number, c: number) => number;
interface Libc {
  call: Syscall;
  errno: () => number;
}
let libc: Libc | undefined;

async function loadLibc(): Promise<Libc> {
  if (libc) return libc;
  let koffi: (typeof import('koffi'))['default'];
  try {
    koffi = (await import('koffi')).default;
  } catch (err) {
    throw new TsprocError(`cannot load the koffi package (run npm install in the tsproc directory): ${(err as Error).message}`, { code: 'ENOENT', cause: err });
  }
  const lib = koffi.load('libc.so.6');
  libc = { call: lib.func('long syscall(long, long, long, long)') as Syscall, errno: () => koffi.errno() };
  return libc;
}

function errnoError(n: number, syscall: string, path: string): TsprocError {
  const code = Object.entries(constants.errno).find(([, v]) => v === n)?.[0];
  return new TsprocError(`${syscall} ${path}: ${code ?? `errno ${n}`}`, { ...(code ? { code } : {}), syscall, path });
}

/** Our own copy of descriptor `fd` of process `pid` (close-on-exec, like every descriptor Node opens). */
export async function copyDescriptor(pid: number, fd: number): Promise<number> {
  const { call, errno } = await loadLibc();
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
