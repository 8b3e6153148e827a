// The runner's containers as the image store sees them (ContainerRefs: rmi refuses an image a container
// uses, gc removes exited containers), and the removal `tsproc rm` and gc share.
import { TsprocError } from '../src/errors.js';
import { monitorRunning } from './container-owner.js';
import { type ContainerInfo, listContainers } from './containers.js';
import type { ContainerRefs } from './image/index.js';
import { shortId } from './names.js';
import { contentBytes } from './tree/tree-bytes.js';
import { paths, type Roots } from './roots.js';
import { removeRecord, tearDown } from './teardown.js';

/** Running, or being created (by a live `run` or its monitor): neither it nor what it uses may be touched. */
export const isLive = (i: ContainerInfo) => i.status === 'running' || i.status === 'created';

/** "is running: stop it first", or for one being set up, who sets it up. */
export function liveError(info: ContainerInfo, hint = ''): TsprocError {
  const { id, name, creator } = info.record;
  const what =
    info.status === 'created'
      ? `is being created${creator && info.monitorPid === undefined ? ` by tsproc run (pid ${creator.pid})` : ''}: wait for it`
      : 'is running: stop it first';
  return new TsprocError(`container ${name} (${shortId(id)}) ${what}${hint}`, { code: 'EBUSY' });
}

/**
 * Removes a container that ended or never started: what it left on the host, unless its monitor still
 * runs and removes that itself (cgroups, state: teardown.ts), then its record directory (record, exit
 * status, log, and for an image its init and writable layers or its vfs copy) and its name. Returns
 * the bytes of file content that went.
 */
export function removeContainerRecord(roots: Roots, info: ContainerInfo): number {
  if (isLive(info)) throw liveError(info);
  const bytes = contentBytes(paths.record(roots, info.record.id));
  if (info.monitorPid === undefined || !monitorRunning(info.monitorPid, info.record.id)) tearDown(roots, info.record);
  removeRecord(roots, info.record);
  return bytes;
}

/** The runner's container store, for rmi and gc. */
export function containerStore(roots: Roots): ContainerRefs {
  return {
    list: () =>
      listContainers(roots).map((i) => ({ id: i.record.id, name: i.record.name, image: i.record.plan.image?.id, running: isLive(i) })),
    remove: (id) => {
      const info = listContainers(roots).find((i) => i.record.id === id);
      return info ? removeContainerRecord(roots, info) : 0;
    },
  };
}
