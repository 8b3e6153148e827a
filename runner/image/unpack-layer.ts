// Unpacks one layer's tar stream into an empty directory: node-tar parses, this writes each entry in order,
// exactly (owner, mode with setuid bits, mtime, hard links, devices), and translates OCI whiteouts for overlayfs.
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { TsprocError, wrapError } from '../../src/errors.js';
import { at, named } from '../tree/dir-cursor.js';
import { removeTree } from '../tree/remove-tree.js';
import { type EntryKind, LayerTree, hostile } from './layer-entry.js';
import { makeNode, makeWhiteout, markOpaque } from './special-files.js';
import './tar-gnu-devices.js';

export interface UnpackedLayer {
  /** bytes of regular-file content */
  size: number;
  entries: number;
  /** paths (relative to the layer) that are whiteouts: 0/0 character devices */
  whiteouts: string[];
  /** directories marked opaque (trusted.overlay.opaque=y) */
  opaques: string[];
}

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

const KINDS: Record<string, EntryKind> = {
  Directory: 'dir',
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
  CharacterDevice: 'device',
  BlockDevice: 'device',
  FIFO: 'fifo',
};

interface Times {
  atime: Date;
  mtime: Date;
}

/**
 * Read the tar stream to its end and write it under `dir` (which must exist and be empty). Every entry is written
 * through a descriptor of `dir` (`at()`): the paths a layer may have (layer-entry.ts, MAX_ENTRY_PATH) fit in a
 * system call wherever the data root is.
 */
export async function unpackLayer(input: AsyncIterable<Buffer>, dir: string): Promise<UnpackedLayer> {
  const root = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    return await unpackInto(input, root, dir);
  } finally {
    closeSync(root);
  }
}

async function unpackInto(input: AsyncIterable<Buffer>, root: number, dir: string): Promise<UnpackedLayer> {
  const tree = new LayerTree();
  const result: UnpackedLayer = { size: 0, entries: 0, whiteouts: [], opaques: [] };
  const dirTimes = new Map<string, Times>();
  const opaque = new Set<string>();
  const parser = new Parser({ strict: true });
  let failure: unknown;
  const done = new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', (err: Error) => reject(failure ?? new TsprocError(`not a valid tar archive: ${err.message}`, { code: 'EINVAL' })));
  });
  done.catch(() => {}); // awaited below; a failure while chunks are still being fed must not count as unhandled
  const fail = (err: unknown) => {
    failure ??= err;
    parser.abort(err instanceof Error ? err : new Error(String(err)));
  };

  parser.on('ignoredEntry', (entry: ReadEntry) => fail(hostile(entry.path, `unsupported entry type ${entry.type}`)));
  parser.on('entry', (entry: ReadEntry) => {
    try {
      if (failure === undefined)
        named(
          () => join(dir, entry.path),
          () => writeEntry(entry),
        );
      else entry.resume();
    } catch (err) {
      entry.resume();
      fail(err);
    }
  });

  function writeEntry(entry: ReadEntry): void {
    result.entries++;
    const name = basename(entry.path);
    const times: Times = { atime: entry.atime ?? entry.mtime ?? new Date(), mtime: entry.mtime ?? new Date() };
    if (name.startsWith(WH) && entry.type !== 'Directory') {
      // OCI whiteouts: remembered now, made once every entry is in (an entry of this layer wins over its whiteout)
      if (name === OPAQUE) {
        const p = tree.marker(entry.path);
        makeParents(p.parents);
        opaque.add(dirname(p.path) === '.' ? '' : dirname(p.path));
      } else if (!name.startsWith(`${WH}${WH}`)) {
        if (['', '.', '..'].includes(name.slice(WH.length))) throw hostile(entry.path, 'whiteout names nothing');
        const p = tree.place(join(dirname(entry.path), name.slice(WH.length)), 'whiteout');
        makeParents(p.parents);
      }
      entry.resume();
      return;
    }
    const kind = KINDS[entry.type];
    if (!kind) throw hostile(entry.path, `unsupported entry type ${entry.type}`);
    const target = kind === 'hardlink' ? tree.linkTarget(entry.path, String(entry.linkpath ?? '')) : undefined;
    const { path, parents, replaces } = tree.place(entry.path, kind);
    makeParents(parents);
    const abs = at(root, path);
    if (replaces !== undefined && !(replaces === 'dir' && kind === 'dir')) removeTree(abs, join(dir, path));
    const uid = entry.uid ?? 0;
    const gid = entry.gid ?? 0;
    const mode = (entry.mode ?? 0o644) & 0o7777;
    switch (kind) {
      case 'dir':
        if (path !== '' && replaces !== 'dir') mkdirSync(abs, { mode: 0o700 });
        chownSync(abs, uid, gid);
        chmodSync(abs, mode);
        dirTimes.set(abs, times);
        entry.resume();
        return;
      case 'file':
        return writeFile(entry, abs, uid, gid, mode, times);
      case 'symlink':
        symlinkSync(String(entry.linkpath ?? ''), abs);
        lchownSync(abs, uid, gid);
        lutimesSync(abs, times.atime, times.mtime);
        break;
      case 'hardlink':
        linkSync(at(root, target!), abs);
        break;
      case 'device':
      case 'fifo':
        makeNode(
          abs,
          entry.type === 'FIFO' ? 'p' : entry.type === 'BlockDevice' ? 'b' : 'c',
          0o600,
          entry.header.devmaj ?? 0,
          entry.header.devmin ?? 0,
          join(dir, path),
        );
        chownSync(abs, uid, gid);
        chmodSync(abs, mode);
        utimesSync(abs, times.atime, times.mtime);
        break;
    }
    entry.resume();
  }

  function writeFile(entry: ReadEntry, abs: string, uid: number, gid: number, mode: number, times: Times): void {
    const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    let open = true;
    const close = () => {
      if (open) closeSync(fd);
      open = false;
    };
    entry.on('data', (chunk: Buffer) => {
      try {
        if (failure === undefined) writeSync(fd, chunk);
        result.size += chunk.length;
      } catch (err) {
        close();
        fail(wrapError(err, 'writing a layer file', { path: join(dir, entry.path) }));
      }
    });
    entry.on('end', () => {
      try {
        if (!open) return;
        fchownSync(fd, uid, gid);
        fchmodSync(fd, mode); // after chown, which clears setuid and setgid
        futimesSync(fd, times.atime, times.mtime);
        close();
      } catch (err) {
        close();
        fail(wrapError(err, 'writing a layer file', { path: join(dir, entry.path) }));
      }
    });
  }

  function makeParents(parents: string[]): void {
    for (const p of parents) mkdirSync(at(root, p), { mode: 0o755 });
  }

  try {
    for await (const chunk of input) {
      if (failure !== undefined) break;
      // wait for the parser to take more, or to have failed (then no drain comes)
      if (!parser.write(chunk)) await new Promise((r) => (parser.once('drain', r), done.then(r, r)));
    }
    if (failure === undefined) parser.end();
    await done;
  } catch (err) {
    throw failure ?? err;
  }
  if (failure !== undefined) throw failure;

  // whiteouts where the layer has nothing of its own, opaque directories, then directory times
  for (const [path, kind] of tree.entries()) if (kind === 'whiteout') result.whiteouts.push(path);
  for (const d of opaque) if (tree.kind(d) === 'dir') result.opaques.push(d);
  result.whiteouts.sort();
  result.opaques.sort();
  for (const w of result.whiteouts) makeWhiteout(at(root, w), join(dir, w));
  markOpaque(
    result.opaques.map((p) => at(root, p)),
    result.opaques.map((p) => join(dir, p)),
  );
  for (const [abs, t] of dirTimes) if (lstatSync(abs, { throwIfNoEntry: false })?.isDirectory()) utimesSync(abs, t.atime, t.mtime);
  return result;
}
