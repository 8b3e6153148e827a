// --lxcfs: sysinfo(2) in the container answered by its monitor from the container's own /proc files
// (busybox free and uptime, and a static probe calling sysinfo directly), in run and exec; the host's
// figures without a limit or without --lxcfs; what a caller gets when the monitor is gone.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { forceUnmount, mountedAt, startDaemon, tempMountpoint } from '../helpers/daemon.js';
import { alive, busyboxRoot, cannotRun, sandbox, tempDir, until } from '../helpers/runner.js';
import { cannotProbe, hostProbe, installProbe, sysinfoFields } from '../helpers/seccomp-probe.js';

const skip = cannotRun() ?? cannotProbe();
if (skip) t.plan(0, skip);

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/**
 * One container's answers: the probe's sysinfo and busybox's tools, and the files they are answered
 * from; loadavg before and after (the daemon's averages move every 5 s: the answers show one of them).
 */
const SCRIPT =
  'cat /proc/loadavg; echo ---; probe sysinfo; echo ---; uptime; echo ---; cat /proc/loadavg; echo ---; cat /proc/meminfo; echo ---; cat /proc/uptime; echo ---; free';

function parts(out: string) {
  const [before = '', probe = '', busyboxUptime = '', after = '', meminfo = '', uptime = '', free = ''] = out.split('---\n');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(meminfo)?.[1]) * 1024;
  const loadavg = [before, after].map((l) => l.trim().split(' '));
  return { si: sysinfoFields(probe), kb, loadavg, uptime: Number(uptime.split(' ')[0]), free, busyboxUptime: busyboxUptime.trim() };
}

/** Figures that move between two reads (free memory, the task count) may differ by this much. */
const SLACK = 4 * 1024 * 1024;

async function checkContainer(t: Test, out: string, limit: number) {
  const p = parts(out);
  t.equal(p.si.totalram, String(limit), 'totalram: the limit, in bytes');
  t.equal(p.si.mem_unit, '1', 'mem_unit 1, as a 64-bit kernel answers');
  t.equal(Number(p.si.totalram), p.kb('MemTotal'), 'totalram = MemTotal');
  t.ok(Math.abs(Number(p.si.freeram) - p.kb('MemFree')) <= SLACK, `freeram ${p.si.freeram} ≈ MemFree ${p.kb('MemFree')}`);
  t.ok(Math.abs(Number(p.si.sharedram) - p.kb('Shmem')) <= SLACK, 'sharedram ≈ Shmem');
  t.equal(Number(p.si.bufferram), p.kb('Buffers'), 'bufferram = Buffers');
  t.equal(Number(p.si.totalswap), p.kb('SwapTotal'), 'totalswap = SwapTotal');
  t.ok(Math.abs(Number(p.si.freeswap) - p.kb('SwapFree')) <= SLACK, 'freeswap ≈ SwapFree');
  // the kernel rounds its uptime up to the next second
  t.ok(
    Math.abs(Number(p.si.uptime) - Math.ceil(p.uptime)) <= 1,
    `uptime ${p.si.uptime} s: the container's (${p.uptime} s), not the host's`,
  );
  t.ok(Number(p.si.uptime) < 60, 'seconds');
  const tasks = p.loadavg.map((l) => Number(l[3]!.split('/')[1]));
  t.ok(
    tasks.some((n) => Math.abs(Number(p.si.procs) - n) <= 1),
    `procs ${p.si.procs}: the container's task count (loadavg: ${tasks.join(', then ')})`,
  );
  // loads: /proc/loadavg's x.yy in 16-bit fixed point, printed back as x.yy by busybox uptime
  const loads = p.si.loads!.split(',').map((l) => `${Number(l) >> 16}.${String(((Number(l) & 0xffff) * 100) >> 16).padStart(2, '0')}`);
  t.match(p.busyboxUptime, /up 0 min/, `busybox uptime: ${p.busyboxUptime}`);
  const shown = /load average: ([0-9.]+), ([0-9.]+), ([0-9.]+)/.exec(p.busyboxUptime)?.slice(1);
  const files = p.loadavg.map((l) => JSON.stringify(l.slice(0, 3)));
  t.ok(
    files.includes(JSON.stringify(loads)),
    `the probe's loads ${loads.join(' ')}: the container's /proc/loadavg (${files.join(', then ')})`,
  );
  t.ok(files.includes(JSON.stringify(shown)), `busybox uptime's: the same (${shown?.join(' ')})`);
  t.match(p.free, new RegExp(`^Mem:\\s+${limit / 1024}\\s`, 'm'), `busybox free: ${limit / 1024} kB total`);
  return p;
}

t.test('--memory 256m --lxcfs: free, uptime and sysinfo itself show the container', async (t) => {
  const d = await startDaemon(t);
  const s = sandbox(t);
  const root = busyboxRoot(t);
  installProbe(t, root);
  // a busy loop for 11 s first, so that the container's load averages are not all 0.00 (the daemon
  // samples a container's load from its first read of loadavg on)
  const r = await s.run([
    '--rm',
    '--rootfs',
    root,
    '--lxcfs-root',
    d.dir,
    '-m',
    '256m',
    'sh',
    '-c',
    `cat /proc/loadavg >/dev/null; while :; do :; done & sleep 11; ${SCRIPT}`,
  ]);
  t.equal(r.status, 0, r.stderr);
  const p = await checkContainer(t, r.stdout, 268435456);
  t.not(p.loadavg[1]![0], '0.00', `a load to show: ${p.loadavg[1]!.join(' ')}`);
  t.same(s.leftovers(), []);
});

t.test('exec: the same answers, from the same monitor', async (t) => {
  const d = await startDaemon(t);
  const s = sandbox(t);
  const root = busyboxRoot(t);
  installProbe(t, root);
  const id = (await s.run(['-d', '--rootfs', root, '--lxcfs-root', d.dir, '-m', '256m', 'sleep', '600'])).stdout.trim();
  const r = await s.cli(['exec', id, 'sh', '-c', SCRIPT]);
  t.equal(r.status, 0, r.stderr);
  await checkContainer(t, r.stdout, 268435456);
  t.equal((await s.cli(['rm', '-f', id])).status, 0);
});

t.test("without a limit, or without --lxcfs: the host's total, as the kernel gives it", async (t) => {
  const d = await startDaemon(t);
  const s = sandbox(t);
  const root = busyboxRoot(t);
  installProbe(t, root);
  const noLimit = await s.run(['--rm', '--rootfs', root, '--lxcfs-root', d.dir, 'probe', 'sysinfo']);
  t.equal(sysinfoFields(noLimit.stdout).totalram, String(totalmem()), '--lxcfs without --memory');
  const noLxcfs = await s.run(['--rm', '--rootfs', root, '-m', '256m', 'sh', '-c', "probe sysinfo; grep '^Seccomp:' /proc/self/status"]);
  const [line, seccomp] = noLxcfs.stdout.split('\n');
  t.equal(sysinfoFields(line!).totalram, String(totalmem()), '--memory without --lxcfs');
  t.equal(seccomp, 'Seccomp:\t2', 'the default profile all the same');
});

t.test("a bad buffer: the kernel's own answer (EFAULT), as on the host", async (t) => {
  const d = await startDaemon(t);
  const s = sandbox(t);
  const root = busyboxRoot(t);
  installProbe(t, root);
  const host = hostProbe(t, ['bad-pointer']).stdout;
  t.equal(host, 'null errno=14\nread-only errno=14\n');
  const r = await s.run(['--rm', '--rootfs', root, '--lxcfs-root', d.dir, '-m', '64m', 'probe', 'bad-pointer']);
  t.equal(r.stdout, host, 'NULL and a read-only page: the call went on to the kernel');
});

t.test('--privileged --lxcfs: no profile, sysinfo still answered', async (t) => {
  const d = await startDaemon(t);
  const s = sandbox(t);
  const root = busyboxRoot(t);
  installProbe(t, root);
  const r = await s.run([
    '--rm',
    '--rootfs',
    root,
    '--privileged',
    '--lxcfs-root',
    d.dir,
    '-m',
    '64m',
    'sh',
    '-c',
    'probe sysinfo; mkdir -p /mnt; mount -t tmpfs x /mnt && echo mounted',
  ]);
  const [line, mounted] = r.stdout.split('\n');
  t.equal(sysinfoFields(line!).totalram, String(64 * 1024 * 1024));
  t.equal(mounted, 'mounted');
});

t.test('the kernel, when no listener is left: the notified call fails with ENOSYS', async (t) => {
  // a filter of the probe's own, whose listener it closes at once: what any caller gets once a monitor is gone
  t.equal(hostProbe(t, ['no-listener']).stdout, 'errno=38\n');
});

t.test('the monitor killed while sysinfo is called in a loop: no call hangs, the container ends with it', async (t) => {
  const d = await startDaemon(t);
  const s = sandbox(t);
  const root = busyboxRoot(t);
  installProbe(t, root);
  const vol = tempDir(t, 'vol');
  const id = (
    await s.run(['-d', '--rootfs', root, '--lxcfs-root', d.dir, '-m', '64m', '-v', `${vol}:/vol`, 'probe', 'loop', '/vol/out'])
  ).stdout.trim();
  await until('the probe has made a thousand calls', () => existsSync(`${vol}/out`) && readFileSync(`${vol}/out`, 'utf8').includes('ok'));
  const monitor = Number(readFileSync(`${s.stateRoot}/containers/${id}/monitor.pid`, 'utf8'));
  const container = Number(readFileSync(`${s.dataRoot}/containers/${id}/container.pid`, 'utf8'));
  process.kill(monitor, 'SIGKILL');
  // the container's first process has SIGKILL as its parent-death signal: it and its namespace go
  await until('the container is gone', () => !alive(container), 10000);
  const lines = readFileSync(`${vol}/out`, 'utf8').trim().split('\n');
  t.same(
    lines.filter((l) => !/^ok \d+$/.test(l) && l !== 'errno=38'),
    [],
    `${lines.length} records: every call answered, or ENOSYS once no listener was left`,
  );
  const ps = await s.cli(['ps', '-a']);
  t.match(ps.stdout, /Exited \(137\) .* \(monitor lost\)/);
  t.equal((await s.cli(['rm', '-f', id])).status, 0);
});

const noLxcfs = existsSync('/usr/bin/lxcfs') ? false : "Debian's lxcfs is not installed";

t.test("Debian's lxcfs as the source: the same answers from its files", { skip: noLxcfs }, async (t) => {
  const dir = tempMountpoint();
  const lxcfs = spawn('lxcfs', ['-f', '--enable-cfs', '-l', '-p', `${tempDir(t, 'lxcfs')}/pid`, dir], { stdio: 'ignore' });
  t.teardown(async () => {
    if (lxcfs.exitCode === null) {
      lxcfs.kill('SIGTERM');
      await new Promise((r) => lxcfs.once('exit', r));
    }
    forceUnmount(dir);
    if (existsSync(dir)) rmdirSync(dir);
  });
  await until('lxcfs mounts', () => mountedAt(dir));
  const s = sandbox(t);
  const root = busyboxRoot(t);
  installProbe(t, root);
  mkdirSync(`${root}/sys/devices/system/cpu`, { recursive: true });
  const r = await s.run(['--rm', '--rootfs', root, '--lxcfs-root', dir, '-m', '128m', 'sh', '-c', SCRIPT]);
  t.equal(r.status, 0, r.stderr);
  const p = parts(r.stdout);
  t.equal(p.si.totalram, String(128 * 1024 * 1024));
  t.match(p.free, /^Mem:\s+131072\s/m);
});
