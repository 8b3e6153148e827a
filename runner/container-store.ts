// The runner's containers as the image store sees them (ContainerRefs: rmi refuses an image a container
// uses, gc removes exited containers), and the removal `tsproc rm` and gc share.
import { TsprocError } from '../src/errors.js';
import { type ContainerInfo, listContainers } from './containers.js';
import { type ContainerRefs, removeContainerRoot } from './image/index.js';
import { shortId } from './names.js';
import { removeTree } from './tree/remove-tree.js';
import { contentBytes } from './tree/tree-bytes.js';
import { paths, type Roots } from './roots.js';
import { releaseName } from './state.js';

/** Running, or being created: neither it nor what it uses may be touched. */
export const isLive = (i: ContainerInfo) => i.status === 'running' || i.status === 'created';

/**
 * Removes a container that ended: its record directory (record, exit status, log, and for an image its
 * init and writable layers or its vfs copy) and its name. Returns the bytes of file content that went.
 */
export function removeContainerRecord(roots: Roots, info: ContainerInfo): number {
  const { id, name } = info.record;
  if (isLive(info)) throw new TsprocError(`container ${name} (${shortId(id)}) is running: stop it first`, { code: 'EBUSY' });
  const dir = paths.record(roots, id);
  const bytes = contentBytes(dir);
  // its root first: refused (EBUSY) while someone has it mounted on the host, rather than walked into
  if (info.record.plan.image) removeContainerRoot(dir);
  removeTree(dir);
  releaseName(roots, name, id); // only while the name is still this container's
  return bytes;
}

/** The runner's container store, for rmi and gc. */
export function containerStore(roots: Roots): ContainerRefs {
  return {
    list: () => listContainers(roots).map((i) => ({ id: i.record.id, name: i.record.name, image: i.record.plan.image?.id, running: isLive(i) })),
    remove: (id) => {
      const info = listContainers(roots).find((i) => i.record.id === id);
      return info ? removeContainerRecord(roots, info) : 0;
    },
  };
}
