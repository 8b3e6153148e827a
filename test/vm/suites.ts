// The one list of compiled test files that `npm run test:cgroup2` runs inside the cgroup v2 VM.
//
// Only what depends on the cgroup layout runs there: under software emulation every file costs some
// 20 s to start and about 30 times its time on the host, and `.ci/run` must stay under 20 minutes.
// The FUSE protocol, the daemon's life cycle and the runner's side commands (mount.test, run-detach,
// run-lifecycle) do not read cgroups differently on v2, so they run on the host only; mount-readers
// runs in the guest for its kernel: Debian 12's 6.1 splices a direct-I/O file through read_iter;
// run-devices for the device rules: on pure v2 the BPF filter is the only device control there is
// (run-security's other attacks do not depend on the layout).
// cgroup2-layout checks the guest's kernel, not tsproc: a guard that the other files run on pure v2,
// not coverage of tsproc.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TsprocError } from '../../src/errors.js';

/** In order: the layout itself, the views (issue 3's v2 half), then the runner's v2 limits and device rules. */
export const GUEST_FILES = [
  'dist/test/vm/cgroup2-layout.test.js',
  'dist/test/integration/views.test.js',
  'dist/test/integration/views-flags.test.js',
  'dist/test/integration/views-swap.test.js',
  'dist/test/integration/run-limits.test.js',
  'dist/test/integration/run-lxcfs.test.js',
  'dist/test/integration/mount-readers.test.js',
  'dist/test/integration/run.test.js',
  'dist/test/integration/run-devices.test.js',
];

/** The files to run, in order; a missing file means the project was not built. */
export function guestTestFiles(root: string): string[] {
  for (const f of GUEST_FILES) {
    if (!existsSync(join(root, f))) {
      throw new TsprocError(`${f} is missing: run \`npm run build\` first`, { code: 'ENOENT', path: join(root, f) });
    }
  }
  return [...GUEST_FILES];
}
