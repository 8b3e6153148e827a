// Runs a seccomp BPF program (struct sock_filter[], little endian) on one struct seccomp_data, as the
// kernel's classic BPF interpreter would for the opcodes seccomp allows: what the filter answers.

export interface SeccompData {
  nr: number;
  arch: number;
  /** up to six arguments, 64-bit */
  args?: (number | bigint)[];
}

export function runFilter(program: Buffer, d: SeccompData): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(d.nr >>> 0, 0);
  data.writeUInt32LE(d.arch >>> 0, 4);
  (d.args ?? []).forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  let acc = 0;
  for (let pc = 0; pc < program.length / 8;) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    pc++;
    switch (code) {
      case 0x20: // ld [k]
        if (k % 4 !== 0 || k + 4 > 64) throw new Error(`load outside seccomp_data: ${k}`);
        acc = data.readUInt32LE(k);
        break;
      case 0x54: // and #k
        acc = (acc & k) >>> 0;
        break;
      case 0x05: // ja
        pc += k;
        break;
      case 0x15:
        pc += acc === k ? jt : jf;
        break;
      case 0x25:
        pc += acc > k ? jt : jf;
        break;
      case 0x35:
        pc += acc >= k ? jt : jf;
        break;
      case 0x45:
        pc += (acc & k) !== 0 ? jt : jf;
        break;
      case 0x06: // ret #k
        return k;
      default:
        throw new Error(`opcode 0x${code.toString(16)} is not one the compiler emits`);
    }
  }
  throw new Error('the program ran off its end');
}
