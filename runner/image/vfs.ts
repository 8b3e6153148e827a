// The vfs storage driver: the image's layers copied, bottom first, into one directory, with whiteouts and opaque
// directories applied as overlayfs would, then the init layer. Slower and bigger than overlayfs, and works on any
// filesystem. Nothing is followed: every existing path is lstat'ed, and a link or file in the way is removed.
import {
  chmodSync, chownSync, constants, copyFileSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync,
  readlinkSync, rmSync, symlinkSync, utimesSync, type Stats,
} from 'node:fs';
import { join } from 'node:path';
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
  for (const layer of layers) {
    for (const o of layer.opaques) emptyDir(join(target, o));
    copyTree(layer.dir, target, new Map());
  }
}

function emptyDir(dir: string): void {
  if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/** Merge src's tree over dst's, as an upper layer over a lower; `links` maps inodes to their first copy. */
function copyTree(src: string, dst: string, links: Map<number, string>): void {
  const st = lstatSync(src);
  for (const name of readdirSync(src)) {
    const from = join(src, name);
    const to = join(dst, name);
    const s = lstatSync(from);
    const existing = lstatSync(to, { throwIfNoEntry: false });
    if (isWhiteout(s)) {
      rmSync(to, { recursive: true, force: true });
      continue;
    }
    if (existing && !(existing.isDirectory() && s.isDirectory())) rmSync(to, { recursive: true, force: true });
    if (s.isDirectory()) {
      if (!existing?.isDirectory()) mkdirSync(to, { mode: 0o700 });
      copyTree(from, to, links);
      continue;
    }
    if (s.isFile() && s.nlink > 1 && links.has(s.ino)) {
      linkSync(links.get(s.ino)!, to);
      continue;
    }
    if (s.isSymbolicLink()) {
      symlinkSync(readlinkSync(from), to);
      lchownSync(to, s.uid, s.gid);
      lutimesSync(to, s.atime, s.mtime);
      continue;
    }
    if (s.isFile()) copyFileSync(from, to, constants.COPYFILE_FICLONE);
    else if (s.isFIFO() || s.isCharacterDevice() || s.isBlockDevice()) makeNode(to, s.isFIFO() ? 'p' : s.isBlockDevice() ? 'b' : 'c', 0o600, (s.rdev >> 8) & 0xfff, (s.rdev & 0xff) | ((s.rdev >> 12) & 0xfff00));
    else continue; // sockets: nothing to copy
    if (s.nlink > 1) links.set(s.ino, to);
    setMeta(to, s);
  }
  setMeta(dst, st);
}

function setMeta(path: string, s: Stats): void {
  chownSync(path, s.uid, s.gid);
  chmodSync(path, s.mode & 0o7777); // after chown, which clears setuid and setgid
  utimesSync(path, s.atime, s.mtime);
}
