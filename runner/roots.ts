// Where tsproc keeps state: --state-root (running containers, gone at reboot) and --data-root (what
// outlives a reboot: logs, exited containers' records, the image store). Global options or env.
import { posix } from 'node:path';

export const DEFAULT_STATE_ROOT = '/run/tsproc';
export const DEFAULT_DATA_ROOT = '/var/lib/tsproc-data';

export interface Roots {
  stateRoot: string;
  dataRoot: string;
}

/** The global options win over TSPROC_STATE_ROOT / TSPROC_DATA_ROOT, which win over the defaults. */
export function resolveRoots(opts: { stateRoot?: string; dataRoot?: string }, env: NodeJS.ProcessEnv = process.env): Roots {
  return {
    stateRoot: posix.resolve(opts.stateRoot || env.TSPROC_STATE_ROOT || DEFAULT_STATE_ROOT),
    dataRoot: posix.resolve(opts.dataRoot || env.TSPROC_DATA_ROOT || DEFAULT_DATA_ROOT),
  };
}

/**
 * Layout under the roots. STATE: what a running container needs (its monitor's files), gone with it.
 * DATA: its record, exit status and log, and its name, kept until `tsproc rm` or `gc` (or at once with
 * --rm); a container from an image has its root in its record directory too (init/, upper/, work/,
 * rootfs/: runner/image/prepare-root.ts); the image store lives at DATA/images, DATA/layers, DATA/tmp.
 */
export const paths = {
  containers: (r: Roots) => `${r.stateRoot}/containers`,
  container: (r: Roots, id: string) => `${r.stateRoot}/containers/${id}`,
  records: (r: Roots) => `${r.dataRoot}/containers`,
  record: (r: Roots, id: string) => `${r.dataRoot}/containers/${id}`,
  names: (r: Roots) => `${r.dataRoot}/names`,
  name: (r: Roots, name: string) => `${r.dataRoot}/names/${name}`,
  images: (r: Roots) => `${r.dataRoot}/images`,
  layers: (r: Roots) => `${r.dataRoot}/layers`,
  /** compiled seccomp filters (runner/seccomp/filter-cache.ts): gone at reboot, with the kernel they were for */
  seccompCache: (r: Roots) => `${r.stateRoot}/seccomp`,
};
