// An OCI image layout directory (`umoci init`, `skopeo copy ... oci:DIR`): index.json -> manifests (through an
// image index, the one for this machine's platform) -> config and layers, every blob checked against its digest.
import { basename } from 'node:path';
import { TsprocError } from '../../src/errors.js';
import { ArchiveDir } from './archive-dir.js';
import { type Digest, hexOf, parseDigest } from './digest.js';
import { parseConfig } from './image-config.js';
import { isBareTag, normalizeName } from './reference.js';
import { type ImageSource, type SourceImage, fileLayer, parseJson, readJson, readVerified } from './source.js';

interface Descriptor {
  mediaType?: string;
  digest: Digest;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

const INDEX = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const REF_NAME = 'org.opencontainers.image.ref.name';
const FULL_NAME = 'io.containerd.image.name';
const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** `label` names the layout in messages and gives the name for a bare-tag ref (`DIR:TAG`). */
export function readOciLayout(dir: string, label: string): ImageSource {
  const archive = new ArchiveDir(dir, 'layout');
  const layout = readJson<{ imageLayoutVersion?: unknown }>(archive, 'oci-layout', label);
  if (typeof layout.imageLayoutVersion !== 'string' || !layout.imageLayoutVersion.startsWith('1.')) {
    throw new TsprocError(`${label}: oci-layout: unsupported imageLayoutVersion ${JSON.stringify(layout.imageLayoutVersion)}`, {
      code: 'EINVAL',
    });
  }
  const index = readJson<{ manifests?: unknown }>(archive, 'index.json', label);
  if (!Array.isArray(index.manifests) || index.manifests.length === 0)
    throw new TsprocError(`${label}: index.json lists no images`, { code: 'EINVAL' });
  const notices: string[] = [];
  const blob = (d: Descriptor) => `blobs/sha256/${hexOf(d.digest)}`;
  const json = <T>(d: Descriptor, what: string): T => parseJson<T>(readVerified(archive, blob(d), what, d.digest, d.size), what);

  const images = (index.manifests as unknown[]).map((raw, i): SourceImage => {
    let desc = descriptor(raw, `${label}: index.json manifests[${i}]`);
    const names = namesOf(desc, label, notices);
    const what = names[0] ?? `image ${i + 1} of ${label}`;
    if (INDEX.has(desc.mediaType ?? ''))
      desc = pickPlatform(json<{ manifests?: unknown[] }>(desc, `${what}: image index`).manifests ?? [], `${what}: image index`);
    const manifest = json<{ config?: unknown; layers?: unknown }>(desc, `${what}: manifest ${desc.digest}`);
    const configDesc = descriptor(manifest.config, `${what}: manifest config`);
    const bytes = readVerified(archive, blob(configDesc), `${what}: config ${configDesc.digest}`, configDesc.digest, configDesc.size);
    const parsed = parseConfig(bytes, `${what}: config`);
    if (!Array.isArray(manifest.layers)) throw new TsprocError(`${what}: the manifest has no layers list`, { code: 'EINVAL' });
    if (manifest.layers.length !== parsed.diffIds.length) {
      throw new TsprocError(`${what}: the manifest has ${manifest.layers.length} layers but the config ${parsed.diffIds.length} diff_ids`, {
        code: 'EINVAL',
      });
    }
    const layers = manifest.layers.map((l, j) => {
      const d = descriptor(l, `${what}: manifest layers[${j}]`);
      const lwhat = `${what}: layer ${j + 1} (${d.digest})`;
      if (!archive.has(blob(d)))
        throw new TsprocError(
          `${lwhat}: the blob is not in the layout${/foreign|nondistributable/.test(d.mediaType ?? '') ? ' (a non-distributable layer)' : ''}`,
          { code: 'ENOENT', path: blob(d) },
        );
      return fileLayer(archive, blob(d), lwhat, { digest: d.digest, size: d.size, diffId: parsed.diffIds[j]! });
    });
    return { names, config: { bytes, id: configDesc.digest, parsed }, layers };
  });
  return { format: 'oci', images, notices };
}

function descriptor(raw: unknown, what: string): Descriptor {
  const d = raw as Partial<Descriptor> | undefined;
  if (!d || typeof d !== 'object') throw new TsprocError(`${what}: not a descriptor`, { code: 'EINVAL' });
  if (d.size !== undefined && (!Number.isSafeInteger(d.size) || d.size < 0))
    throw new TsprocError(`${what}: bad size ${JSON.stringify(d.size)}`, { code: 'EINVAL' });
  return { ...d, digest: parseDigest(d.digest, what) } as Descriptor;
}

/** The full name if the layout has one, else `LABEL:TAG` for a bare tag (umoci's and skopeo's usual ref). */
function namesOf(d: Descriptor, label: string, notices: string[]): string[] {
  const full = d.annotations?.[FULL_NAME];
  const ref = d.annotations?.[REF_NAME];
  const raw =
    full ??
    (ref === undefined
      ? undefined
      : isBareTag(ref)
        ? `${basename(label)
            .replace(/\.(tar|tgz|tar\.gz)$/, '')
            .toLowerCase()}:${ref}`
        : ref);
  if (raw === undefined) return [];
  try {
    return [normalizeName(raw, 'name in the layout')];
  } catch (err) {
    notices.push(`${(err as Error).message}: importing without it`);
    return [];
  }
}

function pickPlatform(manifests: unknown[], what: string): Descriptor {
  const arch = ARCH[process.arch] ?? process.arch;
  const all = manifests.map((m, i) => descriptor(m, `${what} manifests[${i}]`));
  const found = all.find((d) => (d.platform?.os ?? 'linux') === 'linux' && d.platform?.architecture === arch);
  if (!found) {
    const have = all.map((d) => `${d.platform?.os}/${d.platform?.architecture}`).join(', ');
    throw new TsprocError(`${what}: no image for linux/${arch} (it has ${have || 'none'})`, { code: 'ENOENT' });
  }
  return found;
}
