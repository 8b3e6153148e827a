// The runner's containers as the image store sees them (ContainerRefs: rmi refuses an image a container
// uses, gc removes exited containers). Settle them first (teardown.ts: settleContainers) to see dead ones
// as ps -a shows them.
import { inspectContainer, isLive, listContainers } from './containers.js';
import type { ContainerRefs } from './image/index.js';
import type { Roots } from './roots.js';
import { removeEnded } from './teardown.js';

/** The runner's container store, for rmi and gc. */
export function containerStore(roots: Roots): ContainerRefs {
  return {
    list: () =>
      listContainers(roots).map((i) => ({ id: i.record.id, name: i.record.name, image: i.record.plan.image?.id, running: isLive(i) })),
    remove: (id) => {
      const info = inspectContainer(roots, id);
      return info ? removeEnded(roots, info) : 0;
    },
  };
}
