// What an import reads, whatever the archive's format: images, each a config and layers to unpack in order.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { TsprocError, wrapError } from '../../src/errors.js';
import { type Digest, checkDigest, sha256 } from './digest.js';
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

/** A path inside an archive's directory, refused if it would lead outside it (a hostile manifest). */
export function inside(dir: string, rel: unknown, what: string): string {
  if (typeof rel !== 'string' || rel === '') throw new TsprocError(`${what}: ${JSON.stringify(rel)} is not a path`, { code: 'EINVAL' });
  const abs = resolve(dir, rel);
  const r = relative(dir, abs);
  if (r === '' || r.startsWith('..') || resolve(dir, r) !== abs) {
    throw new TsprocError(`${what}: ${JSON.stringify(rel)} points outside the archive: refused`, { code: 'EINVAL', path: rel });
  }
  return abs;
}

export function readJson<T>(path: string, what: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw wrapError(err, `${what}: cannot read it`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new TsprocError(`${what}: not valid JSON: ${(err as Error).message}`, { code: 'EINVAL', path });
  }
}

/** A small blob read whole and checked against its digest (and size, if known). */
export function readVerified(path: string, what: string, digest: Digest, size?: number): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw wrapError(err, `${what}: missing from the archive`);
  }
  checkDigest(what, digest, sha256(bytes), { expected: size, actual: bytes.length });
  return bytes;
}

/** A layer stored as a file in the archive. */
export function fileLayer(path: string, what: string, fields: Pick<SourceLayer, 'digest' | 'size' | 'diffId'>): SourceLayer {
  let total: number;
  try {
    total = fields.size ?? statSync(path).size;
  } catch (err) {
    throw wrapError(err, `${what}: missing from the archive`);
  }
  return { what, total, open: () => createReadStream(path), ...fields };
}
