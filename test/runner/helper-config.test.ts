// The helper config the C helper reads: escaping, and a whole small one as golden text.
import t from 'tap';
import { encodeHelperConfig, escapeField, MS, unescapeField } from '../../runner/helper-config.js';

t.test('fields: spaces, newlines, % and empty strings survive; plain text stays readable', async (t) => {
  t.equal(escapeField('/usr/bin'), '/usr/bin');
  t.equal(escapeField('a b'), 'a%20b');
  t.equal(escapeField('50%\n'), '50%25%0A');
  t.equal(escapeField(''), '%');
  t.equal(escapeField('tab\there\x7f'), 'tab%09here%7F');
  for (const s of ['', 'a b', '%', '%%41', 'x=1 y=2\n\t', 'é ü 漢', 'K=V with = signs'])
    t.equal(unescapeField(escapeField(s)), s, JSON.stringify(s));
  t.notMatch(escapeField('any thing\nat all'), /[ \n]/, 'an escaped field has no separators');
});

t.test('a helper config, line by line, and what each line says in messages', async (t) => {
  const c = encodeHelperConfig({
    id: 'abc',
    rootfs: '/r',
    namespaces: ['pid', 'mount', 'net'],
    hostname: 'h',
    loopback: true,
    readonlyRoot: false,
    caps: 0b101n,
    noNewPrivs: true,
    user: { uid: 1000, gid: 100, groups: [10, 20] },
    cwd: '/',
    env: ['PATH=/bin', 'A=b c'],
    args: ['sh', '-c', 'echo hi'],
    init: false,
    cgroupProcs: ['/cg/x/cgroup.procs'],
    oomCounter: '/cg/x/memory.events',
    prepare: [{ source: '/r', target: '/r', fstype: '', flags: MS.BIND | MS.REC, data: '' }],
    ops: [
      { op: 'mkdir', path: '/proc', mode: 0o555 },
      { op: 'mount', source: 'proc', target: '/proc', fstype: 'proc', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: '' },
      { op: 'mask', path: '/proc/kcore' },
    ],
    cleanup: { umount: [], rmdir: ['/cg/x'], name: { path: '/data/names/web', id: 'abc' }, remove: ['/state/abc'] },
  });
  t.equal(
    c.text,
    [
      'tsproc-helper-config 1',
      'id abc',
      'rootfs /r',
      'namespaces pid,mount,net',
      'hostname h',
      'loopback',
      'caps 5',
      'no-new-privs',
      'user 1000 100',
      'groups 10 20',
      'cwd /',
      'env PATH=/bin',
      'env A=b%20c',
      'arg sh',
      'arg -c',
      'arg echo%20hi',
      'cgroup-procs /cg/x/cgroup.procs',
      'oom-counter /cg/x/memory.events',
      'prepare-mount /r /r % 5000 %',
      'op mkdir /proc 555',
      'op mount proc /proc proc e %',
      'op mask /proc/kcore',
      'cleanup-rmdir /cg/x',
      'cleanup-name /data/names/web abc',
      'cleanup-remove /state/abc',
      '',
    ].join('\n'),
  );
  t.equal(c.describe(17), 'join the cgroup /cg/x');
  t.equal(c.describe(21), 'mount proc on /proc');
  t.equal(c.describe(22), 'mask /proc/kcore');
  t.equal(c.describe(2), undefined, 'lines that do nothing to fail have no words');
});

t.test("the seccomp filter as hex with its flags, its listener and the monitor's socket", async (t) => {
  const base = encodeHelperConfig({
    id: 'abc',
    rootfs: '/r',
    namespaces: ['pid'],
    loopback: false,
    readonlyRoot: false,
    noNewPrivs: true,
    user: { uid: 0, gid: 0, groups: [] },
    cwd: '/',
    env: [],
    args: ['sh'],
    init: false,
    cgroupProcs: [],
    prepare: [],
    ops: [],
    cleanup: { umount: [], rmdir: [], remove: [] },
    seccomp: { program: Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]), flags: 2, listener: true },
    sysinfo: { socket: '/state/abc/sysinfo.sock' },
  });
  const lines = base.text.split('\n');
  t.ok(lines.includes('seccomp 060000000000ff7f 2'), 'ret ALLOW, one instruction, SECCOMP_FILTER_FLAG_LOG');
  t.ok(lines.includes('seccomp-listener'));
  t.ok(lines.includes('sysinfo-socket /state/abc/sysinfo.sock'));
  t.equal(
    base.describe(lines.indexOf('sysinfo-socket /state/abc/sysinfo.sock') + 1),
    "reach the container's monitor at /state/abc/sysinfo.sock",
  );
});
