// Content digests (`sha256:<64 hex>`): hashing buffers, and hashing streams on the way through (their
// names, parsed and shown, are digest-name.ts's, which loads no node:crypto).
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { TsprocError } from '../../src/errors.js';
import type { Digest } from './digest-name.js';

export { type Digest, hexOf, parseDigest } from './digest-name.js';

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
