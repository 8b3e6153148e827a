// The vfs storage driver: the image's layers copied, bottom first, into one directory, with whiteouts and opaque
// directories applied as overlayfs would, then the init layer. Slower and bigger than overlayfs, and works on any
// filesystem. Nothing is followed: every existing path is lstat'ed, and a link or file in the way is removed. Both
// trees are walked by descriptor (runner/tree), so a layer as deep as its paths allow is copied whole.
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  copyFileSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  type Stats,
} from 'node:fs';
import { DirCursor, at, named } from '../tree/dir-cursor.js';
import { removeTree } from '../tree/remove-tree.js';
import { walkTree } from '../tree/walk-tree.js';
import { makeNode } from './special-files.js';

export interface VfsLayer {
  /** the layer's tree */
  dir: string;
  /** directories (relative) whose lower content this layer hides */
  opaques: string[];
}

/** Builds the root in `target` (made, must not exist) from layers given bottom first. */
export function buildVfsRoot(layers: VfsLayer[], target: string): void {
  mkdirSync(target, { mode: 0o755 });
  const root = openSync(target, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    for (const layer of layers) {
      for (const o of layer.opaques) emptyOpaque(root, target, o);
      copyLayer(layer.dir, root, target);
    }
  } finally {
    closeSync(root);
  }
}

/**
 * Empties the root's directory at `rel` (an opaque directory of the layer about to be copied hides what the lower
 * layers put there). Each part of the way is entered without following a link: where a lower layer has a link or a
 * file instead of a directory there is nothing to empty (the layer's directory replaces it), and outside the root
 * is never reached.
 */
function emptyOpaque(root: number, target: string, rel: string): void {
  const dir = DirCursor.open(at(root, ''), target);
  try {
    for (const part of rel.split('/').filter((p) => p !== '')) {
      if (!dir.lstat(part)?.isDirectory()) return;
      dir.enter(part);
    }
    for (const name of dir.list()) removeTree(dir.path(name), dir.shown(name));
  } finally {
    dir.close();
  }
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/** Merge a layer's tree over the root's (open as `root`), as an upper layer over a lower. */
function copyLayer(layer: string, root: number, target: string): void {
  const dst = DirCursor.open(at(root, ''), target);
  /** hard-linked inodes of this layer -> their first copy, relative to the root */
  const links = new Map<number, string>();
  const rel: string[] = [];
  try {
    walkTree(layer, {
      entry: (src, name, s) => {
        const to = dst.path(name);
        const existing = dst.lstat(name);
        if (isWhiteout(s)) {
          removeTree(to, dst.shown(name));
          return false;
        }
        if (existing && !(existing.isDirectory() && s.isDirectory())) removeTree(to, dst.shown(name));
        if (s.isDirectory()) {
          if (!existing?.isDirectory()) dst.do(name, (p) => mkdirSync(p, { mode: 0o700 }));
          dst.enter(name);
          rel.push(name);
          return true;
        }
        dst.do(name, (p) => copyEntry(src.path(name), p, s, links, root, () => [...rel, name].join('/')));
        return false;
      },
      leave: (_src, name, s) => {
        dst.leave();
        rel.pop();
        dst.do(name, (p) => setMeta(p, s));
      },
    });
    named(target, () => setMeta(at(root, ''), lstatSync(layer)));
  } finally {
    dst.close();
  }
}

/** Copy one entry that is not a directory (`from` and `to` are short paths); `relTo()` is `to` below the root. */
function copyEntry(from: string, to: string, s: Stats, links: Map<number, string>, root: number, relTo: () => string): void {
  const first = s.nlink > 1 ? links.get(s.ino) : undefined;
  if (s.isFile() && first !== undefined) return linkSync(at(root, first), to);
  if (s.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to);
    lchownSync(to, s.uid, s.gid);
    lutimesSync(to, s.atime, s.mtime);
    return;
  }
  if (s.isFile()) copyFileSync(from, to, constants.COPYFILE_FICLONE);
  else if (s.isFIFO() || s.isCharacterDevice() || s.isBlockDevice())
    makeNode(
      to,
      s.isFIFO() ? 'p' : s.isBlockDevice() ? 'b' : 'c',
      0o600,
      (s.rdev >> 8) & 0xfff,
      (s.rdev & 0xff) | ((s.rdev >> 12) & 0xfff00),
    );
  else return; // sockets: nothing to copy
  if (s.nlink > 1) links.set(s.ino, relTo());
  setMeta(to, s);
}

function setMeta(path: string, s: Stats): void {
  chownSync(path, s.uid, s.gid);
  chmodSync(path, s.mode & 0o7777); // after chown, which clears setuid and setgid
  utimesSync(path, s.atime, s.mtime);
}
