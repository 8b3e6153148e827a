// The run plan: what `tsproc run` will do, as plain data (built from flags by plan-from-flags.ts,
// carried out by executor.ts). Nothing here touches the system.
import type { Digest } from './image/digest.js';
import type { DirRoot, OverlayRoot, StorageDriver } from './image/prepare-root.js';
import type { SeccompOption } from './seccomp/container-filter.js';

/**
 * The root filesystem: a directory used in place (--rootfs, or an image's vfs copy), or an image's
 * layers under overlayfs (decided while planning; runner/image/prepare-root.ts makes either as
 * planned; mount-table.ts mounts it).
 */
export type RootSpec = DirRoot | OverlayRoot;

/** The image a container was made from. */
export interface PlanImage {
  id: Digest;
  /** as the user named it (a name, an id or a prefix): what `ps` shows */
  ref: string;
  /** the driver its root is made with, chosen while planning (runner/image-run.ts); absent only in a record
   *  of the previous release's whose `run` ended before it prepared the root */
  driver?: StorageDriver;
}

export interface UserSpec {
  uid: number;
  gid: number;
  /** supplementary groups, from the root's /etc/group */
  groups: number[];
  home: string;
}

export interface Volume {
  source: string;
  target: string;
  readonly: boolean;
  /** what the source is: the mount point created in the root is of the same kind */
  type: 'dir' | 'file';
}

export interface Limits {
  /** bytes */
  memory?: number;
  /** memory plus swap, docker's meaning; 'max' for unlimited swap */
  memorySwap?: number | 'max';
  /** fractional CPUs: the CFS quota over a 100 ms period */
  cpus?: number;
  /** a cpuset list, "0-2,4" */
  cpusetCpus?: string;
  pidsLimit?: number | 'max';
}

export interface ProcessSpec {
  args: string[];
  /** K=V, docker's defaults first, then --env-file, then -e (later entries win) */
  env: string[];
  cwd: string;
  user: UserSpec;
  tty: boolean;
  /** -i: our stdin reaches the container (through a pipe its monitor relays, or its terminal with -t); otherwise /dev/null */
  stdin: boolean;
  /** --init: a minimal init as PID 1 that reaps zombies and forwards signals */
  init: boolean;
}

export interface RunPlan {
  id: string;
  name: string;
  root: RootSpec;
  /** made from an image (its root: DATA/containers/ID/{init,upper,work,rootfs}); undefined for --rootfs */
  image?: PlanImage;
  readonlyRoot: boolean;
  hostname: string;
  net: 'none' | 'host';
  /** /etc/hosts entries beyond localhost (--add-host) */
  hosts: { name: string; ip: string }[];
  process: ProcessSpec;
  volumes: Volume[];
  /** where the lxcfs-compatible files are bound from, if --lxcfs */
  lxcfsRoot?: string;
  limits: Limits;
  /** relative to each hierarchy's root, e.g. "tsproc" */
  cgroupParent: string;
  /** capability names kept (CAP_ prefix), all of them with --privileged */
  capabilities: string[];
  privileged: boolean;
  noNewPrivs: boolean;
  /** --security-opt seccomp=: the default profile, none, or a file's (ignored with --privileged, as docker
   *  does); undefined in records from before seccomp, whose containers run without a filter */
  seccomp?: SeccompOption;
  /** --rm: remove its record, log and name when it ends (else they stay until `tsproc rm`) */
  autoRemove: boolean;
  /** -d: print the id and return; the container runs on under its monitor */
  detach: boolean;
  /** the log is rotated past this size (--log-opt max-size), so it holds at most twice as much */
  logMaxSize: number;
}
