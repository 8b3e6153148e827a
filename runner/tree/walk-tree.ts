// A directory tree walked depth first without recursion: a loop over a stack of listed directories, one open
// descriptor (DirCursor), so neither the JavaScript stack nor PATH_MAX bounds the depth it can walk.
import type { Stats } from 'node:fs';
import { DirCursor } from './dir-cursor.js';

export interface TreeVisitor {
  /** An entry of the directory the cursor is in (gone ones are skipped); return true to go down into it. */
  entry(cursor: DirCursor, name: string, st: Stats): boolean | void;
  /** A directory gone down into, once everything under it was visited: the cursor is back in its parent. */
  leave?(cursor: DirCursor, name: string, st: Stats): void;
}

interface Frame {
  names: string[];
  next: number;
  /** the directory this frame lists, as its parent names it, and its status when it was entered */
  name: string;
  st: Stats | undefined;
}

/** Visits everything under `root` (a directory, not a link to one), parents before their entries. */
export function walkTree(root: string, visitor: TreeVisitor, shown = root): void {
  const cursor = DirCursor.open(root, shown);
  try {
    const frames: Frame[] = [{ names: cursor.list(), next: 0, name: '', st: undefined }];
    for (;;) {
      const top = frames[frames.length - 1]!;
      if (top.next < top.names.length) {
        const name = top.names[top.next++]!;
        const st = cursor.lstat(name);
        if (st && visitor.entry(cursor, name, st) === true && st.isDirectory()) {
          cursor.enter(name);
          frames.push({ names: cursor.list(), next: 0, name, st });
        }
        continue;
      }
      frames.pop();
      if (frames.length === 0) return;
      cursor.leave();
      visitor.leave?.(cursor, top.name, top.st!);
    }
  } finally {
    cursor.close();
  }
}
