// The in-process zstd decoder against the zstd tool's own output (the tool is a test-only dependency):
// frames, skippable frames, checksums, window limits, and hostile or cut input refused by name.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { MAX_WINDOW, zstdFrames } from '../../runner/image/zstd-frames.js';

const hasZstd = spawnSync('zstd', ['--version']).status === 0;
if (!hasZstd) t.plan(0, 'the zstd tool makes the test input (Debian package zstd)');

const zstd = (input: Buffer, args: string[] = []): Buffer => {
  const r = spawnSync('zstd', ['-cq', ...args], { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`zstd ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** `bytes` given in pieces of `size`, decoded; the output pieces. */
async function decode(bytes: Buffer, size = 997): Promise<Buffer[]> {
  const source = (async function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  })();
  const out: Buffer[] = [];
  for await (const c of zstdFrames(source, 'layer 1')) out.push(c);
  return out;
}

const content = Buffer.concat([randomBytes(300_000), Buffer.alloc(700_000, 'a'), randomBytes(50_000)]);

t.test('what the zstd tool writes comes back byte for byte, whatever the pieces', async (t) => {
  for (const args of [[], ['-19'], ['--no-check'], ['--long=27'], ['-1', '--no-content-size']]) {
    const z = zstd(content, args);
    for (const size of [13, 4096, z.length]) {
      t.ok(Buffer.concat(await decode(z, size)).equals(content), `zstd ${args.join(' ')}, pieces of ${size}`);
    }
  }
  const small = content.subarray(295_000, 310_000);
  t.ok(Buffer.concat(await decode(zstd(small), 1)).equals(small), 'a byte at a time');
  t.same(Buffer.concat(await decode(zstd(Buffer.alloc(0)))), Buffer.alloc(0), 'an empty content');
});

t.test('several frames, and skippable frames between them', async (t) => {
  const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from([5, 0, 0, 0]), Buffer.from('hello')]);
  const z = Buffer.concat([zstd(Buffer.from('one ')), skippable, zstd(Buffer.from('two ')), zstd(content)]);
  t.ok(Buffer.concat(await decode(z, 7)).equals(Buffer.concat([Buffer.from('one two '), content])));
});

t.test('the output comes a block at a time: a small input that expands a lot is not decoded ahead of its reader', async (t) => {
  const big = zstd(Buffer.alloc(64 << 20)); // 64 MiB of zeros: a few kilobytes of RLE blocks
  t.ok(big.length < 65536, `compressed to ${big.length} bytes`);
  let pieces = 0;
  let largest = 0;
  for await (const c of zstdFrames(
    (async function* () {
      yield big;
    })(),
    'layer 1',
  )) {
    pieces++;
    largest = Math.max(largest, c.length);
    if (pieces === 3) break;
  }
  t.ok(largest <= 128 * 1024, `no piece over a block (${largest} bytes)`);
});

t.test('hostile or cut input is refused with what was wrong', async (t) => {
  const z = zstd(content);
  const refuse = async (bytes: Buffer, why: RegExp, name: string) => {
    await t.rejects(decode(bytes), { code: 'EBADMSG', message: why }, name);
  };
  await refuse(Buffer.from('not zstd at all'), /^layer 1: cannot decompress it \(zstd\): not a zstd frame$/, 'not zstd');
  await refuse(z.subarray(0, z.length - 10), /it ends inside a block/, 'cut in a block');
  await refuse(z.subarray(0, 5), /it ends inside a frame header/, 'cut in the header');
  await refuse(Buffer.concat([z, Buffer.from('trailing')]), /bytes after the last frame are not a frame/, 'trailing bytes');
  await refuse(Buffer.alloc(0), /no frame/, 'nothing');
  // a frame asking for a 2 GiB window (window descriptor 0xa8: 2^(10+21)), with one empty raw block
  const huge = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x01, 0x00, 0x00]);
  await refuse(huge, /a frame asks for a 2048 MiB window \(at most 128 MiB/, 'a 2 GiB window');
  t.equal(MAX_WINDOW, 128 * 1024 * 1024);
  // the zstd tool's own --long=28 output: refused as the tool refuses it without --memory
  await refuse(
    zstd(content, ['--long=28', '--zstd=wlog=28']),
    /asks for a 256 MiB window/,
    'a 256 MiB window, as written by zstd --long=28',
  );
  // a single-segment frame that says its content is 4 GiB
  const single = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]);
  await refuse(single, /a frame asks for a 4096 MiB window/, 'a single segment of 4 GiB');
  // a block of the reserved type, and one over 128 KiB
  await refuse(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, 0x07, 0x00, 0x00]), /a block of the reserved type/, 'reserved block type');
  await refuse(
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50, 0x01, 0x00, 0x20]),
    /a block of 262144 bytes \(at most 131072\)/,
    'a block over 128 KiB',
  );
  // a corrupt compressed block (its tables): the decoder's own words
  const corrupt = zstd(Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i * 7}\n`).join('')));
  for (let i = 12; i < 60; i++) corrupt[i] = 0xff;
  await t.rejects(decode(corrupt), { code: 'EBADMSG', message: /^layer 1: cannot decompress it \(zstd\): / }, 'corrupt block');
});
