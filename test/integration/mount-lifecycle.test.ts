// Containers read meminfo in a loop while the daemon is taken over, reloaded (SIGHUP, SIGUSR1), unmounted
// from outside, stopped with SIGTERM and started again, and killed with SIGKILL and started again (issue
// 11): no failed read for the takeover, the reloads and the outside umount; after a stop, every container
// reads its own figures again within 5 s of the new daemon serving, without a restart.
import t from 'tap';
import { cpSync, rmSync, symlinkSync } from 'node:fs';
import { forceUnmount, mountedAt, run, serverPid, startDaemon, tempMountpoint, waitFor, type Daemon } from '../helpers/daemon.js';
import { startReaders } from '../helpers/read-loop.js';
import { busyboxRoot, cannotRun, sandbox, tempDir } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

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
  const readers = await startReaders(t, s, busyboxRoot(t), dir, [64, 300]);
  const { containers, window } = readers;
  const readingAgain = (since: number, n = 10) => readers.readingAgain(since, () => `the daemon's log:\n${d.stderr()}`, n);

  await t.test('takeover by a daemon from another checkout: no failed read', async (t) => {
    // "another checkout": this one's files copied elsewhere, as an upgrade in place would have them
    const other = tempDir(top, 'checkout');
    for (const part of ['bin', 'dist', 'native', 'package.json']) cpSync(new URL(`../../../${part}`, import.meta.url), `${other}/${part}`, { recursive: true });
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
      await waitFor(() => containers.every((c) => c.log.reads.some((r) => r.at >= since && !r.ok)), 'the containers see the daemon gone', 30_000);
      d = await startDaemon(top, { dir, keepDir: true });
      daemons.push(d);
      const serving = Date.now();
      t.match(d.stderr(), /repaired \d+ bind mounts of the previous mount/, 'the new daemon repaired the binds');
      await readingAgain(serving);
      const recovered = readers.recovered(serving);
      t.ok(recovered <= 5000, `both containers right again ${recovered} ms after the new daemon served`);
      const w = window(since);
      t.comment(`${how}: ${w.failed.length} failed reads of ${w.reads} while no daemon served; right again ${recovered} ms after the new one served`);
      // no container was restarted: each is the same process, still reading
      t.ok(readers.noneRestarted(), 'the containers were not restarted');
    });
  }

  await readers.stop();
  t.same(s.leftovers(), []);
  for (const x of daemons) if (x !== d) t.ok(x.proc.exitCode !== null || x.proc.signalCode !== null, 'every earlier daemon has ended');
});
