// Content digests' names (`sha256:<64 hex>`): parsed and shown. No hashing here (digest.ts): what only
// names contents, such as the store's paths, loads no node:crypto (a tenth of `tsproc run`'s start).
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
