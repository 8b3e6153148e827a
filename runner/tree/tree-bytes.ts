// Bytes of file content under a directory, as image and container sizes are counted: regular files, a hard-linked
// file once; walked by descriptor (any depth), links not followed, other filesystems not entered.
import { lstatSync } from 'node:fs';
import { walkTree } from './walk-tree.js';

export function contentBytes(dir: string): number {
  if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return 0;
  const seen = new Set<number>();
  let total = 0;
  walkTree(dir, {
    entry: (cursor, _name, st) => {
      if (st.isFile() && !seen.has(st.ino)) {
        if (st.nlink > 1) seen.add(st.ino);
        total += st.size;
      }
      return st.isDirectory() && st.dev === cursor.rootDev;
    },
  });
  return total;
}
