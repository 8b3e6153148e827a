// zstd layers decoded in-process by fzstd (pure JavaScript: no zstd tool, no compiler), fed one frame
// header or one whole block at a time. The frames are walked here (RFC 8878, 3.1) so that hostile input
// cannot make the decoder allocate or emit without bound: a frame whose window exceeds 128 MiB is refused,
// as the zstd tool refuses it by default (--memory=128MB), and each push decodes one block (at most
// 128 KiB out), so the consumer's pace holds the output back. Skippable frames pass through.
import { Decompress } from 'fzstd';
import { TsprocError } from '../../src/errors.js';

/** The largest window a frame may ask for: the zstd tool's own default limit. */
export const MAX_WINDOW = 128 * 1024 * 1024;
const MAX_BLOCK = 128 * 1024;
const MAGIC = 0xfd2fb528;

/** The bytes a source gives, taken as whole pieces. */
class Bytes {
  private chunks: Buffer[] = [];
  length = 0;
  constructor(private readonly it: AsyncIterator<Buffer>) {}
  /** Wait until `n` bytes are buffered; false if the source ends first. */
  async want(n: number): Promise<boolean> {
    while (this.length < n) {
      const r = await this.it.next();
      if (r.done) return false;
      this.chunks.push(r.value);
      this.length += r.value.length;
    }
    return true;
  }
  peek(n: number): Buffer {
    if (this.chunks.length > 1 && this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }
  take(n: number): Buffer {
    const out = Buffer.from(this.peek(n));
    let left = n;
    while (left > 0) {
      const c = this.chunks[0]!;
      if (c.length <= left) {
        this.chunks.shift();
        left -= c.length;
      } else {
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    this.length -= n;
    return out;
  }
}

/** The frame header's length, and the window it asks for (RFC 8878, 3.1.1.1). */
function frameHeader(b: Bytes, what: string): { length: number; window: (h: Buffer) => number; checksum: boolean } {
  const fhd = b.peek(5)[4]!;
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  if (fhd & 0x08) throw bad(what, 'a reserved bit of a frame header is set');
  const didSize = [0, 1, 2, 4][fhd & 3]!;
  const fcsSize = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
  const length = 4 + 1 + (single ? 0 : 1) + didSize + fcsSize;
  const window = (h: Buffer): number => {
    if (didSize > 0 && h.readUIntLE(6 - single, didSize) !== 0) throw bad(what, 'a frame needs a dictionary');
    if (!single) {
      const wd = h[5]!;
      const base = 2 ** (10 + (wd >> 3));
      return base + (base / 8) * (wd & 7);
    }
    const at = 5 + didSize;
    if (fcsSize === 8) return Number(h.readBigUInt64LE(at));
    return h.readUIntLE(at, fcsSize) + (fcsSize === 2 ? 256 : 0);
  };
  return { length, window, checksum: ((fhd >> 2) & 1) === 1 };
}

const bad = (what: string, why: string) => new TsprocError(`${what}: cannot decompress it (zstd): ${why}`, { code: 'EBADMSG' });

/** zstd bytes in, the content out, frame after frame. */
export async function* zstdFrames(source: AsyncIterable<Buffer>, what: string): AsyncGenerator<Buffer> {
  const out: Buffer[] = [];
  const decoder = new Decompress((chunk) => {
    if (chunk.length > 0) out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  });
  const push = (piece: Buffer, final = false) => {
    try {
      decoder.push(piece, final);
    } catch (err) {
      throw bad(what, (err as Error).message);
    }
  };
  const b = new Bytes(source[Symbol.asyncIterator]());
  let frames = 0;
  while (await b.want(4)) {
    const magic = b.peek(4).readUInt32LE(0);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (!(await b.want(8))) throw bad(what, 'it ends inside a skippable frame');
      let left = b.peek(8).readUInt32LE(4);
      push(b.take(8));
      while (left > 0) {
        if (!(await b.want(1))) throw bad(what, 'it ends inside a skippable frame');
        const piece = b.take(Math.min(left, b.length));
        left -= piece.length;
        push(piece);
      }
      continue;
    }
    if (magic !== MAGIC) throw bad(what, frames === 0 ? 'not a zstd frame' : 'bytes after the last frame are not a frame');
    if (!(await b.want(5))) throw bad(what, 'it ends inside a frame header');
    const header = frameHeader(b, what);
    if (!(await b.want(header.length))) throw bad(what, 'it ends inside a frame header');
    const window = header.window(b.peek(header.length));
    if (window > MAX_WINDOW)
      throw bad(
        what,
        `a frame asks for a ${Math.ceil(window / 1048576)} MiB window (at most ${MAX_WINDOW / 1048576} MiB, as the zstd tool allows by default)`,
      );
    push(b.take(header.length));
    for (let last = false; !last;) {
      if (!(await b.want(3))) throw bad(what, 'it ends inside a frame');
      const bh = b.peek(3).readUIntLE(0, 3);
      last = (bh & 1) === 1;
      const type = (bh >> 1) & 3;
      const size = bh >> 3;
      if (type === 3) throw bad(what, 'a block of the reserved type');
      if (size > MAX_BLOCK) throw bad(what, `a block of ${size} bytes (at most ${MAX_BLOCK})`);
      const length = 3 + (type === 1 ? 1 : size);
      if (!(await b.want(length))) throw bad(what, 'it ends inside a block');
      push(b.take(length));
      yield* out.splice(0);
    }
    if (header.checksum) {
      if (!(await b.want(4))) throw bad(what, 'it ends before a frame checksum');
      push(b.take(4));
    }
    frames++;
  }
  if (b.length > 0) throw bad(what, 'it ends inside a frame');
  if (frames === 0) throw bad(what, 'no frame');
  push(Buffer.alloc(0), true);
  yield* out.splice(0);
}
