// Tells what PATH is (an OCI layout, a docker save archive or a root filesystem; a directory or a tar) and
// opens it; an archive holding a layout is first unpacked by node-tar into the import's scratch directory.
// Reading a tar is stopped at once by the import's signal (node-tar's own file reading takes none).
import { createReadStream, mkdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Parser, Unpack } from 'tar';
import { TsprocError, wrapError } from '../../src/errors.js';
import { ArchiveDir } from './archive-dir.js';
import { isDockerManifest, readDockerArchive } from './docker-archive.js';
import { readOciLayout } from './oci-layout.js';
import { rootfsDir, rootfsTar } from './rootfs-source.js';
import { type ImageSource, readJson } from './source.js';

export async function openSource(path: string, scratch: string, signal?: AbortSignal): Promise<ImageSource> {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw wrapError(err, 'image import');
  }
  if (st.isDirectory()) return openDir(realpathSync(path), path);
  if (!st.isFile()) throw new TsprocError(`${path}: not an image: neither a directory nor an archive`, { code: 'EINVAL', path });
  const top = await topLevelNames(path, signal);
  if (top.has('manifest.json') || top.has('oci-layout')) {
    const dir = join(scratch, 'archive');
    mkdirSync(dir);
    try {
      await readTar(path, new Unpack({ cwd: dir, strict: true, preserveOwner: false }), signal);
    } catch (err) {
      throw signal?.aborted ? err : unpackError(err, path);
    }
    return openDir(dir, path);
  }
  return rootfsTar(path, path);
}

function openDir(dir: string, label: string): ImageSource {
  const probe = new ArchiveDir(dir, 'archive');
  if (probe.has('manifest.json') && isDockerManifest(readJson(probe, 'manifest.json', label))) return readDockerArchive(dir, label);
  if (probe.has('oci-layout')) return readOciLayout(dir, label);
  return rootfsDir(dir, label);
}

/**
 * What node-tar (strict) refused while unpacking, naming the entry: a link leading out (absolute, or climbing
 * out), a path with `..`, a FIFO or device (unsupported: only regular files are blobs).
 */
function unpackError(err: unknown, path: string): TsprocError {
  const e = err as Error & { tarCode?: string; entry?: { path?: string; type?: string }; linkpath?: string };
  if (!e?.tarCode || e.entry?.path === undefined) return wrapError(err, `${path}: unpacking the archive`);
  const link = e.entry.type === 'Link' ? 'a hard link' : 'a symbolic link';
  const why = e.linkpath !== undefined ? `${link} to ${e.linkpath}, outside the archive: refused` : e.message.replace(/^TAR_[A-Z_]+: /, '');
  return new TsprocError(`${path}: unpacking the archive: ${e.entry.path.replace(/^(\.\/)+/, '')}: ${why}`, {
    code: 'EINVAL',
    path,
    cause: err,
  });
}

/** The names at the top of a tar archive (gzip allowed); refuses what is not one. */
async function topLevelNames(file: string, signal?: AbortSignal): Promise<Set<string>> {
  const names = new Set<string>();
  const parser = new Parser({
    strict: true,
    onReadEntry: (e) => (names.add(e.path.replace(/^(\.\/)+/, '').replace(/\/$/, '')), e.resume()),
  });
  try {
    await readTar(file, parser, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new TsprocError(`${file}: not an image: not a tar archive (${(err as Error).message})`, { code: 'EINVAL', path: file });
  }
  if (names.size === 0) throw new TsprocError(`${file}: not an image: not a tar archive, or an empty one`, { code: 'EINVAL', path: file });
  return names;
}

/** Stream `file` into a node-tar parser (a list, or an Unpack) to its end; the signal aborts both at once. */
function readTar(file: string, parser: Parser, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const input = createReadStream(file);
    const stop = () => {
      input.destroy();
      parser.abort(new Error('interrupted'));
    };
    const settle = (err?: unknown) => {
      signal?.removeEventListener('abort', stop);
      if (err) reject(err);
      else resolve();
    };
    if (signal?.aborted) return settle(new Error('interrupted'));
    signal?.addEventListener('abort', stop, { once: true });
    input.on('error', settle);
    parser.on('error', settle);
    parser.on('abort', settle);
    // an Unpack is done when its last file is written ('close'), a list when the archive is read ('end')
    parser.on(parser instanceof Unpack ? 'close' : 'end', () => settle());
    input.pipe(parser as unknown as NodeJS.WritableStream);
  });
}
