// Tells what PATH is (an OCI layout, a docker save archive or a root filesystem; a directory or a tar) and
// opens it; an archive holding a layout is first unpacked by node-tar into the import's scratch directory.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { list, extract } from 'tar';
import { TsprocError, wrapError } from '../../src/errors.js';
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
  if (st.isDirectory()) return openDir(path, path);
  if (!st.isFile()) throw new TsprocError(`${path}: not an image: neither a directory nor an archive`, { code: 'EINVAL', path });
  const top = await topLevelNames(path);
  if (top.has('manifest.json') || top.has('oci-layout')) {
    const dir = join(scratch, 'archive');
    mkdirSync(dir);
    try {
      await extract({ file: path, cwd: dir, strict: true, preserveOwner: false, ...(signal ? { signal } : {}) } as Parameters<typeof extract>[0]);
    } catch (err) {
      throw wrapError(err, `${path}: unpacking the archive`);
    }
    return openDir(dir, path);
  }
  return rootfsTar(path, path);
}

function openDir(dir: string, label: string): ImageSource {
  if (existsSync(join(dir, 'manifest.json')) && isDockerManifest(readJson(join(dir, 'manifest.json'), `${label}: manifest.json`))) {
    return readDockerArchive(dir, label);
  }
  if (existsSync(join(dir, 'oci-layout'))) return readOciLayout(dir, label);
  return rootfsDir(dir, label);
}

/** The names at the top of a tar archive (gzip allowed); refuses what is not one. */
async function topLevelNames(file: string): Promise<Set<string>> {
  const names = new Set<string>();
  try {
    await list({ file, strict: true, onReadEntry: (e) => void names.add(e.path.replace(/^(\.\/)+/, '').replace(/\/$/, '')) });
  } catch (err) {
    throw new TsprocError(`${file}: not an image: not a tar archive (${(err as Error).message})`, { code: 'EINVAL', path: file });
  }
  if (names.size === 0) throw new TsprocError(`${file}: not an image: not a tar archive, or an empty one`, { code: 'EINVAL', path: file });
  return names;
}
