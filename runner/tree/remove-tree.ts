// Removes a file or a whole tree at any depth: fs.rmSync recurses on the JavaScript stack (a few thousand levels
// overflow it) and names entries by paths that fail past PATH_MAX. Walked by descriptor instead; a symbolic link is
// removed, never followed; another filesystem mounted inside is refused, not emptied. Missing: nothing to do.
import { lstatSync, rmdirSync, unlinkSync } from 'node:fs';
import { shortPath, wrapError } from '../../src/errors.js';
import { named } from './dir-cursor.js';
import { walkTree } from './walk-tree.js';

/** Passes over a directory that keeps getting entries (a writer still finishing): then it is an error. */
const PASSES = 3;

/** `path` and everything under it; `shown` names it in messages (when `path` is a descriptor's short path). */
export function removeTree(path: string, shown = path): void {
  try {
    const st = named(shown, () => lstatSync(path, { throwIfNoEntry: false }));
    if (!st) return;
    if (!st.isDirectory()) return void named(shown, () => gone(() => unlinkSync(path)));
    for (let pass = 1; ; pass++) {
      walkTree(
        path,
        {
          entry: (cursor, name, s) => s.isDirectory() || void cursor.do(name, (p) => gone(() => unlinkSync(p))),
          // not empty: something was added meanwhile, which the next pass takes
          leave: (cursor, name) => cursor.do(name, (p) => gone(() => rmdirSync(p), 'ENOTEMPTY')),
        },
        shown,
      );
      const left = named(shown, () => gone(() => rmdirSync(path), pass < PASSES ? 'ENOTEMPTY' : undefined));
      if (left !== 'ENOTEMPTY') return;
    }
  } catch (err) {
    throw wrapError(err, `removing ${shortPath(shown)}`);
  }
}

/** Removal where the entry being gone already is no error; an error coded `also` is returned, not thrown. */
function gone(op: () => void, also?: string): string | undefined {
  try {
    op();
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code !== undefined && code === also) return code;
    throw err;
  }
}
