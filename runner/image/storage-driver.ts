// overlayfs or vfs for a container's root: overlayfs unless the kernel lacks it, the container's directory is on
// a filesystem that cannot hold an overlay upper layer (overlayfs itself, NFS, FUSE, ...), or the layers are too
// many for one mount's options; then vfs, a full copy, said in a message. `--storage-driver` forces a choice.
// Chosen while planning (runner/image-run.ts), before the container's directory exists.
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { release } from 'node:os';
import { dirname } from 'node:path';
import { TsprocError } from '../../src/errors.js';

export type StorageDriver = 'overlay' | 'vfs';

/** statfs f_type values (linux/magic.h) of filesystems overlayfs refuses as upper (and work) directory. */
const NO_UPPER: Record<number, string> = {
  0x794c7630: 'overlayfs',
  0x6969: 'NFS',
  0x65735546: 'FUSE',
  0xf15f: 'eCryptfs',
  0xff534d42: 'CIFS',
  0xfe534d42: 'SMB2',
  0x4d44: 'FAT',
  0x2011bab0: 'exFAT',
  0x5346544e: 'NTFS',
  0x7366746e: 'NTFS',
};

/** mount(2) takes at most a page of options; keep clear of it. */
export const MAX_MOUNT_DATA = 4000;

export interface DriverChoice {
  driver: StorageDriver;
  /** why vfs was chosen automatically; undefined when overlay, or when forced */
  reason?: string;
}

/** `containerDir` need not exist yet: the filesystem it will be made on is looked at (its nearest existing ancestor). */
export function chooseDriver(containerDir: string, mountData: number, forced?: StorageDriver): DriverChoice {
  const problem = overlayProblem(containerDir, mountData);
  if (forced === 'vfs') return { driver: 'vfs' };
  if (forced === 'overlay') {
    if (problem) throw new TsprocError(`--storage-driver overlay: ${problem}`, { code: 'EINVAL', path: containerDir });
    return { driver: 'overlay' };
  }
  return problem
    ? { driver: 'vfs', reason: `${problem}: using the vfs storage driver (a full copy of the image for this container)` }
    : { driver: 'overlay' };
}

function overlayProblem(containerDir: string, mountData: number): string | undefined {
  if (!overlayInKernel()) return 'overlayfs is not available in this kernel';
  const type = statfsSync(nearestExisting(containerDir)).type;
  const fs = NO_UPPER[type];
  if (fs) return `${containerDir} is on ${fs}, which cannot hold an overlayfs upper directory`;
  if (mountData > MAX_MOUNT_DATA)
    return `the image has too many layers for one overlayfs mount (${mountData} bytes of options, the limit is a page)`;
  return undefined;
}

function nearestExisting(path: string): string {
  while (!existsSync(path) && dirname(path) !== path) path = dirname(path);
  return path;
}

function overlayInKernel(): boolean {
  try {
    if (/\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) return true;
  } catch {
    // no /proc: ask the module directory
  }
  return existsSync(`/lib/modules/${release()}/kernel/fs/overlayfs`);
}
