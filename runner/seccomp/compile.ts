// A resolved profile → the BPF program the helper installs with seccomp(2). Per architecture: a
// binary search over the syscall numbers (runs of numbers with one fixed answer are one leaf, which
// the kernel's action cache then answers without running the filter), argument comparisons where a
// rule has them, and runc's ENOSYS for numbers above every call the rules name.
import { TsprocError } from '../../src/errors.js';
import { Assembler, DATA, encode, OP, type Label } from './bpf.js';
import type { Action, HostFacts, ProfileArg, ResolvedProfile } from './profile.js';
import { X86_SYSCALLS, type SyscallTable } from './syscalls-x86.js';

/** SECCOMP_RET_* (linux/seccomp.h). */
export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

const EPERM = 1;
const ENOSYS = 38;
/** SECCOMP_FILTER_FLAG_*: the ones a profile may ask for (TSYNC means nothing for one thread). */
const FLAG_BITS: Record<string, number> = { SECCOMP_FILTER_FLAG_TSYNC: 0, SECCOMP_FILTER_FLAG_LOG: 2, SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4 };

/** One ABI the kernel may report: its AUDIT_ARCH, its numbers, and how wide its arguments are. */
export interface Abi {
  scmp: string;
  audit: number;
  table: SyscallTable;
  /** x32: __X32_SYSCALL_BIT, set in every number it reports */
  nrBit: number;
  /** 32-bit ABIs compare the low word of an argument only, as libseccomp does */
  wide: boolean;
}

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const X32_BIT = 0x40000000;

export const X86_ABIS: Record<string, Abi> = {
  SCMP_ARCH_X86_64: { scmp: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH_X86_64, table: X86_SYSCALLS.x86_64, nrBit: 0, wide: true },
  SCMP_ARCH_X32: { scmp: 'SCMP_ARCH_X32', audit: AUDIT_ARCH_X86_64, table: X86_SYSCALLS.x32, nrBit: X32_BIT, wide: false },
  SCMP_ARCH_X86: { scmp: 'SCMP_ARCH_X86', audit: AUDIT_ARCH_I386, table: X86_SYSCALLS.i386, nrBit: 0, wide: false },
};

export interface CompiledFilter {
  /** struct sock_filter[] */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* the profile asked for (NEW_LISTENER is the helper's, with `listener`) */
  flags: number;
  /** some calls go to a listener (SECCOMP_RET_USER_NOTIF): install with SECCOMP_FILTER_FLAG_NEW_LISTENER */
  listener: boolean;
}

/** What the kernel returns for an action; errno defaults to EPERM, as runc has it. */
export function actionValue(action: Action, errno?: number): number {
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return RET.ERRNO | ((errno ?? EPERM) & 0xffff);
    case 'SCMP_ACT_TRACE':
      return RET.TRACE | ((errno ?? EPERM) & 0xffff);
    case 'SCMP_ACT_ALLOW':
      return RET.ALLOW;
    case 'SCMP_ACT_LOG':
      return RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      return RET.USER_NOTIF;
  }
}

/** runc's rule: a default that lets calls through needs no ENOSYS for unknown ones. */
const lets = (action: Action) => action === 'SCMP_ACT_ALLOW' || action === 'SCMP_ACT_LOG' || action === 'SCMP_ACT_TRACE';

interface Rule {
  value: number;
  args: ProfileArg[];
}

/** A number's answer: one value, or comparisons in order and a fallback. */
type Decision = { kind: 'fixed'; value: number } | { kind: 'compare'; rules: Rule[]; fallback: number };

interface Segment {
  lo: number;
  hi: number;
  decision: Decision;
}

/**
 * Compile for this host (x86-64 only: the numbers tsproc knows). `notify`: calls of the native ABI
 * (when the profile names it) that go to the listener, whatever the profile's rules say of them.
 */
export function compileFilter(p: ResolvedProfile, host: HostFacts, notify: readonly string[] = []): CompiledFilter {
  if (host.arch !== 'amd64') {
    throw new TsprocError(
      `seccomp: tsproc knows the system call numbers of x86-64 only, not of ${host.arch}: run with --security-opt seccomp=unconfined`,
      { code: 'ENOTSUP', exitCode: 125 },
    );
  }
  // the native ABI always, as runc's libseccomp filters have it, and the others the profile names
  const abis = [...new Set(['SCMP_ARCH_X86_64', ...p.architectures])].map((a) => X86_ABIS[a]).filter((a): a is Abi => a !== undefined);
  const fallback = actionValue(p.defaultAction, p.defaultErrnoRet);
  const asm = new Assembler();
  const badArch = RET.KILL_PROCESS; // an architecture the filter does not name: killed (libseccomp kills the thread)
  const x64 = abis.find((a) => a.scmp === 'SCMP_ARCH_X86_64');
  const x32 = abis.find((a) => a.scmp === 'SCMP_ARCH_X32');
  const i386 = abis.find((a) => a.scmp === 'SCMP_ARCH_X86');
  const toX86_64 = asm.label();
  const toI386 = asm.label();
  const wide = x64 !== undefined || x32 !== undefined;
  asm.load(DATA.arch);
  if (wide) asm.jump(OP.JEQ_K, AUDIT_ARCH_X86_64, toX86_64, null);
  if (i386) asm.jump(OP.JEQ_K, AUDIT_ARCH_I386, toI386, null);
  asm.ret(badArch);
  if (wide) {
    // x86-64 and x32 share AUDIT_ARCH_X86_64: x32's numbers carry bit 30
    asm.place(toX86_64);
    asm.load(DATA.nr);
    const toX32 = asm.label();
    asm.jump(OP.JSET_K, X32_BIT, toX32, null);
    if (x64) section(asm, x64, p, fallback, notify);
    else asm.ret(badArch);
    asm.place(toX32);
    if (x32) section(asm, x32, p, fallback, []);
    else asm.ret(badArch);
  }
  if (i386) {
    asm.place(toI386);
    asm.load(DATA.nr);
    section(asm, i386, p, fallback, []);
  }
  const flags = p.flags.reduce((f, name) => f | (FLAG_BITS[name] ?? 0), 0);
  return { program: encode(asm.assemble()), flags, listener: notify.length > 0 };
}

/** One ABI's part of the program; the syscall number is in A. */
function section(asm: Assembler, abi: Abi, p: ResolvedProfile, fallback: number, notify: readonly string[]): void {
  const byNr = new Map<number, { conditional: Rule[]; plain: number[] }>();
  const add = (name: string, rule: Rule) => {
    const n = abi.table.get(name);
    if (n === undefined) return; // not a call of this ABI (runc ignores unknown names too)
    const nr = (n | abi.nrBit) >>> 0;
    const entry = byNr.get(nr) ?? { conditional: [], plain: [] };
    byNr.set(nr, entry);
    if (rule.args.length > 0) entry.conditional.push(rule);
    else entry.plain.push(rule.value);
  };
  for (const name of notify) add(name, { value: RET.USER_NOTIF, args: [] });
  for (const r of p.rules) for (const name of r.names) add(name, { value: actionValue(r.action, r.errnoRet), args: r.args });
  const known = [...byNr.keys()];
  const last = known.length > 0 ? Math.max(...known) : abi.nrBit;
  // runc's ENOSYS stub: a call newer than any the profile names fails as on an older kernel
  const stub = !lets(p.defaultAction) && known.length > 0;
  if (stub) {
    const enosys = asm.label();
    const go = asm.label();
    asm.jump(OP.JGT_K, last, enosys, go);
    asm.place(enosys);
    asm.ret(RET.ERRNO | ENOSYS);
    asm.place(go);
  }
  const decide = (nr: number): Decision => {
    const e = byNr.get(nr);
    if (!e) return { kind: 'fixed', value: fallback };
    // comparisons first, then the call's unconditional rule (libseccomp's order), then the default
    const otherwise = e.plain[0] ?? fallback;
    // a notified call is notified whatever its arguments
    if (e.plain[0] === RET.USER_NOTIF || e.conditional.length === 0) return { kind: 'fixed', value: otherwise };
    return { kind: 'compare', rules: e.conditional, fallback: otherwise };
  };
  const nrs = [...byNr.keys()].sort((a, b) => a - b);
  tree(asm, segments(abi.nrBit, stub ? last : 0xffffffff, nrs, decide, { kind: 'fixed', value: fallback }), abi);
}

/** [lo, hi] cut into runs with one decision each (numbers without rules take the default). */
function segments(lo: number, hi: number, nrs: number[], decide: (nr: number) => Decision, gap: Decision): Segment[] {
  const out: Segment[] = [];
  const push = (from: number, to: number, d: Decision) => {
    const prev = out[out.length - 1];
    if (prev && prev.hi === from - 1 && prev.decision.kind === 'fixed' && d.kind === 'fixed' && prev.decision.value === d.value)
      prev.hi = to;
    else out.push({ lo: from, hi: to, decision: d });
  };
  let next = lo;
  for (const nr of nrs) {
    if (nr < lo || nr > hi) continue;
    if (nr > next) push(next, nr - 1, gap);
    push(nr, nr, decide(nr));
    next = nr + 1;
  }
  if (next <= hi) push(next, hi, gap);
  return out;
}

/** A binary search over segs[from, to): one JGE per level, a leaf per segment. */
function tree(asm: Assembler, segs: Segment[], abi: Abi, from = 0, to = segs.length): void {
  if (to - from === 1) {
    leaf(asm, segs[from]!.decision, abi);
    return;
  }
  const mid = (from + to) >> 1;
  const right = asm.label();
  asm.jump(OP.JGE_K, segs[mid]!.lo, right, null);
  tree(asm, segs, abi, from, mid);
  asm.place(right);
  tree(asm, segs, abi, mid, to);
}

function leaf(asm: Assembler, d: Decision, abi: Abi): void {
  if (d.kind === 'fixed') {
    asm.ret(d.value);
    return;
  }
  for (const rule of d.rules) {
    const next = asm.label();
    for (const a of rule.args) compare(asm, a, abi, next);
    asm.ret(rule.value);
    asm.place(next);
  }
  asm.ret(d.fallback);
}

/** Falls through when the comparison holds, jumps to `fail` when not; 64-bit unsigned, as libseccomp. */
function compare(asm: Assembler, a: ProfileArg, abi: Abi, fail: Label): void {
  const lo = DATA.args + 8 * a.index; // little endian: the low word first
  const hi = lo + 4;
  const masked = a.op === 'SCMP_CMP_MASKED_EQ';
  const value = BigInt(masked ? (a.valueTwo ?? 0) : a.value);
  const mask = BigInt(masked ? a.value : 0);
  const word = (v: bigint, high: boolean) => Number(high ? (v >> 32n) & 0xffffffffn : v & 0xffffffffn);
  const ok = asm.label();
  // the high word decides unless equal; 32-bit ABIs have none
  if (abi.wide) {
    asm.load(hi);
    const vh = word(value, true);
    switch (a.op) {
      case 'SCMP_CMP_EQ':
        asm.jump(OP.JEQ_K, vh, null, fail);
        break;
      case 'SCMP_CMP_NE':
        asm.jump(OP.JEQ_K, vh, null, ok);
        break;
      case 'SCMP_CMP_GT':
      case 'SCMP_CMP_GE':
        asm.jump(OP.JGT_K, vh, ok, null);
        asm.jump(OP.JEQ_K, vh, null, fail);
        break;
      case 'SCMP_CMP_LT':
      case 'SCMP_CMP_LE':
        asm.jump(OP.JGT_K, vh, fail, null);
        asm.jump(OP.JEQ_K, vh, null, ok);
        break;
      case 'SCMP_CMP_MASKED_EQ':
        asm.and(word(mask, true));
        asm.jump(OP.JEQ_K, vh, null, fail);
        break;
    }
  }
  asm.load(lo);
  const vl = word(value, false);
  switch (a.op) {
    case 'SCMP_CMP_EQ':
      asm.jump(OP.JEQ_K, vl, null, fail);
      break;
    case 'SCMP_CMP_NE':
      asm.jump(OP.JEQ_K, vl, fail, null);
      break;
    case 'SCMP_CMP_GT':
      asm.jump(OP.JGT_K, vl, null, fail);
      break;
    case 'SCMP_CMP_GE':
      asm.jump(OP.JGE_K, vl, null, fail);
      break;
    case 'SCMP_CMP_LT':
      asm.jump(OP.JGE_K, vl, fail, null);
      break;
    case 'SCMP_CMP_LE':
      asm.jump(OP.JGT_K, vl, fail, null);
      break;
    case 'SCMP_CMP_MASKED_EQ':
      asm.and(word(mask, false));
      asm.jump(OP.JEQ_K, vl, null, fail);
      break;
  }
  asm.place(ok);
}
