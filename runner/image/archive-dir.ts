// Files inside an image layout or an unpacked archive, read as the hostile input they may be: only regular files
// that stay inside it are blobs, opened without blocking, never read past the size their descriptor declares.
//
// A path is followed one part at a time from a descriptor of the top (runner/tree/dir-cursor.ts's `at()`). A relative
// symbolic link is followed while it stays inside (docker save links a layer two of its images share); one that is
// absolute or climbs out is refused, and so is anything but a regular file (a FIFO would block the import, a device
// such as /dev/zero would never end, and opening some devices acts): lstat says what it is before it is opened, and
// the open itself (O_NONBLOCK|O_NOFOLLOW, then fstat) holds if it was swapped meanwhile.
import { closeSync, constants, createReadStream, fstatSync, lstatSync, openSync, readSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TsprocError, wrapError } from '../../src/errors.js';
import { at } from '../tree/dir-cursor.js';
import { checkSize } from './digest.js';

/** The most a JSON document of an image (index, manifest, config) may have: docker takes 4 MiB manifests. */
export const MAX_JSON = 16 << 20;
/** Symbolic links followed for one path, as the kernel's MAXSYMLINKS. */
const MAX_LINKS = 40;

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const FILE_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

export interface OpenFile {
  fd: number;
  size: number;
}

const parts = (path: string) => path.split('/').filter((p) => p !== '' && p !== '.');

function kind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

export class ArchiveDir {
  /** `dir` is a real directory (not a link); `noun` names it in messages: the layout, the archive. */
  constructor(
    readonly dir: string,
    readonly noun: 'layout' | 'archive',
  ) {}

  /** Whether `rel` names a file inside (other trouble is left for open() to report). */
  has(rel: string): boolean {
    try {
      closeSync(this.open(rel, '').fd);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }

  /** `rel` opened for reading: a regular file inside, or a refusal `WHAT: REL: why`. */
  open(rel: string, what: string): OpenFile {
    const fail = (why: string, code: string) =>
      new TsprocError(`${what ? `${what}: ` : ''}${rel}: ${why}`, { code, path: join(this.dir, rel) });
    const wanted = parts(rel).join('/');
    const dirs = [openSync(this.dir, DIR_FLAGS)];
    const names: string[] = [];
    let followed: string | undefined;
    try {
      const todo = parts(rel);
      let links = 0;
      while (todo.length > 0) {
        const part = todo.shift()!;
        if (part === '..') {
          if (dirs.length === 1) throw fail(followed ?? `leads outside the ${this.noun}: refused`, 'EINVAL');
          closeSync(dirs.pop()!);
          names.pop();
          continue;
        }
        const path = at(dirs[dirs.length - 1]!, part);
        const st = lstatSync(path, { throwIfNoEntry: false });
        if (!st) throw fail(`not in the ${this.noun}`, 'ENOENT');
        if (st.isSymbolicLink()) {
          if (++links > MAX_LINKS) throw fail('too many symbolic links', 'ELOOP');
          const link = [...names, part].join('/');
          const target = readlinkSync(path);
          followed = `${link === wanted ? '' : `${link} is `}a symbolic link to ${target}, outside the ${this.noun}: refused`;
          if (target.startsWith('/')) throw fail(followed, 'EINVAL');
          todo.unshift(...parts(target));
          continue;
        }
        if (todo.length > 0) {
          if (!st.isDirectory()) throw fail(`${[...names, part].join('/')} is not a directory`, 'ENOTDIR');
          dirs.push(openSync(path, DIR_FLAGS));
          names.push(part);
          continue;
        }
        if (!st.isFile()) throw fail(`not a regular file (${kind(st)})`, 'EINVAL');
        const fd = openSync(path, FILE_FLAGS);
        const fst = fstatSync(fd);
        if (!fst.isFile()) {
          closeSync(fd);
          throw fail(`not a regular file (${kind(fst)})`, 'EINVAL');
        }
        return { fd, size: fst.size };
      }
      throw fail('not a regular file (a directory)', 'EISDIR');
    } catch (err) {
      throw err instanceof TsprocError ? err : wrapError(err, `${what ? `${what}: ` : ''}${rel}`, { path: join(this.dir, rel) });
    } finally {
      for (const d of dirs) closeSync(d);
    }
  }

  /**
   * A JSON document read whole: refused without a read if its size is not `declared` (when a descriptor says it)
   * or is more than MAX_JSON; never read past that size.
   */
  readSmall(rel: string, what: string, declared?: number): Buffer {
    const { fd, size } = this.open(rel, what);
    try {
      if (declared !== undefined) checkSize(what, declared, size);
      if (size > MAX_JSON)
        throw new TsprocError(`${what}: ${rel}: ${size} bytes: more than a JSON document may have (${MAX_JSON >> 20} MiB): refused`, {
          code: 'EFBIG',
        });
      const buf = Buffer.alloc(size + 1); // one more: a file that grew meanwhile shows
      let n = 0;
      while (n < buf.length) {
        const r = readSync(fd, buf, n, buf.length - n, n);
        if (r === 0) break;
        n += r;
      }
      if (n !== size)
        throw new TsprocError(`${what}: ${rel}: changed while it was read (${size} bytes, then ${n > size ? 'more' : n})`, {
          code: 'EBADMSG',
        });
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }

  /** A stream of `rel` that stops one byte past `limit`: a file grown past its declared size shows as a mismatch. */
  stream(rel: string, limit: number): Readable {
    const { fd } = this.open(rel, '');
    return createReadStream('', { fd, start: 0, end: limit });
  }
}
