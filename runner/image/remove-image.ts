// `tsproc rmi`: a name is untagged; an image loses its record when its last name goes (or when given by id), and
// with it every layer nothing else uses. An image a container uses is refused, or with -f hidden and left for gc.
import { TsprocError } from '../../src/errors.js';
import type { ContainerRefs } from './container-refs.js';
import type { Digest } from './digest.js';
import { type FreedLayer, removeUnusedLayers } from './gc.js';
import { normalizeName } from './reference.js';
import type { ImageStore } from './store.js';

export interface RmiResult {
  untagged: string[];
  deleted: Digest[];
  /** deleted from view with -f, kept until the containers using them are gone */
  hidden: Digest[];
  layers: FreedLayer[];
}

export async function removeImages(
  store: ImageStore,
  refs: string[],
  containers: ContainerRefs,
  opts: { force?: boolean } = {},
): Promise<RmiResult> {
  const result: RmiResult = { untagged: [], deleted: [], hidden: [], layers: [] };
  const users = await containers.list();
  for (const ref of refs) {
    const image = store.resolve(ref);
    const name = asName(ref);
    const byName = name !== undefined && image.names.includes(name);
    const goes = byName ? [name] : image.names;
    if (!byName && image.names.length > 1 && !opts.force) {
      throw new TsprocError(`image ${ref} has several names (${image.names.join(', ')}): remove them by name, or use -f`, {
        code: 'EBUSY',
      });
    }
    const last = goes.length >= image.names.length;
    const using = users.filter((c) => c.image === image.id);
    if (last && using.length > 0 && !opts.force) {
      const list = using.map((c) => `${c.name} (${c.id.slice(0, 12)}, ${c.running ? 'running' : 'exited'})`).join(', ');
      throw new TsprocError(
        `image ${ref} is used by container${using.length > 1 ? 's' : ''} ${list}: remove ${using.length > 1 ? 'them' : 'it'} first, or use -f`,
        { code: 'EBUSY' },
      );
    }
    for (const n of goes) {
      store.removeName(n);
      result.untagged.push(n);
    }
    if (!last) continue;
    if (using.length > 0) {
      store.setMeta(image.id, { imported: image.imported, source: image.source, removed: true });
      result.hidden.push(image.id);
    } else {
      store.removeImage(image.id);
      result.deleted.push(image.id);
    }
  }
  if (result.deleted.length > 0) result.layers = removeUnusedLayers(store);
  return result;
}

function asName(ref: string): string | undefined {
  try {
    return normalizeName(ref);
  } catch {
    return undefined;
  }
}
