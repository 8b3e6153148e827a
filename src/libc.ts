// The system calls Node lacks (mknodat, lsetxattr, pidfd_open, pidfd_getfd, ioctl, sched_yield, a read that
// does not throw), through the koffi FFI
// package: it ships its binary for each platform, so neither `npm install` nor the daemon needs a C
// compiler. Loaded at the first call: commands that need none of these never load it.
import { createRequire } from 'node:module';
import { errnoName, TsprocError } from './errors.js';

export interface Libc {
  /** syscall(2) with up to three arguments; -1 and errno on failure */
  syscall(nr: number, a: number, b: number, c: number): number;
  mknodat(dirfd: number, path: string, mode: number, dev: bigint): number;
  lsetxattr(path: string, name: string, value: Buffer, size: number, flags: number): number;
  /** ioctl(2) whose argument is one 32-bit integer in memory (FUSE_DEV_IOC_CLONE) */
  ioctlInt(fd: number, request: number, arg: Uint32Array): number;
  /** read(2): -1 and errno (EAGAIN on a non-blocking descriptor with nothing to read) rather than a thrown error */
  read(fd: number, buf: Buffer, size: number): number;
  /** sched_yield(2): let another thread that wants this CPU run */
  schedYield(): number;
  /** errno after the last call that failed */
  errno(): number;
}

let loaded: Libc | undefined;

export function libc(): Libc {
  if (loaded) return loaded;
  let koffi: (typeof import('koffi'))['default'];
  try {
    koffi = createRequire(import.meta.url)('koffi');
  } catch (err) {
    throw new TsprocError(`cannot load the koffi package (run npm install in the tsproc directory): ${(err as Error).message}`, {
      code: 'ENOENT',
      cause: err,
    });
  }
  const lib = koffi.load('libc.so.6');
  loaded = {
    syscall: lib.func('long syscall(long, long, long, long)'),
    mknodat: lib.func('int mknodat(int, const char *, uint32_t, uint64_t)'),
    lsetxattr: lib.func('int lsetxattr(const char *, const char *, const void *, size_t, int)'),
    ioctlInt: lib.func('int ioctl(int, unsigned long, _Inout_ uint32_t *)'),
    read: lib.func('long read(int, _Out_ uint8_t *, size_t)'),
    schedYield: lib.func('int sched_yield()'),
    errno: () => koffi.errno(),
  };
  return loaded;
}

/** A failed call's errno as a TsprocError naming the call and the path, as Node's own errors do. */
export function errnoError(n: number, syscall: string, path: string, what = `${syscall} ${path}`): TsprocError {
  const code = errnoName(n);
  return new TsprocError(`${what}: ${code ?? `errno ${n}`}`, { ...(code ? { code } : {}), syscall, path });
}

/** Linux's dev_t for (major, minor), as glibc's makedev(3) packs it. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}
