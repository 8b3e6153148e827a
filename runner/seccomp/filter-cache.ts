// Compiled filters kept on disk (STATE/seccomp/*.bpf), so that a run does not compile docker's profile
// again: the compile is some thousand small allocations, 25 to 40 ms of a cold process under load
// (docs/benchmarks.md), reading an entry well under one. An entry holds the whole of what its program
// was compiled from (the profile's text, the capabilities, the host's architecture and kernel, the
// notified calls, and the compiler's own code: every module of this directory) and is used only when
// that is, byte for byte, what this run would compile from; a checksum and a check of the program's
// shape guard what follows. A changed compiler, profile or kernel misses, a damaged entry is compiled
// again and replaced; entries are written whole (a new file renamed over), so no reader sees half of one.
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { verifyProgram } from './bpf.js';
import type { CompiledFilter } from './compile.js';

const MAGIC = Buffer.from('tsproc seccomp filter 1\n');
/** More entries than this (capability sets, profiles, kernels) and the cache starts over. */
export const MAX_ENTRIES = 32;

/** This directory's compiled modules, read once: what makes a filter besides its inputs. */
let compiler: Buffer | undefined;
function compilerText(): Buffer {
  if (compiler) return compiler;
  // dist/runner/seccomp/ (the bundle rewrites import.meta.url to the module's own compiled file)
  const dir = new URL('.', import.meta.url);
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.js'))
    .sort();
  compiler = Buffer.concat(names.flatMap((n) => [Buffer.from(`\n${n}\n`), readFileSync(new URL(n, dir))]));
  return compiler;
}

/**
 * FNV-1a, 32 bits from `seed`, taken a 32-bit word at a time (a quarter of the steps of a cold loop):
 * names an entry's file and checks its program (the key is compared whole). Each step is one-to-one on
 * the hash, so a change to any one word always changes it.
 */
function fnv(b: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed;
  const words = b.length & ~3;
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < words; i += 4) h = Math.imul(h ^ v.getUint32(i, true), 0x01000193);
  for (let i = words; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * What a filter is compiled from: the profile's text, the rest of the inputs (capabilities, host,
 * notified calls), and the compiler.
 */
export interface FilterInputs {
  /** the profile as text; null: none (every call allowed but the notified ones) */
  profile: string | null;
  rest: object;
}

/** The bytes an entry must hold: the inputs, then the compiler. */
export function filterKey(inputs: FilterInputs): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify(inputs.rest)}\n${inputs.profile}\n`), compilerText()]);
}

/**
 * The entry's file, named by a hash of the inputs less the profile's text (its length stands for it):
 * entries whose inputs differ in what the name leaves out (another profile of the same length, another
 * compiler) replace each other, as the key is compared whole.
 */
export function entryPath(dir: string, inputs: FilterInputs): string {
  const named = Buffer.from(`${JSON.stringify(inputs.rest)} ${inputs.profile?.length ?? -1}`);
  return `${dir}/${fnv(named).toString(16).padStart(8, '0')}${fnv(named, 0x01234567).toString(16).padStart(8, '0')}.bpf`;
}

/**
 * The entry: MAGIC, u32 key length, the key, u32 flags, u8 listener, u32 program length, the program,
 * u32 FNV-1a of the flags, listener, length and program. All little endian.
 */
export function encodeEntry(key: Buffer, f: CompiledFilter): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(key.length);
  const mid = Buffer.alloc(9);
  mid.writeUInt32LE(f.flags >>> 0, 0);
  mid.writeUInt8(f.listener ? 1 : 0, 4);
  mid.writeUInt32LE(f.program.length, 5);
  const filter = Buffer.concat([mid, f.program]);
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(fnv(filter));
  return Buffer.concat([MAGIC, head, key, filter, sum]);
}

/** The filter an entry holds, if it is whole and was compiled from exactly `key`; otherwise undefined. */
export function decodeEntry(entry: Buffer, key: Buffer): CompiledFilter | undefined {
  let at = MAGIC.length;
  if (entry.length < at + 4 + key.length + 9 + 4 || !entry.subarray(0, at).equals(MAGIC)) return undefined;
  if (entry.readUInt32LE(at) !== key.length) return undefined;
  at += 4;
  if (!entry.subarray(at, at + key.length).equals(key)) return undefined;
  at += key.length;
  const start = at;
  const flags = entry.readUInt32LE(at);
  const listener = entry.readUInt8(at + 4);
  const size = entry.readUInt32LE(at + 5);
  at += 9;
  if (listener > 1 || entry.length !== at + size + 4) return undefined;
  if (entry.readUInt32LE(at + size) !== fnv(entry.subarray(start, at + size))) return undefined;
  const program = Buffer.from(entry.subarray(at, at + size));
  if (!verifyProgram(program)) return undefined;
  return { program, flags, listener: listener === 1 };
}

/**
 * The filter compiled from `inputs` (everything `compile` reads besides the compiler's code): from the
 * entry in `dir` when it holds exactly these, else compiled and kept. The cache never fails a run: an
 * entry that cannot be read or written is compiled as if there were no cache.
 */
export function cachedFilter(dir: string, inputs: FilterInputs, compile: () => CompiledFilter): CompiledFilter {
  let key: Buffer | undefined;
  let file: string | undefined;
  try {
    key = filterKey(inputs);
    file = entryPath(dir, inputs);
    const hit = decodeEntry(readFileSync(file), key);
    if (hit) return hit;
  } catch {
    // no entry yet (ENOENT), or the compiler's modules cannot be read: compile
  }
  const f = compile();
  try {
    key ??= filterKey(inputs);
    file ??= entryPath(dir, inputs);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const entries = readdirSync(dir);
    if (entries.length >= MAX_ENTRIES) for (const e of entries) unlinkSync(`${dir}/${e}`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, encodeEntry(key, f), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // a read-only or full state directory: the next run compiles again
  }
  return f;
}
