// The helper's events, and the exit statuses and words they become.
import t from 'tap';
import { constants } from 'node:os';
import { exitStatus } from '../../runner/exit-status.js';
import { failureError, parseEvent } from '../../runner/helper-events.js';

const ctx = { describe: (n: number) => (n === 30 ? 'mount proc on /proc' : undefined), command: 'frob', cwd: '/work' };

t.test('events parse; anything else is ignored', async (t) => {
  t.same(parseEvent('monitor 42'), { kind: 'monitor', pid: 42 });
  t.same(parseEvent('started 43'), { kind: 'started', pid: 43 });
  t.same(parseEvent('failed exec 2 0'), { kind: 'failed', step: 'exec', errno: 2, line: 0 });
  t.same(parseEvent('exit signal 9 1'), { kind: 'exit', how: 'signal', value: 9, oomKills: 1 });
  t.same(parseEvent('cleanup-failed rmdir 16 /sys/fs/cgroup/a%20b'), {
    kind: 'cleanup-failed',
    step: 'rmdir',
    errno: 16,
    path: '/sys/fs/cgroup/a b',
  });
  t.same(parseEvent('dropped 65536'), { kind: 'dropped', bytes: 65536 });
  t.equal(parseEvent('exit sideways 1 0'), undefined);
  t.equal(parseEvent('hello'), undefined);
});

t.test('exit statuses: 127 not found, 126 cannot run, 125 anything before the command', async (t) => {
  const e = (step: string, errno: number, line = 0) => failureError({ kind: 'failed', step, errno, line }, ctx);
  t.equal(e('exec', constants.errno.ENOENT).exitCode, 127);
  t.match(e('exec', constants.errno.ENOENT).message, /^frob: executable file not found/);
  t.equal(e('exec', constants.errno.EACCES).exitCode, 126);
  t.equal(e('exec', constants.errno.ENOEXEC).exitCode, 126);
  t.equal(e('mount', constants.errno.EPERM, 30).message, 'cannot mount proc on /proc: EPERM (operation not permitted)');
  t.equal(e('cwd', constants.errno.ENOENT).message, 'cannot change to the working directory /work: ENOENT (no such file or directory)');
  t.equal(e('pivot-root', constants.errno.EINVAL).exitCode, 125);
  t.match(e('pivot-root', constants.errno.EINVAL).message, /^cannot pivot_root into the root filesystem: EINVAL/);
  const ctx2 = { ...ctx, describe: () => 'create the directory /data' };
  t.equal(
    failureError({ kind: 'failed', step: 'mkdir', errno: constants.errno.EROFS, line: 40 }, ctx2).message,
    'cannot create the directory /data: EROFS (read-only file system): the root is read-only (--read-only, which gives an image no writable layer, or a read-only filesystem), so it must already be in it',
    'a mount point a read-only root lacks: says why',
  );
  t.equal(
    failureError({ kind: 'failed', step: 'mkdir', errno: constants.errno.ENOENT, line: 40 }, ctx2).message,
    'cannot create the directory /data: ENOENT (no such file or directory)',
  );
});

t.test("the command's status, 128+N for a signal, 137 and words for an OOM kill", async (t) => {
  t.same(exitStatus({ kind: 'exit', how: 'code', value: 3, oomKills: 0 }), { code: 3 });
  t.same(exitStatus({ kind: 'exit', how: 'signal', value: 15, oomKills: 0 }), { code: 143 });
  t.same(exitStatus({ kind: 'exit', how: 'signal', value: 9, oomKills: 0 }), { code: 137 }, 'a plain SIGKILL says nothing of memory');
  t.match(exitStatus({ kind: 'exit', how: 'signal', value: 9, oomKills: 1 }), { code: 137, message: /ran out of memory/ });
  t.match(exitStatus({ kind: 'exit', how: 'code', value: 137, oomKills: 2 }), { code: 137, message: /ran out of memory/ }, 'under --init');
  t.same(exitStatus({ kind: 'exit', how: 'code', value: 0, oomKills: 1 }), { code: 0 }, 'a child OOM-killed while PID 1 went on');
});
