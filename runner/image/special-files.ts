// What Node cannot do itself, done by the system's tools: device nodes and FIFOs (mknod, coreutils) and
// extended attributes (setfattr, Debian package `attr`), each failure named with its path and the tool's words.
import { spawnSync } from 'node:child_process';
import { TsprocError, shortPath } from '../../src/errors.js';

/** `path` is what the tool is given (maybe a descriptor's short path), `shown` what a message names. */
function tool(cmd: string, args: string[], shown: string, what: string): void {
  const path = shortPath(shown);
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    const hint = missing ? `${cmd} is not installed${cmd === 'setfattr' ? ' (Debian package attr)' : ''}` : r.error.message;
    throw new TsprocError(`${what} \`${path}\`: ${hint}`, { code: missing ? 'ENOENT' : undefined, path, syscall: cmd });
  }
  // the tool names what it was given: a descriptor's short path (runner/tree/dir-cursor.ts) says less than `path`
  const words = r.stderr.trim().replace(/\/proc\/\d+\/fd\/\d+\//g, '');
  if (r.status !== 0) throw new TsprocError(`${what} \`${path}\`: ${cmd}: ${words || `exit status ${r.status}`}`, { path, syscall: cmd });
}

export type NodeType = 'c' | 'b' | 'p';

/** mknod(2) with an exact mode: a character or block device (major, minor) or a FIFO. */
export function makeNode(path: string, type: NodeType, mode: number, major = 0, minor = 0, shown = path): void {
  const args = ['-m', (mode & 0o7777).toString(8), path, type, ...(type === 'p' ? [] : [String(major), String(minor)])];
  tool('mknod', args, shown, 'mknod');
}

/** An overlayfs whiteout: a character device 0/0 hides the name in every lower layer. */
export function makeWhiteout(path: string, shown = path): void {
  makeNode(path, 'c', 0, 0, 0, shown);
}

/** trusted.overlay.opaque=y: overlayfs shows nothing of the lower layers' content in these directories. */
export function markOpaque(dirs: string[], shown = dirs): void {
  for (let i = 0; i < dirs.length; i += 200) {
    const batch = dirs.slice(i, i + 200);
    tool('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', '--', ...batch], shown[i]!, 'marking opaque');
  }
}
