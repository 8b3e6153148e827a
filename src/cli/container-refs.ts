// The containers rmi and gc must know about: the runner's container store.
import { containerStore } from '../../runner/container-store.js';
import type { ContainerRefs } from '../../runner/image/index.js';
import type { Roots } from '../../runner/roots.js';

export function containerRefs(roots: Roots): ContainerRefs {
  return containerStore(roots);
}
