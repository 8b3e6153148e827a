// A second descriptor on a FUSE connection (FUSE_DEV_IOC_CLONE): the same requests, its own flags.
import { closeSync, constants, openSync } from 'node:fs';
import { libc } from '../src/libc.js';
import { logLine } from './log-line.js';

/** _IOR(229, 0, uint32_t): <linux/fuse.h>'s FUSE_DEV_IOC_CLONE. */
const FUSE_DEV_IOC_CLONE = 0x8004e500;

/**
 * A non-blocking clone of connection `fd`, for fs/poller.ts's spin; -1 (every read then blocks) where
 * it cannot be made, said once.
 */
export function nonBlockingClone(fd: number): number {
  let clone = -1;
  try {
    clone = openSync('/dev/fuse', constants.O_RDWR | constants.O_NONBLOCK);
    const { ioctlInt, errno } = libc();
    if (ioctlInt(clone, FUSE_DEV_IOC_CLONE, new Uint32Array([fd])) < 0) throw new Error(`ioctl FUSE_DEV_IOC_CLONE: errno ${errno()}`);
    return clone;
  } catch (err) {
    if (clone >= 0) closeSync(clone);
    logLine(`cannot clone the /dev/fuse descriptor (${(err as Error).message}): every worker read blocks`);
    return -1;
  }
}
