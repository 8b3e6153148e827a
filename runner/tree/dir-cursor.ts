// One open directory of a tree, and the way back up: walks a tree of any depth with one descriptor and short paths
// (`/proc/PID/fd/FD/NAME`: Node has no openat), never following a symbolic link, never into another filesystem.
//
// The kernel's PATH_MAX (4096) limits each path given to a system call, not the depth of a tree: a container can
// make a tree deeper than any path can name, and `fs.rmSync` or a walk that joins paths then fails. Here each call
// names one entry of a directory held open. Going up opens `..` and checks it is the directory we came from (by
// device and inode): a directory moved while we walk stops the walk rather than lead it elsewhere. chdir would do
// the same with relative names but is process-wide; holding a descriptor per level would run out of them.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { TsprocError, shortPath } from '../../src/errors.js';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * NAME in the directory open as FD, as a path any process may use (the tools tsproc runs too, which do not share
 * its descriptors but may read its /proc entry): short whatever the depth.
 */
export const at = (fd: number, name: string): string => `/proc/${process.pid}/fd/${fd}/${name}`;

/** `op()`, a Node error from it made to name `path`, the real one (shortened for a one-line message). */
export function named<T>(path: string | (() => string), op: () => T): T {
  try {
    return op();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e === 'object' && typeof e.path === 'string') e.path = shortPath(typeof path === 'string' ? path : path());
    throw err;
  }
}

interface Here {
  dev: number;
  ino: number;
}

export class DirCursor {
  #fd: number;
  #here: Here;
  readonly #root: string;
  /** the directories above this one, down from the root: where to come back to, and the names taken */
  readonly #up: Array<Here & { name: string }> = [];

  private constructor(root: string, fd: number) {
    this.#root = root;
    this.#fd = fd;
    const st = fstatSync(fd);
    this.#here = { dev: st.dev, ino: st.ino };
  }

  /** The directory at `path` (a directory itself, not a link to one). */
  static open(path: string, shown = path): DirCursor {
    return new DirCursor(
      shown,
      named(shown, () => openSync(path, DIR_FLAGS)),
    );
  }

  /** The device of the tree's root: the walk stays on it. */
  get rootDev(): number {
    return this.#up[0]?.dev ?? this.#here.dev;
  }

  get depth(): number {
    return this.#up.length;
  }

  /** NAME in the current directory, as a short path for a system call. */
  path(name: string): string {
    return at(this.#fd, name);
  }

  /** NAME's real path, for messages. */
  shown(name = ''): string {
    return join(this.#root, ...this.#up.map((u) => u.name), name);
  }

  /** `op(path(name))`, its error naming the real path. */
  do<T>(name: string, op: (path: string) => T): T {
    return named(
      () => this.shown(name),
      () => op(this.path(name)),
    );
  }

  /** The names in the current directory. */
  list(): string[] {
    return this.do('', (p) => readdirSync(p));
  }

  /** NAME's own status (a link is not followed); undefined if it is gone. */
  lstat(name: string): Stats | undefined {
    return this.do(name, (p) => lstatSync(p, { throwIfNoEntry: false }));
  }

  /** Go down into the directory NAME (a link to one is refused by the kernel: O_NOFOLLOW). */
  enter(name: string): void {
    const fd = this.do(name, (p) => openSync(p, DIR_FLAGS));
    const st = fstatSync(fd);
    if (st.dev !== this.rootDev) {
      closeSync(fd);
      throw new TsprocError(`${shortPath(this.shown(name))}: another filesystem is mounted there: refused`, {
        code: 'EXDEV',
        path: shortPath(this.shown(name)),
      });
    }
    this.#up.push({ ...this.#here, name });
    closeSync(this.#fd);
    this.#fd = fd;
    this.#here = { dev: st.dev, ino: st.ino };
  }

  /** Back up to the parent; returns the name of the directory left. */
  leave(): string {
    const parent = this.#up.pop();
    if (!parent) throw new Error('DirCursor.leave at the root');
    const fd = this.do('..', (p) => openSync(p, DIR_FLAGS));
    const st = fstatSync(fd);
    if (st.dev !== parent.dev || st.ino !== parent.ino) {
      closeSync(fd);
      this.#up.push(parent);
      throw new TsprocError(`${shortPath(this.shown())}: moved while tsproc walked the tree: stopped`, {
        code: 'ESTALE',
        path: shortPath(this.shown()),
      });
    }
    closeSync(this.#fd);
    this.#fd = fd;
    this.#here = { dev: parent.dev, ino: parent.ino };
    return parent.name;
  }

  close(): void {
    closeSync(this.#fd);
  }
}
