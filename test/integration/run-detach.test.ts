// Containers controlled from the side: run -d, ps, logs, exec, top, stats, stop, kill, wait, rm; a
// killed monitor; a log past its cap.
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { planCgroup } from '../../runner/cgroup/cgroup-plan.js';
import { hostLayout } from '../../src/cgroup-layout.js';
import { busyboxRoot, cannotRun, limitPaths, sandbox, until, alive } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

t.test('run -d, ps, logs, exec, top, stats, stop, ps -a, wait, rm', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const d = await s.run(['--rootfs', root, '-d', '--name', 'tsproc-test-d1', '--hostname', 'd1', '-m', '64m', 'sh', '-c', 'echo out-1; echo err-1 >&2; echo ready > /tmp/ready; while true; do sleep 1; done']);
  t.equal(d.status, 0, d.stderr);
  t.match(d.stdout, /^[0-9a-f]{64}\n$/, 'the full id, at once');
  const id = d.stdout.trim();
  await until('it is ready', () => existsSync(`${root}/tmp/ready`));

  const ps = await s.cli(['ps']);
  t.match(ps.stdout, new RegExp(`^${id.slice(0, 12)}\\s+tsproc-test-d1\\s+${root}\\s+"sh -c echo.*Up .*\\d+\\.\\d\\d%\\s+\\d+(\\.\\d+)?(B|KiB|MiB)$`, 'm'), 'ps: running, its root (IMAGE: the --rootfs directory), CPU % and memory');
  const json = JSON.parse((await s.cli(['ps', '--json'])).stdout) as { id: string; state: string; memoryBytes: number; memoryLimit: number; cpuPercent: number }[];
  t.match(json, [{ id, state: 'running', memoryLimit: 64 * 2 ** 20 }]);
  t.ok(json[0]!.memoryBytes > 0 && json[0]!.cpuPercent >= 0);

  const logs = await s.cli(['logs', 'tsproc-test-d1']);
  t.equal(logs.stdout, 'out-1\n', 'stdout as stdout');
  t.equal(logs.stderr, 'err-1\n', 'stderr as stderr');

  const ex = await s.cli(['exec', id.slice(0, 8), 'sh', '-c', `hostname; echo pid=$$; ps -o pid,comm | grep -c sleep; cat ${limitPaths().memory}; exit 7`]);
  t.equal(ex.status, 7, 'exec: the command\'s status');
  t.same(ex.stdout.trim().split('\n'), ['d1', ex.stdout.match(/pid=\d+/)![0], '1', String(64 * 2 ** 20)], 'its hostname, its PID namespace, its limits');
  t.notMatch(ex.stdout, /pid=1\n/, 'not PID 1: the container\'s command is');
  t.equal((await s.cli(['exec', 'tsproc-test-d1', 'no-such-command'])).status, 127);
  t.equal((await s.cli(['exec', 'no-such-container', 'true'])).status, 125);

  const top = await s.cli(['top', 'tsproc-test-d1']);
  t.match(top.stdout, /^PID\s+UID\s+CPU %\s+MEM\s+COMMAND$/m);
  t.match(top.stdout, /^\d+\s+0\s+\d+\.\d%\s+\S+\s+sh -c echo out-1/m, 'its processes, with CPU % and memory');
  const stats = await s.cli(['stats', '--no-stream']);
  t.match(stats.stdout, new RegExp(`^${id.slice(0, 12)}\\s+tsproc-test-d1\\s+\\d+\\.\\d\\d%\\s+\\S+ / 64\\.0MiB\\s+\\d+\\.\\d\\d%\\s+[1-9]`, 'm'));

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
  const id = (await s.run(['--rootfs', root, '-d', 'sh', '-c', 'trap "echo got-usr1; exit 3" USR1; echo start; while true; do sleep 0.1; done'])).stdout.trim();
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
  const inspect = JSON.parse((await s.cli(['inspect', id])).stdout) as { State: { Status: string; MonitorLost: boolean; ExitCode: number } }[];
  t.match(inspect[0]!.State, { Status: 'exited', MonitorLost: true, ExitCode: 137 });
  t.equal((await s.cli(['rm', id])).status, 0);
});

t.test('the monitor killed while the container is set up: it never starts without one (review finding 8)', async (t) => {
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
  await until('the monitor starts', () => existsSync(containers) && readdirSync(containers).some((id) => existsSync(`${containers}/${id}/monitor.pid`) && (monitor = Number(readFileSync(`${containers}/${id}/monitor.pid`, 'utf8'))) > 0));
  let first = 0;
  await until('its first process is in its cgroups', () => s.cgroups().some((cg) => cg.startsWith(dir) && (first = Number(readFileSync(`${cg}/cgroup.procs`, 'utf8').split('\n')[0])) > 0));
  await new Promise((r) => setTimeout(r, 200)); // the monitor goes on to say go and waits
  process.kill(monitor, 'SIGKILL');
  await until('the monitor is gone', () => !alive(monitor));
  writeFileSync(`${dir}/${file}`, thawed);
  await until('its first process ends with it (PR_SET_PDEATHSIG before the set-up, or it sees the monitor gone)', () => !alive(first), 10000);
  t.equal((await run.done).status, 125, 'the CLI says the monitor ended without an exit status');
  await s.cli(['ps', '-a']);
  t.same(s.leftovers(), [], 'ps settled it: nothing left');
});

t.test('rm and --rm release a name only while it is still theirs (review finding 10)', async (t) => {
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

t.test('wait on a --rm container prints its status, though its record goes as it ends (review finding 14)', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const id = (await s.run(['--rootfs', root, '-d', '--rm', 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 3'])).stdout.trim();
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
  const r = await s.run(['--rootfs', root, '--log-opt', 'max-size=4k', 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done']);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.split('\n').length, 2001, 'the foreground got everything');
  const [id] = s.records();
  const dir = `${s.dataRoot}/containers/${id}`;
  const size = statSync(`${dir}/container.log`).size + statSync(`${dir}/container.log.1`).size;
  t.ok(size <= 2 * 4096 + 100, `two files of at most about 4 KiB each (${size} bytes)`);
  const logs = (await s.cli(['logs', id!])).stdout.trim().split('\n');
  t.equal(logs.at(-1), 'line 1999', 'the newest lines are kept');
  t.notOk(logs.includes('line 0'), 'the oldest are gone');
  t.same(logs, Array.from({ length: logs.length }, (_, i) => `line ${2000 - logs.length + i}`), 'in order, without a gap');
});
