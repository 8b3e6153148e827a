// Attacks from inside a container on the host or on tsproc itself, one test each, named after the
// attack; each was seen to succeed before its fix.
import t from 'tap';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
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
