// --lxcfs: procps top, free and uptime and /proc/cpuinfo inside report the container's limits, served
// by Debian's lxcfs and by tsproc's own daemon; no live mount: refused before anything is created.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { forceUnmount, mountedAt, startDaemon, tempMountpoint } from '../helpers/daemon.js';
import { busyboxRoot, cannotRun, sandbox, tempDir, until, usrRoot } from '../helpers/runner.js';

const skip = cannotRun() ?? (existsSync('/usr/bin/top') ? undefined : 'procps is not installed');
if (skip) t.plan(0, skip);

const LIMITS = ['-m', '256m', '--cpus', '1', '--cpuset-cpus', '0'];
const SCRIPT =
  'top -bn1 | head -5; echo ---; free -m; echo ---; uptime; echo ---; grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online; cat /proc/uptime';

/** The figures the container's tools printed. */
function figures(out: string) {
  const [top = '', free = '', uptime = '', cpu = ''] = out.split('---\n');
  const [processors, online, procUptime] = cpu.trim().split('\n');
  return {
    topMem: /MiB Mem :\s+([0-9.]+) total/.exec(top)?.[1],
    freeMem: /^Mem:\s+([0-9]+)/m.exec(free)?.[1],
    uptime: uptime.trim(),
    processors,
    online,
    uptimeSeconds: Number(procUptime?.split(' ')[0]),
  };
}

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

async function checkFigures(t: Test, lxcfsRoot: string) {
  const s = sandbox(t);
  const root = usrRoot(t);
  const r = await s.run(['--rootfs', root, '-v', '/usr:/usr:ro', '--lxcfs-root', lxcfsRoot, ...LIMITS, '--', 'sh', '-c', SCRIPT]);
  t.equal(r.status, 0, r.stderr);
  const f = figures(r.stdout);
  t.equal(f.topMem, '256.0', 'top: 256 MiB of memory');
  t.equal(f.freeMem, '256', 'free -m: 256');
  t.equal(f.processors, '1', '/proc/cpuinfo: one CPU');
  t.equal(f.online, '0', '/sys/devices/system/cpu/online: CPU 0');
  const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  t.ok(f.uptimeSeconds < hostUptime, `the container's own uptime (${f.uptimeSeconds} s), not the host's (${hostUptime} s)`);
  if (hostUptime > 120) t.match(f.uptime, /up 0 min/, 'uptime: up 0 min');
  t.same(s.leftovers(), []);
}

t.test("Debian's lxcfs", async (t) => {
  const dir = tempMountpoint();
  const pidfile = `${tempDir(t, 'lxcfs')}/pid`;
  const lxcfs = spawn('lxcfs', ['-f', '--enable-cfs', '-l', '-p', pidfile, dir], { stdio: 'ignore' });
  t.teardown(async () => {
    if (lxcfs.exitCode === null) {
      lxcfs.kill('SIGTERM');
      await new Promise((r) => lxcfs.once('exit', r));
    }
    forceUnmount(dir);
    rmdirSync(dir);
  });
  await until('lxcfs mounts', () => mountedAt(dir));
  await checkFigures(t, dir);
});

t.test("tsproc's own daemon: top, free, uptime and cpuinfo show the limits", async (t) => {
  const d = await startDaemon(t);
  await checkFigures(t, d.dir);
});

// busybox's cat copies with sendfile, which kernels before the fuse splice fix of 2026 serve from the
// page cache up to the inode's size: one cache and one size for every reader of the file. tsproc
// refuses the page cache, and busybox falls back to read(2) (docs/decisions.md, "sendfile readers").
t.test("busybox cat in a container, then on the host: each reader's whole file", async (t) => {
  const d = await startDaemon(t);
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const hostCat = (f: string) => spawnSync('/bin/busybox', ['cat', `${d.dir}/proc/${f}`], { encoding: 'utf8' }).stdout;
  for (let round = 0; round < 2; round++) {
    const r = await s.run([
      '--rm',
      '--rootfs',
      root,
      '--lxcfs-root',
      d.dir,
      '-m',
      '64m',
      'sh',
      '-c',
      'cat /proc/meminfo; echo ---; cat /proc/uptime',
    ]);
    const [meminfo = '', uptime = ''] = r.stdout.split('---\n');
    t.match(meminfo, /^MemTotal: +65536 kB\n/, 'the container: its limit');
    t.equal(
      meminfo.split('\n').length,
      readFileSync(`${d.dir}/proc/meminfo`, 'utf8').split('\n').length,
      'the container: every line of meminfo',
    );
    t.match(uptime, /^\d+\.\d\d \d+\.\d\d\n$/, `the container's uptime, whole: ${JSON.stringify(uptime)}`);
    // the host's uptime is longer than the container's: the size the container's read left must not cut it
    t.match(hostCat('uptime'), /^\d+\.\d\d \d+\.\d\d\n$/, 'the host after it: its whole uptime');
    const host = hostCat('meminfo');
    t.ok(
      host.startsWith(readFileSync('/proc/meminfo', 'utf8').split('\n')[0]!) && host.endsWith('\n'),
      "the host after it: the host's MemTotal, and a whole last line",
    );
    t.equal(host.split('\n').length, readFileSync('/proc/meminfo', 'utf8').split('\n').length, 'the host after it: every line of meminfo');
  }
});

t.test('no live mount at --lxcfs-root: refused before anything is created', async (t) => {
  const s = sandbox(t);
  const root = usrRoot(t);
  const empty = tempDir(t, 'nomount');
  const r = await s.run(['--rootfs', root, '--lxcfs-root', empty, '-m', '64m', 'true']);
  t.equal(r.status, 125);
  t.equal(r.stderr, `tsproc: --lxcfs: nothing is mounted at ${empty} (start \`tsproc mount ${empty}\`, or lxcfs, there first)\n`);
  t.notOk(existsSync(s.stateRoot), 'no state');
  t.same(s.cgroups(), [], 'no cgroup');
});
