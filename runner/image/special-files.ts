// What Node's fs cannot make: device nodes and FIFOs (mknodat(2)) and overlayfs's opaque mark (an extended
// attribute, lsetxattr(2)), called through koffi (src/libc.ts) rather than the system's mknod and setfattr
// tools: no process per node, and no tool the README's set-up does not install. Each failure names its path.
import { chmodSync } from 'node:fs';
import { shortPath } from '../../src/errors.js';
import { errnoError, libc, makedev } from '../../src/libc.js';

const AT_FDCWD = -100;
const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

export type NodeType = 'c' | 'b' | 'p';

/** mknod(2) with an exact mode (the umask does not apply): a character or block device (major, minor) or a FIFO. */
export function makeNode(path: string, type: NodeType, mode: number, major = 0, minor = 0, shown = path): void {
  const c = libc();
  const kind = type === 'p' ? S_IFIFO : type === 'b' ? S_IFBLK : S_IFCHR;
  if (c.mknodat(AT_FDCWD, path, kind | (mode & 0o7777), type === 'p' ? 0n : makedev(major, minor)) < 0) {
    const where = shortPath(shown);
    throw errnoError(c.errno(), 'mknod', where, `mknod \`${where}\``);
  }
  chmodSync(path, mode & 0o7777);
}

/** An overlayfs whiteout: a character device 0/0 hides the name in every lower layer. */
export function makeWhiteout(path: string, shown = path): void {
  makeNode(path, 'c', 0, 0, 0, shown);
}

const OPAQUE = Buffer.from('y');

/** trusted.overlay.opaque=y: overlayfs shows nothing of the lower layers' content in these directories. */
export function markOpaque(dirs: string[], shown = dirs): void {
  const c = libc();
  dirs.forEach((dir, i) => {
    if (c.lsetxattr(dir, 'trusted.overlay.opaque', OPAQUE, OPAQUE.length, 0) < 0) {
      const where = shortPath(shown[i]!);
      throw errnoError(c.errno(), 'lsetxattr', where, `marking opaque \`${where}\``);
    }
  });
}
