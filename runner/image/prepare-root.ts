// The runner's entry point into images: the root a container's plan names (plannedRoot, with the driver chosen
// while planning), and that root made in the container's directory (init layer, writable layer, or a vfs copy).
//
//   CONTAINER_DIR/init/    the init layer (etc/hosts, etc/hostname, etc/resolv.conf, mount points)
//   CONTAINER_DIR/upper/   the container's writable layer (none with --read-only)
//   CONTAINER_DIR/work/    overlayfs's work directory (same filesystem as upper)
//   CONTAINER_DIR/rootfs/  where the root is mounted (overlay), or the root itself (vfs)
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsprocError, wrapError } from '../../src/errors.js';
import type { ImageConfig } from './image-config.js';
import { type EtcFiles, writeInitLayer } from './init-layer.js';
import type { StorageDriver } from './storage-driver.js';
import type { ImageRecord, ImageStore } from './store.js';
import { buildVfsRoot } from './vfs.js';
import { removeTree } from '../tree/remove-tree.js';

export type { EtcFiles } from './init-layer.js';
export { chooseDriver, type DriverChoice, type StorageDriver } from './storage-driver.js';

/** What the executor mounts at `target` (inside the container's mount namespace) before pivot_root. */
export interface OverlayRoot {
  kind: 'overlay';
  target: string;
  /** top first: the init layer, then the image's layers from the top one down */
  lowerdirs: string[];
  /** absent with --read-only: then the mount is read-only by itself */
  upperdir?: string;
  workdir?: string;
}

/** A directory used in place, as `--rootfs DIR` (the vfs driver's copy). */
export interface DirRoot {
  kind: 'dir';
  path: string;
}

export type PreparedRoot = OverlayRoot | DirRoot;

export interface PrepareOptions {
  /** the container's own directory (made if missing); its init/, upper/, work/ and rootfs/ must not exist */
  containerDir: string;
  etc: EtcFiles;
  /** the root as planned (plannedRoot): the overlay's directories are made, or the vfs copy is made at its path */
  root: PreparedRoot;
}

export interface ContainerRoot {
  root: PreparedRoot;
  image: ImageRecord;
  /** Entrypoint, Cmd, Env, WorkingDir, User: apply with applyImageConfig(config, overrides) */
  config: ImageConfig;
}

/**
 * The root a container of these layers (top first) gets in containerDir with the driver chosen (chooseDriver,
 * while planning): the overlay with the init layer on top (no upper when read-only), or the vfs copy's
 * directory, which prepareContainerRoot fills with the same files.
 */
export function plannedRoot(containerDir: string, layerDirs: string[], readOnly: boolean, driver: StorageDriver): PreparedRoot {
  return driver === 'overlay'
    ? overlayRoot(containerDir, layerDirs, readOnly)
    : { kind: 'dir', path: containerRootPaths(containerDir).rootfs };
}

/** `-o` for mount -t overlay (mount(2)'s data): lowerdir=...,upperdir=...,workdir=... */
export function overlayMountData(root: Pick<OverlayRoot, 'lowerdirs' | 'upperdir' | 'workdir'>): string {
  for (const d of [...root.lowerdirs, root.upperdir ?? '', root.workdir ?? '']) {
    if (/[,:\\]/.test(d))
      throw new TsprocError(`overlayfs cannot take the path ${JSON.stringify(d)} (it has , : or \\)`, { code: 'EINVAL', path: d });
  }
  return [`lowerdir=${root.lowerdirs.join(':')}`, ...(root.upperdir ? [`upperdir=${root.upperdir}`, `workdir=${root.workdir}`] : [])].join(
    ',',
  );
}

/**
 * Makes the root the plan says in containerDir: the init layer with the runner's /etc files, then the overlay's
 * writable layer and mount point, or the vfs copy of the layers and the init layer. Chooses nothing.
 */
export function prepareContainerRoot(store: ImageStore, ref: string, opts: PrepareOptions): ContainerRoot {
  const image = store.resolve(ref);
  const missing = image.config.diffIds.filter((d) => !store.hasLayer(d));
  if (missing.length > 0)
    throw new TsprocError(`image ${ref}: layer ${missing[0]} is missing from the store: import the image again`, { code: 'ENOENT' });
  const dir = opts.containerDir;
  const paths = containerRootPaths(dir);
  const root = opts.root;
  const target = root.kind === 'overlay' ? root.target : root.path;
  if (target !== paths.rootfs)
    throw new TsprocError(`the planned root ${target} is not the container's (${paths.rootfs})`, { code: 'EINVAL', path: target });
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeInitLayer(paths.init, opts.etc);
    if (root.kind === 'overlay') {
      mkdirSync(paths.rootfs, { mode: 0o755 });
      if (root.upperdir) {
        mkdirSync(paths.upper, { mode: 0o755 });
        mkdirSync(paths.work, { mode: 0o700 });
      }
    } else {
      const bottomFirst = [...image.config.diffIds].map((d) => ({ dir: store.paths.layerDiff(d), opaques: store.layer(d).opaques }));
      buildVfsRoot([...bottomFirst, { dir: paths.init, opaques: [] }], paths.rootfs);
    }
    return { root, image, config: image.config.run };
  } catch (err) {
    removeContainerRoot(dir);
    throw err instanceof TsprocError ? err : wrapError(err, `preparing the root of ${dir} from ${ref}`);
  }
}

/** The overlay a container of these layers (top first) gets in containerDir: the init layer on top, no upper when read-only. */
export function overlayRoot(containerDir: string, layerDirs: string[], readOnly: boolean): OverlayRoot {
  const paths = containerRootPaths(containerDir);
  return {
    kind: 'overlay',
    target: paths.rootfs,
    lowerdirs: [paths.init, ...layerDirs],
    ...(readOnly ? {} : { upperdir: paths.upper, workdir: paths.work }),
  };
}

export function containerRootPaths(containerDir: string): { init: string; upper: string; work: string; rootfs: string } {
  return {
    init: join(containerDir, 'init'),
    upper: join(containerDir, 'upper'),
    work: join(containerDir, 'work'),
    rootfs: join(containerDir, 'rootfs'),
  };
}

/** Removes what prepareContainerRoot made (the root must be unmounted first: refused while it is mounted). */
export function removeContainerRoot(containerDir: string): void {
  const paths = containerRootPaths(containerDir);
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === paths.rootfs);
  if (mounted)
    throw new TsprocError(`${paths.rootfs} is still mounted: unmount it before removing the container's root`, {
      code: 'EBUSY',
      path: paths.rootfs,
    });
  for (const d of Object.values(paths)) removeTree(d);
}
