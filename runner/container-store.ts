// The runner's containers as the image store sees them (ContainerRefs: rmi refuses an image a container
// uses, gc removes exited containers), and the removal `tsproc rm` and gc share.
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TsprocError } from '../src/errors.js';
import { type ContainerInfo, listContainers } from './containers.js';
import { type ContainerRefs, removeContainerRoot } from './image/index.js';
import { shortId } from './names.js';
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
  rmSync(dir, { recursive: true, force: true });
  releaseName(roots, name, id); // only while the name is still this container's
  return bytes;
}

/** Bytes of regular files under dir (each hard-linked file once), as image sizes are counted; never follows a link. */
function contentBytes(dir: string): number {
  const seen = new Set<number>();
  let total = 0;
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const st = lstatSync(join(d, n), { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(join(d, n));
      else if (st?.isFile() && !seen.has(st.ino)) {
        if (st.nlink > 1) seen.add(st.ino);
        total += st.size;
      }
    }
  };
  walk(dir);
  return total;
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
