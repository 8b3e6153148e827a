// Runs inside the cgroup v2 VM only (tap.exclude keeps it out of `npm test`): the guest is a pure v2
// host with the controllers tsproc reads enabled, limits on a child cgroup take, and the integration
// tests' needs (FUSE, overlayfs, unshare) are met.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { hostLayout } from '../../src/cgroup-layout.js';

const ROOT = '/sys/fs/cgroup';
const CONTROLLERS = ['cpu', 'cpuset', 'memory', 'pids'];
const words = (path: string) => readFileSync(path, 'utf8').trim().split(/\s+/);

t.test('the layout is pure cgroup v2 at /sys/fs/cgroup', async (t) => {
  const layout = hostLayout();
  t.equal(layout.kind, 'v2');
  t.equal(layout.unified, ROOT);
  t.same(layout.v1, {}, 'no v1 controller is mounted');
  t.match(readFileSync('/proc/self/cgroup', 'utf8'), /^0::\/\n$/, 'one v2 line, at the root');
});

t.test('the controllers tsproc reads are available and enabled for children', async (t) => {
  const available = words(`${ROOT}/cgroup.controllers`);
  const enabled = words(`${ROOT}/cgroup.subtree_control`);
  for (const c of CONTROLLERS) {
    t.ok(available.includes(c), `${c} in cgroup.controllers`);
    t.ok(enabled.includes(c), `${c} in cgroup.subtree_control`);
  }
});

t.test("a child cgroup's limits can be set and read back", async (t) => {
  const dir = `${ROOT}/tsproc-test-${process.pid}`;
  mkdirSync(dir);
  t.teardown(() => rmdirSync(dir));
  const set = (file: string, value: string) => writeFileSync(`${dir}/${file}`, value);
  const get = (file: string) => readFileSync(`${dir}/${file}`, 'utf8').trim();
  t.same(
    words(`${dir}/cgroup.controllers`)
      .filter((c) => CONTROLLERS.includes(c))
      .sort(),
    CONTROLLERS,
    'the child has the controllers',
  );

  set('memory.max', String(64 << 20));
  t.equal(get('memory.max'), String(64 << 20));
  set('memory.swap.max', '0');
  t.equal(get('memory.swap.max'), '0');
  set('cpu.max', '50000 100000');
  t.equal(get('cpu.max'), '50000 100000');
  set('cpuset.cpus', '1');
  t.equal(get('cpuset.cpus'), '1');
  t.equal(get('cpuset.cpus.effective'), '1');
  set('pids.max', '1');
  t.equal(get('pids.max'), '1');

  // Enforced, not only stored: a shell that moves itself in cannot fork past pids.max = 1.
  const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && /bin/true`], { encoding: 'utf8' });
  t.not(r.status, 0, 'the fork is refused');
  t.match(r.stderr, /fork|Resource temporarily unavailable/);
  t.equal(get('pids.events'), 'max 1', 'pids.events counts the refusal');
  t.equal(get('cgroup.procs'), '', 'the shell is gone, so the cgroup can be removed');
});

t.test('the guest offers what the integration tests need', async (t) => {
  const filesystems = readFileSync('/proc/filesystems', 'utf8');
  t.match(filesystems, /\tfuse\n/, 'fuse is loaded');
  t.ok(existsSync('/dev/fuse'), '/dev/fuse exists');
  t.match(filesystems, /\toverlay\n/, 'overlayfs is loaded');
  const pid = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', 'echo $$'], { encoding: 'utf8' });
  t.equal(pid.stdout.trim(), '1', 'unshare --pid --fork gives a shell pid 1');

  const dir = mkdtempSync('/tmp/tsproc-test-overlay-');
  t.teardown(() => spawnSync('rm', ['-rf', dir]));
  for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(`${dir}/${d}`);
  writeFileSync(`${dir}/lower/file`, 'lower\n');
  const opts = `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`;
  t.equal(spawnSync('mount', ['-t', 'overlay', '-o', opts, 'overlay', `${dir}/merged`]).status, 0, 'mount an overlay');
  t.equal(readFileSync(`${dir}/merged/file`, 'utf8'), 'lower\n', 'the lower file shows through');
  t.equal(spawnSync('umount', [`${dir}/merged`]).status, 0);
});
