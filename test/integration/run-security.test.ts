// Attacks from inside a container on the host or on tsproc itself, one test each, named after the
// attack; each was seen to succeed before its fix.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { planCgroup } from '../../runner/cgroup/cgroup-plan.js';
import { hostLayout } from '../../src/cgroup-layout.js';
import { busyboxRoot, cannotRun, sandbox, tempDir } from '../helpers/runner.js';

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

t.test('--init: PID 1 keeps none of the monitor\'s descriptors (no forged log line, no fake exit)', async (t) => {
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
  t.equal(r.status, 3, 'the exit status is the command\'s, not a forged one');
  const [id] = s.records();
  t.notMatch(readFileSync(`${s.dataRoot}/containers/${id}/container.log`, 'utf8'), /forged/, 'the log holds no forged line');
});

/** mknod a host device (1:11, /dev/kmsg: on every kernel, harmless to open write-only) in each directory and open it. */
const mknodProbe = (dirs: string[]) => `for d in ${dirs.join(' ')}; do mknod $d/tsproc-kmsg c 1 11 2>/dev/null && : 2>/dev/null > $d/tsproc-kmsg && echo "$d opened" || echo "$d refused"; rm -f $d/tsproc-kmsg; done`;

t.test('device nodes: a host device made with mknod in /, a volume or /dev cannot be used', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const vol = tempDir(t, 'vol');
  closeSync(openSync('/dev/kmsg', 'w')); // the host can: the container's refusal is the device rules'
  const r = await s.run(['--rootfs', root, '-v', `${vol}:/vol`, 'sh', '-c', `${mknodProbe(['/', '/vol', '/dev'])}; echo x > /dev/null && head -c1 /dev/zero | wc -c`]);
  t.equal(r.stdout, '/ refused\n/vol refused\n/dev refused\n1\n', 'refused everywhere; /dev/null and /dev/zero work');
  const priv = await s.run(['--rootfs', root, '--privileged', '-v', `${vol}:/vol`, 'sh', '-c', mknodProbe(['/vol'])]);
  t.equal(priv.stdout, '/vol opened\n', '--privileged: every device, as docker');
});

const layout = hostLayout();
const noCgroup2 = layout.unified === undefined ? 'no cgroup2 hierarchy on this host (pure v1): only the devices controller applies' : false;

t.test('device nodes on cgroup2: the BPF filter alone refuses them', { skip: noCgroup2 }, async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const id = (await s.run(['--rootfs', root, '-d', 'sleep', '600'])).stdout.trim();
  // hybrid: open v1's devices controller wide, so that only the filter on the unified cgroup is left
  const v1 = planCgroup(layout, s.parent, id).hierarchies.find((h) => h.controllers.includes('devices'));
  if (v1) writeFileSync(`${v1.dir}/devices.allow`, 'a');
  const r = await s.cli(['exec', id, 'sh', '-c', `${mknodProbe(['/tmp'])}; exec 3<>/dev/ptmx && echo ptmx-ok`]);
  t.equal(r.stdout, '/tmp refused\nptmx-ok\n');
  t.equal((await s.cli(['rm', '-f', id])).status, 0);
});

t.test('read-only volume: a mount below it is read-only too (-v /dev:/hd:ro wrote to the host\'s /dev/shm)', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const vol = tempDir(t, 'vol');
  mkdirSync(`${vol}/sub`);
  t.equal(spawnSync('mount', ['-t', 'tmpfs', 'tsproc-test-sub', `${vol}/sub`]).status, 0, 'a tmpfs below the volume');
  t.teardown(() => void spawnSync('umount', ['-l', `${vol}/sub`]));
  const r = await s.run(['--rootfs', root, '-v', `${vol}:/ro:ro`, 'sh', '-c', 'for f in /ro/x /ro/sub/x; do touch $f 2>/dev/null && echo "$f written" || echo "$f refused"; done']);
  t.equal(r.stdout, '/ro/x refused\n/ro/sub/x refused\n');
  t.notOk(existsSync(`${vol}/sub/x`), 'nothing reached the host');
});

t.test('terminal injection: without -t the command gets none of the caller\'s terminal (TIOCSTI into its shell)', async (t) => {
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
  const ran = await s.run(['-i', '--rm', '--rootfs', root, 'sh', '-c', 'cat; echo "stdout $(readlink /proc/self/fd/1 | cut -d: -f1)"'], { input: 'hi\n' });
  t.same([ran.status, ran.stdout], [0, 'hi\nstdout pipe\n'], 'echo hi | run -i cat: through the monitor\'s pipes');
  t.equal((await s.cli(['rm', '-f', id])).status, 0);
  t.same(s.leftovers(), [], 'nothing left behind');
});
