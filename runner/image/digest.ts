// Content digests (`sha256:<64 hex>`): parsing, hashing buffers, and hashing streams on the way through.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { TsprocError } from '../../src/errors.js';

export type Digest = `sha256:${string}`;

const DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** `sha256:<hex>` checked; other algorithms (sha512, ...) are refused by name, anything else as malformed. */
export function parseDigest(value: unknown, what: string): Digest {
  const m = typeof value === 'string' ? DIGEST.exec(value) : null;
  if (!m) throw new TsprocError(`${what}: ${JSON.stringify(value)} is not a digest (sha256:<64 hex digits>)`, { code: 'EINVAL' });
  if (m[1] !== 'sha256')
    throw new TsprocError(`${what}: digest algorithm ${m[1]} is not supported (tsproc reads sha256)`, { code: 'EINVAL' });
  if (!/^[0-9a-f]{64}$/.test(m[2]!))
    throw new TsprocError(`${what}: ${JSON.stringify(value)} is not a sha256 digest (64 lowercase hex digits)`, { code: 'EINVAL' });
  return value as Digest;
}

export const hexOf = (d: Digest): string => d.slice('sha256:'.length);

export function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Refuses content whose size is not the one its descriptor promised. */
export function checkSize(what: string, expected: number, actual: number): void {
  if (expected !== actual) {
    throw new TsprocError(
      `${what}: size mismatch: the descriptor says ${expected} bytes, the content has ${actual} (corrupted or truncated)`,
      { code: 'EBADMSG' },
    );
  }
}

/** Refuses content whose digest (or size) is not the one its descriptor promised. */
export function checkDigest(what: string, expected: Digest, actual: Digest, size?: { expected?: number; actual: number }): void {
  if (size?.expected !== undefined) checkSize(what, size.expected, size.actual);
  if (expected !== actual) {
    throw new TsprocError(`${what}: digest mismatch: expected ${expected}, the content hashes to ${actual} (corrupted or altered)`, {
      code: 'EBADMSG',
    });
  }
}

/** A pass-through stream that hashes and counts what flows through it. */
export class DigestTap extends Transform {
  #hash: Hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(chunk.length);
    cb(null, chunk);
  }
  /** Call once the stream has ended. */
  digest(): Digest {
    return `sha256:${this.#hash.digest('hex')}`;
  }
}
