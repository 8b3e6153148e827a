// Containers (tsproc's, runc's, Docker's where dockerd starts) read meminfo in a loop while the daemon is
// taken over, reloaded (SIGHUP, SIGUSR1), unmounted from outside, stopped with SIGTERM and started again,
// and killed with SIGKILL and started again (issue 11): no failed read for the takeover, the reloads and
// the outside umount; after a stop, every container reads its own figures again within 5 s of the new
// daemon serving, without a restart.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tsprocMounts } from '../helpers/clients.js';
import { follow } from '../helpers/read-loop.js';
import { forceUnmount, mountedAt, run, serverPid, startDaemon, tempMountpoint, waitFor, type Daemon } from '../helpers/daemon.js';
import { CONTAINERD, DOCKER, DOCKERD, startDockerd } from '../helpers/dockerd.js';
import { runcMissing, runcSandbox } from '../helpers/runc.js';
import { busyboxRoot, cannotRun, sandbox, tempDir, usrRoot } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

/** For a failure's message: each mount namespace's fuse.tsproc mounts of meminfo (connection, and which pid showed them). */
function tsprocMountsByNamespace(): string {
  const seen = new Map<string, string>();
  for (const pid of readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p))) {
    try {
      const ns = readlinkSync(`/proc/${pid}/ns/mnt`);
      if (seen.has(ns)) continue;
      const lines = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
        .split('\n')
        .filter((l) => l.includes('fuse.tsproc') && l.includes('/proc/meminfo'));
      if (lines.length > 0)
        seen.set(
          ns,
          `pid ${pid} [${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]: ${lines.map((l) => l.split(' ').slice(0, 5).join(' ')).join(', ')}`,
        );
    } catch {
      // gone
    }
  }
  return [...seen.values()].join('; ');
}

function threadStates(pid: number): string {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .map((tid) => `${tid} ${readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8')}`)
      .join(', ');
  } catch (err) {
    return (err as Error).message;
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    return (err as Error).message;
  }
}

function safeSize(file: string): number | string {
  try {
    return statSync(file).size;
  } catch (err) {
    return (err as Error).message;
  }
}

/** For a failure's message: a process's mount namespace and its fuse.tsproc mounts, or why they cannot be read. */
function describeMounts(pid: number): string {
  try {
    const lines = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .filter((l) => l.includes('fuse.tsproc'));
    return `${readlinkSync(`/proc/${pid}/ns/mnt`)} root ${readlinkSync(`/proc/${pid}/root`)}: ${lines.map((l) => l.split(' ').slice(0, 5).join(' ')).join(', ') || 'no fuse.tsproc mount'}`;
  } catch (err) {
    return (err as Error).message;
  }
}

// Every read is whole and the container's own (MemTotal of its limit), else it is a failure.
const LOOP = (kb: number) =>
  `while [ ! -e /out/stop ]; do l=$(head -1 /proc/meminfo 2>&1); case "$l" in "MemTotal:"*" ${kb} kB") echo ok;; *) echo "bad $l";; esac >> /out/reads; done`;

t.test('containers read through takeover, reloads, an outside umount, and restarts after SIGTERM and SIGKILL', async (t) => {
  // daemons outlive the subtest that starts them: their teardown is the whole test's
  const top = t;
  const dir = tempMountpoint();
  t.teardown(() => {
    forceUnmount(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  const daemons: Daemon[] = [];
  let d = await startDaemon(t, { dir, keepDir: true });
  daemons.push(d);
  const s = sandbox(t);
  const root = busyboxRoot(t);
  /** A container reading in a loop: its reads, whether it still runs (never restarted), how it ends. */
  interface Reader {
    name: string;
    mib: number;
    out: string;
    log: ReturnType<typeof follow>;
    running(): boolean;
    /** ends once /out/stop is there: resolves when it has */
    done(): Promise<unknown>;
    /** its first process, where the test can tell */
    pid?: () => number | undefined;
  }
  const containers: Reader[] = [];
  const reader = (
    name: string,
    mib: number,
    start: (out: string) => { running(): boolean; done(): Promise<unknown>; pid?: () => number | undefined },
  ) => {
    const out = tempDir(t, 'reads');
    containers.push({ name, mib, out, log: follow(`${out}/reads`), ...start(out) });
  };
  for (const mib of [64, 300]) {
    reader(`tsproc ${mib}m`, mib, (out) => {
      const c = s.start(['--rootfs', root, '-v', `${out}:/out`, '--lxcfs-root', dir, '-m', `${mib}m`, '--', 'sh', '-c', LOOP(mib * 1024)]);
      return { running: () => c.child.exitCode === null, done: () => c.done };
    });
  }
  const oci = JSON.parse(tsprocMounts('oci', dir)) as object[];
  if (runcMissing()) t.comment(`no runc container: ${runcMissing()}`);
  else {
    const r = runcSandbox(t);
    reader('runc 128m', 128, (out) => {
      let ended = false;
      // it reads for the whole test: a limit far past the test's own
      const ran = r
        .run('reader', {
          args: ['sh', '-c', LOOP(128 * 1024)],
          mounts: [...oci, { destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] }],
          memory: 128 * 1024 * 1024,
          limitMs: 900_000,
        })
        .finally(() => (ended = true));
      return { running: () => !ended, done: () => ran, pid: () => r.pid('reader') };
    });
  }
  const docker = [DOCKER, DOCKERD, CONTAINERD].every((f) => existsSync(f))
    ? await startDockerd()
    : { ok: false as const, why: 'docker.io is not installed' };
  if (!docker.ok) t.comment(`no Docker container: ${docker.why}`);
  else {
    const dk = docker.dockerd;
    t.teardown(() => dk.stop());
    const tar = `${tempDir(t, 'docker-image')}/usr.tar`;
    spawnSync('tar', ['-C', usrRoot(t), '-cf', tar, '.']);
    const image = `tsproc-test-lifecycle-${process.pid}`;
    t.equal(dk.docker(['import', tar, image]).status, 0, 'docker import');
    reader('docker 200m', 200, (out) => {
      const flags = tsprocMounts('docker', dir).trim().split(/\s+/);
      const ran = dk.docker([
        'run',
        '-d',
        '--network',
        'none',
        '-m',
        '200m',
        '-v',
        '/usr:/usr:ro',
        '-v',
        `${out}:/out`,
        ...flags,
        image,
        'sh',
        '-c',
        LOOP(200 * 1024),
      ]);
      const id = ran.stdout.trim();
      if (ran.status !== 0) throw new Error(`docker run: ${ran.stderr}`);
      const running = () => dk.docker(['inspect', '-f', '{{.State.Running}} {{.RestartCount}}', id]).stdout.trim() === 'true 0';
      const done = () => waitFor(() => !running(), 'the docker container ends', 60_000).finally(() => dk.docker(['rm', '-f', id]));
      const pid = () => Number(dk.docker(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim()) || undefined;
      return { running, done, pid };
    });
  }
  t.teardown(async () => {
    for (const c of containers) {
      writeFileSync(`${c.out}/stop`, '');
      c.log.stop();
    }
    await Promise.all(containers.map((c) => c.done()));
  });
  const all = () => containers.flatMap((c) => c.log.reads);
  await waitFor(() => containers.every((c) => c.log.reads.filter((r) => r.ok).length >= 20), 'every container reads its own figures');
  t.comment(`containers: ${containers.map((c) => c.name).join(', ')}`);

  /** Reads of every container from `since` on: how many, and the failures. */
  const window = (since: number) => {
    const reads = all().filter((r) => r.at >= since);
    return { reads: reads.length, failed: reads.filter((r) => !r.ok) };
  };
  /** Both containers have read right at least `n` times since `since`. */
  const readingAgain = (since: number, n = 10) =>
    // generous: the machine may be busy with other work, and this waits on four runtimes at once
    waitFor(
      () => containers.every((c) => c.log.reads.filter((r) => r.at >= since && r.ok).length >= n),
      'every container reads right again',
      120_000,
    ).catch((err: Error) => {
      const last = containers.map(
        (c) =>
          `${c.name} (${c.log.reads.length} reads seen, ${c.log.bytes()} bytes read, the file has ${safeSize(`${c.out}/reads`)}): ${c.log.reads
            .slice(-3)
            .map((r) => r.line)
            .join(' | ')}`,
      );
      last.push(`fuse.tsproc meminfo mounts by namespace: ${tsprocMountsByNamespace()}`);
      last.push(
        `the serving process's threads: ${threadStates(serverPid(d))}; the connection's waiting requests: ${safeRead(`/sys/fs/fuse/connections/${/connection (\d+)/.exec(d.stderr())?.[1]}/waiting`)}`,
      );
      for (const c of containers) if (c.pid?.()) last.push(`${c.name} (pid ${c.pid()}): ${describeMounts(c.pid()!)}`);
      throw new Error(`${err.message}; last reads: ${last.join('; ')}; the daemon's log:\n${d.stderr()}`);
    });

  await t.test('takeover by a daemon from another checkout: no failed read', async (t) => {
    // "another checkout": this one's files copied elsewhere, as an upgrade in place would have them
    const other = tempDir(top, 'checkout');
    for (const part of ['bin', 'dist', 'native', 'package.json'])
      cpSync(new URL(`../../../${part}`, import.meta.url), `${other}/${part}`, { recursive: true });
    symlinkSync(new URL('../../../node_modules', import.meta.url).pathname, `${other}/node_modules`);
    const since = Date.now();
    const next = await startDaemon(top, { dir, keepDir: true, args: ['--takeover'], bin: `${other}/bin/tsproc.js` });
    t.equal(await d.exited, 0, 'the old daemon exits 0');
    t.match(d.stderr(), /handed .* over: exiting/);
    t.match(next.stderr(), /took .* over from tsproc pid/);
    d = next;
    daemons.push(d);
    await readingAgain(Date.now());
    const w = window(since);
    t.same(w.failed, [], `${w.reads} reads across the takeover, none failed`);
  });

  for (const sig of ['SIGHUP', 'SIGUSR1'] as const) {
    await t.test(`${sig} reloads: no failed read`, async (t) => {
      const since = Date.now();
      const before = serverPid(d);
      d.proc.kill(sig);
      await waitFor(() => serverPid(d) !== before, 'the reload').catch((err: Error) => {
        throw new Error(`${err.message}; the daemon's log:\n${d.stderr()}`);
      });
      await readingAgain(Date.now());
      const w = window(since);
      t.same(w.failed, [], `${w.reads} reads across the reload, none failed`);
    });
  }

  await t.test('an outside umount: the containers go on reading from their binds', async (t) => {
    const since = Date.now();
    t.equal(run('umount', [dir]).status, 0, 'umount DIR');
    await waitFor(() => /was unmounted from outside: still serving the \d+ bind mounts/.test(d.stderr()), 'the log says so');
    t.notOk(mountedAt(dir), 'DIR is unmounted');
    await readingAgain(Date.now(), 20);
    const w = window(since);
    t.same(w.failed, [], `${w.reads} reads after the umount, none failed`);
    t.equal(d.proc.exitCode, null, 'the daemon serves on');
  });

  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    await t.test(`${how}, then tsproc mount again: every container right again within 5 s, no restart`, async (t) => {
      const since = Date.now();
      if (how === 'SIGKILL') {
        // every process of it
        const server = serverPid(d);
        d.proc.kill('SIGKILL');
        process.kill(server, 'SIGKILL');
      } else d.proc.kill('SIGTERM');
      await d.exited;
      await waitFor(
        () => containers.every((c) => c.log.reads.some((r) => r.at >= since && !r.ok)),
        'the containers see the daemon gone',
        30_000,
      );
      d = await startDaemon(top, { dir, keepDir: true });
      daemons.push(d);
      const serving = Date.now();
      t.match(d.stderr(), /repaired \d+ bind mounts of the previous mount/, 'the new daemon repaired the binds');
      await readingAgain(serving);
      const recovered = Math.max(...containers.map((c) => c.log.reads.find((r) => r.at >= serving && r.ok)!.at)) - serving;
      t.ok(recovered <= 5000, `every container right again ${recovered} ms after the new daemon served`);
      const w = window(since);
      t.comment(
        `${how}: ${w.failed.length} failed reads of ${w.reads} while no daemon served; right again ${recovered} ms after the new one served`,
      );
      // no container was restarted: each is the same process, still reading
      t.ok(
        containers.every((c) => c.running()),
        'the containers were not restarted',
      );
    });
  }

  for (const c of containers) writeFileSync(`${c.out}/stop`, '');
  await Promise.all(containers.map((c) => c.done()));
  t.same(s.leftovers(), []);
  for (const x of daemons) if (x !== d) t.ok(x.proc.exitCode !== null || x.proc.signalCode !== null, 'every earlier daemon has ended');
});
