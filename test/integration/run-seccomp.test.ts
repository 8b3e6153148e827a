// The default seccomp profile in real containers: what it refuses, compared with the profile file (a
// static probe makes each call and prints the kernel's answer); --security-opt seccomp=unconfined and
// FILE; --privileged without a filter; `exec` with the container's filter.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_CAPABILITIES } from '../../runner/capabilities.js';
import { DEFAULT_PROFILE_PATH } from '../../runner/seccomp/container-filter.js';
import { busyboxRoot, cannotRun, sandbox, tempDir } from '../helpers/runner.js';
import { cannotProbe, headerSyscalls, hostProbe, installProbe } from '../helpers/seccomp-probe.js';

const skip = cannotRun() ?? cannotProbe();
if (skip) t.plan(0, skip);

interface Rule {
  names: string[];
  action: string;
  args?: unknown[];
  errnoRet?: number;
  includes?: { caps?: string[]; arches?: string[]; minKernel?: string };
  excludes?: { caps?: string[]; arches?: string[] };
}

/**
 * The calls the profile file refuses outright to a container with docker's default capabilities on
 * amd64, read from the file with docker's rules for includes and excludes; the calls with argument
 * filters (clone, socket, personality) and clone3's ENOSYS are checked on their own below.
 */
function refusedByFile(): { refused: [string, number][]; special: string[] } {
  const profile = JSON.parse(readFileSync(DEFAULT_PROFILE_PATH, 'utf8')) as { syscalls: Rule[] };
  const caps = new Set(DEFAULT_CAPABILITIES);
  const applies = (r: Rule) =>
    (r.includes?.caps ?? []).every((c) => caps.has(c)) &&
    (!r.includes?.arches || r.includes.arches.includes('amd64')) &&
    !(r.excludes?.caps ?? []).some((c) => caps.has(c)) &&
    !(r.excludes?.arches ?? []).includes('amd64');
  const rules = profile.syscalls.filter(applies);
  const allowed = new Set(rules.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  const special = [...new Set(rules.filter((r) => r.args || r.action !== 'SCMP_ACT_ALLOW').flatMap((r) => r.names))];
  const refused = [...headerSyscalls()].filter(([name]) => !allowed.has(name) && !special.includes(name));
  return { refused, special };
}

/** "NR ERRNO" lines → errno by number. */
const answers = (out: string) =>
  new Map(
    out
      .trim()
      .split('\n')
      .filter((l) => /^\d+ \d+$/.test(l))
      .map((l) => l.split(' ').map(Number) as [number, number]),
  );

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

const ERRNO_MARK = 4000; // no kernel path returns it: a call answered so was refused by the filter

/** The default profile file with its errno changed to ERRNO_MARK. */
function markedProfile(t: Test): string {
  const file = `${tempDir(t, 'profile')}/marked.json`;
  const profile = JSON.parse(readFileSync(DEFAULT_PROFILE_PATH, 'utf8'));
  writeFileSync(file, JSON.stringify({ ...profile, defaultErrnoRet: ERRNO_MARK }));
  return file;
}

const UNSHARE_MOUNT =
  "mkdir -p /mnt; unshare -U -r -m sh -c 'mount -t tmpfs x /mnt && echo mounted' 2>&1; grep '^Seccomp:' /proc/self/status";

t.test('the default profile: unshare -U -r -m and mount are refused (they succeed without it)', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const r = await s.run(['--rm', '--rootfs', root, 'sh', '-c', UNSHARE_MOUNT]);
  t.match(r.stdout, /^unshare: unshare\(0x10020000\): Operation not permitted\nSeccomp:\t2\n$/, r.stderr);
  const unconfined = await s.run(['--rm', '--rootfs', root, '--security-opt', 'seccomp=unconfined', 'sh', '-c', UNSHARE_MOUNT]);
  t.equal(unconfined.stdout, 'mounted\nSeccomp:\t0\n', '--security-opt seccomp=unconfined: no filter, and it succeeds');
  const priv = await s.run(['--rm', '--rootfs', root, '--privileged', 'sh', '-c', UNSHARE_MOUNT]);
  t.equal(priv.stdout, 'mounted\nSeccomp:\t0\n', '--privileged: no filter');
  const privFile = await s.run([
    '--rm',
    '--rootfs',
    root,
    '--privileged',
    '--security-opt',
    `seccomp=${markedProfile(t)}`,
    'sh',
    '-c',
    UNSHARE_MOUNT,
  ]);
  t.equal(privFile.stdout, 'mounted\nSeccomp:\t0\n', '--privileged with a profile file: none either (docker)');
  t.same(s.leftovers(), []);
});

t.test('every call the profile file refuses is refused by the filter, and only those', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  installProbe(t, root);
  const { refused, special } = refusedByFile();
  t.same(special.sort(), ['clone', 'clone3', 'personality', 'socket'], 'the calls with argument filters or another answer');
  t.ok(refused.length > 40, `${refused.length} calls refused outright`);
  for (const n of ['keyctl', 'add_key', 'bpf', 'perf_event_open', 'kexec_load', 'open_by_handle_at', 'mount', 'unshare', 'setns'])
    t.ok(
      refused.some(([name]) => name === n),
      `${n} is among them`,
    );
  const sys = headerSyscalls();
  // harmless calls the profile allows (uname and sysinfo get NULL: EFAULT from the kernel itself)
  const allowed = ['getpid', 'getppid', 'getuid', 'gettid', 'sched_yield', 'uname', 'sysinfo'].map((n) => sys.get(n)!);
  const script = [
    `probe calls ${[...refused.map(([, nr]) => nr), ...allowed].join(' ')}`,
    'probe clone 0x10000000',
    'probe clone 0x20000',
    'probe clone 0',
    'probe clone3',
    'probe socket 40',
    'probe socket 38',
    'probe socket 1',
    'probe socket 39',
    'probe personality 0x40000',
    'probe personality 0xffffffff',
    'probe calls 999',
  ].join('; ');
  const expect = (errno: number, out: string) => {
    const got = answers(out);
    const wrong = refused.filter(([, nr]) => got.get(nr) !== errno).map(([name, nr]) => `${name} (${nr}): ${got.get(nr)}`);
    t.same(wrong, [], `each of the ${refused.length} refused calls answered ${errno}`);
    for (const nr of allowed) t.not(got.get(nr), errno, `allowed: ${nr}`);
    t.equal(got.get(999), 38, 'a number above every call the profile names: ENOSYS');
    const special = out.split('\n').filter((l) => l.startsWith('errno='));
    t.same(
      special,
      [
        `errno=${errno}`,
        `errno=${errno}`,
        'errno=0',
        'errno=38',
        `errno=${errno}`,
        `errno=${errno}`,
        'errno=0',
        special[7]!,
        `errno=${errno}`,
        'errno=0',
      ],
      'clone(CLONE_NEWUSER), clone(CLONE_NEWNS) refused, clone() allowed, clone3 ENOSYS; socket(AF_VSOCK), socket(AF_ALG) refused, AF_UNIX allowed; personality(ADDR_NO_RANDOMIZE) refused, the query allowed',
    );
    t.not(special[7], `errno=${errno}`, 'socket(AF_NFC) allowed (whatever the kernel then says)');
  };
  // the file with its errno changed: a refusal can only be the filter's (a missing capability gives EPERM too)
  const marked = await s.run(['--rm', '--rootfs', root, '--security-opt', `seccomp=${markedProfile(t)}`, 'sh', '-c', script]);
  t.equal(marked.status, 0, marked.stderr);
  expect(ERRNO_MARK, marked.stdout);
  // the default profile itself: EPERM
  const byDefault = await s.run(['--rm', '--rootfs', root, 'sh', '-c', script]);
  t.equal(byDefault.status, 0, byDefault.stderr);
  expect(1, byDefault.stdout);
  // and the host: nothing refused, by way of comparison
  t.equal(answers(hostProbe(t, ['calls', String(sys.get('getpid'))]).stdout).get(sys.get('getpid')!), 0);
});

const i386 = skip ? undefined : hostProbe(t, ['i386', '20']);
const no32 =
  i386 && i386.status !== 0
    ? `this machine makes no 32-bit calls (int $0x80 ends the probe with ${i386.signal ?? i386.status}): nothing to filter`
    : false;

t.test('the 32-bit ABI is filtered by its own numbers', { skip: no32 }, async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  installProbe(t, root);
  // i386: getpid 20, mount 21, unshare 310, keyctl 288
  const r = await s.run(['--rm', '--rootfs', root, 'probe', 'i386', '20', '21', '310', '288']);
  t.same(
    [...answers(r.stdout)],
    [
      [20, 0],
      [21, 1],
      [310, 1],
      [288, 1],
    ],
  );
});

t.test("exec: the container's filter (the profile file it was started with)", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  installProbe(t, root);
  const sys = headerSyscalls();
  const id = (await s.run(['-d', '--rootfs', root, '--security-opt', `seccomp=${markedProfile(t)}`, 'sleep', '600'])).stdout.trim();
  const r = await s.cli([
    'exec',
    id,
    'sh',
    '-c',
    `grep '^Seccomp:' /proc/self/status; probe calls ${sys.get('mount')} ${sys.get('getpid')}`,
  ]);
  t.equal(r.stdout, `Seccomp:\t2\n${sys.get('mount')} ${ERRNO_MARK}\n${sys.get('getpid')} 0\n`, r.stderr);
  const d = (await s.run(['-d', '--rootfs', root, 'sleep', '600'])).stdout.trim();
  const e = await s.cli(['exec', d, 'sh', '-c', UNSHARE_MOUNT]);
  t.match(e.stdout, /Operation not permitted\nSeccomp:\t2\n$/, 'the default profile: unshare refused in exec too');
  t.equal((await s.cli(['rm', '-f', id, d])).status, 0);
});

t.test('--security-opt: bad values and bad files are refused before anything is made', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const dir = tempDir(t, 'profile');
  writeFileSync(`${dir}/bad.json`, '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}');
  const r = await s.run(['--rootfs', root, '--security-opt', `seccomp=${dir}/bad.json`, 'true']);
  t.equal(r.status, 125);
  t.equal(
    r.stderr,
    `tsproc: --security-opt seccomp=${dir}/bad.json: syscalls[0].action: SCMP_ACT_NOTIFY needs a listener, and tsproc's only listener is its own (sysinfo, with --lxcfs)\n`,
  );
  const o = await s.run(['--rootfs', root, '--security-opt', 'label=disable', 'true']);
  t.equal(o.status, 125);
  t.match(o.stderr, /^tsproc: --security-opt: wants seccomp=unconfined or seccomp=PROFILE\.json/);
  t.same(s.records(), [], 'no container');
});
