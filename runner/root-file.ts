// A file of a container's root before it exists (/etc/passwd and /etc/group for -u), read from the host:
// the --rootfs directory, or the image's layers top down.
import { posix } from 'node:path';
import type { Probe } from './host-probe.js';
import type { RootSpec } from './plan.js';

/**
 * A file of the root, for the user database: the directory's, or the topmost layer's that has it
 * (a whiteout or a directory in a higher layer hides the lower ones, as overlayfs would).
 */
export function rootFile(root: RootSpec, rel: string, probe: Probe): string | undefined {
  if (root.kind === 'dir') return probe.readFile(posix.join(root.path, rel));
  for (const d of [...(root.upperdir ? [root.upperdir] : []), ...root.lowerdirs]) {
    const kind = probe.kind(posix.join(d, rel));
    if (kind === 'missing') continue;
    return kind === 'file' ? probe.readFile(posix.join(d, rel)) : undefined;
  }
  return undefined;
}
