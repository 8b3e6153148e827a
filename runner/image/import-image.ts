// `tsproc image import`: reads the source, unpacks each layer the store lacks into a scratch directory, checks
// every digest, then commits by renames (layers, image, names). Any failure or interruption before the commit
// leaves nothing: the scratch directory goes, and the store never saw a thing.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TsprocError, wrapError } from '../../src/errors.js';
import { decompress } from './decompress.js';
import { type Digest, DigestTap, checkDigest, hexOf, sha256 } from './digest.js';
import { parseConfig } from './image-config.js';
import { openSource } from './open-source.js';
import { normalizeName } from './reference.js';
import type { SourceLayer } from './source.js';
import { Staging } from './staging.js';
import type { ImageStore, LayerInfo } from './store.js';
import { type UnpackedLayer, unpackLayer } from './unpack-layer.js';

export interface ImportOptions {
  /** NAME[:TAG] for the image, instead of the names the archive carries */
  name?: string;
  signal?: AbortSignal;
  /** bytes read so far of the total to read */
  onProgress?: (done: number, total: number) => void;
}

export interface ImportedImage {
  id: Digest;
  names: string[];
  layers: number;
  /** layers the store did not have */
  newLayers: number;
}

export interface ImportResult {
  format: 'oci' | 'docker' | 'rootfs';
  images: ImportedImage[];
  notices: string[];
}

export async function importImage(store: ImageStore, path: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const name = opts.name === undefined ? undefined : normalizeName(opts.name, '--name');
  store.init();
  Staging.sweep(store.paths.tmp);
  const staging = new Staging(store.paths.tmp, 'import');
  try {
    const source = await openSource(path, staging.dir, opts.signal);
    if (name && source.images.length > 1) {
      throw new TsprocError(
        `${path} holds ${source.images.length} images: --name can name only one (import without it to use the archive's names)`,
        { code: 'EINVAL' },
      );
    }
    const needed = (l: SourceLayer) => !l.diffId || !store.hasLayer(l.diffId);
    const total = source.images
      .flatMap((i) => i.layers)
      .filter(needed)
      .reduce((n, l) => n + l.total, 0);
    let done = 0;
    const onBytes = (n: number) => opts.onProgress?.((done += n), total);

    const staged = new Map<Digest, string>();
    const images: Array<{ id: Digest; config: Buffer; names: string[]; layers: number; newLayers: number }> = [];
    for (const image of source.images) {
      const diffIds: Digest[] = [];
      let newLayers = 0;
      for (const layer of image.layers) {
        if (layer.diffId && (store.hasLayer(layer.diffId) || staged.has(layer.diffId))) {
          diffIds.push(layer.diffId);
          continue;
        }
        const dir = join(staging.dir, 'layers', String(staged.size));
        mkdirSync(join(dir, 'diff'), { recursive: true });
        const info = await unpackSourceLayer(layer, join(dir, 'diff'), onBytes, opts.signal);
        writeFileSync(join(dir, 'layer.json'), JSON.stringify(info));
        diffIds.push(info.diffId);
        if (!store.hasLayer(info.diffId) && !staged.has(info.diffId)) {
          staged.set(info.diffId, dir);
          newLayers++;
        }
      }
      const config = image.config?.bytes ?? rootfsConfig(diffIds, path);
      parseConfig(config, 'the new image config');
      images.push({
        id: image.config?.id ?? sha256(config),
        config,
        names: name ? [name] : image.names,
        layers: diffIds.length,
        newLayers,
      });
    }
    if (opts.signal?.aborted) throw interrupted();

    // the commit: layers first, then images, then names, each a rename (a concurrent import of the same layer wins)
    for (const [diffId, dir] of staged)
      commitDir(dir, store.paths.layer(diffId), () => store.removeLayer(diffId), existsSync(join(store.paths.layer(diffId), 'layer.json')));
    for (const i of images) {
      const dir = join(staging.dir, 'images', hexOf(i.id));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), i.config);
      writeFileSync(join(dir, 'image.json'), JSON.stringify({ imported: new Date().toISOString(), source: path }));
      const existing = store.get(i.id);
      if (existing?.removed) store.setMeta(i.id, { imported: existing.imported, source: existing.source });
      commitDir(dir, store.paths.image(i.id), () => store.removeImage(i.id), existing !== undefined);
      for (const n of i.names) store.setName(n, i.id);
    }
    return {
      format: source.format,
      images: images.map(({ id, names, layers, newLayers }) => ({ id, names, layers, newLayers })),
      notices: source.notices,
    };
  } catch (err) {
    if (opts.signal?.aborted) throw interrupted();
    throw err instanceof TsprocError ? err : wrapError(err, `importing ${path}`);
  } finally {
    staging.remove();
  }
}

const interrupted = () => new TsprocError('import interrupted: nothing was imported', { code: 'EINTR', exitCode: 130 });

/** Rename a staged directory into the store, unless a complete one is there already (then ours is dropped). */
function commitDir(from: string, to: string, discardBroken: () => void, complete: boolean): void {
  if (complete) return;
  if (existsSync(to)) discardBroken();
  try {
    renameSync(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw wrapError(err, 'adding to the image store');
  }
}

/** Unpack one layer, checking the blob's digest and size and the uncompressed content's diff_id. */
async function unpackSourceLayer(layer: SourceLayer, dir: string, onBytes: (n: number) => void, signal?: AbortSignal): Promise<LayerInfo> {
  const blob = new DigestTap(onBytes);
  const diff = new DigestTap();
  let unpacked: UnpackedLayer | undefined;
  try {
    await pipeline(
      layer.open(),
      blob,
      decompress(layer.what, signal),
      diff,
      async (source: AsyncIterable<Buffer>) => {
        unpacked = await unpackLayer(source, dir);
      },
      ...(signal ? [{ signal }] : []),
    );
  } catch (err) {
    if (signal?.aborted) throw err;
    // content that does not match its digest is reported as that, whatever it broke on the way
    const raw = layer.digest ? await digestOf(layer, false) : undefined;
    if (layer.digest && raw) checkDigest(`${layer.what}: blob`, layer.digest, raw.digest, { expected: layer.size, actual: raw.bytes });
    const tar = layer.diffId ? await digestOf(layer, true) : undefined;
    if (layer.diffId && tar) checkDigest(`${layer.what}: uncompressed content (diff_id)`, layer.diffId, tar.digest);
    throw err instanceof TsprocError
      ? new TsprocError(`${layer.what}: ${err.message}`, { code: err.code, path: err.path, cause: err })
      : wrapError(err, layer.what);
  }
  if (layer.digest) checkDigest(`${layer.what}: blob`, layer.digest, blob.digest(), { expected: layer.size, actual: blob.bytes });
  const diffId = diff.digest();
  if (layer.diffId) checkDigest(`${layer.what}: uncompressed content (diff_id)`, layer.diffId, diffId);
  return { diffId, size: unpacked!.size, whiteouts: unpacked!.whiteouts, opaques: unpacked!.opaques };
}

/** A layer's digest read again to its end, raw or decompressed (on the failure path only); undefined if unreadable. */
async function digestOf(layer: SourceLayer, decompressed: boolean): Promise<{ digest: Digest; bytes: number } | undefined> {
  const tap = new DigestTap();
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  try {
    if (decompressed) await pipeline(layer.open(), decompress(layer.what), tap, sink);
    else await pipeline(layer.open(), tap, sink);
    return { digest: tap.digest(), bytes: tap.bytes };
  } catch {
    return undefined;
  }
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

/** The config of an image made from a plain root filesystem: its layer, nothing to run by default. */
function rootfsConfig(diffIds: Digest[], path: string): Buffer {
  const created = new Date().toISOString();
  return Buffer.from(
    JSON.stringify({
      created,
      architecture: ARCH[process.arch] ?? process.arch,
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: [{ created, created_by: `tsproc image import ${path}` }],
    }),
  );
}
