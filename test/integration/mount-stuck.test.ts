// A connection that gives no answer is aborted after --stuck-timeout, by a new `tsproc mount` on the
// same directory and by the daemon's own SIGTERM; a stopped daemon (SIGSTOP) is never aborted: its
// readers wait, and go on when it is continued (issue 10).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BIN, forceUnmount, mountedAt, serverPid, startDaemon, tempMountpoint, waitFor } from '../helpers/daemon.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;
if (skip) t.plan(0, skip);

const STOP_THREADS = fileURLToPath(new URL('../../../test/helpers/stop-threads.py', import.meta.url));
const MOUNT_JS = new URL('../../fs/mount.js', import.meta.url).href;

/** The output and exit status of a command that may take a while, without blocking the test's loop. */
function runAsync(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** The daemon's threads that wait for a request in read(2) of /dev/fuse: its FUSE workers. */
function workerThreads(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`)
    .map(Number)
    .filter((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8') === 'fuse_dev_do_read';
      } catch {
        return false;
      }
    });
}

t.test('a stuck fuse.tsproc mount on DIR: a new mount aborts it after --stuck-timeout and serves', async (t) => {
  const dir = tempMountpoint();
  // a daemon that mounts and never answers, not even INIT: every request on it waits
  const stuck = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { mountFuse } = await import(${JSON.stringify(MOUNT_JS)}); await mountFuse(${JSON.stringify(dir)}, { subtype: 'tsproc', fsname: 'tsproc' }); console.log('mounted'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => {
    stuck.kill('SIGKILL');
    forceUnmount(dir);
    if (existsSync(dir)) rmdirSync(dir);
  });
  await new Promise<void>((resolve) => stuck.stdout!.once('data', () => resolve()));
  t.ok(mountedAt(dir), 'the stuck mount is there');
  const d = await startDaemon(t, { dir, keepDir: true, args: ['--stuck-timeout', '2'] });
  t.match(
    d.stderr(),
    new RegExp(`${dir}: connection \\d+ gave no answer for 2 s: aborting it \\(--stuck-timeout\\)`),
    'the log says what it aborted, and why',
  );
  t.match(d.stderr(), /dead tsproc mount/, 'then removed the dead mount');
  const cat = await runAsync('cat', [`${dir}/proc/meminfo`]);
  t.match(cat.stdout, /^MemTotal:/, 'the new daemon serves');
  t.equal(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.split(' ')[4] === dir).length,
    1,
    'one mount at DIR',
  );
});

t.test('SIGTERM to a daemon whose workers give no answer: the connection is aborted after --stuck-timeout and it exits 0', async (t) => {
  const d = await startDaemon(t, { args: ['--stuck-timeout', '2', '--threads', '2'] });
  const server = serverPid(d);
  // One worker at a time reads /dev/fuse (fs/poller.ts); the other waits for the turn, which it gets
  // only when the poller gives it up or the watchdog takes it from one stuck in a render, never from
  // one waiting in read(2). Stopping the poller is stopping every answer.
  await waitFor(() => workerThreads(server).length === 1, 'the poller waiting on /dev/fuse');
  const tracer = spawn('python3', [STOP_THREADS, ...workerThreads(server).map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => void tracer.kill('SIGKILL'));
  await new Promise<void>((resolve) => tracer.stdout!.once('data', () => resolve()));
  const reader = runAsync('cat', [`${d.dir}/proc/meminfo`]);
  d.proc.kill('SIGTERM');
  await waitFor(() => /gave no answer for 2 s: aborting it/.test(d.stderr()), 'the abort', 60_000);
  t.pass('the daemon aborted its connection');
  const r = await reader;
  t.not(r.status, 0, 'the waiting reader gets an error, not a hang');
  tracer.kill('SIGKILL'); // the workers go on, read ENODEV and end
  t.equal(await d.exited, 0, 'exit status 0');
  t.notOk(mountedAt(d.dir), 'unmounted');
});

t.test('a stopped daemon (SIGSTOP) is never aborted: a new mount is refused, readers wait and go on after SIGCONT', async (t) => {
  const d = await startDaemon(t, { args: ['--stuck-timeout', '2'] });
  const pid = d.proc.pid!;
  const server = serverPid(d);
  const both = [pid, server];
  t.teardown(() => both.forEach((p) => process.kill(p, 'SIGCONT')));
  // the whole daemon: its supervisor, and the serving process that answers the reads
  both.forEach((p) => process.kill(p, 'SIGSTOP'));
  await waitFor(() => both.every((p) => /\) T /.test(readFileSync(`/proc/${p}/stat`, 'utf8'))), 'the daemon stopped');
  const reader = runAsync('cat', [`${d.dir}/proc/meminfo`]);
  const again = await runAsync(process.execPath, [BIN, 'mount', '--stuck-timeout', '2', d.dir]);
  t.equal(again.status, 1, 'the new mount exits 1');
  t.equal(
    again.stderr,
    `tsproc: ${d.dir} is served by tsproc pid ${pid}, which is stopped: continue it (kill -CONT ${pid}) or end it (kill ${pid}) first\n`,
  );
  await new Promise((r) => setTimeout(r, 3000)); // past the bound: nothing may abort it meanwhile
  both.forEach((p) => process.kill(p, 'SIGCONT'));
  const r = await reader;
  t.equal(r.status, 0, 'the reader that waited goes on');
  t.match(r.stdout, /^MemTotal:/);
  t.ok(mountedAt(d.dir), 'still mounted');
  t.equal(spawnSync('cat', [`${d.dir}/proc/uptime`], { encoding: 'utf8' }).status, 0, 'and serving');
});
