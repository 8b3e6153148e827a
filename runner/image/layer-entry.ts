// What a layer entry may do, decided before anything is written (pure: the unpacker asks, tests call it directly).
//
// A layer is unpacked into an empty directory, so the only symbolic links that can lie on an entry's way
// are ones earlier entries of the same layer made; this tracks every path the layer has made and refuses:
//   - `..` anywhere in a path or hard-link target (never needed by a real layer; the whole layer is refused);
//   - a path through a symbolic link, or through something that is not a directory;
//   - a hard link to anything but an earlier non-directory entry of the same layer (outside, or missing);
//   - replacing the layer's root with something else than a directory.
// A leading `/` is stripped (contained), as GNU tar, docker and umoci do: `/etc/x` lands at `etc/x`.
// A path longer than MAX_ENTRY_PATH bytes is refused: no system call could name it. Depth itself is not limited.
import { TsprocError, shortPath } from '../../src/errors.js';

/**
 * The longest path (in bytes) an entry may have: PATH_MAX (4096 with its NUL) less room for the descriptor prefix
 * the unpacker and the vfs copy name entries through (`/proc/PID/fd/FD/`, at most 32 bytes). docker's limit is
 * PATH_MAX less its `/`; a tree deeper than this allows (a container's own) is still removed and counted.
 */
export const MAX_ENTRY_PATH = 4095 - 32;

export type EntryKind = 'dir' | 'file' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'whiteout';

/** The entry's path relative to the layer root ('' is the root itself), or a refusal. */
export function normalizeEntryPath(raw: string, what: string): string {
  if (raw.includes('\0')) throw hostile(raw, `${what} contains a NUL byte`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw hostile(raw, `${what} contains '..' (path traversal)`);
  const path = parts.join('/');
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_ENTRY_PATH)
    throw hostile(raw, `${what} of ${bytes} bytes, longer than the ${MAX_ENTRY_PATH} a layer may have (PATH_MAX)`);
  return path;
}

export function hostile(path: string, why: string): TsprocError {
  return new TsprocError(`entry ${JSON.stringify(shortPath(path))}: ${why}: refused`, { code: 'EINVAL', path: shortPath(path) });
}

export interface Placement {
  /** normalized path of the entry */
  path: string;
  /** parent directories to create first (not entries of the layer), outermost first */
  parents: string[];
  /** what the layer had at this path before, if anything */
  replaces: EntryKind | undefined;
}

export class LayerTree {
  readonly #kinds = new Map<string, EntryKind>([['', 'dir']]);

  kind(path: string): EntryKind | undefined {
    return this.#kinds.get(path);
  }

  entries(): IterableIterator<[string, EntryKind]> {
    return this.#kinds.entries();
  }

  /** Check an entry and record it: after this, the layer has `kind` at the returned path. */
  place(raw: string, kind: EntryKind): Placement {
    const path = normalizeEntryPath(raw, 'path');
    if (path === '' && kind !== 'dir') throw hostile(raw, 'replaces the layer root with a non-directory');
    const parents = this.#parents(raw, path);
    const replaces = this.#kinds.get(path);
    for (const p of parents) this.#kinds.set(p, 'dir');
    // a whiteout hides lower layers only: what this layer has at that path stays
    if (kind === 'whiteout' && replaces !== undefined) return { path, parents, replaces };
    if (replaces === 'dir' && kind !== 'dir') this.#forget(path);
    this.#kinds.set(path, kind);
    return { path, parents, replaces };
  }

  /** A marker entry (`dir/.wh..wh..opq`): its path is checked and its parents made, but it is not recorded. */
  marker(raw: string): Placement {
    const path = normalizeEntryPath(raw, 'path');
    const parents = this.#parents(raw, path);
    for (const p of parents) this.#kinds.set(p, 'dir');
    return { path, parents, replaces: undefined };
  }

  /** A hard link's target: an earlier entry of this layer that is not a directory. */
  linkTarget(raw: string, rawTarget: string): string {
    const target = normalizeEntryPath(rawTarget, 'hard link target');
    this.#parents(raw, target, 'hard link target');
    const kind = this.#kinds.get(target);
    if (kind === undefined)
      throw hostile(
        raw,
        `hard link to ${JSON.stringify(rawTarget)}, which is not an earlier entry of this layer (links may not reach outside it)`,
      );
    if (kind === 'dir' || kind === 'whiteout')
      throw hostile(raw, `hard link to ${JSON.stringify(rawTarget)}, a ${kind === 'dir' ? 'directory' : 'whiteout'}`);
    return target;
  }

  /**
   * The parents of `path` the layer must create, outermost first; refuses a way through a link or a non-directory.
   * Looked at from the nearest up, to the first directory: every directory recorded has only directories above it
   * (replacing one forgets what was under it), so a deep layer costs one look per entry, not one per level.
   */
  #parents(raw: string, path: string, what = 'path'): string[] {
    const missing: string[] = [];
    for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) {
      const p = path.slice(0, end);
      const kind = this.#kinds.get(p);
      if (kind === 'dir') break;
      if (kind === undefined || kind === 'whiteout') missing.push(p);
      else if (kind === 'symlink') throw hostile(raw, `${what} goes through the symbolic link ${JSON.stringify(p)} (symlink escape)`);
      else throw hostile(raw, `${what} goes through ${JSON.stringify(p)}, which is not a directory`);
    }
    return missing.reverse();
  }

  /** A directory replaced by a non-directory takes everything under it along. */
  #forget(dir: string): void {
    const prefix = `${dir}/`;
    for (const p of this.#kinds.keys()) if (p.startsWith(prefix)) this.#kinds.delete(p);
  }
}
