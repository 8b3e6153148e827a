// The compiled-filter cache (runner/seccomp/filter-cache.ts): a run gets from it exactly the filter a
// compile gives, and an entry that is damaged, was made from other inputs or by another compiler, or
// holds a program of the wrong shape is never used: the filter is compiled again and the entry replaced.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { DEFAULT_CAPABILITIES } from '../../runner/capabilities.js';
import { AUDIT_ARCH_X86_64, RET, type CompiledFilter } from '../../runner/seccomp/compile.js';
import { containerFilter, type FilterInputs as Plan } from '../../runner/seccomp/container-filter.js';
import { verifyProgram } from '../../runner/seccomp/bpf.js';
import { cachedFilter, encodeEntry, entryPath, filterKey, MAX_ENTRIES, type FilterInputs } from '../../runner/seccomp/filter-cache.js';
import type { HostFacts } from '../../runner/seccomp/profile.js';
import { X86_SYSCALLS } from '../../runner/seccomp/syscalls-x86.js';
import { runFilter } from '../helpers/bpf-interpreter.js';

const AMD64: HostFacts = { arch: 'amd64', kernel: [6, 18] };
const EPERM = RET.ERRNO | 1;
const PLAN: Plan = { seccomp: { mode: 'default' }, privileged: false, capabilities: DEFAULT_CAPABILITIES };
const call = (f: CompiledFilter, name: string) => runFilter(f.program, { nr: X86_SYSCALLS.x86_64.get(name)!, arch: AUDIT_ARCH_X86_64 });

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync('/tmp/tsproc-test-seccomp-cache-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return `${dir}/seccomp`;
}

/** cachedFilter with a compile that counts its calls. */
function counted(dir: string, inputs: FilterInputs, filter: CompiledFilter) {
  let compiles = 0;
  const f = cachedFilter(dir, inputs, () => (compiles++, filter));
  return { f, compiles };
}

t.test('a run gets from the cache the very filter a compile gives', async (t) => {
  const dir = tempDir(t);
  const fresh = containerFilter(PLAN, { host: AMD64 })!;
  const first = containerFilter(PLAN, { host: AMD64, cacheDir: dir })!;
  t.equal(readdirSync(dir).length, 1, 'the first run keeps its filter');
  const second = containerFilter(PLAN, { host: AMD64, cacheDir: dir })!;
  for (const f of [first, second]) {
    t.same(f.program, fresh.program);
    t.equal(f.flags, fresh.flags);
    t.equal(f.listener, fresh.listener);
  }
  t.equal(call(second, 'mount'), EPERM, "docker's profile refuses mount");
  t.equal(call(second, 'getpid'), RET.ALLOW);
  // what changes the filter changes the entry: more capabilities, --lxcfs, another kernel
  const admin = containerFilter({ ...PLAN, capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'] }, { host: AMD64, cacheDir: dir })!;
  t.equal(call(admin, 'mount'), RET.ALLOW, 'CAP_SYS_ADMIN: mount allowed, not the cached default');
  const lxcfs = containerFilter({ ...PLAN, lxcfsRoot: '/var/lib/tsproc' }, { host: AMD64, cacheDir: dir })!;
  t.equal(call(lxcfs, 'sysinfo'), RET.USER_NOTIF, '--lxcfs: sysinfo notified');
  t.equal(lxcfs.listener, true);
  t.equal(call(containerFilter(PLAN, { host: AMD64, cacheDir: dir })!, 'sysinfo'), RET.ALLOW, 'and not without it');
  t.equal(readdirSync(dir).length, 3);
});

t.test('two profiles of the same length are not taken for each other', async (t) => {
  const dir = tempDir(t);
  const profile = (action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO') => ({
    defaultAction: 'SCMP_ACT_ALLOW' as const,
    syscalls: [{ names: ['getpid'], action }],
  });
  const file = (p: ReturnType<typeof profile>): Plan => ({ ...PLAN, seccomp: { mode: 'file', path: '/p.json', profile: p } });
  t.equal(JSON.stringify(profile('SCMP_ACT_ALLOW')).length, JSON.stringify(profile('SCMP_ACT_ERRNO')).length);
  t.equal(call(containerFilter(file(profile('SCMP_ACT_ERRNO')), { host: AMD64, cacheDir: dir })!, 'getpid'), EPERM);
  t.equal(call(containerFilter(file(profile('SCMP_ACT_ALLOW')), { host: AMD64, cacheDir: dir })!, 'getpid'), RET.ALLOW);
  t.equal(call(containerFilter(file(profile('SCMP_ACT_ERRNO')), { host: AMD64, cacheDir: dir })!, 'getpid'), EPERM);
});

t.test('an entry that is not exactly what this run compiles from is compiled again and replaced', async (t) => {
  const inputs: FilterInputs = { profile: '{"a profile":1}', rest: { capabilities: ['CAP_CHOWN'] } };
  const right = containerFilter(PLAN, { host: AMD64 })!;
  const wrong: CompiledFilter = containerFilter({ ...PLAN, capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'] }, { host: AMD64 })!;
  t.notSame(wrong.program, right.program);
  const key = filterKey(inputs);
  const good = encodeEntry(key, wrong); // a well-made entry of the wrong filter: used only when its key is this run's
  const cases: [string, Buffer][] = [
    ['another compiler (its code differs by one byte)', encodeEntry(Buffer.concat([key.subarray(0, -1), Buffer.from('!')]), wrong)],
    ['other inputs under the same name', encodeEntry(filterKey({ ...inputs, profile: '{"a profile":2}' }), wrong)],
    ['the program damaged (one byte)', Buffer.from(good).fill(0x15, good.length - 20, good.length - 19)],
    ['the flags damaged', Buffer.from(good).fill(0xff, good.length - wrong.program.length - 13, good.length - wrong.program.length - 12)],
    ['cut short', good.subarray(0, good.length - 100)],
    ['one byte too many', Buffer.concat([good, Buffer.from([0])])],
    ['empty', Buffer.alloc(0)],
    ['not an entry', Buffer.from('#!/bin/sh\n')],
  ];
  for (const [what, bytes] of cases) {
    const dir = tempDir(t);
    const file = entryPath(dir, inputs);
    cachedFilter(dir, inputs, () => right); // makes the directory
    writeFileSync(file, bytes);
    const { f, compiles } = counted(dir, inputs, right);
    t.equal(compiles, 1, `${what}: compiled again`);
    t.same(f.program, right.program, `${what}: the right filter`);
    t.equal(counted(dir, inputs, wrong).compiles, 0, `${what}: the entry replaced, and used`);
  }
  const dir = tempDir(t);
  cachedFilter(dir, inputs, () => right);
  writeFileSync(entryPath(dir, inputs), good);
  t.same(counted(dir, inputs, right).f.program, wrong.program, 'the check: a whole entry with this key is used as it is');
});

t.test('a program of a shape the assembler never makes is not used, checksum or not', async (t) => {
  const inputs: FilterInputs = { profile: null, rest: {} };
  const right: CompiledFilter = { program: Buffer.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f]), flags: 0, listener: false };
  const insn = (code: number, jt: number, jf: number, k: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(code, 0);
    b.writeUInt8(jt, 2);
    b.writeUInt8(jf, 3);
    b.writeUInt32LE(k, 4);
    return b;
  };
  const ret = insn(0x06, 0, 0, RET.ALLOW);
  const bad: [string, Buffer][] = [
    ['no return last', Buffer.concat([ret, insn(0x20, 0, 0, 0)])],
    ['a jump past the end', Buffer.concat([insn(0x15, 5, 0, 1), ret])],
    ['a load outside seccomp_data', Buffer.concat([insn(0x20, 0, 0, 64), ret])],
    ['an opcode seccomp refuses (ldx)', Buffer.concat([insn(0x01, 0, 0, 0), ret])],
    ['half an instruction', Buffer.concat([ret, Buffer.alloc(4)])],
  ];
  t.ok(verifyProgram(Buffer.concat([insn(0x20, 0, 0, 4), insn(0x15, 1, 0, 0), ret, ret])), 'a good one passes');
  for (const [what, program] of bad) {
    t.notOk(verifyProgram(program), what);
    const dir = tempDir(t);
    cachedFilter(dir, inputs, () => right);
    writeFileSync(entryPath(dir, inputs), encodeEntry(filterKey(inputs), { program, flags: 0, listener: false }));
    const { f, compiles } = counted(dir, inputs, right);
    t.equal(compiles, 1, `${what}: compiled again`);
    t.same(f.program, right.program);
  }
});

t.test('the cache never fails a run; it starts over past MAX_ENTRIES', async (t) => {
  const base = tempDir(t);
  const right = containerFilter(PLAN, { host: AMD64 })!;
  writeFileSync(`${base}`, 'a file where the directory would be');
  t.same(containerFilter(PLAN, { host: AMD64, cacheDir: `${base}/seccomp` })!.program, right.program, 'unwritable: compiled');
  const dir = tempDir(t);
  for (let i = 0; i < MAX_ENTRIES + 5; i++) cachedFilter(dir, { profile: null, rest: { i } }, () => right);
  const n = readdirSync(dir).length;
  t.ok(n >= 1 && n <= MAX_ENTRIES, `${n} entries`);
  const entry = readFileSync(`${dir}/${readdirSync(dir)[0]}`);
  t.ok(entry.length < 100_000, `an entry is ${entry.length} bytes`);
});

t.test("the key's compiler is all of it: runner/seccomp's modules use no code of tsproc's from elsewhere", async (t) => {
  // filterKey holds every module of runner/seccomp/; a module elsewhere that shaped the program would
  // change without changing the key. src/errors.ts only words what is thrown.
  const dir = new URL('../../../runner/seccomp/', import.meta.url);
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const imports = [...readFileSync(new URL(name, dir), 'utf8').matchAll(/from '(\.[^']*)'/g)].map((m) => m[1]!);
    t.same(
      imports.filter((i) => !/^\.\/[^/]+\.js$/.test(i) && i !== '../../src/errors.js'),
      [],
      `${name} imports from runner/seccomp/ (and src/errors.ts) only`,
    );
  }
});
