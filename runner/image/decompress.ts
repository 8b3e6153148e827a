// Layer compression, told by the content's first bytes (not by media types, which docker archives omit):
// gzip with zlib, zstd with fzstd (runner/image/zstd-frames.ts), plain tar as is; bzip2 and xz are refused by name.
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TsprocError } from '../../src/errors.js';
import { testGate } from '../test-hooks.js';
import { zstdFrames } from './zstd-frames.js';

const MAGIC: Array<[string, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
];

export function sniff(head: Buffer): string {
  return MAGIC.find(([, bytes]) => head.length >= bytes.length && bytes.every((b, i) => head[i] === b))?.[0] ?? 'none';
}

/**
 * A pipeline stage: compressed (or plain) tar bytes in, tar bytes out. The signal ends a decompressor waiting for
 * its output at once (a pipeline's own abort cannot reach into a generator that awaits it).
 */
export function decompress(what: string, signal?: AbortSignal): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* (source) {
    const it = source[Symbol.asyncIterator]();
    let head = Buffer.alloc(0);
    let ended = false;
    while (head.length < 6 && !ended) {
      const r = await it.next();
      if (r.done) ended = true;
      else head = Buffer.concat([head, r.value]);
    }
    const rest = (async function* () {
      if (head.length > 0) yield head;
      while (!ended) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    })();
    const kind = sniff(head);
    if (kind !== 'none') await testGate('decompress', signal);
    if (kind === 'none') return yield* rest;
    if (kind === 'bzip2' || kind === 'xz')
      throw new TsprocError(`${what}: ${kind}-compressed layers are not supported (gzip, zstd or plain tar)`, { code: 'EINVAL' });
    if (kind === 'zstd') return yield* zstdFrames(rest, what);
    const d = createGunzip();
    const input = Readable.from(rest);
    input.on('error', (err) => d.destroy(err));
    input.pipe(d);
    const stop = () => d.destroy(new TsprocError(`${what}: interrupted`, { code: 'EINTR' }));
    signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const chunk of d) yield chunk as Buffer;
    } catch (err) {
      throw err instanceof TsprocError
        ? err
        : new TsprocError(`${what}: cannot decompress it (${kind}): ${(err as Error).message}`, { code: 'EBADMSG' });
    } finally {
      signal?.removeEventListener('abort', stop);
      d.destroy();
    }
  };
}
