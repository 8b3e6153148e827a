// The daemon in a pid namespace of its own (`unshare --pid --fork --mount-proc`, as a container without
// --pid host or hostPID would start it): refused with one line and exit 1, before it makes or mounts
// anything; with --allow-nested-pid-namespace it serves, and says what that means.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { BIN, run, waitFor } from '../helpers/daemon.js';
import { cannotRun, tempDir } from '../helpers/runner.js';

const UNSHARE = '/usr/bin/unshare';
const NSENTER = '/usr/bin/nsenter';
const skip = cannotRun() ?? (existsSync(UNSHARE) && existsSync(NSENTER) ? undefined : 'util-linux unshare and nsenter are not installed');
if (skip) t.plan(0, skip);

const unshare = (args: string[]) => [UNSHARE, '--pid', '--fork', '--mount-proc', process.execPath, '--', BIN, ...args];

/** The children of `pid`, as the host sees them. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((p) => /^[0-9]+$/.test(p))
    .filter((p) => {
      try {
        return (
          Number(
            readFileSync(`/proc/${p}/stat`, 'utf8')
              .replace(/^.*\) /s, '')
              .split(' ')[1],
          ) === pid
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

t.test('in a pid namespace of its own: one line saying why, exit 1, nothing made', async (t) => {
  const parent = `${tempDir(t, 'pidns')}/not-made`;
  const dir = `${parent}/mnt`;
  const [cmd, ...args] = unshare(['mount', dir]);
  const r = run(cmd!, args);
  t.equal(r.status, 1, 'exit 1');
  t.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter(Boolean);
  t.equal(lines.length, 1, `one line: ${r.stderr}`);
  t.match(lines[0], /^tsproc: the daemon runs in a pid namespace that is not the host's \(pid:\[\d+\]; the host's is pid:\[4026531836\]\)/);
  t.match(
    lines[0],
    /Run it in the host's pid namespace \(docker run --pid host; Kubernetes: hostPID: true\), or pass --allow-nested-pid-namespace/,
  );
  t.notOk(existsSync(parent), 'refused before it made the mountpoint (or its parent)');
});

t.test('--takeover is refused the same way', async (t) => {
  const dir = `${tempDir(t, 'pidns')}/mnt`;
  const [cmd, ...args] = unshare(['mount', '--takeover', dir]);
  const r = run(cmd!, args);
  t.equal(r.status, 1);
  t.match(r.stderr, /^tsproc: the daemon runs in a pid namespace that is not the host's/);
});

t.test('with --allow-nested-pid-namespace: it serves, warns once, and stops with SIGTERM (exit 0)', async (t) => {
  const dir = `${tempDir(t, 'pidns')}/mnt`;
  const [cmd, ...args] = unshare(['mount', dir, '--allow-nested-pid-namespace']);
  const proc = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  // the daemon is the namespace's pid 1: unshare's child, as the host sees it
  const daemon = () => childrenOf(proc.pid!)[0];
  t.teardown(async () => {
    if (proc.exitCode === null) {
      // SIGKILL of a namespace's pid 1 ends every process in it; its mount namespace goes with them
      const pid = daemon();
      if (pid) process.kill(pid, 'SIGKILL');
      proc.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  // (its signal handlers are in place once it says so: before, SIGTERM to a namespace's pid 1 is dropped)
  await waitFor(() => err.includes(`serving ${dir} (`) || proc.exitCode !== null, 'the daemon serves').catch((e: Error) => {
    throw new Error(`${e.message}:\n${err}`);
  });
  t.equal(proc.exitCode, null, `it serves:\n${err}`);
  t.equal(
    err.match(/warning: the daemon runs in a pid namespace that is not the host's .*started anyway \(--allow-nested-pid-namespace\)/g)
      ?.length,
    1,
    'the warning, once',
  );
  const pid = daemon();
  t.ok(pid, 'the daemon found');
  // --mount-proc made a mount namespace too: read the mount from inside it (a reader outside the
  // daemon's pid namespace arrives as pid 0, and gets the host's file)
  const read = spawnSync(NSENTER, ['--target', String(pid), '--mount', 'cat', `${dir}/proc/meminfo`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.equal(read.status, 0, read.stderr);
  t.equal(read.stdout.split('\n')[0], readFileSync('/proc/meminfo', 'utf8').split('\n')[0], "the host's MemTotal");
  process.kill(pid!, 'SIGTERM');
  t.equal(await exited, 0, 'unshare passes on the daemon exit status: 0');
  t.match(err, /got SIGTERM: stopping/);
});
