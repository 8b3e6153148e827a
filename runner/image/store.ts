// The image store under the data root: layers (shared, content-addressed by diff_id), images (config + record)
// and names. Reads are plain file reads; every change is a rename, so a reader never sees half of one.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TsprocError, wrapError } from '../../src/errors.js';
import { type Digest, hexOf, parseDigest } from './digest.js';
import { type ParsedConfig, parseConfig } from './image-config.js';
import { idPrefix, normalizeName } from './reference.js';
import { Staging } from './staging.js';
import { StorePaths } from './store-paths.js';

export interface LayerInfo {
  diffId: Digest;
  /** bytes of file content */
  size: number;
  whiteouts: string[];
  opaques: string[];
}

export interface ImageMeta {
  /** when it was imported (ISO 8601) */
  imported: string;
  /** the path it was imported from */
  source: string;
  /** set by `rmi -f` while containers still use it: hidden, removed by gc once they are gone */
  removed?: boolean;
}

export interface ImageRecord extends ImageMeta {
  id: Digest;
  names: string[];
  config: ParsedConfig;
  /** bytes of file content over its layers */
  size: number;
}

export class ImageStore {
  readonly paths: StorePaths;

  constructor(dataRoot: string) {
    this.paths = new StorePaths(dataRoot);
  }

  /** Creates the store's directories (an import does; reads work on a store that does not exist yet). */
  init(): void {
    for (const d of [this.paths.layers, this.paths.images, this.paths.names, this.paths.tmp])
      mkdirSync(d, { recursive: true, mode: 0o700 });
  }

  hasLayer(diffId: Digest): boolean {
    return existsSync(join(this.paths.layer(diffId), 'layer.json'));
  }

  layer(diffId: Digest): LayerInfo {
    const path = join(this.paths.layer(diffId), 'layer.json');
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as LayerInfo;
    } catch (err) {
      throw wrapError(err, `layer ${diffId} is missing from the store (${this.paths.dataRoot})`);
    }
  }

  layerIds(): Digest[] {
    return list(this.paths.layers)
      .filter((h) => /^[0-9a-f]{64}$/.test(h))
      .map((h) => `sha256:${h}` as Digest);
  }

  /** Every image, those `rmi -f` left for gc included when asked. */
  images(opts: { removed?: boolean } = {}): ImageRecord[] {
    const names = this.names();
    const out: ImageRecord[] = [];
    for (const hex of list(this.paths.images)) {
      const r = this.#read(`sha256:${hex}` as Digest, names);
      if (r && (opts.removed || !r.removed)) out.push(r);
    }
    return out;
  }

  get(id: Digest): ImageRecord | undefined {
    return this.#read(id, this.names());
  }

  /** name:tag -> image id */
  names(): Map<string, Digest> {
    const map = new Map<string, Digest>();
    for (const f of list(this.paths.names)) {
      try {
        map.set(decodeURIComponent(f), parseDigest(readFileSync(join(this.paths.names, f), 'utf8').trim(), 'name'));
      } catch {
        // being written (a temporary file) or damaged: not a name
      }
    }
    return map;
  }

  /** A name (`busybox`, `busybox:1.36`), an id or a unique id prefix; `no such image` otherwise. */
  resolve(ref: string): ImageRecord {
    const names = this.names();
    let byName: Digest | undefined;
    try {
      byName = names.get(normalizeName(ref));
    } catch {
      // not a valid name: may still be an id
    }
    if (byName) {
      const r = this.#read(byName, names);
      if (r) return r;
    }
    const hex = idPrefix(ref);
    if (hex) {
      const found = list(this.paths.images)
        .filter((h) => h.startsWith(hex))
        .map((h) => this.#read(`sha256:${h}` as Digest, names))
        .filter((r) => r && !r.removed);
      if (found.length > 1)
        throw new TsprocError(`image id prefix ${ref} is ambiguous: it matches ${found.length} images`, { code: 'EINVAL' });
      if (found[0]) return found[0];
    }
    throw new TsprocError(`no such image: ${ref}`, { code: 'ENOENT' });
  }

  /** Layer directories for overlayfs, top layer first. */
  layerDirs(image: ImageRecord): string[] {
    return image.config.diffIds.map((d) => this.paths.layerDiff(d)).reverse();
  }

  setName(name: string, id: Digest): void {
    atomicWrite(this.paths.name(name), `${id}\n`);
  }

  removeName(name: string): void {
    rmSync(this.paths.name(name), { force: true });
  }

  setMeta(id: Digest, meta: ImageMeta): void {
    atomicWrite(join(this.paths.image(id), 'image.json'), JSON.stringify(meta));
  }

  /** Removes an image's record and names (its layers are for gc or rmi to judge). */
  removeImage(id: Digest): void {
    for (const [name, target] of this.names()) if (target === id) this.removeName(name);
    this.#discard(this.paths.image(id));
  }

  removeLayer(diffId: Digest): void {
    this.#discard(this.paths.layer(diffId));
  }

  /** Moved out of the store in one rename, then deleted: a killed removal leaves no half layer behind. */
  #discard(dir: string): void {
    if (!existsSync(dir)) return;
    const s = new Staging(this.paths.tmp, 'remove');
    try {
      renameSync(dir, join(s.dir, 'gone'));
    } finally {
      s.remove();
    }
  }

  #read(id: Digest, names: Map<string, Digest>): ImageRecord | undefined {
    const dir = this.paths.image(id);
    let config: Buffer;
    let meta: ImageMeta;
    try {
      config = readFileSync(join(dir, 'config.json'));
      meta = JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as ImageMeta;
    } catch {
      return undefined;
    }
    const parsed = parseConfig(config, `image ${hexOf(id).slice(0, 12)}`);
    const size = parsed.diffIds.reduce((sum, d) => sum + (this.hasLayer(d) ? this.layer(d).size : 0), 0);
    const own = [...names]
      .filter(([, target]) => target === id)
      .map(([n]) => n)
      .sort();
    return { ...meta, id, names: own, config: parsed, size };
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => !f.startsWith('.'));
  } catch {
    return [];
  }
}

/** Write to a temporary (dot) file beside the target, then rename over it. */
export function atomicWrite(path: string, data: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}`);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
