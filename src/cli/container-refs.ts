// The containers rmi and gc must know about. Until the runner's container store lands there are none;
// the runner makes this return its store (which implements ContainerRefs from runner/image).
import { type ContainerRefs, noContainers } from '../../runner/image/index.js';
import type { Roots } from '../../runner/roots.js';

export function containerRefs(_roots: Roots): ContainerRefs {
  return noContainers;
}
