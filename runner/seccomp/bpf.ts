// A small assembler for classic BPF as seccomp runs it: loads from struct seccomp_data, AND,
// forward jumps to labels, returns. Conditional jumps reach 255 instructions; farther targets go
// through JA trampolines, chosen by assemble(). Encodes struct sock_filter in the host's (little) endian.

/** struct seccomp_data: nr at 0, arch at 4, instruction_pointer at 8, args[6] (u64 each) from 16. */
export const DATA = { nr: 0, arch: 4, args: 16 } as const;

/** Opcodes (linux/filter.h): class | size | mode, class | op | source. */
export const OP = {
  LD_W_ABS: 0x20,
  AND_K: 0x54,
  JA: 0x05,
  JEQ_K: 0x15,
  JGT_K: 0x25,
  JGE_K: 0x35,
  JSET_K: 0x45,
  RET_K: 0x06,
} as const;

/** The kernel takes at most this many instructions (BPF_MAXINSNS). */
export const MAX_INSNS = 4096;

export interface Label {
  readonly id: number;
}

type Jcc = typeof OP.JEQ_K | typeof OP.JGT_K | typeof OP.JGE_K | typeof OP.JSET_K;

type Item =
  | { kind: 'insn'; code: number; k: number }
  /** a conditional jump; null: the next instruction */
  | { kind: 'jump'; code: Jcc; k: number; jt: Label | null; jf: Label | null; long: boolean }
  | { kind: 'ja'; to: Label }
  | { kind: 'label'; label: Label };

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

interface Layout {
  /** each item's instruction index */
  positions: number[];
  labels: Map<number, number>;
  size: number;
}

function target(l: Label, layout: Layout): number {
  const pc = layout.labels.get(l.id);
  if (pc === undefined) throw new Error(`BPF label ${l.id} was never placed`);
  return pc;
}

export class Assembler {
  private readonly items: Item[] = [];
  private labels = 0;

  label(): Label {
    return { id: this.labels++ };
  }

  /** The label marks the next instruction emitted. */
  place(l: Label): void {
    this.items.push({ kind: 'label', label: l });
  }

  load(offset: number): void {
    this.items.push({ kind: 'insn', code: OP.LD_W_ABS, k: offset });
  }

  and(k: number): void {
    this.items.push({ kind: 'insn', code: OP.AND_K, k: k >>> 0 });
  }

  ret(k: number): void {
    this.items.push({ kind: 'insn', code: OP.RET_K, k: k >>> 0 });
  }

  /** if (A op k) goto jt else goto jf (null: fall through) */
  jump(code: Jcc, k: number, jt: Label | null, jf: Label | null): void {
    this.items.push({ kind: 'jump', code, k: k >>> 0, jt, jf, long: false });
  }

  goto(to: Label): void {
    this.items.push({ kind: 'ja', to });
  }

  /** The program: jumps resolved (widened through JA where a target is more than 255 away). */
  assemble(): Insn[] {
    for (;;) {
      const layout = this.layout();
      let widened = false;
      for (let i = 0; i < this.items.length; i++) {
        const item = this.items[i]!;
        if (item.kind !== 'jump' || item.long) continue;
        const from = layout.positions[i]! + 1;
        const far = (l: Label | null) => l !== null && target(l, layout) - from > 255;
        if (far(item.jt) || far(item.jf)) ((item.long = true), (widened = true));
      }
      if (!widened) return this.emit(layout);
    }
  }

  private layout(): Layout {
    const positions: number[] = [];
    const labels = new Map<number, number>();
    let pc = 0;
    for (const item of this.items) {
      positions.push(pc);
      if (item.kind === 'label') labels.set(item.label.id, pc);
      else pc += item.kind === 'jump' && item.long ? 3 : 1;
    }
    return { positions, labels, size: pc };
  }

  private emit(layout: Layout): Insn[] {
    const { positions, size } = layout;
    if (size > MAX_INSNS) throw new Error(`the seccomp filter has ${size} instructions, more than the kernel's ${MAX_INSNS}`);
    const out: Insn[] = [];
    const offset = (l: Label | null, from: number) => {
      const off = l === null ? 0 : target(l, layout) - from;
      if (off < 0) throw new Error('BPF jumps go forward only');
      return off;
    };
    for (let i = 0; i < this.items.length; i++) {
      const item = this.items[i]!;
      const pc = positions[i]!;
      if (item.kind === 'insn') out.push({ code: item.code, jt: 0, jf: 0, k: item.k });
      else if (item.kind === 'ja') out.push({ code: OP.JA, jt: 0, jf: 0, k: offset(item.to, pc + 1) });
      else if (item.kind === 'jump' && !item.long)
        out.push({ code: item.code, jt: offset(item.jt, pc + 1), jf: offset(item.jf, pc + 1), k: item.k });
      else if (item.kind === 'jump') {
        // jcc k, 0, 1; ja jt; ja jf (a null target: the instruction after these three)
        out.push({ code: item.code, jt: 0, jf: 1, k: item.k });
        out.push({ code: OP.JA, jt: 0, jf: 0, k: item.jt === null ? 1 : offset(item.jt, pc + 2) });
        out.push({ code: OP.JA, jt: 0, jf: 0, k: offset(item.jf, pc + 3) });
      }
    }
    return out;
  }
}

/** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k, in the host's endian (little, on x86). */
export function encode(program: Insn[]): Buffer {
  const b = Buffer.alloc(program.length * 8);
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < program.length; i++) {
    const p = program[i]!;
    v.setUint16(i * 8, p.code, true);
    v.setUint8(i * 8 + 2, p.jt);
    v.setUint8(i * 8 + 3, p.jf);
    v.setUint32(i * 8 + 4, p.k >>> 0, true);
  }
  return b;
}

const OPCODES: ReadonlySet<number> = new Set(Object.values(OP));

/**
 * Whether a program is one this assembler could have made: whole instructions, 1 to MAX_INSNS of them,
 * known opcodes, loads inside struct seccomp_data, every jump landing inside the program, and a return
 * last (the kernel checks much the same when the filter is installed; this is for a program read back).
 */
export function verifyProgram(b: Buffer): boolean {
  const n = b.length / 8;
  if (!Number.isInteger(n) || n < 1 || n > MAX_INSNS) return false;
  for (let pc = 0; pc < n; pc++) {
    const at = pc * 8;
    const code = b[at]! | (b[at + 1]! << 8);
    const k = (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>> 0;
    if (!OPCODES.has(code)) return false;
    if (code === OP.LD_W_ABS && (k % 4 !== 0 || k > 60)) return false;
    const jump = code === OP.JA ? k : code === OP.RET_K || code === OP.LD_W_ABS || code === OP.AND_K ? 0 : Math.max(b[at + 2]!, b[at + 3]!);
    if (pc + 1 + jump >= n && code !== OP.RET_K) return false;
  }
  return b.readUInt16LE((n - 1) * 8) === OP.RET_K;
}
