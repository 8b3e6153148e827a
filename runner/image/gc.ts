// `tsproc gc`: removes exited containers (their writable layers with them), images `rmi -f` hid once no container
// uses them, every layer no image uses, and what killed imports left in tmp/. Says what it freed.
import type { ContainerRefs } from './container-refs.js';
import type { Digest } from './digest.js';
import { Staging } from './staging.js';
import type { ImageStore } from './store.js';

export interface FreedLayer {
  diffId: Digest;
  size: number;
}

export interface GcResult {
  containers: Array<{ id: string; name: string; bytes: number }>;
  images: Digest[];
  layers: FreedLayer[];
  /** scratch directories of killed imports */
  scratch: number;
  /** layers were left alone because an import is running (it may be about to use them) */
  importRunning: boolean;
}

export async function collectGarbage(store: ImageStore, containers: ContainerRefs): Promise<GcResult> {
  const result: GcResult = { containers: [], images: [], layers: [], scratch: Staging.sweep(store.paths.tmp), importRunning: false };
  for (const c of await containers.list()) {
    if (c.running) continue;
    result.containers.push({ id: c.id, name: c.name, bytes: await containers.remove(c.id) });
  }
  const used = new Set((await containers.list()).map((c) => c.image));
  for (const image of store.images({ removed: true })) {
    if (image.removed && !used.has(image.id)) {
      store.removeImage(image.id);
      result.images.push(image.id);
    }
  }
  result.importRunning = Staging.live(store.paths.tmp, 'import').length > 0;
  if (!result.importRunning) result.layers = removeUnusedLayers(store);
  return result;
}

/** Every layer of the store no image (hidden ones included) has; none while an import runs. */
export function removeUnusedLayers(store: ImageStore): FreedLayer[] {
  if (Staging.live(store.paths.tmp, 'import').length > 0) return [];
  const used = new Set(store.images({ removed: true }).flatMap((i) => i.config.diffIds));
  const freed: FreedLayer[] = [];
  for (const diffId of store.layerIds()) {
    if (used.has(diffId)) continue;
    const size = store.hasLayer(diffId) ? store.layer(diffId).size : 0;
    store.removeLayer(diffId);
    freed.push({ diffId, size });
  }
  return freed;
}
