// Attacks from inside a container on the host or on tsproc itself, one test each, named after the
// attack; each was seen to succeed before its fix. And tsproc's security profile against runc's default.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { runcMissing, runcSandbox } from '../helpers/runc.js';
import { busyboxRoot, cannotRun, sandbox, tempDir } from '../helpers/runner.js';
import {
  capabilityNames,
  DOCKER_CAPABILITIES,
  DOCKER_MASKED_PATHS,
  DOCKER_READONLY_PATHS,
  maskedLine,
  PROC_SYS_PROBE,
  probeFacts,
  profileProbe,
  RUNC_SPEC_CAPABILITIES,
  RUNC_SPEC_MASKED_PATHS,
} from '../helpers/security-profiles.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

t.test('fd leak: a directory the caller left open does not reach the container (run, exec)', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const host = tempDir(t, 'secret');
  writeFileSync(`${host}/secret`, 'host secret\n');
  const fd = openSync(host, 'r');
  t.teardown(() => closeSync(fd));
  // every descriptor the command holds, followed as a directory
  const probe = 'for f in /proc/self/fd/*; do cat "$f/secret" 2>/dev/null; done; echo probed';
  const r = await s.run(['--rootfs', root, 'sh', '-c', probe], { fds: [fd] });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'probed\n', 'run: the host directory is not reachable');
  const id = (await s.run(['--rootfs', root, '-d', 'sleep', '600'], { fds: [fd] })).stdout.trim();
  const ex = await s.cli(['exec', id, 'sh', '-c', probe], { fds: [fd] });
  t.equal(ex.stdout, 'probed\n', 'exec: neither');
  t.equal((await s.cli(['rm', '-f', id])).status, 0);
});

t.test("--init: PID 1 keeps none of the monitor's descriptors (no forged log line, no fake exit)", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const forge = [
    'for n in 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do',
    '  [ -e /proc/1/fd/$n ] && echo "reachable: $n";',
    '  printf "O 2020-01-01T00:00:00.000000000Z forged\\nexit code 0 0\\n" > /proc/1/fd/$n;',
    'done 2>/dev/null; echo probed; exit 3',
  ].join('\n');
  const r = await s.run(['--rootfs', root, '--init', 'sh', '-c', forge]);
  t.equal(r.stdout, 'probed\n', 'no descriptor of PID 1 beyond its stdio is reachable');
  t.equal(r.status, 3, "the exit status is the command's, not a forged one");
  const [id] = s.records();
  t.notMatch(readFileSync(`${s.dataRoot}/containers/${id}/container.log`, 'utf8'), /forged/, 'the log holds no forged line');
});

// device nodes: run-devices.test.ts (it runs in the cgroup v2 VM too)

t.test("read-only volume: a mount below it is read-only too (-v /dev:/hd:ro wrote to the host's /dev/shm)", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const vol = tempDir(t, 'vol');
  mkdirSync(`${vol}/sub`);
  t.equal(spawnSync('mount', ['-t', 'tmpfs', 'tsproc-test-sub', `${vol}/sub`]).status, 0, 'a tmpfs below the volume');
  t.teardown(() => void spawnSync('umount', ['-l', `${vol}/sub`]));
  const r = await s.run([
    '--rootfs',
    root,
    '-v',
    `${vol}:/ro:ro`,
    'sh',
    '-c',
    'for f in /ro/x /ro/sub/x; do touch $f 2>/dev/null && echo "$f written" || echo "$f refused"; done',
  ]);
  t.equal(r.stdout, '/ro/x refused\n/ro/sub/x refused\n');
  t.notOk(existsSync(`${vol}/sub/x`), 'nothing reached the host');
});

t.test("terminal injection: without -t the command gets none of the caller's terminal (TIOCSTI into its shell)", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  // every way to the caller's terminal: stdio, a controlling terminal (tty_nr, field 7 of stat), /dev/tty
  const probe = [
    'for n in 0 1 2; do [ -t $n ] && echo "fd $n is a terminal"; done',
    'tty_nr=$(cut -d" " -f7 /proc/self/stat); [ "$tty_nr" = 0 ] || echo "controlling terminal $tty_nr"',
    '(: < /dev/tty) 2>/dev/null && echo "/dev/tty opens"',
    'echo probed',
  ].join('; ');
  const lines = (r: { stdout: string }) => r.stdout.replace(/\r/g, '');
  for (const i of [[], ['-i']]) {
    const r = await s.terminal(['run', '--cgroup-parent', s.parent, '--rm', ...i, '--rootfs', root, 'sh', '-c', probe]);
    t.equal(lines(r), 'probed\n', `run ${i.join(' ')}: no terminal reachable`);
  }
  const id = (await s.run(['--rootfs', root, '-d', 'sleep', '600'])).stdout.trim();
  for (const i of [[], ['-i']]) {
    const r = await s.terminal(['exec', ...i, id, 'sh', '-c', probe]);
    t.equal(lines(r), 'probed\n', `exec ${i.join(' ')}: no terminal reachable`);
  }
  // stdin: /dev/null without -i (cat ends although the terminal never does), a pipe with -i
  t.equal(lines(await s.terminal(['exec', id, 'cat'])), '', 'exec: cat ends at once');
  t.equal(lines(await s.terminal(['run', '--cgroup-parent', s.parent, '--rm', '--rootfs', root, 'cat'])), '', 'run: cat ends at once');
  const piped = await s.cli(['exec', '-i', id, 'cat'], { input: 'hi\n' });
  t.same([piped.status, piped.stdout], [0, 'hi\n'], 'echo hi | exec -i cat');
  const ran = await s.run(['-i', '--rm', '--rootfs', root, 'sh', '-c', 'cat; echo "stdout $(readlink /proc/self/fd/1 | cut -d: -f1)"'], {
    input: 'hi\n',
  });
  t.same([ran.status, ran.stdout], [0, 'hi\nstdout pipe\n'], "echo hi | run -i cat: through the monitor's pipes");
  t.equal((await s.cli(['rm', '-f', id])).status, 0);
  t.same(s.leftovers(), [], 'nothing left behind');
});

t.test(
  "tsproc's profile against `runc spec`'s on the same root: docker's 11 capabilities more, a seccomp filter and /sys/devices/virtual/powercap masked; the same masks otherwise, /sys and /proc/sys read-only",
  { skip: runcMissing() ?? false },
  async (t) => {
    const s = sandbox(t);
    const root = busyboxRoot(t);
    const masked = [...new Set([...DOCKER_MASKED_PATHS, ...RUNC_SPEC_MASKED_PATHS])];
    const readonly = [...DOCKER_READONLY_PATHS, '/sys'];
    const probe = profileProbe(masked, readonly);
    const ran = await s.run(['--rootfs', root, 'sh', '-c', probe]);
    t.equal(ran.status, 0, ran.stderr);
    const runc = await runcSandbox(t).run('profile', { args: ['sh', '-c', probe], mounts: [], root });
    t.equal(runc.status, 0, runc.stderr);
    // the spec this runc wrote is the one written out here
    t.same(
      runc.spec.process.capabilities,
      {
        bounding: RUNC_SPEC_CAPABILITIES,
        effective: RUNC_SPEC_CAPABILITIES,
        permitted: RUNC_SPEC_CAPABILITIES,
        ambient: RUNC_SPEC_CAPABILITIES,
      },
      "runc spec's 3 capabilities",
    );
    t.same(runc.spec.linux.maskedPaths, RUNC_SPEC_MASKED_PATHS, "runc spec's 10 masked paths");
    t.same(runc.spec.linux.readonlyPaths, DOCKER_READONLY_PATHS, "runc spec's read-only paths: docker's");
    const ours = probeFacts(ran.stdout);
    const theirs = probeFacts(runc.stdout);

    const capsOurs = capabilityNames(ours.get('cap CapEff')!);
    const capsTheirs = capabilityNames(theirs.get('cap CapEff')!);
    t.same(capsTheirs, [...RUNC_SPEC_CAPABILITIES].sort(), "runc: its spec's 3");
    t.same(capsOurs, [...DOCKER_CAPABILITIES].sort(), "tsproc: docker's 14");
    t.same(
      capsOurs.filter((c) => !capsTheirs.includes(c)),
      [
        'CAP_CHOWN',
        'CAP_DAC_OVERRIDE',
        'CAP_FOWNER',
        'CAP_FSETID',
        'CAP_MKNOD',
        'CAP_NET_RAW',
        'CAP_SETFCAP',
        'CAP_SETGID',
        'CAP_SETPCAP',
        'CAP_SETUID',
        'CAP_SYS_CHROOT',
      ],
      'the difference: 11 capabilities docker gives that runc spec does not',
    );
    t.same(
      capsTheirs.filter((c) => !capsOurs.includes(c)),
      [],
      'and none the other way',
    );
    t.same(
      [ours.get('cap CapBnd'), theirs.get('cap CapBnd')],
      [ours.get('cap CapEff'), theirs.get('cap CapEff')],
      'bounding sets as the effective ones',
    );
    t.same([ours.get('nnp'), theirs.get('nnp')], ['1', '1'], 'no_new_privs in both');
    t.same(
      [ours.get('seccomp'), theirs.get('seccomp')],
      ['2', '0'],
      "the difference: docker's seccomp filter in tsproc, none in runc spec's",
    );

    for (const p of masked) {
      const want = maskedLine(p).replace(/^mask \S+: /, '');
      t.match(ours.get(`mask ${p}`), new RegExp(`^${want}`), `tsproc masks ${p}${want === 'absent' ? ' (absent here)' : ''}`);
      if (RUNC_SPEC_MASKED_PATHS.includes(p)) t.match(theirs.get(`mask ${p}`), new RegExp(`^${want}`), `runc masks ${p} as well`);
      else
        t.match(
          theirs.get(`mask ${p}`),
          want === 'absent' ? /^absent$/ : / no mount$/,
          `the difference: runc spec leaves ${p} as the kernel has it`,
        );
    }
    for (const p of readonly) {
      const want = existsSync(p) ? `ro ${p === '/sys' ? 'sysfs' : 'proc'}` : 'absent';
      t.same([ours.get(`ro ${p}`), theirs.get(`ro ${p}`)], [want, want], `${p}: read-only in both`);
    }
    t.same(
      [ours.get(`write ${PROC_SYS_PROBE}`), theirs.get(`write ${PROC_SYS_PROBE}`)],
      ['refused', 'refused'],
      '/proc/sys: a write root could otherwise do is refused in both',
    );
  },
);
