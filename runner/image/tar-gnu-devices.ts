// node-tar decodes a device entry's major and minor only from POSIX ustar headers (magic `ustar\0` `00`).
// GNU tar's own format (`ustar  \0`: what `tar -c` writes by default, and what a root filesystem is
// imported through) keeps them at the same offsets; left at 0/0, a device would become a whiteout.
// Importing this module makes node-tar's Header decode them from GNU headers too.
import { Header } from 'tar';

const GNU_MAGIC = 'ustar  \0';

/** An 8-byte numeric field: octal text, or base-256 when its first byte has the high bit set. */
function numberField(buf: Buffer, off: number): number {
  const f = buf.subarray(off, off + 8);
  if (f[0]! & 0x80) return f.subarray(1).reduce((n, b) => n * 256 + b, f[0]! & 0x7f);
  const text = f.toString('latin1').replace(/[\0 ].*$/s, '');
  return text === '' ? 0 : parseInt(text, 8);
}

type Decode = (this: Header, buf: Buffer, off: number, ...rest: unknown[]) => void;
const proto = Header.prototype as unknown as { decode: Decode; gnuDevices?: true };
if (!proto.gnuDevices) {
  const decode = proto.decode;
  proto.decode = function (buf, off, ...rest) {
    decode.call(this, buf, off, ...rest);
    const o = off || 0;
    if (
      (this.type === 'CharacterDevice' || this.type === 'BlockDevice') &&
      buf.subarray(o + 257, o + 265).toString('latin1') === GNU_MAGIC
    ) {
      this.devmaj = numberField(buf, o + 329);
      this.devmin = numberField(buf, o + 337);
    }
  };
  proto.gnuDevices = true;
}
