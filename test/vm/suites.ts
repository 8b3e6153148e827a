// The one list of compiled test files that `npm run test:cgroup2` runs inside the cgroup v2 VM.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TsprocError } from '../../src/errors.js';

/** Files that must exist (paths relative to the project root). */
export const GUEST_FILES = ['dist/test/vm/cgroup2-layout.test.js', 'dist/test/integration/mount.test.js'];

/** Integration tests taken whenever they exist: they detect the cgroup layout at run time. */
export const GUEST_PATTERNS = [/^views.*\.test\.js$/, /^run.*\.test\.js$/];
const PATTERN_DIR = 'dist/test/integration';

/** The files to run, in order; a missing required file means the project was not built. */
export function guestTestFiles(root: string): string[] {
  for (const f of GUEST_FILES) {
    if (!existsSync(join(root, f))) {
      throw new TsprocError(`${f} is missing: run \`npm run build\` first`, { code: 'ENOENT', path: join(root, f) });
    }
  }
  const found = readdirSync(join(root, PATTERN_DIR))
    .filter((name) => GUEST_PATTERNS.some((p) => p.test(name)))
    .sort()
    .map((name) => `${PATTERN_DIR}/${name}`);
  return [...GUEST_FILES, ...found.filter((f) => !GUEST_FILES.includes(f))];
}
