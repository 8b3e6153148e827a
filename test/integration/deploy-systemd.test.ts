// deploy/systemd/tsproc.service's Exec lines run as systemd would run them (no systemd is PID 1 here),
// the checkout for /opt/tsproc and a tsproc-test mountpoint for /var/lib/tsproc, while tsproc
// containers read meminfo in a loop: start (ExecStart, then ExecStartPost until the mount serves),
// reload (ExecReload with $MAINPID: no failed read), stop (KillMode=mixed: SIGTERM to the main pid only;
// it exits 0, DIR unmounted, no process of it left for the final SIGKILL), and start again, which is
// what a restart is: the containers read right again within 5 s, without a restart of theirs.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forceUnmount, mountedAt, tempMountpoint, waitFor } from '../helpers/daemon.js';
import { startReaders } from '../helpers/read-loop.js';
import { alive, busyboxRoot, cannotRun, sandbox } from '../helpers/runner.js';
import { execArgv, parseUnit, setting } from '../helpers/systemd-unit.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

const UNIT = fileURLToPath(new URL('../../../deploy/systemd/tsproc.service', import.meta.url));
const CHECKOUT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
/** systemd's own PATH for services (v252, merged /usr); Node's directory is added if it is not on it. */
const SYSTEMD_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin'];
const PATH = [...SYSTEMD_PATH, ...(SYSTEMD_PATH.includes(dirname(process.execPath)) ? [] : [dirname(process.execPath)])].join(delimiter);
/** Lowering oom_score_adj takes CAP_SYS_RESOURCE (systemd has it; a sandbox running the tests may not). */
const CAP_SYS_RESOURCE = 24;
const canLowerOomScore =
  ((BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`) >> BigInt(CAP_SYS_RESOURCE)) &
    1n) ===
  1n;
/** Limits for hangs, not speed. */
const STOP_LIMIT_MS = 30_000; // TimeoutStopSec=

interface Service {
  proc: ChildProcess;
  pid: number;
  log(): string;
  exited: Promise<number | null>;
}

t.test("the unit's Exec lines: start, reload, stop and start again, containers reading all along", async (t) => {
  const unit = parseUnit(UNIT);
  const dir = tempMountpoint();
  t.teardown(() => {
    forceUnmount(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  /** An Exec line of the unit as argv, its paths this checkout's and this test's. */
  const exec = (key: string, env: Record<string, string> = {}) =>
    execArgv(setting(unit, 'Service', key).replaceAll('/opt/tsproc/', `${CHECKOUT}/`).replaceAll('/var/lib/tsproc', dir), env);
  t.equal(setting(unit, 'Service', 'KillMode'), 'mixed', 'KillMode=mixed: SIGTERM to the main process alone');
  // What is checked is that every process of the daemon gets the score systemd gives the main process;
  // without CAP_SYS_RESOURCE a raised score (which takes none) shows the same.
  const unitScore = setting(unit, 'Service', 'OOMScoreAdjust');
  const oomScore = canLowerOomScore ? unitScore : '100';
  if (!canLowerOomScore)
    t.comment(
      `this process lacks CAP_SYS_RESOURCE, which lowering oom_score_adj takes (systemd has it): oom_score_adj 100 stands in for ${unitScore}`,
    );
  const services: Service[] = [];
  t.teardown(async () => {
    // as systemd's stop would, then its final SIGKILL
    for (const s of services) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGTERM');
    await Promise.race([Promise.all(services.map((s) => s.exited)), new Promise((r) => setTimeout(r, STOP_LIMIT_MS).unref())]);
    for (const s of services) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  });

  /** systemd's start: fork, setsid, OOMScoreAdjust= and the environment set, exec ExecStart; then ExecStartPost to completion. */
  const start = async (): Promise<Service> => {
    const [cmd, ...args] = exec('ExecStart');
    // the shell sets the score and execs: the main pid is the shell's, as systemd's child's is
    const proc = spawn('/bin/sh', ['-c', `echo ${oomScore} > /proc/self/oom_score_adj && exec "$0" "$@"`, cmd!, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { PATH },
    });
    let log = '';
    proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const service = { proc, pid: proc.pid!, log: () => log, exited };
    services.push(service);
    const [post, ...postArgs] = exec('ExecStartPost');
    const r = await runToEnd(post!, postArgs);
    t.equal(r, 0, `ExecStartPost exits 0 once the mount serves:\n${log}`);
    // (its log comes through a pipe, and may come after the read that ended ExecStartPost)
    await waitFor(() => log.includes(`serving ${dir} (`), 'the daemon says it serves');
    return service;
  };

  let service = await start();
  const s = sandbox(t);
  const readers = await startReaders(t, s, busyboxRoot(t), dir, [64, 300], () => `the daemon's log:\n${service.log()}`);
  const context = () => `the daemon's log:\n${service.log()}`;

  /** The serving processes the log named, and whether the OOM killer would spare them as their supervisor. */
  const servers = () => [...service.log().matchAll(/serving process (?:\d+ → )?(\d+)/g)].map((m) => Number(m[1]));
  const oomScoreOf = (pid: number) => readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim();

  await t.test('started: the supervisor and its serving process have OOMScoreAdjust=', async (t) => {
    t.equal(oomScoreOf(service.pid), oomScore, 'the main process');
    const server = servers().at(-1)!;
    t.equal(oomScoreOf(server), oomScore, 'the serving process (it inherits the score)');
  });

  await t.test('systemctl reload: ExecReload with $MAINPID; the same main pid, no failed read', async (t) => {
    const since = Date.now();
    const before = servers().at(-1);
    const [cmd, ...args] = exec('ExecReload', { MAINPID: String(service.pid) });
    t.equal(cmd, '/bin/kill', 'ExecReload: /bin/kill');
    t.equal(await runToEnd(cmd!, args), 0, 'ExecReload exits 0');
    await waitFor(() => /reloaded: serving process/.test(service.log()), 'the reload').catch((err: Error) => {
      throw new Error(`${err.message}; ${context()}`);
    });
    const after = servers().at(-1)!;
    t.not(after, before, 'a new serving process');
    t.equal(oomScoreOf(after), oomScore, 'which has the score too');
    t.equal(service.proc.exitCode, null, 'the main process runs on (systemd keeps the service)');
    await readers.readingAgain(Date.now(), context);
    const w = readers.window(since);
    t.same(w.failed, [], `${w.reads} reads across the reload, none failed`);
  });

  await t.test('systemctl stop: SIGTERM to the main pid only; exit 0, DIR unmounted, nothing left of it', async (t) => {
    const server = servers().at(-1)!;
    const since = Date.now();
    process.kill(service.pid, 'SIGTERM');
    const code = await Promise.race([service.exited, new Promise<'late'>((r) => setTimeout(() => r('late'), STOP_LIMIT_MS))]);
    t.equal(code, 0, `exit 0 within TimeoutStopSec (${STOP_LIMIT_MS / 1000} s)`);
    t.notOk(mountedAt(dir), 'DIR unmounted');
    t.notOk(alive(server), 'its serving process has ended too: nothing for the final SIGKILL');
    t.match(service.log(), /got SIGTERM: stopping/);
    await waitFor(
      () => readers.containers.every((c) => c.log.reads.some((r) => !r.ok && r.at >= since)),
      'the containers see the daemon gone',
      30_000,
    );
  });

  await t.test('systemctl start (a restart): the containers right again within 5 s of it serving, not restarted', async (t) => {
    const since = Date.now();
    service = await start();
    const serving = Date.now();
    t.match(service.log(), /repaired \d+ bind mounts of the previous mount/, 'the new daemon repaired the binds');
    await readers.readingAgain(serving, context);
    const recovered = readers.recovered(serving);
    t.ok(recovered <= 5000, `every container right again ${recovered} ms after ExecStartPost returned`);
    const w = readers.window(since);
    t.comment(`restart: ${w.failed.length} failed reads of ${w.reads} from the start to serving; right again ${recovered} ms after`);
    t.ok(readers.noneRestarted(), 'the containers were not restarted');
  });

  await readers.stop();
  t.same(s.leftovers(), []);
});

/** Run a command to its end (bounded), as systemd runs ExecStartPost= and ExecReload=; resolves with its exit status. */
function runToEnd(cmd: string, args: string[]): Promise<number | null> {
  if (!existsSync(cmd)) throw new Error(`${cmd}: not found`);
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: 'ignore', env: { PATH }, timeout: 90_000 });
    p.on('exit', (code) => resolve(code));
  });
}
