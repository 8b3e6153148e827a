// Seccomp profiles in docker's format: what is refused with a message, and which rules apply to a
// container (docker's includes/excludes by capability, architecture and kernel version).
import t from 'tap';
import { defaultProfile } from '../../runner/seccomp/container-filter.js';
import { parseProfile, resolveProfile, type HostFacts } from '../../runner/seccomp/profile.js';
import { DEFAULT_CAPABILITIES } from '../../runner/capabilities.js';

const AMD64: HostFacts = { arch: 'amd64', kernel: [6, 18] };
const W = '--security-opt seccomp=p.json';
const parse = (v: unknown) => parseProfile(JSON.stringify(v), W);

t.test('a profile that names nothing is no profile (docker: unconfined)', async (t) => {
  t.equal(parse({}), undefined);
  t.equal(parse({ syscalls: [] }), undefined);
  t.ok(parse({ defaultAction: 'SCMP_ACT_ALLOW' }));
});

t.test('bad profiles: one message naming the place', async (t) => {
  const bad = (v: unknown, message: RegExp) =>
    t.throws(() => (typeof v === 'string' ? parseProfile(v, W) : parse(v)), { message, exitCode: 125 });
  bad('{', /^--security-opt seccomp=p\.json: not JSON/);
  bad([], /wants a JSON object/);
  bad({ defaultAction: 'SCMP_ACT_NOPE' }, /defaultAction: unknown action "SCMP_ACT_NOPE"/);
  bad({ defaultAction: 'SCMP_ACT_NOTIFY' }, /SCMP_ACT_NOTIFY needs a listener/);
  bad({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }, /listenerPath: tsproc runs no seccomp agent/);
  bad({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 5000 }, /defaultErrnoRet: wants an errno from 0 to 4095/);
  bad(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }],
    },
    /both 'architectures' and 'archMap'/,
  );
  bad({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, /flags: wants some of/);
  bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: 'mount', action: 'SCMP_ACT_ERRNO' }] }, /syscalls\[0\]: wants "names"/);
  bad(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ERRNO' }] },
    /syscalls\[0\]: both 'name' and 'names'/,
  );
  bad(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }],
    },
    /args\[0\]\.index: wants 0 to 5/,
  );
  bad(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] }],
    },
    /args\[0\]\.value: wants a whole number from 0 to 2\^53-1/,
  );
  bad(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_SOMETIMES' }] }],
    },
    /op: unknown operator/,
  );
  bad(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }] },
    /minKernel: wants "MAJOR.MINOR"/,
  );
});

t.test("docker's older single-name rules are read as names", async (t) => {
  const p = parse({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'mount', action: 'SCMP_ACT_ERRNO' }] })!;
  t.same(p.syscalls[0]!.names, ['mount']);
});

const names = (caps: string[], host = AMD64) => resolveProfile(defaultProfile(), caps, host).rules.flatMap((r) => r.names);

t.test("the default profile with docker's default capabilities", async (t) => {
  const r = resolveProfile(defaultProfile(), DEFAULT_CAPABILITIES, AMD64);
  t.equal(r.defaultAction, 'SCMP_ACT_ERRNO');
  t.equal(r.defaultErrnoRet, 1, 'EPERM');
  t.same(r.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], "archMap's entry for amd64");
  const allowed = names(DEFAULT_CAPABILITIES);
  for (const n of ['read', 'sysinfo', 'ptrace', 'arch_prctl', 'modify_ldt', 'chroot']) t.ok(allowed.includes(n), `${n} allowed`);
  for (const n of [
    'mount',
    'unshare',
    'setns',
    'keyctl',
    'add_key',
    'bpf',
    'perf_event_open',
    'kexec_load',
    'open_by_handle_at',
    'reboot',
    'swapon',
  ]) {
    t.notOk(allowed.includes(n), `${n} refused`);
  }
  t.notOk(allowed.includes('s390_runtime_instr'), "another architecture's rule is left out");
  const clone = r.rules.filter((x) => x.names.includes('clone'));
  t.same(
    clone,
    [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }] }],
    'clone: without namespace flags only',
  );
  t.same(
    r.rules.filter((x) => x.names.includes('clone3')),
    [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [] }],
    'clone3: ENOSYS',
  );
});

t.test('added capabilities bring their exceptions, and drop the rules they exclude', async (t) => {
  const admin = resolveProfile(defaultProfile(), [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], AMD64);
  const allowed = admin.rules.flatMap((r) => r.names);
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'clone3', 'bpf', 'perf_event_open', 'sethostname'])
    t.ok(allowed.includes(n), `CAP_SYS_ADMIN: ${n}`);
  t.notOk(
    admin.rules.some((r) => r.names.includes('clone') && r.args.length > 0),
    'no argument filter on clone',
  );
  t.notOk(
    admin.rules.some((r) => r.action === 'SCMP_ACT_ERRNO'),
    'no ENOSYS for clone3',
  );
  t.ok(names([...DEFAULT_CAPABILITIES, 'CAP_SYS_TIME']).includes('settimeofday'));
  t.ok(names([...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE']).includes('kcmp'));
  t.notOk(names(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT')).includes('chroot'), '--cap-drop SYS_CHROOT: no chroot');
});

t.test('minKernel: ptrace only from 4.8 on', async (t) => {
  t.notOk(names(DEFAULT_CAPABILITIES, { arch: 'amd64', kernel: [4, 4] }).includes('ptrace'));
  t.ok(names(DEFAULT_CAPABILITIES, { arch: 'amd64', kernel: [4, 8] }).includes('ptrace'));
});

t.test('comparisons of one argument several times: any of them (runc), else all', async (t) => {
  const p = parse({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      {
        names: ['a'],
        action: 'SCMP_ACT_ALLOW',
        args: [
          { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
          { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
        ],
      },
      {
        names: ['b'],
        action: 'SCMP_ACT_ALLOW',
        args: [
          { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
          { index: 1, value: 2, op: 'SCMP_CMP_EQ' },
        ],
      },
    ],
  })!;
  const r = resolveProfile(p, [], AMD64);
  t.same(
    r.rules.map((x) => [x.names[0], x.args.length]),
    [
      ['a', 1],
      ['a', 1],
      ['b', 2],
    ],
  );
  t.same(r.architectures, ['SCMP_ARCH_X86_64'], 'no architectures given: the native one, as libseccomp');
});
