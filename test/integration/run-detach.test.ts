// Containers controlled from the side: run -d, ps, logs, exec (-u, -w, -e, -t), top, stats (one sample,
// streamed), stop, kill, wait, rm; generated names; a terminal's resize; a killed monitor; a log past its cap.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { planCgroup } from '../../runner/cgroup/cgroup-plan.js';
import { hostLayout } from '../../src/cgroup-layout.js';
import { alive, busyboxRoot, cannotRun, limitPaths, NODE_BIN, sandbox, until, type Ran, type Sandbox } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

t.test('run -d, ps, logs, exec, top, stats, stop, ps -a, wait, rm', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const d = await s.run([
    '--rootfs',
    root,
    '-d',
    '--name',
    'tsproc-test-d1',
    '--hostname',
    'd1',
    '-m',
    '64m',
    'sh',
    '-c',
    'echo out-1; echo err-1 >&2; echo ready > /tmp/ready; while true; do sleep 1; done',
  ]);
  t.equal(d.status, 0, d.stderr);
  t.match(d.stdout, /^[0-9a-f]{64}\n$/, 'the full id, at once');
  const id = d.stdout.trim();
  await until('it is ready', () => existsSync(`${root}/tmp/ready`));

  const ps = await s.cli(['ps']);
  t.match(
    ps.stdout,
    new RegExp(`^${id.slice(0, 12)}\\s+tsproc-test-d1\\s+${root}\\s+"sh -c echo.*Up .*\\d+\\.\\d\\d%\\s+\\d+(\\.\\d+)?(B|KiB|MiB)$`, 'm'),
    'ps: running, its root (IMAGE: the --rootfs directory), CPU % and memory',
  );
  const json = JSON.parse((await s.cli(['ps', '--json'])).stdout) as {
    id: string;
    state: string;
    memoryBytes: number;
    memoryLimit: number;
    cpuPercent: number;
  }[];
  t.match(json, [{ id, state: 'running', memoryLimit: 64 * 2 ** 20 }]);
  t.ok(json[0]!.memoryBytes > 0 && json[0]!.cpuPercent >= 0);

  const logs = await s.cli(['logs', 'tsproc-test-d1']);
  t.equal(logs.stdout, 'out-1\n', 'stdout as stdout');
  t.equal(logs.stderr, 'err-1\n', 'stderr as stderr');

  const ex = await s.cli([
    'exec',
    id.slice(0, 8),
    'sh',
    '-c',
    `hostname; tr '\\0' ' ' < /proc/1/cmdline; echo; echo $$; cat ${limitPaths().memory}; exit 7`,
  ]);
  t.equal(ex.status, 7, "exec: the command's status");
  const [host, init, pid, memory] = ex.stdout.split('\n');
  t.equal(host, 'd1', 'its hostname');
  t.equal(
    init,
    'sh -c echo out-1; echo err-1 >&2; echo ready > /tmp/ready; while true; do sleep 1; done ',
    "its PID namespace: PID 1 is the container's command",
  );
  t.ok(Number(pid) > 1, `not PID 1 itself (${pid})`);
  t.equal(memory, String(64 * 2 ** 20), 'its cgroup: the 64 MiB limit');
  t.equal((await s.cli(['exec', 'tsproc-test-d1', 'no-such-command'])).status, 127);
  t.equal((await s.cli(['exec', 'no-such-container', 'true'])).status, 125);

  const top = await s.cli(['top', 'tsproc-test-d1']);
  t.match(top.stdout, /^PID\s+UID\s+CPU %\s+MEM\s+COMMAND$/m);
  t.match(top.stdout, /^\d+\s+0\s+\d+\.\d%\s+\S+\s+sh -c echo out-1/m, 'its processes, with CPU % and memory');
  const stats = await s.cli(['stats', '--no-stream']);
  t.match(
    stats.stdout,
    new RegExp(`^${id.slice(0, 12)}\\s+tsproc-test-d1\\s+\\d+\\.\\d\\d%\\s+\\S+ / 64\\.0MiB\\s+\\d+\\.\\d\\d%\\s+[1-9]`, 'm'),
  );

  const stop = await s.cli(['stop', '-t', '1', 'tsproc-test-d1']);
  t.equal(stop.status, 0, stop.stderr);
  t.same(s.leftovers(), [], 'stopped and cleaned up (sh as PID 1 ignored SIGTERM: SIGKILL after 1 s)');
  t.match((await s.cli(['ps', '-a'])).stdout, /tsproc-test-d1\s+.*Exited \(137\)/, 'ps -a: exited, with its status');
  t.equal((await s.cli(['ps'])).stdout.trim().split('\n').length, 1, 'ps: no longer running');
  t.equal((await s.cli(['wait', 'tsproc-test-d1'])).stdout, '137\n');
  t.equal((await s.cli(['logs', 'tsproc-test-d1'])).stdout, 'out-1\n', 'logs outlive the container');
  t.equal((await s.cli(['rm', 'tsproc-test-d1'])).status, 0);
  t.same(s.records(), [], 'rm removed every trace');
  t.same(readdirSync(`${s.dataRoot}/names`), []);
  const gone = await s.cli(['logs', 'tsproc-test-d1']);
  t.equal(gone.status, 1);
  t.equal(gone.stderr, 'tsproc: no such container: tsproc-test-d1\n');
});

t.test('logs -f follows until the end; wait returns its status; kill -s; rm refuses a running one', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const id = (
    await s.run(['--rootfs', root, '-d', 'sh', '-c', 'trap "echo got-usr1; exit 3" USR1; echo start; while true; do sleep 0.1; done'])
  ).stdout.trim();
  const logs = s.startCli(['logs', '-f', id]);
  await until('logs -f shows the start', () => logs.output().includes('start\n'));
  const rm = await s.cli(['rm', id]);
  t.equal(rm.status, 1);
  t.match(rm.stderr, /is running: stop it first, or use rm -f/);
  const wait = s.startCli(['wait', id]);
  t.equal((await s.cli(['kill', '-s', 'USR1', id])).status, 0);
  t.equal((await wait.done).stdout, '3\n', 'wait: its exit status');
  const l = await logs.done;
  t.equal(l.status, 0);
  t.equal(l.stdout, 'start\ngot-usr1\n', 'logs -f: everything, and it returned when the container ended');
  t.equal((await s.cli(['kill', id])).status, 1, 'kill: not running');
  t.equal((await s.cli(['rm', id])).status, 0);
  const running = (await s.run(['--rootfs', root, '-d', 'sleep', '600'])).stdout.trim();
  t.equal((await s.cli(['rm', '-f', running])).status, 0, 'rm -f: killed and removed');
  t.same(s.records(), []);
  t.same(s.leftovers(), []);
});

t.test('the monitor killed: the kernel ends the container; the next command settles its record', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const id = (await s.run(['--rootfs', root, '-d', 'sleep', '600'])).stdout.trim();
  const monitor = Number(readFileSync(`${s.stateRoot}/containers/${id}/monitor.pid`, 'utf8'));
  const pid = Number(readFileSync(`${s.dataRoot}/containers/${id}/container.pid`, 'utf8'));
  process.kill(monitor, 'SIGKILL');
  await until('the container dies with its monitor (PR_SET_PDEATHSIG)', () => !alive(pid));
  const ps = await s.cli(['ps', '-a']);
  t.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} .*Exited \\(137\\) .*\\(monitor lost\\)$`, 'm'));
  t.same(s.leftovers(), [], 'its cgroup and state went when ps settled it');
  const inspect = JSON.parse((await s.cli(['inspect', id])).stdout) as {
    State: { Status: string; MonitorLost: boolean; ExitCode: number };
  }[];
  t.match(inspect[0]!.State, { Status: 'exited', MonitorLost: true, ExitCode: 137 });
  t.equal((await s.cli(['rm', id])).status, 0);
});

t.test('the monitor killed while the container is set up: it never starts without one', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  // the cgroup parent frozen beforehand: the container's first process stops as it joins, mid set-up
  const v2 = hostLayout().kind === 'v2';
  const hierarchy = planCgroup(hostLayout(), s.parent, 'x').hierarchies.find((h) => (v2 ? h.unified : h.controllers.includes('freezer')));
  if (!hierarchy) return t.plan(0, 'no freezer hierarchy here to hold the set-up with');
  const dir = `${hierarchy.mountpoint}/${s.parent}`;
  const [file, frozen, thawed] = v2 ? ['cgroup.freeze', '1', '0'] : ['freezer.state', 'FROZEN', 'THAWED'];
  mkdirSync(dir);
  writeFileSync(`${dir}/${file}`, frozen);
  t.teardown(() => existsSync(dir) && writeFileSync(`${dir}/${file}`, thawed));
  const run = s.start(['--rootfs', root, '-d', 'sleep', '600']);
  const containers = `${s.stateRoot}/containers`;
  let monitor = 0;
  await until(
    'the monitor starts',
    () =>
      existsSync(containers) &&
      readdirSync(containers).some(
        (id) =>
          existsSync(`${containers}/${id}/monitor.pid`) && (monitor = Number(readFileSync(`${containers}/${id}/monitor.pid`, 'utf8'))) > 0,
      ),
  );
  let first = 0;
  await until('its first process is in its cgroups', () =>
    s.cgroups().some((cg) => cg.startsWith(dir) && (first = Number(readFileSync(`${cg}/cgroup.procs`, 'utf8').split('\n')[0])) > 0),
  );
  // the monitor goes on to say go, and waits for the container's word on a pipe: read(2) (syscall 0 on
  // x86-64, /proc/PID/syscall) on a descriptor that is a pipe
  const waitsOnPipe = () => {
    try {
      const [nr, fd] = readFileSync(`/proc/${monitor}/syscall`, 'utf8').split(' ');
      return nr === '0' && readlinkSync(`/proc/${monitor}/fd/${Number(fd)}`).startsWith('pipe:');
    } catch {
      return false; // the descriptor closed between the two reads: look again
    }
  };
  await until('the monitor said go and waits for the container', waitsOnPipe, 30000);
  process.kill(monitor, 'SIGKILL');
  await until('the monitor is gone', () => !alive(monitor));
  writeFileSync(`${dir}/${file}`, thawed);
  await until(
    'its first process ends with it (PR_SET_PDEATHSIG before the set-up, or it sees the monitor gone)',
    () => !alive(first),
    10000,
  );
  t.equal((await run.done).status, 125, 'the CLI says the monitor ended without an exit status');
  await s.cli(['ps', '-a']);
  t.same(s.leftovers(), [], 'ps settled it: nothing left');
});

t.test('rm and --rm release a name only while it is still theirs', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const other = 'b'.repeat(64);
  // as if the name had been released and taken again by another container meanwhile
  const retake = (name: string) => {
    rmSync(`${s.dataRoot}/names/${name}`);
    symlinkSync(other, `${s.dataRoot}/names/${name}`);
  };
  const id = (await s.run(['--rootfs', root, '--name', 'tsproc-test-n1', 'true'])).stdout.trim() || s.records()[0]!;
  retake('tsproc-test-n1');
  t.equal((await s.cli(['rm', id])).status, 0);
  t.equal(readlinkSync(`${s.dataRoot}/names/tsproc-test-n1`), other, 'rm: the other container keeps the name');
  const rmId = (await s.run(['--rootfs', root, '--rm', '-d', '--name', 'tsproc-test-n2', 'sleep', '600'])).stdout.trim();
  retake('tsproc-test-n2');
  t.equal((await s.cli(['kill', rmId])).status, 0);
  await until('its monitor cleans up', () => s.leftovers().length === 0);
  t.equal(readlinkSync(`${s.dataRoot}/names/tsproc-test-n2`), other, '--rm: neither does its monitor take it');
  t.notOk(existsSync(`${s.dataRoot}/containers/${rmId}`), '--rm: its record went');
});

t.test('wait on a --rm container prints its status, though its record goes as it ends', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const id = (
    await s.run(['--rootfs', root, '-d', '--rm', 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 3'])
  ).stdout.trim();
  const waiting = s.startCli(['wait', id.slice(0, 12)]);
  await until('wait holds on to its status', () => readdirSync(`${s.stateRoot}/containers`).some((e) => e.startsWith(`.wait-${id}`)));
  writeFileSync(`${root}/tmp/go`, '');
  const w = await waiting.done;
  t.same([w.status, w.stdout, w.stderr], [0, '3\n', ''], 'its exit status');
  t.same(s.records(), [], '--rm removed its record');
  t.same(s.leftovers(), [], 'and wait left nothing of its own');
});

t.test('a log past its cap is rotated, never unbounded', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const r = await s.run([
    '--rootfs',
    root,
    '--log-opt',
    'max-size=4k',
    'sh',
    '-c',
    'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done',
  ]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.split('\n').length, 2001, 'the foreground got everything');
  const [id] = s.records();
  const dir = `${s.dataRoot}/containers/${id}`;
  const size = statSync(`${dir}/container.log`).size + statSync(`${dir}/container.log.1`).size;
  t.ok(size <= 2 * 4096 + 100, `two files of at most about 4 KiB each (${size} bytes)`);
  const logs = (await s.cli(['logs', id!])).stdout.trim().split('\n');
  t.equal(logs.at(-1), 'line 1999', 'the newest lines are kept');
  t.notOk(logs.includes('line 0'), 'the oldest are gone');
  t.same(
    logs,
    Array.from({ length: logs.length }, (_, i) => `line ${2000 - logs.length + i}`),
    'in order, without a gap',
  );
});

const PTY_RESIZE = fileURLToPath(new URL('../../../test/helpers/pty-resize.py', import.meta.url));

/** The CLI on a terminal of its own, 24x80, resized to 40x132 once the command says READY (test/helpers/pty-resize.py). */
function resized(s: Sandbox, args: string[]): Ran {
  const cli = [...NODE_BIN, '--state-root', s.stateRoot, '--data-root', s.dataRoot, ...args];
  const r = spawnSync('python3', [PTY_RESIZE, '24', '80', '40', '132', 'READY', '60', '--', ...cli], { encoding: 'utf8', timeout: 90_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Says the terminal's size, then again at SIGWINCH, and ends. */
const SIZES = "stty size; trap 'stty size; exit 0' WINCH; echo READY; sleep 600 & wait";

t.test("exec -u, -w, -e, -t as docker has them; a terminal's resize reaches the command of exec -t and of run -t", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  mkdirSync(`${root}/home/alice`, { recursive: true });
  const id = (await s.run(['--rootfs', root, '-d', '-e', 'FROM_RUN=1', 'sleep', '600'])).stdout.trim();
  const ex = await s.cli([
    'exec',
    '-u',
    'alice',
    '-w',
    '/tmp',
    '-e',
    'A=b c',
    id,
    'sh',
    '-c',
    'id; pwd; echo "$A"; echo "$FROM_RUN"; echo "$HOME"',
  ]);
  t.equal(ex.status, 0, ex.stderr);
  t.equal(
    ex.stdout,
    'uid=1000(alice) gid=1000(alice) groups=10(wheel),1000(alice)\n/tmp\nb c\n1\n/home/alice\n',
    "-u's user and groups, -w, -e over the container's environment, the user's HOME",
  );
  const num = await s.cli(['exec', '-u', '1234:5678', id, 'id']);
  t.equal(num.stdout, 'uid=1234 gid=5678 groups=5678\n', '-u UID:GID: no name needed');
  const tty = await s.terminal(['exec', '-t', id, 'sh', '-c', 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; echo $TERM']);
  t.equal(
    tty.stdout.replace(/\r/g, ''),
    '/dev/pts/0\nall-tty\nxterm\n',
    "-t: a terminal of the container's devpts (its first), TERM=xterm",
  );
  const noTty = await s.terminal(['exec', id, 'sh', '-c', 'tty; echo $TERM']);
  t.equal(noTty.stdout.replace(/\r/g, ''), 'not a tty\n\n', 'without -t: no terminal and no TERM');

  // (the container's terminal and the CLI's, not raw without -i, both end lines with \r\n)
  t.equal(
    resized(s, ['exec', '-t', id, 'sh', '-c', SIZES]).stdout.replace(/\r/g, ''),
    '24 80\nREADY\n40 132\nexit 0\n',
    'exec -t: the size at the start, then the new one at SIGWINCH',
  );
  t.equal(
    resized(s, ['run', '--cgroup-parent', s.parent, '--rm', '-t', '--rootfs', root, 'sh', '-c', SIZES]).stdout.replace(/\r/g, ''),
    '24 80\nREADY\n40 132\nexit 0\n',
    'run -t: the same',
  );
  t.equal((await s.cli(['rm', '-f', id])).status, 0);
});

t.test(
  "stats streams a sample a second, each container's CPU over that second, until SIGINT; unnamed containers get docker-style names",
  async (t) => {
    const s = sandbox(t);
    const root = busyboxRoot(t);
    // runnable all the time under a quota of half a CPU, and one that sleeps
    const busy = (await s.run(['--rootfs', root, '-d', '--cpus', '0.5', 'sh', '-c', 'while :; do :; done'])).stdout.trim();
    const idle = (await s.run(['--rootfs', root, '-d', '-m', '32m', 'sleep', '600'])).stdout.trim();
    const names = (JSON.parse((await s.cli(['ps', '--json'])).stdout) as { id: string; name: string }[]).map((c) => c.name);
    t.equal(names.length, 2);
    for (const n of names) t.match(n, /^[a-z]+_[a-z]+$/, `a generated name, adjective_surname as docker's: ${n}`);
    t.not(names[0], names[1], 'two containers, two names');
    t.equal((await s.cli(['exec', names[0]!, 'true'])).status, 0, 'a container is found by its generated name');

    const stats = s.startCli(['stats']);
    const HEADER = /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+PIDS$/;
    const samples = () =>
      stats
        .output()
        .split('\n')
        .filter((l) => HEADER.test(l)).length;
    await until('three samples', () => samples() >= 3, 60_000);
    const beforeRm = samples(); // each sample is printed whole: these were taken before rm began
    t.equal((await s.cli(['rm', '-f', idle])).status, 0);
    // the ones printed next may have been taken while rm ran (one, or two if this process read the
    // pipe late); not those after them
    const afterRm = samples();
    await until('three samples more', () => samples() >= afterRm + 3, 60_000);
    stats.child.kill('SIGINT');
    const r = await stats.done;
    t.equal(r.status, 0, `SIGINT ends it, exit 0 ${r.stderr}`);
    const tables = r.stdout.split(/^(?=CONTAINER ID)/m).filter((x) => x.trim());
    t.ok(tables.length >= afterRm + 3, `${tables.length} samples`);
    const ROW = /^([0-9a-f]{12})\s+(\S+)\s+(\d+\.\d\d)%\s+(\S+) \/ (\S+)\s+(?:(\d+\.\d\d)%\s+)?(\d+)$/;
    const rows = tables.map((table) =>
      table
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => ROW.exec(l)),
    );
    t.same(
      rows.flat().filter((m) => !m),
      [],
      'every row in the columns',
    );
    for (const [i, sample] of rows.entries()) {
      const row = (id: string) => sample.find((m) => m![1] === id.slice(0, 12));
      const b = row(busy)!;
      // at most the quota over the second (50%), a period's burst (5%) and the skew between the CPU
      // counter and the clock read after it; some CPU in every second: it is runnable all the time
      t.ok(Number(b[3]) > 0 && Number(b[3]) <= 60, `sample ${i}: the busy one used ${b[3]}% of a CPU (quota 50%)`);
      t.same([b[5], b[6], b[7]], ['unlimited', undefined, '1'], `sample ${i}: no memory limit; one task`);
      const d = row(idle);
      if (i < beforeRm) {
        t.ok(d && Number(d[3]) < 5, `sample ${i}: the sleeping one ${d?.[3]}%`);
        t.same([d?.[5], d?.[7]], ['32.0MiB', '1'], `sample ${i}: its 32 MiB limit, one task`);
      }
      if (i > afterRm + 1) t.notOk(d, `sample ${i}: the removed container is gone from the stream`);
    }
    t.equal((await s.cli(['rm', '-f', busy])).status, 0);
    t.same(s.leftovers(), []);
  },
);
