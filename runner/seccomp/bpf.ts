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
      for (const [i, item] of this.items.entries()) {
        if (item.kind !== 'jump' || item.long) continue;
        const from = layout.positions[i]! + 1;
        const far = [item.jt, item.jf].some((l) => l !== null && target(l, layout) - from > 255);
        if (far) ((item.long = true), (widened = true));
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
    for (const [i, item] of this.items.entries()) {
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
  program.forEach((p, i) => {
    b.writeUInt16LE(p.code, i * 8);
    b.writeUInt8(p.jt, i * 8 + 2);
    b.writeUInt8(p.jf, i * 8 + 3);
    b.writeUInt32LE(p.k >>> 0, i * 8 + 4);
  });
  return b;
}
