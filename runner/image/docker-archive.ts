// A `docker save` archive, unpacked into a directory: manifest.json -> each image's config (named by its
// digest, checked) and layer tars (checked against the config's diff_ids; against their names when blobs/).
import { basename } from 'node:path';
import { TsprocError } from '../../src/errors.js';
import { type Digest, sha256, checkDigest } from './digest.js';
import { parseConfig } from './image-config.js';
import { normalizeName } from './reference.js';
import { ArchiveDir } from './archive-dir.js';
import { type ImageSource, type SourceImage, fileLayer, inside, readJson } from './source.js';

interface Entry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

/** `sha256:<hex>` if a path names its content (`<hex>.json`, `blobs/sha256/<hex>`), else undefined. */
function digestInName(path: string): Digest | undefined {
  const m = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(path);
  return m && (path.includes('blobs/sha256/') || path.endsWith('.json')) ? `sha256:${m[1]}` : undefined;
}

export function isDockerManifest(value: unknown): value is Entry[] {
  return Array.isArray(value) && value.length > 0 && value.every((e) => e && typeof e === 'object' && 'Config' in e && 'Layers' in e);
}

export function readDockerArchive(dir: string, label: string): ImageSource {
  const archive = new ArchiveDir(dir, 'archive');
  const manifest = readJson<unknown>(archive, 'manifest.json', label);
  if (!isDockerManifest(manifest)) throw new TsprocError(`${label}: manifest.json is not a docker save manifest`, { code: 'EINVAL' });
  const notices: string[] = [];
  const images = manifest.map((e, i): SourceImage => {
    const names: string[] = [];
    for (const tag of Array.isArray(e.RepoTags) ? e.RepoTags : []) {
      try {
        names.push(normalizeName(String(tag), 'RepoTag'));
      } catch (err) {
        notices.push(`${(err as Error).message}: importing without it`);
      }
    }
    const what = names[0] ?? `image ${i + 1} of ${label}`;
    const configPath = inside(e.Config, `${what}: Config`);
    const bytes = archive.readSmall(configPath, `${what}: config`);
    const id = sha256(bytes);
    const named = digestInName(String(e.Config));
    if (named) checkDigest(`${what}: config ${basename(configPath)}`, named, id);
    const parsed = parseConfig(bytes, `${what}: config`);
    if (!Array.isArray(e.Layers) || e.Layers.length !== parsed.diffIds.length) {
      throw new TsprocError(
        `${what}: manifest.json lists ${Array.isArray(e.Layers) ? e.Layers.length : 'no'} layers but the config has ${parsed.diffIds.length} diff_ids`,
        { code: 'EINVAL' },
      );
    }
    const layers = e.Layers.map((rel: unknown, j: number) => {
      const path = inside(rel, `${what}: Layers[${j}]`);
      return fileLayer(archive, path, `${what}: layer ${j + 1} (${String(rel)})`, {
        digest: digestInName(String(rel)),
        diffId: parsed.diffIds[j]!,
      });
    });
    return { names, config: { bytes, id, parsed }, layers };
  });
  return { format: 'docker', images, notices };
}
