// Who owns a container: signals reach the command, a killed CLI leaves it to its monitor, every way
// of ending cleans up (and a cleanup that fails says so), and bad input creates nothing.
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { alive, busyboxRoot, cannotRun, sandbox, tempDir, until } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

t.test('signals sent to a foreground run reach the command', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const trap = s.start(['--rootfs', root, 'sh', '-c', 'trap "echo got TERM; exit 3" TERM; echo ready; while true; do sleep 0.1; done']);
  await until('the container is ready', () => trap.output().includes('ready'));
  trap.child.kill('SIGTERM');
  const r = await trap.done;
  t.equal(r.status, 3, "the command's trap ran and chose the status");
  t.match(r.stdout, /got TERM/);
  const init = s.start(['--rootfs', root, '--init', 'sh', '-c', 'echo ready; exec sleep 60']);
  await until('the container is ready', () => init.output().includes('ready'));
  init.child.kill('SIGINT');
  t.equal((await init.done).status, 130, 'SIGINT through --init: 128+2');
  t.same(s.leftovers(), []);
});

t.test('a killed foreground run: the container runs on and its monitor cleans up', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const shared = tempDir(t, 'shared');
  const run = s.start([
    '--rootfs',
    root,
    '-v',
    `${shared}:/shared`,
    'sh',
    '-c',
    'echo ready; while [ ! -e /shared/go ]; do sleep 0.05; done; echo done > /shared/done',
  ]);
  await until('the container is ready', () => run.output().includes('ready'));
  run.child.kill('SIGKILL');
  await run.exited; // its output stays open: the container holds it
  const [id] = readdirSync(`${s.stateRoot}/containers`);
  const monitor = Number(readFileSync(`${s.stateRoot}/containers/${id}/monitor.pid`, 'utf8'));
  const pid = Number(readFileSync(`${s.dataRoot}/containers/${id}/container.pid`, 'utf8'));
  t.ok(alive(monitor) && alive(pid), 'the monitor and the container live on');
  t.equal(s.cgroups().length > 0, true, 'its cgroup too');
  t.match((await s.cli(['ps'])).stdout, new RegExp(`^${id!.slice(0, 12)} .* Up `, 'm'), 'ps lists it as running');
  writeFileSync(`${shared}/go`, '');
  await until('the monitor cleans up', () => s.leftovers().length === 0);
  t.equal(readFileSync(`${shared}/done`, 'utf8'), 'done\n', 'the container finished its work');
  // it removes the state, then exits: on a slow machine the exit can come a moment later
  await until('the monitor exits', () => !alive(monitor));
  t.notOk(alive(monitor), 'the monitor is gone');
});

t.test("a session's end cannot kill a -d container: it leaves the caller's cgroup in every hierarchy", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const id = (await s.run(['--rootfs', root, '-d', 'sleep', '600'])).stdout.trim();
  const pid = Number(readFileSync(`${s.dataRoot}/containers/${id}/container.pid`, 'utf8'));
  // name=systemd, and hybrid's unified hierarchy, are how systemd and elogind find a session's processes
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  for (const line of lines) t.match(line, new RegExp(`^[0-9]+:[^:]*:/${s.parent}/${id}$`), line);
  t.equal(lines.length, readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').length, 'as many hierarchies as we are in');
  t.equal((await s.cli(['rm', '-f', id])).status, 0);
  t.same(s.leftovers(), []);
});

t.test('a reader that stops reading a foreground run cannot freeze its monitor: the log goes on, stop works', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const run = s.start([
    '--rootfs',
    root,
    '--name',
    'tsproc-test-flood',
    'sh',
    '-c',
    'i=0; while true; do echo "line $i"; i=$((i+1)); done',
  ]);
  run.child.stdout!.pause(); // we stop reading: the socket between us fills, and the monitor's writes to it would block
  await until('the container started', () => s.records().length === 1);
  const log = `${s.dataRoot}/containers/${s.records()[0]}/container.log`;
  const newest = () => Number(/line ([0-9]+)\n$/.exec(existsSync(log) ? readFileSync(log, 'latin1') : '')?.[1] ?? 0);
  // What can wait for a reader that reads nothing: the monitor's buffer (SINK_MAX in native/relay.c,
  // 256 KiB), two sockets (monitor to CLI, CLI to this test: Node's stdio pipes are socketpairs), each
  // holding at most its sender's buffer, net.core.wmem_default (a unix stream socket charges what is
  // queued to the sender), and the CLI's Node (a 64 KiB high-water mark and one read more). Once the
  // container has written twice that, the monitor went on without us. The deadline is for a hang, not a speed.
  const held = 256 * 1024 + 2 * Number(readFileSync('/proc/sys/net/core/wmem_default', 'utf8')) + 2 * 64 * 1024;
  const written = (n: number) => {
    let bytes = 0;
    for (let i = 0; i <= n; i++) bytes += `line ${i}\n`.length;
    return bytes;
  };
  await until(`the log goes past ${2 * held} bytes of output while nobody reads`, () => written(newest()) > 2 * held, 180_000);
  const stop = await s.cli(['stop', '-t', '1', 'tsproc-test-flood']);
  t.equal(stop.status, 0, 'stop works: the monitor still serves its control FIFO');
  run.child.stdout!.resume();
  const r = await run.done;
  t.equal(r.status, 137, 'SIGKILL after the timeout (sh as PID 1 ignores SIGTERM)');
  t.match(
    r.stderr,
    /the reader of this output fell behind: [0-9]+ bytes of the container's output were not shown here \(tsproc logs has them\)/,
  );
  t.match(r.stdout, /^line 0\nline 1\n/, 'what was shown came in order from the start');
  t.same(s.leftovers(), []);
});

t.test('stdin: /dev/null unless -i', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  t.equal((await s.run(['--rootfs', root, 'cat'], { input: 'ignored\n' })).stdout, '');
  t.equal((await s.run(['--rootfs', root, '-i', 'cat'], { input: 'passed\n' })).stdout, 'passed\n');
});

t.test('a failure while setting up: the step in words, 125, nothing left', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const data = tempDir(t, 'vol');
  const r = await s.run(['--rootfs', root, '-v', `${data}:/proc/sys/kernel/tsproc-test`, 'true']);
  t.equal(r.status, 125);
  t.match(r.stderr, /^tsproc: cannot create the directory \/proc\/sys\/kernel\/tsproc-test: E[A-Z]+ \(/);
  t.same(s.leftovers(), []);
  // (a missing -w is made, as docker does: one the user may not enter fails)
  mkdirSync(`${root}/root`, { mode: 0o700 });
  const cwd = await s.run(['--rootfs', root, '-u', 'alice', '-w', '/root', 'true']);
  t.equal(cwd.status, 125);
  t.equal(cwd.stderr, 'tsproc: cannot change to the working directory /root: EACCES (permission denied)\n');
  t.same(s.leftovers(), []);
});

t.test("a cleanup step that fails is reported, with its path and errno, and the command's status stands", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const run = s.start(['--rootfs', root, 'sh', '-c', 'touch /tmp/ready; while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 4']);
  await until('the container is ready', () => existsSync(`${root}/tmp/ready`));
  // a cgroup made inside one of the container's: its cgroup cannot be removed (EBUSY) when it ends
  const [blocked] = s.cgroups();
  mkdirSync(`${blocked}/tsproc-test-block`);
  t.teardown(() => {
    for (const d of [`${blocked}/tsproc-test-block`, blocked!]) if (existsSync(d)) rmdirSync(d);
  });
  writeFileSync(`${root}/tmp/go`, '');
  const r = await run.done;
  t.equal(r.status, 4, "the command's status");
  t.equal(
    r.stderr,
    `tsproc: cleaning up after the container: cannot remove the container's cgroup ${blocked}: EBUSY (busy)\n`,
    'the step, the path and its errno, said once',
  );
  t.ok(existsSync(blocked!), 'and it is indeed left');
  t.same(s.leftovers(), [`cgroup: ${blocked}`], 'nothing else is left');
  rmdirSync(`${blocked}/tsproc-test-block`);
  rmdirSync(blocked!);
  t.same(s.leftovers(), []);
});

t.test('a taken name is refused and the first container is untouched', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const first = s.start(['--rootfs', root, '--name', 'tsproc-test-web', 'sh', '-c', 'echo ready; sleep 60']);
  await until('the first is ready', () => first.output().includes('ready'));
  const second = await s.run(['--rootfs', root, '--name', 'tsproc-test-web', 'true']);
  t.equal(second.status, 125);
  t.match(second.stderr, /^tsproc: the name "tsproc-test-web" is already in use by container [0-9a-f]{12}: /);
  t.equal(readdirSync(`${s.stateRoot}/containers`).length, 1);
  first.child.kill('SIGKILL'); // the CLI only: the container runs on
  t.equal((await s.cli(['kill', 'tsproc-test-web'])).status, 0);
  await until('the monitor cleans up', () => s.leftovers().length === 0);
  const exited = await s.run(['--rootfs', root, '--name', 'tsproc-test-web', 'true']);
  t.equal(exited.status, 125, 'an exited container keeps its name until rm');
  t.equal((await s.cli(['rm', 'tsproc-test-web'])).status, 0);
  t.equal((await s.run(['--rootfs', root, '--name', 'tsproc-test-web', '--rm', 'true'])).status, 0, 'the name is free again');
  t.same(s.records(), [], "--rm left no record; rm removed the first one's");
});

t.test('bad input: a clear message, 125, nothing created', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const cases: [string[], RegExp][] = [
    [[], /^tsproc: no image given: tsproc run \[OPTIONS\] IMAGE \[CMD \[ARG...\]\], or tsproc run \[OPTIONS\] --rootfs DIR CMD/],
    [
      ['true'],
      /^tsproc: no such image: true \(tsproc images lists them; tsproc image import adds one; a directory is run with --rootfs DIR\)$/m,
    ],
    [['--rootfs', `${root}/missing`, 'true'], /^tsproc: --rootfs \S+\/missing: no such directory/],
    [['--rootfs', root], /^tsproc: no command given: tsproc run \[OPTIONS\] --rootfs DIR CMD/],
    [['--rootfs', root, '--memory', 'lots', 'true'], /^tsproc: --memory: wants a size/],
    [['--rootfs', root, '--cpus', '-1', 'true'], /^tsproc: --cpus: wants a number of CPUs/],
    [['--rootfs', root, '--cpuset-cpus', '99', 'true'], /^tsproc: --cpuset-cpus: names CPU 99, which is not online/],
    [['--rootfs', root, '--pids-limit', 'x', 'true'], /^tsproc: --pids-limit: wants a whole number/],
    [['--rootfs', root, '-v', 'nope', 'true'], /^tsproc: -v: wants SRC:DST/],
    [['--rootfs', root, '-u', 'nobody-here', 'true'], /^tsproc: -u: names a user/],
    [['--rootfs', root, '--net', 'bridge', 'true'], /^tsproc: --net: wants none or host/],
    [['--rootfs', root, '--cap-add', 'FLY', 'true'], /^tsproc: --cap-add: unknown capability/],
    [['--rootfs', root, '--no-such-flag', 'true'], /^tsproc: unknown option '--no-such-flag'/],
    [['--rootfs', root, '--memory'], /^tsproc: option '-m, --memory <bytes>' argument missing/],
  ];
  for (const [args, message] of cases) {
    const r = await s.run(args);
    t.equal(r.status, 125, args.join(' '));
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  t.notOk(existsSync(s.stateRoot), 'no state was created');
  t.same(s.cgroups(), [], 'no cgroup was created');
  t.same(s.leftovers(), []);
});
