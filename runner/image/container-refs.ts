// What the image store needs to know of containers (rmi refuses images in use, gc removes exited containers):
// the runner's container store implements this; tests use a fake.
import type { Digest } from './digest.js';

export interface ContainerRef {
  id: string;
  name: string;
  /** the id of the image the container was made from; undefined for a `--rootfs` container */
  image: Digest | undefined;
  running: boolean;
}

export interface ContainerRefs {
  /** every container tsproc keeps, running or exited */
  list(): ContainerRef[] | Promise<ContainerRef[]>;
  /** remove an exited container: its record and its directory (writable layer included); says how many bytes went */
  remove(id: string): number | Promise<number>;
}

/** No container store (yet): nothing uses an image. */
export const noContainers: ContainerRefs = { list: () => [], remove: () => 0 };
