// What an import reads, whatever the archive's format: images, each a config and layers to unpack in order.
import { closeSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import { TsprocError } from '../../src/errors.js';
import type { ArchiveDir } from './archive-dir.js';
import { type Digest, checkDigest, checkSize, sha256 } from './digest.js';
import type { ParsedConfig } from './image-config.js';

export interface SourceLayer {
  /** for messages: which layer of which image, and its file */
  what: string;
  /** the raw (possibly compressed) bytes */
  open(): Readable;
  /** the blob's digest and size, when the archive says them: verified on the compressed bytes */
  digest?: Digest;
  size?: number;
  /** the uncompressed tar's digest (the config's diff_id): verified; undefined for a root filesystem */
  diffId?: Digest;
  /** bytes open() will give, for progress (the descriptor's size, else the file's; 0 if unknown) */
  total: number;
}

export interface SourceConfig {
  bytes: Buffer;
  id: Digest;
  parsed: ParsedConfig;
}

export interface SourceImage {
  /** names the archive carries, normalized */
  names: string[];
  /** undefined for a root filesystem: written once its one layer's diff_id is known */
  config: SourceConfig | undefined;
  layers: SourceLayer[];
}

export interface ImageSource {
  format: 'oci' | 'docker' | 'rootfs';
  images: SourceImage[];
  /** things worth telling the user (a name that could not be used, ...) */
  notices: string[];
}

/** A path a manifest gives, checked as written: relative, and not climbing out (a hostile manifest). */
export function inside(rel: unknown, what: string): string {
  if (typeof rel !== 'string' || rel === '') throw new TsprocError(`${what}: ${JSON.stringify(rel)} is not a path`, { code: 'EINVAL' });
  const r = normalize(rel);
  if (isAbsolute(rel) || r === '.' || r === '..' || r.startsWith('../')) {
    throw new TsprocError(`${what}: ${JSON.stringify(rel)} points outside the archive: refused`, { code: 'EINVAL', path: rel });
  }
  return r;
}

/** JSON text, or a one-line refusal naming what it was. */
export function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new TsprocError(`${what}: not valid JSON: ${(err as Error).message}`, { code: 'EINVAL' });
  }
}

/** A JSON document of the archive without a descriptor (index.json, manifest.json, oci-layout): MAX_JSON at most. */
export function readJson<T>(archive: ArchiveDir, rel: string, label: string): T {
  return parseJson<T>(archive.readSmall(rel, label), `${label}: ${rel}`);
}

/** A small blob read whole and checked against its descriptor: refused unread if its size is not the declared one. */
export function readVerified(archive: ArchiveDir, rel: string, what: string, digest: Digest, size?: number): Buffer {
  const bytes = archive.readSmall(rel, what, size);
  checkDigest(what, digest, sha256(bytes));
  return bytes;
}

/** A layer stored as a file in the archive: checked now (a regular file inside, of the declared size), read later. */
export function fileLayer(
  archive: ArchiveDir,
  rel: string,
  what: string,
  fields: Pick<SourceLayer, 'digest' | 'size' | 'diffId'>,
): SourceLayer {
  const { fd, size } = archive.open(rel, what);
  closeSync(fd);
  if (fields.size !== undefined) checkSize(`${what}: blob`, fields.size, size);
  const limit = fields.size ?? size;
  return { what, total: limit, open: () => archive.stream(rel, limit), ...fields };
}
