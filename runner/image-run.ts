// `tsproc run IMAGE`: the image found in the store for planning, and the container's root prepared from it
// in the container's record directory (docs/images.md, "A container's root"). Loaded only for a run from
// an image: the store's modules (node:crypto, streams) are a tenth of a --rootfs run's start (issue 13).
import { TsprocError, wrapError } from '../src/errors.js';
import { prepareContainerRoot } from './image/prepare-root.js';
import { ImageStore } from './image/store.js';
import type { ImageSource } from './plan-from-flags.js';
import type { RunPlan } from './plan.js';
import { paths, type Roots } from './roots.js';

/** The image `ref` names, for planning a container whose root will be prepared in its record directory. */
export function findImage(roots: Roots, ref: string, id: string): ImageSource {
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
  return { id: image.id, ref, config: image.config.run, layers: store.layerDirs(image), containerDir: paths.record(roots, id) };
}

/**
 * The container's root from its image, in DATA/containers/ID: the init layer with the runner's /etc
 * files, the writable layer (not with --read-only), or a vfs copy. Returns the plan with the root
 * as prepared and the driver used; says on `warn` why vfs was chosen.
 */
export function prepareImageRoot(plan: RunPlan, roots: Roots, etc: Record<string, string>, warn: (m: string) => void): RunPlan {
  const image = plan.image!;
  try {
    const c = prepareContainerRoot(new ImageStore(roots.dataRoot), image.id, {
      containerDir: paths.record(roots, plan.id),
      etc: { hosts: etc.hosts ?? '', hostname: etc.hostname ?? plan.hostname, resolvConf: etc['resolv.conf'] ?? '' },
      readOnly: plan.readonlyRoot,
      ...(image.driver ? { storageDriver: image.driver } : {}),
    });
    if (c.notice) warn(c.notice);
    return { ...plan, root: c.root, image: { ...image, driver: c.root.kind === 'overlay' ? 'overlay' : 'vfs' } };
  } catch (err) {
    throw wrapError(err, `cannot prepare the container's root from the image ${image.ref}`, { exitCode: 125 });
  }
}
