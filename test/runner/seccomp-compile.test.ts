// The compiled filter, run in a BPF interpreter: the answers expected are docker's default profile's
// (its documented rules: EPERM for what it does not allow, clone without namespace flags, clone3
// ENOSYS, socket without AF_ALG and AF_VSOCK, five personalities) and runc's ENOSYS for newer calls.
import t from 'tap';
import { DEFAULT_CAPABILITIES } from '../../runner/capabilities.js';
import { Assembler, encode, OP } from '../../runner/seccomp/bpf.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, compileFilter, RET, X32_BIT } from '../../runner/seccomp/compile.js';
import { containerFilter, defaultProfile } from '../../runner/seccomp/container-filter.js';
import { parseProfile, resolveProfile, type HostFacts } from '../../runner/seccomp/profile.js';
import { X86_SYSCALLS } from '../../runner/seccomp/syscalls-x86.js';
import { runFilter } from '../helpers/bpf-interpreter.js';

const AMD64: HostFacts = { arch: 'amd64', kernel: [6, 18] };
const EPERM = RET.ERRNO | 1;
const ENOSYS = RET.ERRNO | 38;
const nr = (name: string) => X86_SYSCALLS.x86_64.get(name)!;
const filter = (caps = DEFAULT_CAPABILITIES, notify: string[] = []) =>
  compileFilter(resolveProfile(defaultProfile(), caps, AMD64), AMD64, notify);
const call = (program: Buffer, name: string, ...args: (number | bigint)[]) =>
  runFilter(program, { nr: nr(name), arch: AUDIT_ARCH_X86_64, args });

t.test('the default profile: allowed, refused, and each argument filter', async (t) => {
  const { program, listener, flags } = filter();
  t.equal(listener, false);
  t.equal(flags, 0);
  t.ok(program.length / 8 < 4096, `${program.length / 8} instructions`);
  for (const n of ['read', 'write', 'getpid', 'sysinfo', 'execve', 'ptrace', 'arch_prctl', 'chroot', 'fchmodat2', 'removexattrat'])
    t.equal(call(program, n), RET.ALLOW, `${n}: allowed`);
  for (const n of [
    'mount',
    'umount2',
    'unshare',
    'setns',
    'keyctl',
    'add_key',
    'request_key',
    'bpf',
    'perf_event_open',
    'kexec_load',
    'open_by_handle_at',
    'reboot',
    'init_module',
    'userfaultfd',
    'io_uring_setup',
    'pivot_root',
    'swapon',
    'uprobe',
  ]) {
    t.equal(call(program, n), EPERM, `${n}: EPERM`);
  }
  // clone: flags are the first argument; any namespace flag is refused
  t.equal(call(program, 'clone', 0x11), RET.ALLOW, 'clone(SIGCHLD)');
  t.equal(call(program, 'clone', 0x003d0f00), RET.ALLOW, "clone with a thread's flags");
  for (const flag of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000])
    t.equal(call(program, 'clone', flag | 0x11), EPERM, `clone(0x${flag.toString(16)})`);
  t.equal(call(program, 'clone', (1n << 32n) | 0x11n), RET.ALLOW, 'bits above the 32 the mask covers do not matter');
  t.equal(call(program, 'clone3'), ENOSYS, 'clone3: ENOSYS, so that libc falls back to clone');
  // socket: AF_ALG (38) and AF_VSOCK (40) refused, every other family allowed
  for (const [family, want] of [
    [1, RET.ALLOW],
    [2, RET.ALLOW],
    [37, RET.ALLOW],
    [38, EPERM],
    [39, RET.ALLOW],
    [40, EPERM],
    [41, RET.ALLOW],
    [45, RET.ALLOW],
  ] as const) {
    t.equal(call(program, 'socket', family), want, `socket(${family})`);
  }
  t.equal(call(program, 'socket', (1n << 32n) | 40n), RET.ALLOW, 'socket: a 64-bit comparison (40 + 2^32 is above 40)');
  for (const [p, want] of [
    [0, RET.ALLOW],
    [8, RET.ALLOW],
    [0x20000, RET.ALLOW],
    [0x20008, RET.ALLOW],
    [0xffffffff, RET.ALLOW],
    [0x0040000, EPERM],
    [0x0400000, EPERM],
    [1, EPERM],
  ] as const) {
    t.equal(call(program, 'personality', p), want, `personality(0x${p.toString(16)})`);
  }
});

t.test("numbers above every call the profile names: ENOSYS (runc's stub); below, unnamed: EPERM", async (t) => {
  const { program } = filter();
  t.equal(call(program, 'removexattrat'), RET.ALLOW, 'removexattrat (466), the highest the profile names');
  t.equal(call(program, 'open_tree_attr'), ENOSYS, 'open_tree_attr (467): newer than the profile');
  t.equal(runFilter(program, { nr: 999, arch: AUDIT_ARCH_X86_64 }), ENOSYS);
  t.equal(runFilter(program, { nr: 400, arch: AUDIT_ARCH_X86_64 }), EPERM, 'a gap in the table below the highest');
});

t.test('other ABIs: i386 and x32 by their own numbers, any other architecture killed', async (t) => {
  const { program } = filter();
  const i386 = (name: string) => runFilter(program, { nr: X86_SYSCALLS.i386.get(name)!, arch: AUDIT_ARCH_I386 });
  t.equal(i386('getpid'), RET.ALLOW);
  t.equal(i386('socketcall'), RET.ALLOW);
  t.equal(i386('unshare'), EPERM);
  t.equal(i386('mount'), EPERM);
  t.equal(i386('sysinfo'), RET.ALLOW);
  t.equal(
    runFilter(program, { nr: X86_SYSCALLS.i386.get('clone')!, arch: AUDIT_ARCH_I386, args: [0x10000000] }),
    EPERM,
    'i386 clone(CLONE_NEWUSER)',
  );
  const x32 = (name: string) => runFilter(program, { nr: (X86_SYSCALLS.x32.get(name)! | X32_BIT) >>> 0, arch: AUDIT_ARCH_X86_64 });
  t.equal(x32('getpid'), RET.ALLOW);
  t.equal(x32('mount'), EPERM);
  t.equal(x32('rt_sigaction'), RET.ALLOW, 'x32 rt_sigaction (512)');
  t.equal(runFilter(program, { nr: 39, arch: 0xc00000b7 }), RET.KILL_PROCESS, 'aarch64 on an x86 host: not in the filter');
});

t.test('capabilities: CAP_SYS_ADMIN allows mount and namespaces, as in docker', async (t) => {
  const { program } = filter([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
  t.equal(call(program, 'mount'), RET.ALLOW);
  t.equal(call(program, 'clone', 0x10000011), RET.ALLOW);
  t.equal(call(program, 'clone3'), RET.ALLOW);
  t.equal(call(program, 'lsm_list_modules'), RET.ALLOW, 'lsm_list_modules (461)');
  t.equal(call(program, 'reboot'), EPERM, 'CAP_SYS_BOOT is not CAP_SYS_ADMIN');
});

t.test('--lxcfs: sysinfo of the native ABI goes to the listener, in the same filter', async (t) => {
  const { program, listener } = filter(DEFAULT_CAPABILITIES, ['sysinfo']);
  t.equal(listener, true);
  t.equal(call(program, 'sysinfo'), RET.USER_NOTIF);
  t.equal(call(program, 'mount'), EPERM, 'the profile still applies');
  t.equal(
    runFilter(program, { nr: X86_SYSCALLS.i386.get('sysinfo')!, arch: AUDIT_ARCH_I386 }),
    RET.ALLOW,
    "i386's sysinfo (its struct is another) goes to the kernel",
  );
  const unconfined = containerFilter(
    { seccomp: { mode: 'unconfined' }, privileged: false, capabilities: DEFAULT_CAPABILITIES, lxcfsRoot: '/var/lib/tsproc' },
    { host: AMD64 },
  )!;
  t.equal(call(unconfined.program, 'sysinfo'), RET.USER_NOTIF, 'unconfined: sysinfo alone is filtered');
  t.equal(call(unconfined.program, 'mount'), RET.ALLOW);
  t.equal(
    runFilter(unconfined.program, { nr: X86_SYSCALLS.i386.get('mount')!, arch: AUDIT_ARCH_I386 }),
    RET.ALLOW,
    'unconfined: every ABI allowed',
  );
  t.equal(runFilter(unconfined.program, { nr: 999, arch: AUDIT_ARCH_X86_64 }), RET.ALLOW, 'unconfined: no ENOSYS stub');
});

t.test('which filter a container gets', async (t) => {
  const base = { privileged: false, capabilities: DEFAULT_CAPABILITIES };
  t.ok(containerFilter({ ...base, seccomp: { mode: 'default' } }, { host: AMD64 }), 'the default profile');
  t.equal(containerFilter({ ...base, seccomp: { mode: 'unconfined' } }, { host: AMD64 }), undefined, 'unconfined: none');
  t.equal(containerFilter({ ...base, privileged: true, seccomp: { mode: 'default' } }, { host: AMD64 }), undefined, '--privileged: none');
  t.equal(containerFilter(base, { host: AMD64 }), undefined, 'a record from before seccomp: none');
  const priv = containerFilter({ ...base, privileged: true, seccomp: { mode: 'default' }, lxcfsRoot: '/l' }, { host: AMD64 })!;
  t.equal(call(priv.program, 'mount'), RET.ALLOW, '--privileged --lxcfs: nothing refused ...');
  t.equal(call(priv.program, 'sysinfo'), RET.USER_NOTIF, '... and sysinfo answered');
  t.throws(() => containerFilter({ ...base, seccomp: { mode: 'default' } }, { host: { arch: 'arm64', kernel: [6, 1] } }), {
    message: /x86-64 only, not of arm64: run with --security-opt seccomp=unconfined/,
    exitCode: 125,
  });
});

t.test('a profile file: its own actions, errno, comparisons and flags', async (t) => {
  const p = parseProfile(
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 4000 },
        { names: ['getpid'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
        { names: ['write'], action: 'SCMP_ACT_ERRNO', errnoRet: 28, args: [{ index: 2, value: 4096, op: 'SCMP_CMP_GT' }] },
        { names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 0, op: 'SCMP_CMP_LE' }] },
        {
          names: ['lseek'],
          action: 'SCMP_ACT_LOG',
          args: [
            { index: 1, value: 10, op: 'SCMP_CMP_LT' },
            { index: 2, value: 1, op: 'SCMP_CMP_NE' },
          ],
        },
        { names: ['mmap'], action: 'SCMP_ACT_TRAP', args: [{ index: 2, value: 4, valueTwo: 4, op: 'SCMP_CMP_MASKED_EQ' }] },
        { names: ['dup'], action: 'SCMP_ACT_TRACE', errnoRet: 7, args: [{ index: 0, value: 3, op: 'SCMP_CMP_GE' }] },
      ],
    }),
    'test',
  )!;
  const { program, flags } = compileFilter(resolveProfile(p, [], AMD64), AMD64);
  t.equal(flags, 2, 'SECCOMP_FILTER_FLAG_LOG');
  t.equal(call(program, 'mkdir'), RET.ERRNO | 4000);
  t.equal(call(program, 'getpid'), RET.KILL_PROCESS);
  t.equal(call(program, 'kill', 1, 9), EPERM, 'errno defaults to EPERM');
  t.equal(call(program, 'kill', 1, 15), RET.ALLOW, 'the comparison fails: the default');
  t.equal(call(program, 'write', 1, 0, 4097), RET.ERRNO | 28);
  t.equal(call(program, 'write', 1, 0, 4096), RET.ALLOW);
  t.equal(call(program, 'write', 1, 0, 1n << 32n), RET.ERRNO | 28, 'GT in the high word');
  t.equal(call(program, 'read', 0, 0, 0), EPERM);
  t.equal(call(program, 'read', 0, 0, 1n << 32n), RET.ALLOW, 'LE: the high word counts');
  t.equal(call(program, 'lseek', 0, 9, 0), RET.LOG, 'both comparisons hold');
  t.equal(call(program, 'lseek', 0, 9, 1), RET.ALLOW, 'the second one does not');
  t.equal(call(program, 'lseek', 0, 10, 0), RET.ALLOW, 'the first one does not');
  t.equal(call(program, 'mmap', 0, 0, 7), RET.TRAP, 'PROT_EXEC set');
  t.equal(call(program, 'mmap', 0, 0, 3), RET.ALLOW);
  t.equal(call(program, 'dup', 3), RET.TRACE | 7);
  t.equal(call(program, 'dup', 2), RET.ALLOW);
  t.equal(
    runFilter(program, { nr: X86_SYSCALLS.i386.get('getpid')!, arch: AUDIT_ARCH_I386 }),
    RET.KILL_PROCESS,
    'i386 is not in its architectures',
  );
});

t.test('assembler: jumps farther than 255 instructions go through JA', async (t) => {
  const asm = new Assembler();
  const far = asm.label();
  asm.load(0);
  asm.jump(OP.JEQ_K, 7, far, null);
  for (let i = 0; i < 300; i++) asm.ret(i);
  asm.place(far);
  asm.ret(0xabc);
  const program = encode(asm.assemble());
  t.equal(program.length / 8, 1 + 3 + 300 + 1);
  t.equal(runFilter(program, { nr: 7, arch: 0 }), 0xabc);
  t.equal(runFilter(program, { nr: 8, arch: 0 }), 0);
});

t.test('a profile naming other architectures only: x86-64 is filtered all the same (runc keeps the native one)', async (t) => {
  const p = parseProfile(
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_AARCH64'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    }),
    'test',
  )!;
  const { program } = compileFilter(resolveProfile(p, [], AMD64), AMD64);
  t.equal(call(program, 'mkdir'), EPERM);
  t.equal(call(program, 'getpid'), RET.ALLOW);
  t.equal(runFilter(program, { nr: X86_SYSCALLS.i386.get('getpid')!, arch: AUDIT_ARCH_I386 }), RET.KILL_PROCESS, 'i386: not named');
});
