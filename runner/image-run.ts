// `tsproc run IMAGE`: which root the arguments name, the image found in the store and its storage driver
// chosen for planning, and the container's root prepared as planned in the container's record directory
// (docs/images.md, "A container's root").
import { TsprocError, wrapError } from '../src/errors.js';
import { checkStorageDriver } from './flag-values.js';
import { chooseDriver, overlayMountData, overlayRoot, prepareContainerRoot } from './image/prepare-root.js';
import { ImageStore } from './image/store.js';
import type { ImageSource, RunFlags } from './plan-from-flags.js';
import type { RunPlan } from './plan.js';
import { paths, type Roots } from './roots.js';

const usage = (message: string) => new TsprocError(message, { code: 'EINVAL', exitCode: 125 });

/**
 * `run [OPTIONS] IMAGE [CMD...]` or `run [OPTIONS] --rootfs DIR [--] CMD...`: the image (undefined with
 * --rootfs) and the command. With --rootfs every argument is the command, whatever images the store
 * holds (a script's `--rootfs DIR sh -c ...` must not change meaning when an image named sh is imported).
 */
export function splitRunArgs(rootfs: string | undefined, args: string[]): { image?: string; cmd: string[] } {
  if (rootfs !== undefined) return { cmd: args };
  if (args.length === 0 || args[0] === '')
    throw usage('no image given: tsproc run [OPTIONS] IMAGE [CMD [ARG...]], or tsproc run [OPTIONS] --rootfs DIR CMD [ARG...]');
  return { image: args[0]!, cmd: args.slice(1) };
}

/**
 * The image `ref` names, for planning a container whose root will be prepared in its record directory, with
 * its storage driver: --storage-driver's, or overlayfs where it works (else vfs, said on `warn`, as docker
 * says it). Refused here, before anything is made: overlay forced where it cannot work.
 */
export function findImage(
  roots: Roots,
  ref: string,
  id: string,
  flags: Pick<RunFlags, 'storageDriver' | 'readOnly'>,
  warn: (m: string) => void,
): ImageSource {
  const forced = checkStorageDriver('--storage-driver', flags.storageDriver);
  const store = new ImageStore(roots.dataRoot);
  let image;
  try {
    image = store.resolve(ref);
  } catch (err) {
    const e = err as TsprocError;
    const hint =
      e.code === 'ENOENT' ? ' (tsproc images lists them; tsproc image import adds one; a directory is run with --rootfs DIR)' : '';
    throw new TsprocError(`${e.message}${hint}`, { code: e.code ?? 'ENOENT', exitCode: 125 });
  }
  const containerDir = paths.record(roots, id);
  const layers = store.layerDirs(image);
  let driver;
  try {
    const mountData = overlayMountData(overlayRoot(containerDir, layers, flags.readOnly ?? false));
    driver = chooseDriver(containerDir, mountData.length, forced);
  } catch (err) {
    throw wrapError(err, `cannot prepare the container's root from the image ${ref}`, { exitCode: 125 });
  }
  if (driver.reason) warn(driver.reason);
  return { id: image.id, ref, config: image.config.run, layers, containerDir, driver: driver.driver };
}

/**
 * The container's root as its plan says, in DATA/containers/ID: the init layer with the runner's /etc
 * files, the writable layer (not with --read-only), or a vfs copy. Changes nothing in the plan.
 */
export function prepareImageRoot(plan: RunPlan, roots: Roots, etc: Record<string, string>): void {
  const image = plan.image!;
  try {
    prepareContainerRoot(new ImageStore(roots.dataRoot), image.id, {
      containerDir: paths.record(roots, plan.id),
      etc: { hosts: etc.hosts ?? '', hostname: etc.hostname ?? plan.hostname, resolvConf: etc['resolv.conf'] ?? '' },
      root: plan.root,
    });
  } catch (err) {
    throw wrapError(err, `cannot prepare the container's root from the image ${image.ref}`, { exitCode: 125 });
  }
}
